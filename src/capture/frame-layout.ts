// capture/frame-layout — the writer thread's layout of a fast record's frame (capture/epb-records): Ethernet, IPv4,
// UDP | TCP (with options) | ICMP headers, their checksums, the payload bytes present and netem's flipped bit. Layer:
// capture. RecordExpander (capture/record-expander) extends it; like it, it is written without references outside its
// own body: the writer thread (capture/writer-thread) runs its source text with the layout's values substituted for its
// `L.X` reads. Apart from the expander since session 43 (each file under 600 lines); the code is the expander's as it was.
import type { LAYOUT } from './epb-records.js';

type Layout = typeof LAYOUT;

/** Lays out the frames of fast records in a ring (RecordExpander's base: the ring's views and the layout). */
export class FrameLayout {
  // The ring's views start with a value of their kind (session 44), not bare: a bare declaration compiles to a field
  // whose first value is undefined, a generic one, whose map TurboFan checks at every read (after each call again).
  protected readonly u8: Uint8Array = new Uint8Array(0);
  protected readonly i32: Int32Array = new Int32Array(0);
  protected readonly f64: Float64Array = new Float64Array(0);

  constructor(
    ring: SharedArrayBuffer | ArrayBuffer,
    // A generic field on purpose (a parameter property: undefined first). The writer thread's source has its `L.X`
    // reads replaced by values, so `this.L` is loaded there and never read; with a field type (its first layout
    // object's map) the sink's expander, whose layout object (workerData's) has another map than the spare's warm-up
    // expanders' (a literal), would generalize it, and every expander function the warm-up compiled would deoptimize.
    protected readonly L: Layout,
  ) {
    this.u8 = new Uint8Array(ring);
    this.i32 = new Int32Array(ring);
    this.f64 = new Float64Array(ring);
  }

  /** Sum of the 16-bit big-endian words of b[s, e) (odd tail as a high byte), unfolded, added to acc. */
  protected sum16(b: Uint8Array, s: number, e: number, acc: number): number {
    const even = e - ((e - s) & 1);
    let i = s;
    for (; i < even; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
    if (i < e) acc += b[i]! << 8;
    return acc;
  }

  /** Folded, complemented checksum of an unfolded sum. */
  protected fold(sum: number): number {
    while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
    return ~sum & 0xffff;
  }

  /**
   * Writes the frame of the fast record at word w into b[f, f + frameLen) (dv: a DataView of b's whole
   * buffer; b is zero there, so the payload's missing bytes need no stores); returns its length. Fields are stored as writeU16/writeU32/byte stores would (their low 16/32/8 bits, cut when
   * the record was written) and the checksums summed from those same words.
   */
  protected frame(w: number, b: Uint8Array, dv: DataView, f: number): number {
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
  protected ipv4(w: number, dv: DataView, ip: number, ett: number): number {
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
  protected tcp(w: number, b: Uint8Array, dv: DataView, l4: number, end: number, ps: number, optLen: number, given: number, dataSum: number): void {
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
