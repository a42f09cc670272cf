// capture/epb-records — what the simulation thread puts in the capture ring instead of finished EPBs,
// and the expander that turns it into pcapng bytes on the writer thread. Layer: capture (imports wire,
// packet). The simulation thread only copies a frame's header fields into a fixed record (a few dozen
// typed-array stores); the writer thread (capture/async-sink) lays out the Ethernet/IPv4/UDP|TCP|ICMP
// headers, sums the checksums, zero-fills the payload, cuts at snaplen and writes the EPB header,
// padding and trailer. The bytes are those packet/serialize's writeFrame writes for the same records
// (test/capture/epb-records.test.ts compares the two over many packets; the golden hashes hold).
//
// A chunk of the ring is a sequence of records, each starting on an 8-byte boundary:
//
// | type        | words (int32)                                                                  |
// |-------------|--------------------------------------------------------------------------------|
// | VERBATIM 1  | 0 type, 1 byte length n, then n bytes copied as they are (SHB, IDB, any EPB    |
// |             | written whole by the simulation thread: ARP, VXLAN, fragments, IP options…)     |
// | UDP 2 / TCP 3 / ICMP 4 | word 0: type, flags and payloadLength; the frame's fields, packed: short |
// |             | (64 bytes: UDP/ICMP not cut, no given checksum, no netem bit, all payload bytes |
// |             | present or none) or extended (96 bytes: X_* fields too); then the TCP options   |
// |             | (already encoded, padded to 4) and the payload bytes present (F_*/X_* in K)     |
// | COPY 5 /    | 16 bytes: an arrival whose departure is in the same chunk (capture/frame-memo), |
// | COPY_RAW 6  | as a fast record (5) or as frame bytes serialized into the chunk (6); word 0:  |
// |             | type | source offset << 4; interface; time                                      |
//
// Only frames the fast records describe exactly take them (`fastKind`): Ethernet + IPv4 without
// options + UDP, TCP (≤ 40 option bytes) or ICMP without a quoted datagram, no VXLAN, not a fragment.
// netem's corrupt bit is flipped after the checksums, as writeIp does. Every other frame is serialized by
// the simulation thread into a VERBATIM record (packet/serialize), as before.
//
// The expander (`RecordExpander`) is written without references outside its own body: the writer thread
// runs its source text (Function.prototype.toString of the class, with the layout's values substituted
// for its `L.X` reads, see async-sink.ts), and a capture too small to start the thread runs it on the
// simulation thread at finish().
import type { Packet } from '../packet/packet.js';
import { encodeTcpOptions, tcpHeaderLength } from '../wire/tcp.js';
import type { AsyncChunkSink } from './async-sink.js';

