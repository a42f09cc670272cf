// capture/record-expander — the writer thread's half of capture/epb-records: RecordExpander turns the ring's
// records into pcapng bytes (EPB header, the headers and checksums of a fast record, the copy of a departure
// for a COPY arrival, VERBATIM bytes as they are). Layer: capture. It is written without references
// outside its own body but its base class (capture/frame-layout: a fast record's headers and checksums): the
// writer thread (capture/writer-thread) runs both source texts with the layout's values substituted for their
// `L.X` reads, and a capture too small to start the thread runs it on the simulation thread at finish(). The
// record layout is described in capture/epb-records.
import type { LAYOUT } from './epb-records.js';
import { FrameLayout } from './frame-layout.js';

type Layout = typeof LAYOUT;

/**
 * Expands records into pcapng bytes, buffered in `outSize` bytes and passed to `write(buf, n)` when full.
 * Self-contained (see the file comment): everything it needs is in its constructor's arguments.
 *
 * The output buffer is zeroed again after each write, so zero bytes are never stored: not the EPB's
 * padding, not a zero payload (most traffic carries none), and an arrival copies from its departure
 * only the bytes that may be non-zero (headers, options, payload bytes present, netem's flipped bit).
 */
export class RecordExpander extends FrameLayout {
  // Set in the constructor, first values of their kind here (see FrameLayout's views).
  private readonly ringDv: DataView = new DataView(new ArrayBuffer(0));
  private out: Uint8Array = new Uint8Array(0);
  private out32: Int32Array = new Int32Array(0);
  private outDv: DataView = new DataView(new ArrayBuffer(0));
  private outPos = 0;
  /**
   * 16 KiB at most while the first 256 KiB go out, then the buffer's size: the early writes give the write
   * path feedback before TurboFan compiles room()'s callers (session 29: a first write at 1 MiB deoptimized
   * them); 16 KiB, not 4, so copy() of a full record finds it still buffered in the small first chunks (s30).
   */
  private outEnd = 0;
  /** A little-endian host: the EPB's little-endian words are stored as Int32Array words (else DataView). */
  private readonly le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  /** plainUdp's templates, by interface: 12 words of record fields + header sum (−1: none yet), 11 output words. */
  private tplRec = new Int32Array(0);
  private tplOut = new Int32Array(0);
  /** repeatInto's templates by interface: file offset (−2: none), IP header sum without the id, 11 output words. */
  private repKey = new Float64Array(0);
  private repSum = new Int32Array(0);
  private repOut = new Int32Array(0);
  /** arrival()'s bases by departing interface (grown with repKey): the last COPY's interface and time (an SCOPY's are those + its offset). */
  private cpIf = new Int32Array(0);
  private cpT0 = new Float64Array(0);
  /** By interface (grown with repKey): the time of its last REPEAT or DREPEAT, a DREPEAT's base (session 45). */
  private repT = new Float64Array(0);
  /**
   * The file offset of each DREPEAT's frame in the chunk being expanded, by its ring word − `pBase` (the chunk's first)
   * >> 1: a DREPEAT has no time words to keep it in, and its copies (in the same chunk, after it) copy from there.
   */
  private placeAt = new Float64Array(0);
  private pBase = 0;
  private readonly repScratch = new Uint8Array(64);
  private readonly repScratch32 = new Int32Array(this.repScratch.buffer);
  private readonly repScratchDv = new DataView(this.repScratch.buffer);
  /** Absolute file offset of out[0]: the bytes handed to `write` so far. */
  written = 0;

  private declare readonly write: (buf: Uint8Array, n: number) => void;

