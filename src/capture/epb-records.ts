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
// | UDP 2 / TCP 3 / ICMP 4 | the frame's fields, see F_* below; then the TCP options (already        |
// |             | encoded, padded to 4) and the payload bytes present (zero-filled up to          |
// |             | payloadLength by the expander)                                                  |
// | COPY 5      | an arrival whose departure is in the same chunk (capture/frame-memo): C_* below |
//
// Only frames the fast records describe exactly take them (`fastKind`): Ethernet + IPv4 without
// options + UDP, TCP (≤ 40 option bytes) or ICMP without a quoted datagram, no VXLAN, not a fragment.
// netem's corrupt bit is flipped after the checksums, as writeIp does. Every other frame is serialized by
// the simulation thread into a VERBATIM record (packet/serialize), as before.
//
// The expander (`RecordExpander`) is written without references outside its own body: the writer thread
// runs its source text (Function.prototype.toString of the class, see async-sink.ts), and a capture too
// small to start the thread runs it on the simulation thread at finish().
import type { Packet } from '../packet/packet.js';
import { encodeTcpOptions, tcpHeaderLength } from '../wire/tcp.js';
import type { AsyncChunkSink } from './async-sink.js';

/** Record types (word 0). */
export const R_VERBATIM = 1;
export const R_UDP = 2;
export const R_TCP = 3;
export const R_ICMP = 4;
export const R_COPY = 5;

// Fast record fields (int32 word index from the record's start; f64 fields take two words, 8-aligned).
export const F_TIME = 2; // f64: simulated time, ns
export const F_ETH_DST = 4; // f64: MAC as an integer
export const F_ETH_SRC = 6; // f64
export const F_OUT_AT = 8; // f64, written by the expander: absolute file offset of the frame's bytes (−1: cut)
export const F_IF = 10;
export const F_SNAP = 11;
export const F_ETHERTYPE = 12;
export const F_TOS = 13;
export const F_TOTLEN = 14;
export const F_ID = 15;
export const F_FLAGS = 16; // ip flags
export const F_FRAGOFF = 17;
export const F_TTL = 18;
export const F_PROTO = 19;
export const F_IPSUM = 20; // ip checksum as given (see F_GIVEN)
export const F_SRC = 21;
export const F_DST = 22;
export const F_SPORT = 23; // UDP/TCP source port; ICMP type
export const F_DPORT = 24; // UDP/TCP destination port; ICMP code
export const F_L4SUM = 25; // L4 checksum as given (see F_GIVEN)
export const F_GIVEN = 26; // bit 0: ip checksum given, bit 1: L4 checksum given (else computed)
export const F_PAYLEN = 27; // payloadLength
export const F_NBYTES = 28; // payload bytes present in the record (≤ payloadLength)
export const F_CORRUPT = 29; // netem corrupt bit from the IP header's first bit, −1 none
export const F_W0 = 30; // UDP length field; TCP seq; ICMP rest
export const F_W1 = 31; // TCP ack
export const F_W2 = 32; // TCP flags
export const F_W3 = 33; // TCP window
export const F_W4 = 34; // TCP urgent
export const F_OPTLEN = 35; // TCP option bytes (padded) after the header
/** Byte offset of the option/payload bytes from the record's start. */
export const FAST_HEADER_BYTES = 36 * 4;

// COPY record fields.
export const C_TIME = 2; // f64
export const C_IF = 4;
export const C_SNAP = 5;
export const C_SRC = 6; // byte offset in the chunk of the source: a fast record, or raw frame bytes
export const C_KIND = 7; // 1: fast record at C_SRC, 0: the frame's bytes at C_SRC
export const C_LEN = 8; // frame length
export const COPY_BYTES = 40;