// Record types (word 0's low 4 bits) and field offsets. The simulation thread's writers below use the
// const enum, which tsc inlines as literals (an exported module constant is a load and a check at every
// use: ~20 % of the writer's time); the writer thread's expander gets them substituted into its source
// text (capture/async-sink, from LAYOUT).
const enum K {
  // Record types.
  R_VERBATIM = 1,
  R_UDP = 2,
  R_TCP = 3,
  R_ICMP = 4,
  R_COPY = 5,
  R_COPY_RAW = 6,
  T_MASK = 15,
  // Fast records, word 0: type | B_BYTES | B_EXT | payloadLength << PAYLEN_SHIFT.
  B_BYTES = 16, // short record: its payload bytes are all present (payloadLength of them); else none
  B_EXT = 32, // extended record: words X_* follow the short header
  PAYLEN_SHIFT = 6,
  MAX_PAYLEN = 1 << 25, // a larger payloadLength is serialized here (VERBATIM)
  // Fast record fields (int32 word index from the record's start; f64 fields take two words, 8-aligned).
  F_IF = 1,
  F_TIME = 2, // f64: simulated time, ns; once expanded, the absolute file offset of the frame's bytes (−1: cut)
  F_ETH_DST = 4, // f64: MAC as an integer
  F_ETH_SRC = 6, // f64
  F_ETH_TOS_TTL = 8, // etherType (16) | tos << 16 (8) | ttl << 24 (8)
  F_LEN_ID = 9, // IP total length (16) | id << 16 (16)
  F_FF_PROTO = 10, // flags << 13 | fragment offset (16) | protocol << 16 (8) | given << 24 (bit 0: ip checksum given, bit 1: L4 checksum given)
  F_SRC = 11,
  F_DST = 12,
  F_PORTS = 13, // UDP/TCP source port (16) | destination port << 16; ICMP type (8) | code << 16 (8)
  F_W0 = 14, // UDP length field (16); TCP seq; ICMP rest
  F_ACK = 15, // TCP ack
  SHORT_BYTES = 16 * 4, // a short record's size before its payload bytes
  // Extended records only.
  X_SNAP = 16, // the interface's snaplen (a short record's frame is not cut)
  X_IPSUM = 17, // ip checksum as given
  X_L4SUM = 18, // L4 checksum as given
  X_NBYTES = 19, // payload bytes present in the record (≤ payloadLength)
  X_CORRUPT = 20, // netem corrupt bit from the IP header's first bit, −1 none (a short record: none)
  X_TFLAGS = 21, // TCP flags (9 bits) | option bytes (padded) << 16
  X_WIN_URG = 22, // TCP window (16) | urgent << 16 (16)
  EXT_BYTES = 24 * 4, // an extended record's size before its TCP option bytes and payload bytes
  // COPY records: word 0 type | source offset << C_SRC_SHIFT.
  C_SRC_SHIFT = 4,
  MAX_COPY_SRC = 1 << 27,
  C_IF = 1,
  C_TIME = 2, // f64
  COPY_BYTES = 16,
}

// What other modules use: the record types pcapng.ts and the tests pick by, COPY's size, the layout.
export const R_VERBATIM = K.R_VERBATIM;
export const R_UDP = K.R_UDP;
export const R_TCP = K.R_TCP;
export const R_ICMP = K.R_ICMP;
export const COPY_BYTES = K.COPY_BYTES;
/** Largest chunk a COPY record's source offset can address (it shares word 0 with the type). */
export const MAX_COPY_CHUNK = K.MAX_COPY_SRC;

/**
 * Record layout handed to RecordExpander (it may not read module constants: it runs from its source text;
 * async-sink.ts substitutes these values for its `L.X` reads). Narrow fields are packed, each cut to its
 * wire width first (as the byte/writeU16 stores of packet/serialize cut it).
 *
 * A fast record is short (16 words) when the frame is UDP or ICMP, not cut by the snaplen, has no given
 * checksum and no netem bit, and carries all of its payload bytes or none: S1's frames and most
 * captured traffic. Otherwise (TCP, a cut, a checksum given, a corrupt bit, a payload shorter than its
 * length) it is extended: 24 words, the X_* fields after the short header. COPY records (16 bytes): the
 * source is a fast record (R_COPY) or the frame's bytes in an EPB serialized into the chunk (R_COPY_RAW:
 * the EPB's original length is the word before them); the frame's length is the source's, and it is not
 * cut (an arrival its interface's snaplen would cut is written as a frame of its own).
 */
export const LAYOUT = {
  R_VERBATIM: K.R_VERBATIM,
  R_UDP: K.R_UDP,
  R_TCP: K.R_TCP,
  R_ICMP: K.R_ICMP,
  R_COPY: K.R_COPY,
  R_COPY_RAW: K.R_COPY_RAW,
  T_MASK: K.T_MASK,
  B_BYTES: K.B_BYTES,
  B_EXT: K.B_EXT,
  PAYLEN_SHIFT: K.PAYLEN_SHIFT,
  F_IF: K.F_IF,
  F_TIME: K.F_TIME,
  F_ETH_DST: K.F_ETH_DST,
  F_ETH_SRC: K.F_ETH_SRC,
  F_ETH_TOS_TTL: K.F_ETH_TOS_TTL,
  F_LEN_ID: K.F_LEN_ID,
  F_FF_PROTO: K.F_FF_PROTO,
  F_SRC: K.F_SRC,
  F_DST: K.F_DST,
  F_PORTS: K.F_PORTS,
  F_W0: K.F_W0,
  F_ACK: K.F_ACK,
  SHORT_BYTES: K.SHORT_BYTES,
  X_SNAP: K.X_SNAP,
  X_IPSUM: K.X_IPSUM,
  X_L4SUM: K.X_L4SUM,
  X_NBYTES: K.X_NBYTES,
  X_CORRUPT: K.X_CORRUPT,
  X_TFLAGS: K.X_TFLAGS,
  X_WIN_URG: K.X_WIN_URG,
  EXT_BYTES: K.EXT_BYTES,
  C_SRC_SHIFT: K.C_SRC_SHIFT,
  C_IF: K.C_IF,
  C_TIME: K.C_TIME,
  COPY_BYTES: K.COPY_BYTES,
} as const;
type Layout = typeof LAYOUT;