  constructor(ring: SharedArrayBuffer | ArrayBuffer, L: Layout, outSize: number, write: (buf: Uint8Array, n: number) => void) {
    super(ring, L);
    this.write = write;
    this.ringDv = new DataView(ring);
    this.out = new Uint8Array((outSize + 3) & ~3);
    this.out32 = new Int32Array(this.out.buffer);
    this.outDv = new DataView(this.out.buffer);
    this.outEnd = Math.min(16384, this.out.length); // literals (also in flush): no module constants here
    // The per-interface tables are made for 64 interfaces here (session 43), so that a capture of up to 64 grows none
    // of them while it runs: a table grows on an interface's first record, a path the spare's warm-up runs only in its
    // functions' first calls, before they have type feedback, and which TurboFan's code of chunk(), which inlines those
    // functions, then left as a deoptimization (--trace-deopt: growRepeat's call in arrival(), at a run's first COPY).
    // (Stored a second time here, also so that no later growth changes a field V8 took as constant.)
    this.growTemplates(63);
    this.growRepeat(63);
    // Made for chunks of up to 256 KiB (the default slot; a DREPEAT's index < its chunk's bytes / 8) here, not at a first
    // chunk: that growth, run before chunk() had type feedback, deoptimized it at the next (session 45, --trace-deopt).
    this.placeAt = new Float64Array(1 << 15);
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
    this.outEnd = this.written < 256 << 10 && this.out.length > 16384 ? 16384 : this.out.length;
  }

  /** Makes room for n bytes in the output buffer (writing it out, growing it for one large block). */
  private room(n: number): void {
    if (this.outPos + n <= this.outEnd) return;
    this.flush();
    if (n > this.out.length) {
      this.out = new Uint8Array((n + 3) & ~3);
      this.out32 = new Int32Array(this.out.buffer);
      this.outDv = new DataView(this.out.buffer);
      this.outEnd = this.out.length;
    }
  }

  /** Expands the records in ring bytes [base, base + len) into the output. */
  chunk(base: number, len: number): void {
    const L = this.L;
    const i32 = this.i32;
    let p = base;
    const stop = base + len;
    this.pBase = base >> 2;
    if (len >> 3 > this.placeAt.length) this.placeAt = new Float64Array(len >> 3);
    while (p < stop) {
      const w = p >> 2;
      const w0 = i32[w]!;
      const t = w0 & L.T_MASK;
      if (t === L.R_DREPEAT) {
        this.repeat(w);
        p += L.DREPEAT_BYTES;
      } else if (t === L.R_REPEAT) {
        this.repeat(w);
        p += L.REPEAT_BYTES;
      } else if (t === L.R_SCOPY) {
        const x = w0 >>> L.C_SRC_SHIFT; // source offset (4-aligned) + 2 for a fast record
        this.scopy(w, x, base + (x & ~3));
        p += L.SCOPY_BYTES;
      } else if (t === L.R_COPY || t === L.R_COPY_RAW) {
        this.arrival(w, t === L.R_COPY_RAW, base + (w0 >>> L.C_SRC_SHIFT), true);
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
        const ifId = i32[w + L.F_IF]!;
        const at = this.epb(ifId, this.f64[tf]!, cap, fl);
        if ((w0 & (L.B_EXT | L.B_BYTES | L.T_MASK)) === L.R_UDP && this.le === true) this.plainUdp(w, ifId, at);
        else this.frameInto(w, at, fl, cap);
        // The time is read: its words now say where the frame's bytes are, for the COPY records after it.
        this.f64[tf] = cap === fl ? this.written + at : -1;
        p += ext ? (L.EXT_BYTES + (t === L.R_TCP ? i32[w + L.X_TFLAGS]! >>> 16 : 0) + i32[w + L.X_NBYTES]! + 7) & ~7 : (L.SHORT_BYTES + ((w0 & L.B_BYTES) !== 0 ? w0 >>> L.PAYLEN_SHIFT : 0) + 7) & ~7;
      }
    }
  }