/** Record layout handed to RecordExpander (it may not read module constants: it runs from its source text). */
export const LAYOUT = {
  R_VERBATIM, R_UDP, R_TCP, R_ICMP, R_COPY,
  F_TIME, F_ETH_DST, F_ETH_SRC, F_OUT_AT, F_IF, F_SNAP, F_ETHERTYPE, F_TOS, F_TOTLEN, F_ID, F_FLAGS, F_FRAGOFF, F_TTL, F_PROTO,
  F_IPSUM, F_SRC, F_DST, F_SPORT, F_DPORT, F_L4SUM, F_GIVEN, F_PAYLEN, F_NBYTES, F_CORRUPT, F_W0, F_W1, F_W2, F_W3, F_W4, F_OPTLEN,
  FAST_HEADER_BYTES, C_TIME, C_IF, C_SNAP, C_SRC, C_KIND, C_LEN,
} as const;
export type Layout = typeof LAYOUT;

/**
 * The fast record type for `pkt`, or 0 when it needs packet/serialize (see the file comment). Also 0 for
 * a TCP header whose options do not fit (serialize throws its WireError there, as before).
 */
export function fastKind(pkt: Packet): number {
  const ip = pkt.ip;
  if (pkt.eth === null || ip === null || ip.options !== null || pkt.arp !== null || pkt.fragOf !== null || pkt.vxlan !== null) return 0;
  if (pkt.udp !== null) return pkt.tcp === null && pkt.icmp === null ? R_UDP : 0;
  if (pkt.tcp !== null) return pkt.icmp === null && tcpHeaderLength(pkt.tcp) <= 60 ? R_TCP : 0;
  if (pkt.icmp !== null) return pkt.inner === null ? R_ICMP : 0;
  return 0;
}

/**
 * Writes a fast record (capture/epb-records) for `pkt` into the ring: its fields, TCP options encoded,
 * the payload bytes present. False when the record would not fit in a chunk (then the caller serializes).
 * The caller counts the packet.
 */
export function writeFastRecord(r: AsyncChunkSink, kind: number, ifId: number, timeNs: number, pkt: Packet, snap: number, len: number): boolean {
  const p = pkt.payload;
  const payLen = pkt.payloadLength;
  const nb = p === null ? 0 : p.length < payLen ? p.length : payLen;
  const opt = kind === R_TCP ? len - 34 - 20 - payLen : 0;
  const size = (FAST_HEADER_BYTES + opt + nb + 7) & ~7;
  if (size > r.slotSize) return false;
  const o = r.record(size);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  const f64 = r.f64;
  const eth = pkt.eth!;
  const ip = pkt.ip!;
  i32[w] = kind;
  i32[w + 1] = size;
  f64[(w + F_TIME) >> 1] = timeNs;
  f64[(w + F_ETH_DST) >> 1] = eth.dst;
  f64[(w + F_ETH_SRC) >> 1] = eth.src;
  i32[w + F_IF] = ifId;
  i32[w + F_SNAP] = snap;
  i32[w + F_ETHERTYPE] = eth.etherType;
  i32[w + F_TOS] = ip.tos;
  i32[w + F_TOTLEN] = ip.totalLength;
  i32[w + F_ID] = ip.id;
  i32[w + F_FLAGS] = ip.flags;
  i32[w + F_FRAGOFF] = ip.fragOffset;
  i32[w + F_TTL] = ip.ttl;
  i32[w + F_PROTO] = ip.protocol;
  let given = 0;
  if (ip.checksum !== null) {
    given = 1;
    i32[w + F_IPSUM] = ip.checksum;
  }
  i32[w + F_SRC] = ip.src;
  i32[w + F_DST] = ip.dst;
  i32[w + F_PAYLEN] = payLen;
  i32[w + F_NBYTES] = nb;
  i32[w + F_CORRUPT] = pkt.corruptBit;
  given |= fastL4(i32, w, pkt, kind, opt, r.u8, r.slotBase + o + FAST_HEADER_BYTES);
  i32[w + F_GIVEN] = given;
  if (nb > 0) {
    const at = r.slotBase + o + FAST_HEADER_BYTES + opt;
    const u8 = r.u8;
    if (nb <= 64) for (let i = 0; i < nb; i++) u8[at + i] = p![i]!;
    else u8.set(nb === p!.length ? p! : p!.subarray(0, nb), at);
  }
  r.pos = o + size;
  r.lastRecord = o;
  const cap = len <= snap ? len : snap;
  r.outBytes += 32 + ((cap + 3) & ~3);
  return true;
}

