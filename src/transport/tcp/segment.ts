// transport/tcp/segment — one segment on the retransmission queue and one received out-of-order
// range. Layer: transport (imports core and wire types). Mirrors struct tcp_skb_cb's `sacked` bits
// (TCPCB_SACKED_ACKED, TCPCB_LOST, TCPCB_SACKED_RETRANS, TCPCB_EVER_RETRANS) and gVisor tcp/segment.go.
import { TIME_ZERO as TIME_ZEROImported, type TimeNs } from '../../core/time.js';
import { tcpLayoutOf as tcpLayoutOfImported } from '../../wire/tcp.js';
import type { TcpHeader } from '../../wire/types.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TIME_ZERO = TIME_ZEROImported;
const tcpLayoutOf = tcpLayoutOfImported;

/** One segment on the retransmission queue (an skb in tcp_rtx_queue, never split or merged). */
export class TxSeg {
  sacked = false;
  lost = false;
  /** A retransmission of this segment is in flight (TCPCB_SACKED_RETRANS). */
  inRetrans = false;
  /** Ever retransmitted (TCPCB_EVER_RETRANS): no RTT sample from it (Karn). */
  everRetrans = false;
  // Declared with a first value of their kind, then set (a parameter property's field starts as
  // undefined, a generic field: every time above 2^30 ns stored into `sentAt` was a new heap number).
  start = 0;
  end = 0;
  syn = false;
  fin = false;
  sentAt: TimeNs = TIME_ZERO;
  constructor(start: number, end: number, syn: boolean, fin: boolean, sentAt: TimeNs) {
    this.start = start;
    this.end = end;
    this.syn = syn;
    this.fin = fin;
    this.sentAt = sentAt;
  }

  /**
   * Rewrites every field as the constructor sets them (an acknowledged segment reused: output.ts
   * queueSeg), `sentAt` from the clock (a time handed to a call not inlined is a new heap number).
   */
  reset(start: number, end: number, syn: boolean, fin: boolean, sim: { readonly now: TimeNs }): void {
    const sentAt = sim.now;
    this.sacked = false;
    this.lost = false;
    this.inRetrans = false;
    this.everRetrans = false;
    this.start = start;
    this.end = end;
    this.syn = syn;
    this.fin = fin;
    this.sentAt = sentAt;
  }
}

/**
 * The empty queues a socket starts with and keeps once its own are released (TIME_WAIT): shared and
 * frozen, replaced by a list built at its length on the first push (a `[]` grows to 17 slots on its
 * first push: the write queue, the retransmission queue and the out-of-order list of
 * every socket). A push onto one throws rather than touch another socket.
 */
export const NO_SEGS: TxSeg[] = Object.freeze([]) as unknown as TxSeg[];
/**
 * Retransmission queues of one segment that a closed or TIME_WAIT socket gave back, its segment all
 * acknowledged (`releaseQueue`): the next socket's first segment takes one (`takeQueue`) and rewrites
 * its segment, so a connection of a request and a response makes no queue and no segment per side.
 * Nothing else holds a socket's queue or its segments (the socket drops its own at once), and a
 * segment's every field is rewritten (TxSeg.reset). Process-wide, as packet/packet.ts's spare segments.
 */
const spareQueues: TxSeg[][] = [];
/** More would only sit there (a few hundred connections close between two opens at most in a busy run). */
const SPARE_QUEUES_MAX = 256;

/** Gives back a socket's queue that holds one acknowledged segment (the socket drops it: NO_SEGS). */
export function releaseQueue(q: TxSeg[]): void {
  if (q.length === 1 && spareQueues.length < SPARE_QUEUES_MAX) spareQueues.push(q);
}

/** A queue of one segment given back (its segment to be rewritten whole), or null. */
export function takeQueue(): TxSeg[] | null {
  return spareQueues.length > 0 ? spareQueues.pop()! : null;
}

/** A write queue's entries: pairs of a write's end offset and its bytes (TcpSocket.q). */
export type WriteQueue = (number | Uint8Array | null)[];
export const NO_WRITES: WriteQueue = Object.freeze([]) as unknown as WriteQueue;
/**
 * Write queues of one write, all acknowledged (its bytes already let go), that a socket in TIME_WAIT or
 * closed gave back (`releaseWrites`): the next socket's first write takes one (`takeWrites`) and
 * rewrites its pair, so a request and a response make no queue a side (each was a list of two, ~64 B).
 * Nothing else holds a socket's write queue (it drops its own at once: NO_WRITES). Process-wide, as the
 * retransmission queues above.
 */
const spareWrites: WriteQueue[] = [];

/** Gives back a socket's write queue of one acknowledged write (the socket drops it: NO_WRITES). */
export function releaseWrites(q: WriteQueue): void {
  if (q.length === 2 && q[1] === null && spareWrites.length < SPARE_QUEUES_MAX) spareWrites.push(q);
}

/** A write queue of one pair given back (both to be rewritten), or null. */
export function takeWrites(): WriteQueue | null {
  return spareWrites.length > 0 ? spareWrites.pop()! : null;
}
export const NO_OOO: OooRange[] = Object.freeze([]) as unknown as OooRange[];

/** A received out-of-order range held for reassembly. */
export interface OooRange {
  start: number;
  end: number;
  /** Pieces in order; data null = the sender gave only a length. */
  pieces: { start: number; end: number; data: Uint8Array | null }[];
  fin: boolean;
}

/** The timestamps option of a header, or null. */
export function findTs(t: TcpHeader): { tsval: number; tsecr: number } | null {
  const o = t.options;
  // (a sender's own list, wire/tcp TCP_LAYOUT_NOP: TS third, no record's kind read)
  if (tcpLayoutOf(o) !== 0) return o[2] as { tsval: number; tsecr: number };
  for (let i = 0; i < o.length; i++) {
    const x = o[i]!;
    if (x.kind === 'timestamps') return x;
  }
  return null;
}