/**
 * The fast record type for `pkt`, or 0 when it needs packet/serialize (see the file comment). Also 0 for
 * a TCP header whose options do not fit (serialize throws its WireError there, as before).
 */
export function fastKind(pkt: Packet): number {
  const ip = pkt.ip;
  if (pkt.eth === null || ip === null || ip.options !== null || pkt.arp !== null || pkt.fragOf !== null || pkt.vxlan !== null) return 0;
  if (pkt.udp !== null) return pkt.tcp === null && pkt.icmp === null ? K.R_UDP : 0;
  if (pkt.tcp !== null) return pkt.icmp === null && tcpHeaderLength(pkt.tcp) <= 60 ? K.R_TCP : 0;
  if (pkt.icmp !== null) return pkt.inner === null ? K.R_ICMP : 0;
  return 0;
}

/**
 * Writes a fast record (capture/epb-records) for `pkt` into the ring: its fields, TCP options encoded,
 * the payload bytes present; short when it can be (see LAYOUT). `len` is the frame's length. Returns the
 * record's offset in the current chunk, or −1 when it would not fit in a chunk (then the caller
 * serializes). The caller counts the packet and sets its time (setRecordTime).
 */
export function writeFastRecord(r: AsyncChunkSink, kind: number, ifId: number, pkt: Packet, snap: number, len: number): number {
  const p = pkt.payload;
  const payLen = pkt.payloadLength;
  const nb = p === null ? 0 : p.length < payLen ? p.length : payLen;
  const ip = pkt.ip!;
  const ipSum = ip.checksum;
  const l4sum = kind === K.R_UDP ? pkt.udp!.checksum : kind === K.R_ICMP ? pkt.icmp!.checksum : null;
  const corrupt = pkt.corruptBit;
  if (kind !== K.R_TCP && ipSum === null && l4sum === null && corrupt < 0 && len <= snap && (nb === 0 || nb === payLen) && payLen < K.MAX_PAYLEN) {
    // Short record.
    const size = (K.SHORT_BYTES + nb + 7) & ~7;
    if (size > r.slotSize) return -1;
    const o = r.record(size);
    const w = (r.slotBase + o) >> 2;
    writeHeader(r.i32, r.f64, w, kind | (nb !== 0 ? K.B_BYTES : 0) | (payLen << K.PAYLEN_SHIFT), ifId, pkt, 0);
    if (nb > 0) copyBytes(r.u8, r.slotBase + o + K.SHORT_BYTES, p!, nb);
    r.pos = o + size;
    r.outBytes += 32 + ((len + 3) & ~3);
    return o;
  }
  if (payLen >= K.MAX_PAYLEN) return -1;
  const tcp = kind === K.R_TCP;
  const opt = tcp ? len - 34 - 20 - payLen : 0;
  const size = (K.EXT_BYTES + opt + nb + 7) & ~7;
  if (size > r.slotSize) return -1;
  const o = r.record(size);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  let given = 0;
  if (ipSum !== null) {
    given = 1;
    i32[w + K.X_IPSUM] = ipSum;
  }
  i32[w + K.X_SNAP] = snap;
  i32[w + K.X_NBYTES] = nb;
  i32[w + K.X_CORRUPT] = corrupt;
  if (tcp) {
    const t = pkt.tcp!;
    i32[w + K.X_TFLAGS] = (t.flags & 0x1ff) | (opt << 16);
    i32[w + K.X_WIN_URG] = (t.window & 0xffff) | (t.urgent << 16);
    if (opt > 0) encodeTcpOptions(t.options, r.u8, r.slotBase + o + K.EXT_BYTES);
    if (t.checksum !== null) {
      given |= 2;
      i32[w + K.X_L4SUM] = t.checksum;
    }
  } else if (l4sum !== null) {
    given |= 2;
    i32[w + K.X_L4SUM] = l4sum;
  }
  writeHeader(i32, r.f64, w, kind | K.B_EXT | (payLen << K.PAYLEN_SHIFT), ifId, pkt, given);
  if (nb > 0) copyBytes(r.u8, r.slotBase + o + K.EXT_BYTES + opt, p!, nb);
  r.pos = o + size;
  const cap = len <= snap ? len : snap;
  r.outBytes += 32 + ((cap + 3) & ~3);
  return o;
}