/** The L4 fields of a fast record at word w (TCP options encoded at byte `optAt`); returns F_GIVEN's bit 1 when the checksum is given. */
function fastL4(i32: Int32Array, w: number, pkt: Packet, kind: number, opt: number, u8: Uint8Array, optAt: number): number {
  if (kind === R_UDP) {
    const u = pkt.udp!;
    i32[w + F_SPORT] = u.srcPort;
    i32[w + F_DPORT] = u.dstPort;
    i32[w + F_W0] = u.length;
    if (u.checksum === null) return 0;
    i32[w + F_L4SUM] = u.checksum;
    return 2;
  }
  if (kind === R_TCP) {
    const t = pkt.tcp!;
    i32[w + F_SPORT] = t.srcPort;
    i32[w + F_DPORT] = t.dstPort;
    i32[w + F_W0] = t.seq;
    i32[w + F_W1] = t.ack;
    i32[w + F_W2] = t.flags;
    i32[w + F_W3] = t.window;
    i32[w + F_W4] = t.urgent;
    i32[w + F_OPTLEN] = opt;
    if (opt > 0) encodeTcpOptions(t.options, u8, optAt);
    if (t.checksum === null) return 0;
    i32[w + F_L4SUM] = t.checksum;
    return 2;
  }
  const c = pkt.icmp!;
  i32[w + F_SPORT] = c.type;
  i32[w + F_DPORT] = c.code;
  i32[w + F_W0] = c.rest;
  if (c.checksum === null) return 0;
  i32[w + F_L4SUM] = c.checksum;
  return 2;
}

/** A COPY record: the arrival's EPB is the departure's bytes at `src` in the current chunk (kind 1: a fast record). */
export function writeCopyRecord(r: AsyncChunkSink, ifId: number, timeNs: number, snap: number, src: number, kind: number, len: number): void {
  const o = r.record(COPY_BYTES);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  i32[w] = R_COPY;
  i32[w + 1] = COPY_BYTES;
  r.f64[(w + C_TIME) >> 1] = timeNs;
  i32[w + C_IF] = ifId;
  i32[w + C_SNAP] = snap;
  i32[w + C_SRC] = src;
  i32[w + C_KIND] = kind;
  i32[w + C_LEN] = len;
  r.pos = o + COPY_BYTES;
  const cap = len <= snap ? len : snap;
  r.outBytes += 32 + ((cap + 3) & ~3);
}

/**
 * Expands records into pcapng bytes, buffered in `outSize` bytes and passed to `write(buf, n)` when full.
 * Self-contained (see the file comment): everything it needs is in its constructor's arguments.
 */
export class RecordExpander {
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private out: Uint8Array;
  private outDv: DataView;
  private outPos = 0;
  /** Absolute file offset of out[0]: the bytes handed to `write` so far. */
  written = 0;
  private scratch = new Uint8Array(2048);
  private scratchDv = new DataView(this.scratch.buffer);

  constructor(
    ring: SharedArrayBuffer | ArrayBuffer,
    private readonly L: Layout,
    outSize: number,
    private readonly write: (buf: Uint8Array, n: number) => void,
  ) {
    this.u8 = new Uint8Array(ring);
    this.i32 = new Int32Array(ring);
    this.f64 = new Float64Array(ring);
    this.out = new Uint8Array(outSize);
    this.outDv = new DataView(this.out.buffer);
  }

  /** Hands the buffered output to `write`. */
  flush(): void {
    if (this.outPos > 0) this.write(this.out, this.outPos);
    this.written += this.outPos;
    this.outPos = 0;
  }