  /**
   * A short UDP record without payload bytes (S1's frames: 42 header bytes, zeros after) at out[at]. Each
   * interface keeps the last such frame as a template: its record words F_ETH_DST…F_W0, its first 11
   * output words, and its IP header sum without the id. A frame whose record words equal the template's
   * but for the IP id (consecutive datagrams of a flow) is the template's words with the id and the IP
   * checksum patched — the UDP checksum does not cover the id. Otherwise frame() lays it out and it
   * becomes the template. Same bytes either way (test/capture/epb-records.test.ts, golden).
   */
  private plainUdp(w: number, ifId: number, at: number): void {
    const L = this.L;
    const i32 = this.i32;
    const o32 = this.out32;
    const d = at >> 2;
    const k = ifId * 12;
    const q = ifId * 11;
    if (k + 12 > this.tplRec.length) this.growTemplates(ifId);
    const rec = this.tplRec;
    const out = this.tplOut;
    const r0 = w + L.F_ETH_DST;
    const lid = i32[w + L.F_LEN_ID]!;
    // Written out, not as loops: TurboFan checks a typed array's map and length once in straight code but
    // again at every iteration of a loop (a 10-word loop took ~25 instructions a word, callgrind).
    if (
      ((rec[k + 5]! ^ lid) & 0xffff) === 0 &&
      rec[k] === i32[r0] && rec[k + 1] === i32[r0 + 1] && rec[k + 2] === i32[r0 + 2] && rec[k + 3] === i32[r0 + 3] &&
      rec[k + 4] === i32[r0 + 4] && rec[k + 6] === i32[r0 + 6] && rec[k + 7] === i32[r0 + 7] && rec[k + 8] === i32[r0 + 8] &&
      rec[k + 9] === i32[r0 + 9] && rec[k + 10] === i32[r0 + 10]
    ) {
      this.copy11(o32, d, out, q);
      const id = lid >>> 16;
      let sum = rec[k + 11]! + id;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      const c = ~sum & 0xffff;
      // Bytes 18–19 (id) are word 4's high half, 24–25 (IP checksum) word 6's low half; big-endian.
      o32[d + 4] = (out[q + 4]! & 0xffff) | (((id & 0xff) << 24) | ((id >>> 8) << 16));
      o32[d + 6] = (out[q + 6]! & ~0xffff) | ((c & 0xff) << 8) | (c >>> 8);
      return;
    }
    this.frame(w, this.out, this.outDv, at);
    this.copy11(rec, k, i32, r0);
    this.copy11(out, q, o32, d);
    // ipv4()'s sum without the id: 0x4500 + tos + total length + flags/fragment + ttl/protocol + addresses.
    const ett = i32[w + L.F_ETH_TOS_TTL]!;
    const ffp = i32[w + L.F_FF_PROTO]!;
    const src = i32[w + L.F_SRC]! >>> 0;
    const dst = i32[w + L.F_DST]! >>> 0;
    rec[k + 11] = 0x4500 + ((ett >>> 16) & 0xff) + (lid & 0xffff) + (ffp & 0xffff) + (((ett >>> 24) << 8) | ((ffp >>> 16) & 0xff)) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  }

  /** Makes room for interface ifId in plainUdp's templates. */
  private growTemplates(ifId: number): void {
    const rec = new Int32Array(ifId * 12 + 12 + 48);
    rec.set(this.tplRec);
    rec.fill(-1, this.tplRec.length);
    this.tplRec = rec;
    const out = new Int32Array(ifId * 11 + 11 + 44);
    out.set(this.tplOut);
    this.tplOut = out;
  }

  /** to[t, t + 11) = from[f, f + 11), written out (see plainUdp: no per-word checks of a loop). */
  private copy11(to: Int32Array, t: number, from: Int32Array, f: number): void {
    to[t] = from[f]!; to[t + 1] = from[f + 1]!; to[t + 2] = from[f + 2]!; to[t + 3] = from[f + 3]!;
    to[t + 4] = from[f + 4]!; to[t + 5] = from[f + 5]!; to[t + 6] = from[f + 6]!; to[t + 7] = from[f + 7]!;
    to[t + 8] = from[f + 8]!; to[t + 9] = from[f + 9]!; to[t + 10] = from[f + 10]!;
  }

