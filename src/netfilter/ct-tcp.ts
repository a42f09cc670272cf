// netfilter/ct-tcp — conntrack's TCP state tracking for a packet of a known connection (tcp_packet of
// nf_conntrack_proto_tcp.c, reduced: no sequence windows) and the reopening of a closed connection by a
// SYN. Layer: netfilter (imports wire). The timeout the new state gives is conntrack.ts's.
import { CtStatus as CtStatus_I, type ConnEntry } from './ct-entry.js';
import { TCP_CLOSE as TCP_CLOSE_I, TCP_CLOSE_WAIT as TCP_CLOSE_WAIT_I, TCP_ESTABLISHED as TCP_ESTABLISHED_I, TCP_FIN_WAIT as TCP_FIN_WAIT_I, TCP_LAST_ACK as TCP_LAST_ACK_I, TCP_SYN_RECV as TCP_SYN_RECV_I, TCP_SYN_SENT as TCP_SYN_SENT_I, TCP_TIME_WAIT as TCP_TIME_WAIT_I, type TcpCt } from './ct-timeouts.js';
import { TcpFlag as TcpFlag_I } from '../wire/types.js';
const [CtStatus, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT, TCP_LAST_ACK, TCP_SYN_RECV, TCP_SYN_SENT, TCP_TIME_WAIT, TcpFlag] = [CtStatus_I, TCP_CLOSE_I, TCP_CLOSE_WAIT_I, TCP_ESTABLISHED_I, TCP_FIN_WAIT_I, TCP_LAST_ACK_I, TCP_SYN_RECV_I, TCP_SYN_SENT_I, TCP_TIME_WAIT_I, TcpFlag_I] as const; // hot imports as module constants (no Cell load and check a use)

/** ConnEntry.tcpSeen's bits for direction 0 (shift left by the direction for 1). */
const FIN_SEEN = 1;
const FIN_BOTH = FIN_SEEN | (FIN_SEEN << 1);
const CLOSE_INIT = 4;
const LAST_RST = 16;
const LAST_RST_BOTH = LAST_RST | (LAST_RST << 1);

/**
 * True when a SYN (no ACK) in the original direction reuses the tuple of an entry in TIME_WAIT or
 * CLOSE that was closed by a FIN or aborted by a RST from this direction: the kernel kills it.
 */
export function tcpReopens(ct: ConnEntry, flags: number): boolean {
  if (!(flags & TcpFlag.SYN) || flags & (TcpFlag.ACK | TcpFlag.RST)) return false;
  if (ct.tcpCt !== TCP_TIME_WAIT && ct.tcpCt !== TCP_CLOSE) return false;
  return (ct.tcpSeen & (CLOSE_INIT | (CLOSE_INIT << 1) | LAST_RST)) !== 0;
}

// tcpPacket's numbers: TCP_ESTABLISHED 3, SYN | FIN | RST 7, LAST_RST_BOTH 48, SEEN_REPLY 2, ASSURED 4 (a module constant
// is a cell load and a hole check at each use in optimized code).
if (TCP_ESTABLISHED !== 3 || (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST) !== 7 || LAST_RST_BOTH !== 48 || CtStatus.SEEN_REPLY !== 2 || CtStatus.ASSURED !== 4) {
  throw new Error('conntrack: TCP state or flag numbers changed');
}

/**
 * The state, per-direction flags and ASSURED bit of `ct` after a segment with flags `f` in direction `dir`. The common
 * case here, a segment of an established connection with none of SYN, FIN, RST: the state stays, the last segment was
 * no RST, and a connection that has seen a reply is ASSURED (tcpStep's steps, taken with these flags); small enough
 * for V8 to inline into conntrack's update, the rest a call.
 */
export function tcpPacket(ct: ConnEntry, dir: 0 | 1, f: number): void {
  if (ct.tcpCt !== 3 || (f & 7) !== 0) tcpStep(ct, dir, f);
  else {
    if ((ct.tcpSeen & 48) !== 0) ct.tcpSeen &= ~48;
    if ((ct.status & 2) !== 0) ct.status |= 4;
  }
}

/** tcpPacket for any segment. */
function tcpStep(ct: ConnEntry, dir: 0 | 1, f: number): void {
  const old = ct.tcpCt;
  let s: TcpCt = old;
  if (f & TcpFlag.RST) s = TCP_CLOSE;
  else if (f & TcpFlag.SYN && !(f & TcpFlag.ACK)) {
    if (dir === 0 && (old === TCP_TIME_WAIT || old === TCP_CLOSE)) {
      // A new SYN reopens a closed connection (the kernel kills and recreates the entry).
      s = TCP_SYN_SENT;
      ct.tcpSeen &= ~(FIN_SEEN | (FIN_SEEN << 1));
      ct.status &= ~(CtStatus.SEEN_REPLY | CtStatus.ASSURED);
    }
  } else if (f & TcpFlag.SYN && f & TcpFlag.ACK) {
    if (dir === 1 && (old === TCP_SYN_SENT || old === TCP_SYN_RECV)) s = TCP_SYN_RECV;
  } else if (f & TcpFlag.FIN) {
    ct.tcpSeen |= FIN_SEEN << dir;
    const open = old === TCP_ESTABLISHED || old === TCP_SYN_RECV;
    if (open) ct.tcpSeen |= CLOSE_INIT << dir;
    s = (ct.tcpSeen & FIN_BOTH) === FIN_BOTH ? TCP_LAST_ACK : open ? TCP_FIN_WAIT : old === TCP_FIN_WAIT ? TCP_CLOSE_WAIT : old;
  } else if (f & TcpFlag.ACK) {
    if (old === TCP_SYN_RECV && dir === 0) s = TCP_ESTABLISHED;
    else if (old === TCP_LAST_ACK && (ct.tcpSeen & FIN_BOTH) === FIN_BOTH) s = TCP_TIME_WAIT;
  }
  ct.tcpSeen = (ct.tcpSeen & ~LAST_RST_BOTH) | (f & TcpFlag.RST ? LAST_RST << dir : 0);
  if (s === TCP_ESTABLISHED && (old === TCP_SYN_RECV || old === TCP_ESTABLISHED) && ct.status & CtStatus.SEEN_REPLY) ct.status |= CtStatus.ASSURED;
  ct.tcpCt = s;
}