  /** Makes room for n bytes in the output buffer (writing it out, growing it for one large block). */
  private room(n: number): void {
    if (this.outPos + n <= this.out.length) return;
    this.flush();
    if (n > this.out.length) {
      this.out = new Uint8Array(n);
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
      const t = i32[w]!;
      if (t === L.R_COPY) {
        this.copy(w, base);
        p += 40;
      } else if (t === L.R_VERBATIM) {
        const n = i32[w + 1]!;
        this.room(n);
        this.out.set(this.u8.subarray(p + 8, p + 8 + n), this.outPos);
        this.outPos += n;
        p += (8 + n + 7) & ~7;
      } else {
        const fl = this.frameLen(w);
        const snap = i32[w + L.F_SNAP]!;
        const cap = fl < snap ? fl : snap;
        this.room(32 + cap + 3);
        const at = this.epb(i32[w + L.F_IF]!, this.f64[(w + L.F_TIME) >> 1]!, cap, fl);
        this.frameInto(w, at, fl, cap);
        this.f64[(w + L.F_OUT_AT) >> 1] = cap === fl ? this.written + at : -1;
        p += i32[w + 1]!;
      }
    }
  }

  /** A COPY record at word w: the EPB of its source's bytes (raw in the chunk, or a fast record's frame). */
  private copy(w: number, base: number): void {
    const L = this.L;
    const i32 = this.i32;
    const fl = i32[w + L.C_LEN]!;
    const snap = i32[w + L.C_SNAP]!;
    const cap = fl < snap ? fl : snap;
    this.room(32 + cap + 3);
    const at = this.epb(i32[w + L.C_IF]!, this.f64[(w + L.C_TIME) >> 1]!, cap, fl);
    const src = base + i32[w + L.C_SRC]!;
    if (i32[w + L.C_KIND] === 0) {
      this.out.set(this.u8.subarray(src, src + cap), at);
      return;
    }
    const sw = src >> 2;
    // Still in the output buffer (whole, not cut): copied; else laid out again from its record.
    const prev = this.f64[(sw + L.F_OUT_AT) >> 1]! - this.written;
    if (prev >= 0) this.out.copyWithin(at, prev, prev + cap);
    else this.frameInto(sw, at, fl, cap);
  }

  /** Frame length of the fast record at word w. */
  private frameLen(w: number): number {
    const L = this.L;
    const i32 = this.i32;
    return 34 + (i32[w]! === L.R_TCP ? 20 + i32[w + L.F_OPTLEN]! : 8) + i32[w + L.F_PAYLEN]!;
  }

  /** EPB header and trailer around `cap` bytes of data at out[outPos + 28]; advances outPos; returns the data offset. */
  private epb(ifId: number, t: number, cap: number, len: number): number {
    const padded = (cap + 3) & ~3;
    const total = 32 + padded;
    const o = this.outPos;
    const dv = this.outDv;
    dv.setUint32(o, 6, true);
    dv.setUint32(o + 4, total, true);
    dv.setUint32(o + 8, ifId, true);
    dv.setUint32(o + 12, Math.floor(t / 0x1_0000_0000), true);
    dv.setUint32(o + 16, t >>> 0, true);
    dv.setUint32(o + 20, cap, true);
    dv.setUint32(o + 24, len, true);
    const out = this.out;
    for (let i = o + 28 + cap; i < o + 28 + padded; i++) out[i] = 0;
    dv.setUint32(o + 28 + padded, total, true);
    this.outPos = o + total;
    return o + 28;
  }