  /**
   * A REPEAT or DREPEAT record at word w (capture/point RingPoint.departed): its template's frame (a short plain UDP record
   * earlier in this chunk), id and checksum patched. A DREPEAT's time is its interface's last REPEAT time + its offset; a
   * REPEAT's time words then say where its bytes are, for a COPY (a DREPEAT has none: placeAt keeps it).
   */
  private repeat(w: number): void {
    const L = this.L;
    const i32 = this.i32;
    const w0 = i32[w]!;
    const tw = w - ((w0 >>> L.C_SRC_SHIFT) >> 2);
    const fl = 42 + (i32[tw]! >>> L.PAYLEN_SHIFT);
    const ifId = i32[tw + L.F_IF]!;
    if (ifId >= this.repT.length) this.growRepeat(ifId);
    const short = (w0 & L.T_MASK) === L.R_DREPEAT;
    const tf = (w + L.F_TIME) >> 1;
    const time = short ? this.repT[ifId]! + (i32[w + 1]! >>> L.D_DT_SHIFT) : this.f64[tf]!;
    this.repT[ifId] = time;
    const o = this.outPos;
    if (o + fl + 35 <= this.outEnd && this.le === true && ifId <= 0xffff && this.repKey[ifId] === this.f64[(tw + L.F_TIME) >> 1]) {
      // The common case, written out without a further call (session 43: repeatInto() was a call from chunk(), re-checking
      // `this` and its arrays; ~300 instructions a REPEAT in all): the EPB fits without a flush and repeatInto's template
      // for the interface is this one. epbLe()'s head, then repeatInto()'s words.
      const id = i32[w + L.P_ID]! & 0xffff;
      let sum = this.repSum[ifId]! + id;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      const c = ~sum & 0xffff;
      const total = 32 + ((fl + 3) & ~3);
      const o32 = this.out32;
      const words = this.repOut;
      // ifId & 0xffff (= ifId): TurboFan then knows q + 10 is a small non-negative integer and checks no overflow of each index.
      const q = (ifId & 0xffff) * 11;
      const d = o >> 2;
      o32[d] = 6;
      o32[d + 1] = total;
      o32[d + 2] = ifId;
      o32[d + 3] = Math.floor(time / 0x1_0000_0000);
      o32[d + 4] = time >>> 0;
      o32[d + 5] = fl;
      o32[d + 6] = fl;
      o32[d + 7] = words[q]!; o32[d + 8] = words[q + 1]!; o32[d + 9] = words[q + 2]!; o32[d + 10] = words[q + 3]!;
      o32[d + 11] = (words[q + 4]! & 0xffff) | (((id & 0xff) << 24) | ((id >>> 8) << 16));
      o32[d + 12] = words[q + 5]!;
      o32[d + 13] = (words[q + 6]! & ~0xffff) | ((c & 0xff) << 8) | (c >>> 8);
      o32[d + 14] = words[q + 7]!; o32[d + 15] = words[q + 8]!; o32[d + 16] = words[q + 9]!; o32[d + 17] = words[q + 10]!;
      o32[d + (total >> 2) - 1] = total;
      this.outPos = o + total;
      this.placed(short, w, tf, this.written + o + 28);
      return;
    }
    this.room(32 + fl + 3);
    const at = this.head(ifId, time, fl);
    this.repeatInto(w, tw, at);
    this.placed(short, w, tf, this.written + at);
  }

  /** Where REPEAT (time words tf) or DREPEAT record w's frame went: file offset `at` (see placeAt). */
  private placed(short: boolean, w: number, tf: number, at: number): void {
    if (short) this.placeAt[(w - this.pBase) >> 1] = at;
    else this.f64[tf] = at;
  }

  /** epb() for an uncut frame of fl bytes (the REPEAT paths: epb is not inlined, epbLe is). */
  private head(ifId: number, t: number, fl: number): number {
    if (this.le !== true) return this.epb(ifId, t, fl, fl);
    return this.epbLe(ifId, t, fl, fl);
  }

  /** epb's little-endian form: word stores (outPos is 4-aligned: every block before is a multiple of 4 bytes), no DataView calls. */
  private epbLe(ifId: number, t: number, cap: number, len: number): number {
    const total = 32 + ((cap + 3) & ~3);
    const o = this.outPos;
    const o32 = this.out32;
    const d = o >> 2;
    o32[d] = 6;
    o32[d + 1] = total;
    o32[d + 2] = ifId;
    o32[d + 3] = Math.floor(t / 0x1_0000_0000);
    o32[d + 4] = t >>> 0;
    o32[d + 5] = cap;
    o32[d + 6] = len;
    o32[d + (total >> 2) - 1] = total;
    this.outPos = o + total;
    return o + 28;
  }

