// net/icmp — ICMP of one namespace (net/ipv4/icmp.c, ns-3 Icmpv4L4Protocol) and the REJECT target's
// answers (net/ipv4/netfilter/nf_reject_ipv4.c). Layer: net (imports core, wire, packet, netfilter,
// and net/). icmpRcv answers echo requests and hands replies and errors to their sockets; icmpSend
// builds errors with Linux's quoting rules, TOS and per-destination rate limit (inet_peer_xrlim_allow);
// verdictDrop turns a non-accept netfilter verdict into REJECT's reset or ICMP error plus a drop.
// Not modelled: ICMP redirects, timestamp and address-mask messages, icmp_echo_ignore_all,
// icmp_ratemask other than Linux's default (unreachable except fragmentation-needed, time exceeded).
import { NO_ENTRIES } from './no-entries.js';
import type { NfVerdict } from '../netfilter/netfilter.js';
import type { RejectWith } from '../netfilter/rules.js';
import { Packet } from '../packet/packet.js';
import { IPV4_DEFAULT_TTL, ipv4Header } from '../wire/ipv4.js';
import { IcmpType, IcmpUnreachCode, IP_DF, IpProto, TcpFlag, type Ipv4 } from '../wire/types.js';
import { dropPacket } from './drop.js';
import { ipLocalOut } from './ip-output.js';
import type { Namespace } from './namespace.js';

/** An echo message's identifier (the ping socket's "port") is the high half of its rest-of-header word. */
const ECHO_ID_SHIFT = 16;

/** A destination's token bucket (inet_peer's rate_tokens and rate_last). */
export interface IcmpPeer {
  tokens: number;
  last: number;
}

/** icmp_rcv: echo requests are answered by the kernel; replies and errors go to their sockets. */
export function icmpRcv(ns: Namespace, pkt: Packet): void {
  const icmp = pkt.icmp;
  if (icmp === null) return dropPacket(ns, pkt, 'bad-header');
  switch (icmp.type) {
    case IcmpType.ECHO_REQUEST:
      return icmpEcho(ns, pkt);
    case IcmpType.ECHO_REPLY: {
      const h = ns.pingHandlers.get(icmp.rest >>> ECHO_ID_SHIFT);
      if (h === undefined) return dropPacket(ns, pkt, 'no-socket');
      return h.reply(pkt);
    }
    case IcmpType.DEST_UNREACH:
    case IcmpType.TIME_EXCEEDED: {
      const inner = pkt.inner;
      if (inner === null || inner.ip === null) return dropPacket(ns, pkt, 'bad-header');
      if (inner.ip.protocol === IpProto.ICMP) {
        const h = inner.icmp ? ns.pingHandlers.get(inner.icmp.rest >>> ECHO_ID_SHIFT) : undefined;
        if (h === undefined) return dropPacket(ns, pkt, 'no-socket');
        return h.error(pkt);
      }
      const rx = ns.protocols[inner.ip.protocol];
      if (rx === undefined) return dropPacket(ns, pkt, 'no-socket');
      return rx.error(pkt);
    }
    default:
      return dropPacket(ns, pkt, 'no-protocol');
  }
}

/** icmp_echo → icmp_reply: same id, sequence and data; TOS copied; no DF (the ICMP socket's PMTUDISC_DONT). */
function icmpEcho(ns: Namespace, req: Packet): void {
  const rip = req.ip!;
  if (rip.dst === 0xffffffff || !ns.isLocal(rip.dst)) return; // icmp_echo_ignore_broadcasts=1
  const rep = new Packet();
  rep.ip = ipv4Header(IpProto.ICMP, rip.dst, rip.src, 0, rip.tos);
  rep.icmp = { type: IcmpType.ECHO_REPLY, code: 0, checksum: null, rest: req.icmp!.rest };
  rep.payloadLength = req.payloadLength;
  rep.payload = req.payload;
  rep.flowId = req.flowId;
  ipLocalOut(ns, rep);
}

/**
 * icmp_send: an error about `orig`. Never about an ICMP error, a broadcast, or a non-first fragment;
 * unreachable (except fragmentation-needed) and time-exceeded are rate limited per destination
 * (inet_peer_xrlim_allow: a token bucket of icmp_ratelimit with a burst of 6; a suppressed error is
 * an 'icmp-ratelimit' drop of `orig`). TOS is 0xc0 (IPTOS_PREC_INTERNETCONTROL), no DF, TTL 64; the
 * source is the address routing picks toward the original sender, or the original destination when
 * that was ours.
 */