  /** The frame of fast record w into out at `at`: whole, or cut at `cap` through the scratch buffer. */
  private frameInto(w: number, at: number, len: number, cap: number): void {
    if (cap === len) {
      this.frame(w, this.out, this.outDv, at);
      return;
    }
    if (this.scratch.length < len) {
      this.scratch = new Uint8Array(len);
      this.scratchDv = new DataView(this.scratch.buffer);
    }
    this.frame(w, this.scratch, this.scratchDv, 0);
    this.out.set(this.scratch.subarray(0, cap), at);
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
   * buffer); returns its length. Fields are stored as writeU16/writeU32/byte stores would (their low
   * 16/32/8 bits) and the checksums summed from those same words.
   */
  private frame(w: number, b: Uint8Array, dv: DataView, f: number): number {
    const L = this.L;
    const i32 = this.i32;
    const dst = this.f64[(w + L.F_ETH_DST) >> 1]!;
    const src = this.f64[(w + L.F_ETH_SRC) >> 1]!;
    dv.setUint16(f, Math.floor(dst / 0x1_0000_0000));
    dv.setUint32(f + 2, dst >>> 0);
    dv.setUint16(f + 6, Math.floor(src / 0x1_0000_0000));
    dv.setUint32(f + 8, src >>> 0);
    dv.setUint16(f + 12, i32[w + L.F_ETHERTYPE]!);
    const ip = f + 14;
    const l4 = ip + 20;
    const t = i32[w]!;
    const optLen = t === L.R_TCP ? i32[w + L.F_OPTLEN]! : 0;
    const data = l4 + (t === L.R_TCP ? 20 + optLen : 8);
    const payLen = i32[w + L.F_PAYLEN]!;
    const end = data + payLen;
    // Payload: the bytes present, zeros after them.
    const n = i32[w + L.F_NBYTES]!;
    const bytesAt = (w << 2) + L.FAST_HEADER_BYTES + optLen;
    if (n > 0) {
      if (n <= 64) for (let i = 0; i < n; i++) b[data + i] = this.u8[bytesAt + i]!;
      else b.set(this.u8.subarray(bytesAt, bytesAt + n), data);
    }
    if (n < payLen) {
      if (payLen - n <= 128) for (let i = data + n; i < end; i++) b[i] = 0;
      else b.fill(0, data + n, end);
    }
    const dataSum = n > 0 ? this.sum16(b, data, data + n, 0) : 0;
    if (t === L.R_ICMP) this.icmp(w, b, dv, l4, dataSum);
    else if (t === L.R_UDP) this.udp(w, dv, l4, dataSum);
    else this.tcp(w, b, dv, l4, end, dataSum);
    this.ipv4(w, dv, ip);
    // netem corrupt: one bit flipped after the checksums.
    const bit = i32[w + L.F_CORRUPT]!;
    if (bit >= 0 && bit < (end - ip) * 8) b[ip + (bit >> 3)]! ^= 1 << (bit & 7);
    return end - f;
  }

  /** IPv4 header (no options) at b[ip]; checksum computed unless given. */
  private ipv4(w: number, dv: DataView, ip: number): void {
    const L = this.L;
    const i32 = this.i32;
    const ipSrc = i32[w + L.F_SRC]! >>> 0;
    const ipDst = i32[w + L.F_DST]! >>> 0;
    const tos = i32[w + L.F_TOS]! & 0xff;
    const tot = i32[w + L.F_TOTLEN]! & 0xffff;
    const id = i32[w + L.F_ID]! & 0xffff;
    const ff = (((i32[w + L.F_FLAGS]! & 0x7) << 13) | (i32[w + L.F_FRAGOFF]! & 0x1fff)) & 0xffff;
    const tp = ((i32[w + L.F_TTL]! & 0xff) << 8) | (i32[w + L.F_PROTO]! & 0xff);
    dv.setUint16(ip, 0x4500 | tos);
    dv.setUint16(ip + 2, tot);
    dv.setUint16(ip + 4, id);
    dv.setUint16(ip + 6, ff);
    dv.setUint16(ip + 8, tp);
    dv.setUint32(ip + 12, ipSrc);
    dv.setUint32(ip + 16, ipDst);
    const sum =
      (i32[w + L.F_GIVEN]! & 1) !== 0
        ? i32[w + L.F_IPSUM]!
        : this.fold((0x4500 | tos) + tot + id + ff + tp + (ipSrc >>> 16) + (ipSrc & 0xffff) + (ipDst >>> 16) + (ipDst & 0xffff));
    dv.setUint16(ip + 10, sum & 0xffff);
  }