/** The time of the fast record at `o` in the chunk: not an argument of writeFastRecord, which V8 does not inline (a double argument is boxed per call). */
export function setRecordTime(r: AsyncChunkSink, o: number, timeNs: number): void {
  r.f64[(((r.slotBase + o) >> 2) + K.F_TIME) >> 1] = timeNs;
}

/** The short header's words (F_*) of the fast record at word w; `w0` its word 0, `given` the checksums given (F_FF_PROTO's top byte). */
function writeHeader(i32: Int32Array, f64: Float64Array, w: number, w0: number, ifId: number, pkt: Packet, given: number): void {
  const eth = pkt.eth!;
  const ip = pkt.ip!;
  i32[w] = w0;
  i32[w + K.F_IF] = ifId;
  f64[(w + K.F_ETH_DST) >> 1] = eth.dst;
  f64[(w + K.F_ETH_SRC) >> 1] = eth.src;
  i32[w + K.F_ETH_TOS_TTL] = (eth.etherType & 0xffff) | ((ip.tos & 0xff) << 16) | ((ip.ttl & 0xff) << 24);
  i32[w + K.F_LEN_ID] = (ip.totalLength & 0xffff) | ((ip.id & 0xffff) << 16);
  i32[w + K.F_FF_PROTO] = ((((ip.flags & 0x7) << 13) | (ip.fragOffset & 0x1fff)) & 0xffff) | ((ip.protocol & 0xff) << 16) | (given << 24);
  i32[w + K.F_SRC] = ip.src;
  i32[w + K.F_DST] = ip.dst;
  const kind = w0 & K.T_MASK;
  if (kind === K.R_UDP) {
    const u = pkt.udp!;
    i32[w + K.F_PORTS] = (u.srcPort & 0xffff) | (u.dstPort << 16);
    i32[w + K.F_W0] = u.length;
  } else if (kind === K.R_TCP) {
    const t = pkt.tcp!;
    i32[w + K.F_PORTS] = (t.srcPort & 0xffff) | (t.dstPort << 16);
    i32[w + K.F_W0] = t.seq;
    i32[w + K.F_ACK] = t.ack;
  } else {
    const c = pkt.icmp!;
    i32[w + K.F_PORTS] = (c.type & 0xff) | ((c.code & 0xff) << 16);
    i32[w + K.F_W0] = c.rest;
  }
}

/** The first nb bytes of p to u8[at]. */
function copyBytes(u8: Uint8Array, at: number, p: Uint8Array, nb: number): void {
  if (nb <= 64) for (let i = 0; i < nb; i++) u8[at + i] = p[i]!;
  else u8.set(nb === p.length ? p : p.subarray(0, nb), at);
}

/**
 * A COPY record: the arrival's EPB is the departure's frame at `src` in the current chunk — a fast record
 * (`raw` false) or an EPB's frame bytes serialized into the chunk (`raw`). `len`: the frame's length, which
 * the arriving interface's snaplen does not cut (the caller checks).
 */