  /**
   * The frame of REPEAT record w (template tw) at out[at]: the template's first 11 output words, id and IP
   * checksum patched (the UDP checksum does not cover the id). Each interface keeps its last template's
   * words and IP header sum without the id, keyed by the template's file offset.
   */
  private repeatInto(w: number, tw: number, at: number): void {
    const L = this.L;
    const i32 = this.i32;
    const key = this.f64[(tw + L.F_TIME) >> 1]!;
    const ifId = i32[tw + L.F_IF]!;
    if (ifId >= this.repKey.length) this.growRepeat(ifId);
    if (this.repKey[ifId] !== key) this.repeatTemplate(tw, key, ifId);
    const q = ifId * 11;
    const words = this.repOut;
    const id = i32[w + L.P_ID]! & 0xffff;
    let sum = this.repSum[ifId]! + id;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    if (this.le === true) {
      // Written out (see copy11); bytes 18–19 (id) are word 4's high half, 24–25 (IP checksum) word 6's low half; big-endian.
      const o32 = this.out32;
      const d = at >> 2;
      o32[d] = words[q]!; o32[d + 1] = words[q + 1]!; o32[d + 2] = words[q + 2]!; o32[d + 3] = words[q + 3]!;
      o32[d + 4] = (words[q + 4]! & 0xffff) | (((id & 0xff) << 24) | ((id >>> 8) << 16));
      o32[d + 5] = words[q + 5]!;
      o32[d + 6] = (words[q + 6]! & ~0xffff) | ((c & 0xff) << 8) | (c >>> 8);
      o32[d + 7] = words[q + 7]!; o32[d + 8] = words[q + 8]!; o32[d + 9] = words[q + 9]!; o32[d + 10] = words[q + 10]!;
      return;
    }
    const out = this.out;
    const tb = new Uint8Array(words.buffer, q * 4, 44);
    for (let i = 0; i < 42; i++) out[at + i] = tb[i]!;
    this.outDv.setUint16(at + 18, id);
    this.outDv.setUint16(at + 24, c);
  }

  /** Makes room for interface ifId in repeatInto's and arrival's per-interface arrays. */
  private growRepeat(ifId: number): void {
    const n = ifId + 16;
    const key = new Float64Array(n).fill(-2); key.set(this.repKey); this.repKey = key;
    const sum = new Int32Array(n); sum.set(this.repSum); this.repSum = sum;
    const out = new Int32Array(n * 11); out.set(this.repOut); this.repOut = out;
    const cif = new Int32Array(n); cif.set(this.cpIf); this.cpIf = cif;
    const ct0 = new Float64Array(n); ct0.set(this.cpT0); this.cpT0 = ct0;
    const rt = new Float64Array(n); rt.set(this.repT); this.repT = rt;
  }

  /** Keeps template record tw's first 11 output words (laid out in a scratch place) and its IP header sum without the id for interface ifId. */
  private repeatTemplate(tw: number, key: number, ifId: number): void {
    const L = this.L;
    const i32 = this.i32;
    // Laid out in a scratch buffer, not the output (the caller's EPB is open there). A template has no
    // payload bytes: frame() writes its 42 header bytes, and bytes 42–43 stay zero.
    this.frame(tw, this.repScratch, this.repScratchDv, 0);
    this.copy11(this.repOut, ifId * 11, this.repScratch32, 0);
    this.repKey[ifId] = key;
    const ett = i32[tw + L.F_ETH_TOS_TTL]!;
    const lid = i32[tw + L.F_LEN_ID]!;
    const ffp = i32[tw + L.F_FF_PROTO]!;
    const src = i32[tw + L.F_SRC]! >>> 0;
    const dst = i32[tw + L.F_DST]! >>> 0;
    // ipv4()'s sum without the id, as plainUdp's template keeps it.
    this.repSum[ifId] = 0x4500 + ((ett >>> 16) & 0xff) + (lid & 0xffff) + (ffp & 0xffff) + (((ett >>> 24) << 8) | ((ffp >>> 16) & 0xff)) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  }