  /** Unfolded pseudo-header sum of the addresses plus the two 16-bit ports written at l4. */
  private addrsPorts(w: number, dv: DataView, l4: number): number {
    const L = this.L;
    const i32 = this.i32;
    const s = i32[w + L.F_SRC]! >>> 0;
    const d = i32[w + L.F_DST]! >>> 0;
    const sport = i32[w + L.F_SPORT]! & 0xffff;
    const dport = i32[w + L.F_DPORT]! & 0xffff;
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    return (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + sport + dport;
  }

  /** UDP header at l4: pseudo-header with the record's length field (RFC 768), header, payload; a computed 0 is sent as 0xffff. */
  private udp(w: number, dv: DataView, l4: number, dataSum: number): void {
    const L = this.L;
    const i32 = this.i32;
    const ps = this.addrsPorts(w, dv, l4);
    const ulen = i32[w + L.F_W0]! & 0xffff;
    dv.setUint16(l4 + 4, ulen);
    let sum: number;
    if ((i32[w + L.F_GIVEN]! & 2) !== 0) sum = i32[w + L.F_L4SUM]!;
    else {
      const c = this.fold(ps + 17 + ulen + ulen + dataSum);
      sum = c === 0 ? 0xffff : c;
    }
    dv.setUint16(l4 + 6, sum & 0xffff);
  }

  /** TCP header and options at l4: pseudo-header with the segment's length from the structure (RFC 9293), header, payload. */
  private tcp(w: number, b: Uint8Array, dv: DataView, l4: number, end: number, dataSum: number): void {
    const L = this.L;
    const i32 = this.i32;
    const ps = this.addrsPorts(w, dv, l4);
    const optLen = i32[w + L.F_OPTLEN]!;
    const seq = i32[w + L.F_W0]! >>> 0;
    const ack = i32[w + L.F_W1]! >>> 0;
    const fl = i32[w + L.F_W2]!;
    const w12 = (((((20 + optLen) >> 2) << 4) | ((fl >> 8) & 1)) << 8) | (fl & 0xff);
    const win = i32[w + L.F_W3]! & 0xffff;
    const urg = i32[w + L.F_W4]! & 0xffff;
    dv.setUint32(l4 + 4, seq);
    dv.setUint32(l4 + 8, ack);
    dv.setUint16(l4 + 12, w12);
    dv.setUint16(l4 + 14, win);
    dv.setUint16(l4 + 18, urg);
    let optSum = 0;
    if (optLen > 0) {
      const o = (w << 2) + L.FAST_HEADER_BYTES;
      for (let i = 0; i < optLen; i++) b[l4 + 20 + i] = this.u8[o + i]!;
      optSum = this.sum16(b, l4 + 20, l4 + 20 + optLen, 0);
    }
    const sum =
      (i32[w + L.F_GIVEN]! & 2) !== 0
        ? i32[w + L.F_L4SUM]!
        : this.fold(ps + 6 + ((end - l4) & 0xffff) + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + w12 + win + urg + optSum + dataSum);
    dv.setUint16(l4 + 16, sum & 0xffff);
  }

  /** ICMP header at l4 (an echo, or any ICMP message without a quoted datagram): header and data summed. */
  private icmp(w: number, b: Uint8Array, dv: DataView, l4: number, dataSum: number): void {
    const L = this.L;
    const i32 = this.i32;
    const ty = i32[w + L.F_SPORT]! & 0xff;
    const code = i32[w + L.F_DPORT]! & 0xff;
    const rest = i32[w + L.F_W0]! >>> 0;
    b[l4] = ty;
    b[l4 + 1] = code;
    dv.setUint32(l4 + 4, rest);
    const sum = (i32[w + L.F_GIVEN]! & 2) !== 0 ? i32[w + L.F_L4SUM]! : this.fold(((ty << 8) | code) + (rest >>> 16) + (rest & 0xffff) + dataSum);
    dv.setUint16(l4 + 2, sum & 0xffff);
  }
}