export function writeCopyRecord(r: AsyncChunkSink, ifId: number, timeNs: number, src: number, raw: boolean, len: number): void {
  const o = r.record(K.COPY_BYTES);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  i32[w] = (raw ? K.R_COPY_RAW : K.R_COPY) | (src << K.C_SRC_SHIFT);
  i32[w + K.C_IF] = ifId;
  r.f64[(w + K.C_TIME) >> 1] = timeNs;
  r.pos = o + K.COPY_BYTES;
  r.outBytes += 32 + ((len + 3) & ~3);
}

/**
 * Expands records into pcapng bytes, buffered in `outSize` bytes and passed to `write(buf, n)` when full.
 * Self-contained (see the file comment): everything it needs is in its constructor's arguments.
 *
 * The output buffer is zeroed again after each write, so zero bytes are never stored: not the EPB's
 * padding, not a zero payload (most traffic carries none), and an arrival copies from its departure
 * only the bytes that may be non-zero (headers, options, payload bytes present, netem's flipped bit).
 */
export class RecordExpander {
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly ringDv: DataView;
  private out: Uint8Array;
  private out32: Int32Array;
  private outDv: DataView;
  private outPos = 0;
  /** Absolute file offset of out[0]: the bytes handed to `write` so far. */
  written = 0;

  constructor(
    ring: SharedArrayBuffer | ArrayBuffer,
    private readonly L: Layout,
    outSize: number,
    private readonly write: (buf: Uint8Array, n: number) => void,
  ) {
    this.u8 = new Uint8Array(ring);
    this.i32 = new Int32Array(ring);
    this.f64 = new Float64Array(ring);
    this.ringDv = new DataView(ring);
    this.out = new Uint8Array((outSize + 3) & ~3);
    this.out32 = new Int32Array(this.out.buffer);
    this.outDv = new DataView(this.out.buffer);
  }

  /** Hands the buffered output to `write`, then zeroes what it used. */
  flush(): void {
    const n = this.outPos;
    if (n > 0) {
      this.write(this.out, n);
      this.out.fill(0, 0, n);
    }
    this.written += n;
    this.outPos = 0;
  }

  /** Makes room for n bytes in the output buffer (writing it out, growing it for one large block). */
  private room(n: number): void {
    if (this.outPos + n <= this.out.length) return;
    this.flush();
    if (n > this.out.length) {
      this.out = new Uint8Array((n + 3) & ~3);
      this.out32 = new Int32Array(this.out.buffer);
      this.outDv = new DataView(this.out.buffer);
    }
  }

  /** Expands the records in ring bytes [base, base + len) into the output. */
  chunk(base: number, len: number): void {
    const L = this.L;
    const i32 = this.i32;
    let p = base;
    const stop = base + len;
    while (p < stop) {
      const w = p >> 2;
      const w0 = i32[w]!;
      const t = w0 & L.T_MASK;
      if (t === L.R_COPY) {
        this.copy(w, base + (w0 >>> L.C_SRC_SHIFT));
        p += L.COPY_BYTES;
      } else if (t === L.R_COPY_RAW) {
        this.copyRaw(w, base + (w0 >>> L.C_SRC_SHIFT));
        p += L.COPY_BYTES;
      } else if (t === L.R_VERBATIM) {
        const n = i32[w + 1]!;
        this.room(n);
        this.out.set(this.u8.subarray(p + 8, p + 8 + n), this.outPos);
        this.outPos += n;
        p += (8 + n + 7) & ~7;
      } else {
        const fl = this.frameLen(w);
        const ext = (w0 & L.B_EXT) !== 0;
        const snap = ext ? i32[w + L.X_SNAP]! : fl;
        const cap = fl < snap ? fl : snap;
        this.room(32 + fl + 3);
        const tf = (w + L.F_TIME) >> 1;
        const at = this.epb(i32[w + L.F_IF]!, this.f64[tf]!, cap, fl);
        this.frameInto(w, at, fl, cap);
        // The time is read: its words now say where the frame's bytes are, for the COPY records after it.
        this.f64[tf] = cap === fl ? this.written + at : -1;
        p += ext ? (L.EXT_BYTES + (t === L.R_TCP ? i32[w + L.X_TFLAGS]! >>> 16 : 0) + i32[w + L.X_NBYTES]! + 7) & ~7 : (L.SHORT_BYTES + ((w0 & L.B_BYTES) !== 0 ? w0 >>> L.PAYLEN_SHIFT : 0) + 7) & ~7;
      }
    }
  }