  /**
   * An SCOPY record at word w, its source at ring byte src (x: word 0's source field, + 2 for a fast record). The common
   * case written out (session 43: S1's every arrival; arrival() and copyRepeat() took ~400 instructions): a copy of a
   * REPEAT still in the output buffer, whose EPB fits without a flush — the interface and base time of the departing
   * interface's last COPY, the EPB head, the departure's 11 header words (zeros after them). Anything else: arrival().
   */
  private scopy(w: number, x: number, src: number): void {
    const L = this.L;
    const i32 = this.i32;
    const sw = src >> 2;
    const sw0 = i32[sw]!;
    const k = sw0 & L.T_MASK;
    if ((x & 2) !== 0 && (k === L.R_REPEAT || k === L.R_DREPEAT) && this.le === true) {
      const tw = sw - ((sw0 >>> L.C_SRC_SHIFT) >> 2);
      const fl = 42 + (i32[tw]! >>> L.PAYLEN_SHIFT);
      const from = i32[tw + L.F_IF]!;
      const o = this.outPos;
      // Where the departure's bytes are: a REPEAT's time words say, a DREPEAT's placeAt.
      const prev = (k === L.R_REPEAT ? this.f64[(sw + L.F_TIME) >> 1]! : this.placeAt[(sw - this.pBase) >> 1]!) - this.written;
      if (o + fl + 35 <= this.outEnd && prev >= 0) {
        const time = this.cpT0[from]! + i32[w + L.S_DT]!;
        const total = 32 + ((fl + 3) & ~3);
        const o32 = this.out32;
        const d = o >> 2;
        const s = prev >> 2;
        o32[d] = 6;
        o32[d + 1] = total;
        o32[d + 2] = this.cpIf[from]!;
        o32[d + 3] = Math.floor(time / 0x1_0000_0000);
        o32[d + 4] = time >>> 0;
        o32[d + 5] = fl;
        o32[d + 6] = fl;
        o32[d + 7] = o32[s]!; o32[d + 8] = o32[s + 1]!; o32[d + 9] = o32[s + 2]!; o32[d + 10] = o32[s + 3]!;
        o32[d + 11] = o32[s + 4]!; o32[d + 12] = o32[s + 5]!; o32[d + 13] = o32[s + 6]!; o32[d + 14] = o32[s + 7]!;
        o32[d + 15] = o32[s + 8]!; o32[d + 16] = o32[s + 9]!; o32[d + 17] = o32[s + 10]!;
        o32[d + (total >> 2) - 1] = total;
        this.outPos = o + total;
        return;
      }
    }
    this.arrival(w, (x & 2) === 0, src, false);
  }

  /**
   * A COPY (`long`) or SCOPY record at word w, its source at ring byte src (frame bytes if `raw`, else a fast record):
   * the interface and time, then the copy. A COPY carries them and is the base of the SCOPYs after it whose source left
   * the same interface (the departing one: a fast record's, its template's for a REPEAT, the EPB's for frame bytes).
   */
  private arrival(w: number, raw: boolean, src: number, long: boolean): void {
    const L = this.L;
    const i32 = this.i32;
    const sw = src >> 2;
    const k = i32[sw]! & L.T_MASK;
    const rep = !raw && (k === L.R_REPEAT || k === L.R_DREPEAT);
    const from = raw ? this.ringDv.getUint32(src - 20, true) : rep ? i32[sw - ((i32[sw]! >>> L.C_SRC_SHIFT) >> 2) + L.F_IF]! : i32[sw + L.F_IF]!;
    let ifId: number;
    let time: number;
    if (long) {
      ifId = i32[w + L.C_IF]!;
      time = this.f64[(w + L.C_TIME) >> 1]!;
      if (from >= this.repKey.length) this.growRepeat(from);
      this.cpIf[from] = ifId;
      this.cpT0[from] = time;
    } else {
      ifId = this.cpIf[from]!;
      time = this.cpT0[from]! + i32[w + L.S_DT]!;
    }
    if (rep) this.copyRepeat(ifId, time, sw); // first (inlined): copyRaw's and copy's time is tagged, a heap number past 2^31 ns, allocated before the test when they came first (s42: 43 % of S1's arrivals)
    else if (raw) this.copyRaw(ifId, time, src);
    else this.copy(ifId, time, sw);
  }

