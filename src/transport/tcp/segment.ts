// transport/tcp/segment — one segment on the retransmission queue and one received out-of-order
// range. Layer: transport (imports core and wire types). Mirrors struct tcp_skb_cb's `sacked` bits
// (TCPCB_SACKED_ACKED, TCPCB_LOST, TCPCB_SACKED_RETRANS, TCPCB_EVER_RETRANS) and gVisor tcp/segment.go.
import type { TimeNs } from '../../core/time.js';
import type { TcpHeader } from '../../wire/types.js';

/** One segment on the retransmission queue (an skb in tcp_rtx_queue, never split or merged). */
export class TxSeg {
  sacked = false;
  lost = false;
  /** A retransmission of this segment is in flight (TCPCB_SACKED_RETRANS). */
  inRetrans = false;
  /** Ever retransmitted (TCPCB_EVER_RETRANS): no RTT sample from it (Karn). */
  everRetrans = false;
  constructor(
    public start: number,
    public end: number,
    public syn: boolean,
    public fin: boolean,
    public sentAt: TimeNs,
  ) {}

  /** Rewrites every field as the constructor sets them (an acknowledged segment reused: output.ts queueSeg). */
  reset(start: number, end: number, syn: boolean, fin: boolean, sentAt: TimeNs): void {
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
/** A write queue's entries: pairs of a write's end offset and its bytes (TcpSocket.q). */
export type WriteQueue = (number | Uint8Array | null)[];
export const NO_WRITES: WriteQueue = Object.freeze([]) as unknown as WriteQueue;
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
  for (let i = 0; i < o.length; i++) {
    const x = o[i]!;
    if (x.kind === 'timestamps') return x;
  }
  return null;
}