  /** A COPY record at word w whose source is the fast record at byte `src` of the ring (the frame is not cut). */
  private copy(w: number, src: number): void {
    const L = this.L;
    const i32 = this.i32;
    const sw = src >> 2;
    const fl = this.frameLen(sw);
    this.room(32 + fl + 3);
    const at = this.epb(i32[w + L.C_IF]!, this.f64[(w + L.C_TIME) >> 1]!, fl, fl);
    // Still in the output buffer (whole, not cut): its bytes that may be non-zero are copied; else laid
    // out again from its record.
    const prev = this.f64[(sw + L.F_TIME) >> 1]! - this.written;
    if (prev < 0) {
      this.frameInto(sw, at, fl, fl);
      return;
    }
    const w0 = i32[sw]!;
    // Headers, options and the payload bytes present; then the byte netem flipped, if past them.
    let n: number;
    if ((w0 & L.B_EXT) === 0) n = 42 + ((w0 & L.B_BYTES) !== 0 ? w0 >>> L.PAYLEN_SHIFT : 0);
    else {
      n = ((w0 & L.T_MASK) === L.R_TCP ? 54 + (i32[sw + L.X_TFLAGS]! >>> 16) : 42) + i32[sw + L.X_NBYTES]!;
      const bit = i32[sw + L.X_CORRUPT]!;
      if (bit >= 0 && 14 + (bit >> 3) >= n && bit < (fl - 14) * 8) n = 15 + (bit >> 3);
    }
    const out = this.out;
    let i = 0;
    if (((at | prev) & 3) === 0) {
      const o32 = this.out32;
      const d = at >> 2;
      const s = prev >> 2;
      const words = n >> 2;
      for (; i < words; i++) o32[d + i] = o32[s + i]!;
      i <<= 2;
    }
    for (; i < n; i++) out[at + i] = out[prev + i]!;
  }

  /** A COPY_RAW record at word w: the frame bytes at ring byte `src` (the EPB's original length before them; not cut). */
  private copyRaw(w: number, src: number): void {
    const L = this.L;
    const fl = this.ringDv.getUint32(src - 4, true);
    this.room(32 + fl + 3);
    const at = this.epb(this.i32[w + L.C_IF]!, this.f64[(w + L.C_TIME) >> 1]!, fl, fl);
    this.out.set(this.u8.subarray(src, src + fl), at);
  }

  /** Frame length of the fast record at word w. */
  private frameLen(w: number): number {
    const L = this.L;
    const w0 = this.i32[w]!;
    return ((w0 & L.T_MASK) === L.R_TCP ? 54 + (this.i32[w + L.X_TFLAGS]! >>> 16) : 42) + (w0 >>> L.PAYLEN_SHIFT);
  }

  /** EPB header and trailer around `cap` bytes of data at out[outPos + 28] (padding: zero already); advances outPos; returns the data offset. */
  private epb(ifId: number, t: number, cap: number, len: number): number {
    const total = 32 + ((cap + 3) & ~3);
    const o = this.outPos;
    const dv = this.outDv;
    dv.setUint32(o, 6, true);
    dv.setUint32(o + 4, total, true);
    dv.setUint32(o + 8, ifId, true);
    dv.setUint32(o + 12, Math.floor(t / 0x1_0000_0000), true);
    dv.setUint32(o + 16, t >>> 0, true);
    dv.setUint32(o + 20, cap, true);
    dv.setUint32(o + 24, len, true);
    dv.setUint32(o + total - 4, total, true);
    this.outPos = o + total;
    return o + 28;
  }

  /**
   * The frame of fast record w into out at `at` (zero there and after), cut at `cap`: a cut frame is laid
   * out whole (its checksums cover all of it) past its EPB's end, which the caller made room for; the
   * bytes past the cut go back to zero and the EPB's trailer, overwritten, is written again.
   */
  private frameInto(w: number, at: number, len: number, cap: number): void {
    this.frame(w, this.out, this.outDv, at);
    if (cap === len) return;
    this.out.fill(0, at + cap, at + len);
    const padded = (cap + 3) & ~3;
    this.outDv.setUint32(at + padded, 32 + padded, true);
  }