  /** A COPY record at word w whose source is the REPEAT record at word sw: that frame's bytes again. */
  private copyRepeat(ifId: number, t: number, sw: number): void {
    const L = this.L;
    const i32 = this.i32;
    const tw = sw - ((i32[sw]! >>> L.C_SRC_SHIFT) >> 2);
    const fl = 42 + (i32[tw]! >>> L.PAYLEN_SHIFT);
    this.room(32 + fl + 3);
    const prev = ((i32[sw]! & L.T_MASK) === L.R_DREPEAT ? this.placeAt[(sw - this.pBase) >> 1]! : this.f64[(sw + L.F_TIME) >> 1]!) - this.written;
    const at = this.head(ifId, t, fl);
    if (prev < 0) this.repeatInto(sw, tw, at);
    else if (this.le === true) {
      // copy11 written out here: V8 did not inline it into this function (callgrind: a call per arrival).
      const o32 = this.out32;
      const d = at >> 2;
      const s = prev >> 2;
      o32[d] = o32[s]!; o32[d + 1] = o32[s + 1]!; o32[d + 2] = o32[s + 2]!; o32[d + 3] = o32[s + 3]!;
      o32[d + 4] = o32[s + 4]!; o32[d + 5] = o32[s + 5]!; o32[d + 6] = o32[s + 6]!; o32[d + 7] = o32[s + 7]!;
      o32[d + 8] = o32[s + 8]!; o32[d + 9] = o32[s + 9]!; o32[d + 10] = o32[s + 10]!;
    } else for (let i = 0; i < 42; i++) this.out[at + i] = this.out[prev + i]!;
  }

  /** An arrival at interface ifId, time t, whose departure is the fast record at ring word sw, not a REPEAT (the frame is not cut). */
  private copy(ifId: number, t: number, sw: number): void {
    const L = this.L;
    const i32 = this.i32;
    const fl = this.frameLen(sw);
    this.room(32 + fl + 3);
    // Still in the output buffer (whole, not cut): its bytes that may be non-zero are copied; else laid
    // out again from its record.
    const prev = this.f64[(sw + L.F_TIME) >> 1]! - this.written;
    const w0 = i32[sw]!;
    if (prev >= 0 && (w0 & (L.B_EXT | L.B_BYTES)) === 0 && this.le === true) {
      // The common case (session 23): a short record without payload bytes, whose frame has 42 header
      // bytes and zeros after them. Its EPB head as 7 word stores and the headers as 11 words copied
      // from the departure's (the 11th ends with 2 zero bytes: payload or padding), the trailer; the
      // rest is zero already. No DataView, no byte loop.
      const o = this.outPos;
      const total = 32 + ((fl + 3) & ~3);
      const o32 = this.out32;
      const d = o >> 2;
      const s = prev >> 2;
      o32[d] = 6;
      o32[d + 1] = total;
      o32[d + 2] = ifId;
      o32[d + 3] = Math.floor(t / 0x1_0000_0000);
      o32[d + 4] = t >>> 0;
      o32[d + 5] = fl;
      o32[d + 6] = fl;
      this.copy11(o32, d + 7, o32, s);
      o32[d + (total >> 2) - 1] = total;
      this.outPos = o + total;
      return;
    }
    const at = this.epb(ifId, t, fl, fl);
    if (prev < 0) {
      this.frameInto(sw, at, fl, fl);
      return;
    }
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

  /** An arrival at interface ifId, time t, whose departure is the frame bytes at ring byte `src` (the EPB's original length before them; not cut). */
  private copyRaw(ifId: number, t: number, src: number): void {
    const fl = this.ringDv.getUint32(src - 4, true);
    this.room(32 + fl + 3);
    const at = this.epb(ifId, t, fl, fl);
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
    if (this.le === true) return this.epbLe(ifId, t, cap, len);
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
}