export function icmpSend(ns: Namespace, orig: Packet, type: number, code: number, rest: number): void {
  const oip = orig.ip;
  if (oip === null) return;
  if (oip.fragOffset !== 0) return;
  if (orig.icmp !== null && orig.icmp.type !== IcmpType.ECHO_REQUEST && orig.icmp.type !== IcmpType.ECHO_REPLY) return;
  if (oip.dst === 0xffffffff || (oip.dst & 0xf0000000) >>> 0 === 0xe0000000 || oip.src === 0) return;
  const limited = type === IcmpType.TIME_EXCEEDED || (type === IcmpType.DEST_UNREACH && code !== IcmpUnreachCode.FRAG_NEEDED);
  if (limited && !ns.isLocal(oip.src) && !icmpv4XrlimAllow(ns, oip.src)) return dropPacket(ns, orig, 'icmp-ratelimit');
  const src = ns.isLocal(oip.dst) ? oip.dst : ns.sourceFor(oip.src);
  if (src === null) return;
  const err = new Packet();
  err.ip = ipv4Header(IpProto.ICMP, src, oip.src, 0, (oip.tos & 0x1e) | 0xc0);
  err.icmp = { type, code, checksum: null, rest };
  err.inner = orig;
  err.flowId = orig.flowId;
  // icmp_glue_bits → nf_ct_attach: the error joins the offending packet's connection (reply
  // direction) even while that is unconfirmed, so NAT translates the quote back (measured: a
  // frag-needed about a DNATed datagram quotes the Service address the sender used). Only this
  // namespace's own entry: one attached by another namespace would have been scrubbed on the way in
  // (skb_scrub_packet → nf_reset_ct), and that namespace may have destroyed and reused it since.
  const ct = ns.nf?.conntrack;
  if (ct !== undefined && orig.ct !== null && (orig.ct === ct.untracked || ct.ctOf(orig) !== null)) {
    err.ct = orig.ct;
    err.ctDir = orig.ctDir ^ 1;
  }
  ipLocalOut(ns, err);
}

/** icmpv4_xrlim_allow → inet_peer_xrlim_allow: a per-destination token bucket of icmp_ratelimit ns, burst 6. */
function icmpv4XrlimAllow(ns: Namespace, peer: Ipv4): boolean {
  const now = ns.sim.now;
  const limit = ns.icmpRatelimitNs;
  let b = ns.icmpPeers.get(peer);
  if (b === undefined) {
    b = { tokens: 6 * limit, last: now };
    if (ns.icmpPeers === NO_ENTRIES) ns.icmpPeers = new Map();
    ns.icmpPeers.set(peer, b);
  }
  b.tokens = Math.min(6 * limit, b.tokens + (now - b.last));
  b.last = now;
  if (b.tokens >= limit) {
    b.tokens -= limit;
    return true;
  }
  return false;
}

/**
 * Acts on a non-accept hook verdict: REJECT emits its TCP reset or ICMP error (nf_send_unreach →
 * icmp_send, rate limited like any other), then the packet is dropped.
 */
export function verdictDrop(ns: Namespace, pkt: Packet, v: NfVerdict): void {
  if (v.kind === 'accept') return;
  if (v.kind === 'drop') return dropPacket(ns, pkt, 'netfilter-drop');
  if (v.with === 'tcp-reset') sendReset(ns, pkt);
  else icmpSend(ns, pkt, IcmpType.DEST_UNREACH, REJECT_CODE[v.with], 0);
  dropPacket(ns, pkt, 'netfilter-reject');
}

/** nf_send_reset: a TCP RST answering `pkt` (REJECT --reject-with tcp-reset): TOS 0. */
function sendReset(ns: Namespace, pkt: Packet): void {
  resetFor(ns, pkt, 0, -1);
}

/**
 * tcp_v4_send_reset for a segment no socket takes, sent by the namespace's control socket
 * (ip_send_unicast_reply): TOS reflected from the segment without its ECN bits, DF, IP ID 0 (ip_select_ident gives a DF
 * packet of an unconnected socket ID 0), TTL 64, window 0. Measured on Linux 6.x: `R.` seq 0 ack
 * seq+1 for a SYN, `tos` as the SYN's, `id 0`.
 */
export function tcpV4SendReset(ns: Namespace, pkt: Packet): void {
  resetFor(ns, pkt, pkt.ip!.tos & ~3, 0);
}

/** A RST answering `pkt` (RFC 9293 3.10.7.1: seq = its ack, or ack = its seq + length). */
function resetFor(ns: Namespace, pkt: Packet, tos: number, id: number): void {
  const ip = pkt.ip!;
  const tcp = pkt.tcp;
  if (tcp === null || (tcp.flags & TcpFlag.RST) !== 0) return;
  const rst = new Packet();
  rst.ip = ipv4Header(IpProto.TCP, ip.dst, ip.src, IP_DF, tos, IPV4_DEFAULT_TTL, id);
  const hasAck = (tcp.flags & TcpFlag.ACK) !== 0;
  const segLen = pkt.payloadLength + ((tcp.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((tcp.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
  rst.tcp = {
    srcPort: tcp.dstPort,
    dstPort: tcp.srcPort,
    seq: hasAck ? tcp.ack : 0,
    ack: hasAck ? 0 : (tcp.seq + segLen) >>> 0,
    flags: hasAck ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK,
    window: 0,
    checksum: null,
    urgent: 0,
    options: [],
  };
  ipLocalOut(ns, rst);
}

/** ICMP destination-unreachable code of each REJECT --reject-with (libipt_REJECT.c). */
const REJECT_CODE = {
  'icmp-net-unreachable': IcmpUnreachCode.NET,
  'icmp-host-unreachable': IcmpUnreachCode.HOST,
  'icmp-port-unreachable': IcmpUnreachCode.PORT,
  'icmp-proto-unreachable': IcmpUnreachCode.PROTOCOL,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': IcmpUnreachCode.ADMIN_PROHIBITED,
} as const satisfies Record<Exclude<RejectWith, 'tcp-reset'>, number>;