  /** Sum of the 16-bit big-endian words of b[s, e) (odd tail as a high byte), unfolded, added to acc. */
  private sum16(b: Uint8Array, s: number, e: number, acc: number): number {
    const even = e - ((e - s) & 1);
    let i = s;
    for (; i < even; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
    if (i < e) acc += b[i]! << 8;
    return acc;
  }

  /** Folded, complemented checksum of an unfolded sum. */
  private fold(sum: number): number {
    while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
    return ~sum & 0xffff;
  }

  /**
   * Writes the frame of the fast record at word w into b[f, f + frameLen) (dv: a DataView of b's whole
   * buffer; b is zero there, so the payload's missing bytes need no stores); returns its length. Fields are stored as writeU16/writeU32/byte stores would (their low 16/32/8 bits, cut when
   * the record was written) and the checksums summed from those same words.
   */
  private frame(w: number, b: Uint8Array, dv: DataView, f: number): number {
    const L = this.L;
    const i32 = this.i32;
    const dst = this.f64[(w + L.F_ETH_DST) >> 1]!;
    const src = this.f64[(w + L.F_ETH_SRC) >> 1]!;
    const ett = i32[w + L.F_ETH_TOS_TTL]!;
    dv.setUint16(f, Math.floor(dst / 0x1_0000_0000));
    dv.setUint32(f + 2, dst >>> 0);
    dv.setUint16(f + 6, Math.floor(src / 0x1_0000_0000));
    dv.setUint32(f + 8, src >>> 0);
    dv.setUint16(f + 12, ett & 0xffff);
    const ip = f + 14;
    const l4 = ip + 20;
    const w0 = i32[w]!;
    const t = w0 & L.T_MASK;
    const ext = (w0 & L.B_EXT) !== 0;
    const tcp = t === L.R_TCP;
    const optLen = tcp ? i32[w + L.X_TFLAGS]! >>> 16 : 0;
    const data = l4 + (tcp ? 20 + optLen : 8);
    const payLen = w0 >>> L.PAYLEN_SHIFT;
    const end = data + payLen;
    // Payload: the bytes present (the zeros after them are there already).
    const n = ext ? i32[w + L.X_NBYTES]! : (w0 & L.B_BYTES) !== 0 ? payLen : 0;
    const bytesAt = (w << 2) + (ext ? L.EXT_BYTES : L.SHORT_BYTES) + optLen;
    let dataSum = 0;
    if (n > 0) {
      if (n <= 64) for (let i = 0; i < n; i++) b[data + i] = this.u8[bytesAt + i]!;
      else b.set(this.u8.subarray(bytesAt, bytesAt + n), data);
      dataSum = this.sum16(b, data, data + n, 0);
    }
    const ps = this.ipv4(w, dv, ip, ett);
    const given = i32[w + L.F_FF_PROTO]! >>> 24;
    const ports = i32[w + L.F_PORTS]!;
    if (t === L.R_UDP) {
      const sport = ports & 0xffff;
      const dport = ports >>> 16;
      const ulen = i32[w + L.F_W0]! & 0xffff;
      dv.setUint16(l4, sport);
      dv.setUint16(l4 + 2, dport);
      dv.setUint16(l4 + 4, ulen);
      let sum: number;
      if ((given & 2) !== 0) sum = i32[w + L.X_L4SUM]!;
      else {
        // Pseudo-header with the record's length field (RFC 768), header, payload; a computed 0 is sent as 0xffff.
        const c = this.fold(ps + sport + dport + 17 + ulen + ulen + dataSum);
        sum = c === 0 ? 0xffff : c;
      }
      dv.setUint16(l4 + 6, sum & 0xffff);
    } else if (tcp) this.tcp(w, b, dv, l4, end, ps + (ports & 0xffff) + (ports >>> 16), optLen, given, dataSum);
    else {
      // ICMP (an echo, or any message without a quoted datagram): header and data summed.
      const ty = ports & 0xff;
      const code = ports >>> 16;
      const rest = i32[w + L.F_W0]! >>> 0;
      b[l4] = ty;
      b[l4 + 1] = code;
      dv.setUint32(l4 + 4, rest);
      const sum = (given & 2) !== 0 ? i32[w + L.X_L4SUM]! : this.fold(((ty << 8) | code) + (rest >>> 16) + (rest & 0xffff) + dataSum);
      dv.setUint16(l4 + 2, sum & 0xffff);
    }
    // netem corrupt: one bit flipped after the checksums.
    const bit = ext ? i32[w + L.X_CORRUPT]! : -1;
    if (bit >= 0 && bit < (end - ip) * 8) b[ip + (bit >> 3)]! ^= 1 << (bit & 7);
    return end - f;
  }

  /** IPv4 header (no options) at b[ip]; checksum computed unless given. Returns the addresses' pseudo-header sum (unfolded). */
  private ipv4(w: number, dv: DataView, ip: number, ett: number): number {
    const L = this.L;
    const i32 = this.i32;
    const ipSrc = i32[w + L.F_SRC]! >>> 0;
    const ipDst = i32[w + L.F_DST]! >>> 0;
    const tos = (ett >>> 16) & 0xff;
    const lid = i32[w + L.F_LEN_ID]!;
    const tot = lid & 0xffff;
    const id = lid >>> 16;
    const ffp = i32[w + L.F_FF_PROTO]!;
    const ff = ffp & 0xffff;
    const tp = ((ett >>> 24) << 8) | ((ffp >>> 16) & 0xff);
    dv.setUint16(ip, 0x4500 | tos);
    dv.setUint16(ip + 2, tot);
    dv.setUint16(ip + 4, id);
    dv.setUint16(ip + 6, ff);
    dv.setUint16(ip + 8, tp);
    dv.setUint32(ip + 12, ipSrc);
    dv.setUint32(ip + 16, ipDst);
    const addrs = (ipSrc >>> 16) + (ipSrc & 0xffff) + (ipDst >>> 16) + (ipDst & 0xffff);
    const sum = (ffp & 0x1000000) !== 0 ? i32[w + L.X_IPSUM]! : this.fold(0x4500 + tos + tot + id + ff + tp + addrs);
    dv.setUint16(ip + 10, sum & 0xffff);
    return addrs;
  }

  /** TCP header and options at l4: pseudo-header with the segment's length from the structure (RFC 9293), header, payload. */
  private tcp(w: number, b: Uint8Array, dv: DataView, l4: number, end: number, ps: number, optLen: number, given: number, dataSum: number): void {
    const L = this.L;
    const i32 = this.i32;
    const ports = i32[w + L.F_PORTS]!;
    const seq = i32[w + L.F_W0]! >>> 0;
    const ack = i32[w + L.F_ACK]! >>> 0;
    const fl = i32[w + L.X_TFLAGS]!;
    const w12 = (((((20 + optLen) >> 2) << 4) | ((fl >> 8) & 1)) << 8) | (fl & 0xff);
    const wu = i32[w + L.X_WIN_URG]!;
    const win = wu & 0xffff;
    const urg = wu >>> 16;
    dv.setUint16(l4, ports & 0xffff);
    dv.setUint16(l4 + 2, ports >>> 16);
    dv.setUint32(l4 + 4, seq);
    dv.setUint32(l4 + 8, ack);
    dv.setUint16(l4 + 12, w12);
    dv.setUint16(l4 + 14, win);
    dv.setUint16(l4 + 18, urg);
    let optSum = 0;
    if (optLen > 0) {
      const o = (w << 2) + L.EXT_BYTES;
      for (let i = 0; i < optLen; i++) b[l4 + 20 + i] = this.u8[o + i]!;
      optSum = this.sum16(b, l4 + 20, l4 + 20 + optLen, 0);
    }
    const sum =
      (given & 2) !== 0
        ? i32[w + L.X_L4SUM]!
        : this.fold(ps + 6 + ((end - l4) & 0xffff) + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + w12 + win + urg + optSum + dataSum);
    dv.setUint16(l4 + 16, sum & 0xffff);
  }
}
