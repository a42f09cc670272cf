// capture/point — where a capture hangs on a device: one FrameHook per captured interface
// (`NetDevice.capture`, link/device.ts), which the device calls for each frame leaving and arriving, with
// no TraceSource and no closure between. Layer: capture (imports core, packet).
//
// RingPoint is PcapngWriter's with the writer thread: the interface's constants (snaplen, memo tags) are
// looked up once, a departure goes to the ring as a record, and an arrival carrying its wire peer's memo
// tag (capture/frame-memo) becomes a COPY record without the frame being looked at again. WriterPoint
// calls writePacketRecord (PcapWriter, PcapngWriter with synchronous writes). CaptureGate is the capture
// filter and `--max-capture`, shared by a writer's points.
import type { TimeNs } from '../core/time.js';
import type { FrameHook } from '../core/trace.js';
import type { Packet } from '../packet/packet.js';
import type { AsyncChunkSink } from './async-sink.js';
import { DepartureTemplate, K, writeUdpRecord } from './epb-records.js';
import { LINK_NONE, LINK_SAVE, type FrameMemo } from './frame-memo.js';
import type { CaptureWriter, PcapngWriter } from './pcapng.js';

/** What a capture point reads the time from (core/simulator's Simulator). */
export interface Clock {
  readonly now: TimeNs;
}

/**
 * What a capture keeps, shared by its points: frames its filter (capture/filter) accepts, until the file
 * holds `maxBytes` (`podwire run --max-capture`); from then on nothing, and `stoppedAt` says at how many bytes.
 */
export class CaptureGate {
  /** File bytes when the limit stopped the capture, −1 while it goes on. */
  stoppedAt = -1;
  // Declared, set by the constructor (see RingPoint): not generic fields, checked at each frame a point passes here.
  private declare readonly keep: ((pkt: Packet) => boolean) | null;
  private declare readonly writer: CaptureWriter;
  private declare readonly maxBytes: number;
  constructor(writer: CaptureWriter, keep: ((pkt: Packet) => boolean) | null, maxBytes: number = Infinity) {
    this.keep = keep;
    this.writer = writer;
    this.maxBytes = maxBytes;
  }

  /** True when `pkt` is to be written. */
  pass(pkt: Packet): boolean {
    if (this.stoppedAt >= 0) return false;
    if (this.keep !== null && !this.keep(pkt)) return false;
    const b = this.writer.bytes;
    if (b < this.maxBytes) return true;
    this.stoppedAt = b;
    return false;
  }
}

/** A capture point calling writePacketRecord (PcapWriter's, PcapngWriter's with synchronous writes). */
export class WriterPoint implements FrameHook<Packet> {
  // Declared, set by the constructor (see RingPoint).
  private declare readonly gate: CaptureGate | null;
  private declare readonly w: CaptureWriter;
  private declare readonly ifId: number;
  private declare readonly clock: Clock;
  private declare readonly out: number;
  private declare readonly peer: number;
  constructor(w: CaptureWriter, clock: Clock, ifId: number, peer: number, gate: CaptureGate | null) {
    this.gate = gate;
    this.w = w;
    this.ifId = ifId;
    this.clock = clock;
    this.out = peer >= 0 ? LINK_SAVE : LINK_NONE;
    this.peer = peer;
  }
  departed(pkt: Packet): void {
    if (this.gate === null || this.gate.pass(pkt)) this.w.writePacketRecord(this.ifId, this.clock.now, pkt, this.out);
  }
  arrived(pkt: Packet): void {
    if (this.gate === null || this.gate.pass(pkt)) this.w.writePacketRecord(this.ifId, this.clock.now, pkt, this.peer);
  }
}

/**
 * PcapngWriter's capture point with the writer thread: what writePacketRecord does, with the interface's
 * constants (snaplen, memo tags) looked up once. A departure whose peer is captured is marked on the packet
 * (capture/frame-memo); the peer's arrival point finds its own tag there and writes a COPY record without
 * looking at the frame again.
 */
export class RingPoint implements FrameHook<Packet> {
  // The constructor's fields are `declare`d, not parameter properties (session 44): a parameter property or a bare
  // declaration compiles to a field whose first value is undefined, a generic one, so TurboFan checked the map of
  // `r`, `clock` and `memo` and that `snap`, `saveTag`, `copyTag` were small integers at every departure and arrival.
  // Declared, a field is added by its first store (below), with that value's kind and map. Hot ones first.
  private declare readonly r: AsyncChunkSink;
  private declare readonly clock: Clock;
  /** peerTag for `arrived`'s one-call copy, −1 (no packet carries it) when a gate must see every arrival first. */
  private declare readonly copyTag: number;
  private declare readonly snap: number;
  /** The memo tag a departure of this interface leaves on the packet (0: the peer is not captured, no mark). */
  private declare readonly saveTag: number;
  private declare readonly gate: CaptureGate | null;
  private declare readonly memo: FrameMemo;
  declare readonly ifId: number;
  /** The tag the peer's departure leaves: an arrival carrying it is copied (−1: the peer is not captured). */
  private declare readonly peerTag: number;
  private declare readonly peer: number;
  private declare readonly w: PcapngWriter;
  /** The last plain UDP departure written whole: the next equal but for the IP id is a REPEAT record (departed). */
  private readonly tpl = new DepartureTemplate();
  /** Plain UDP departures written by departed's fast path, and arrivals copied by arrived (PcapngWriter.packetCount and memoHits add them up). */
  sent = 0;
  copies = 0;
  /**
   * The time of this point's last long COPY record (PcapngWriter.ringCopy) while it is the last COPY of its peer's
   * departures, an integer of ns; NaN otherwise (none yet, another interface's came after, or the peer's departures
   * are copied at two interfaces). `arrived` writes an SCOPY record, its time as an int32 offset from this one.
   */
  t0 = NaN;
  /**
   * The time of this point's last REPEAT record (session 45; NaN: none yet, or `shared`): a REPEAT within 2^16 ns after
   * it is an 8-byte DREPEAT carrying the difference, which the writer thread adds to its interface's last REPEAT time.
   */
  tRep = NaN;
  /** 1 once a second point writes this interface's departures (PcapngWriter.point): tRep stays NaN, no DREPEAT (the writer thread's base is per interface). */
  private declare shared: number;
  constructor(w: PcapngWriter, r: AsyncChunkSink, clock: Clock, ifId: number, peer: number, gate: CaptureGate | null, memo: FrameMemo, snap: number) {
    const peerTag = peer >= 0 ? memo.tag(peer) : -1;
    this.r = r;
    this.clock = clock;
    this.copyTag = gate === null ? peerTag : -1;
    this.snap = snap;
    this.saveTag = peer >= 0 ? memo.tag(ifId) : 0;
    this.gate = gate;
    this.memo = memo;
    this.ifId = ifId;
    this.peerTag = peerTag;
    this.peer = peer;
    this.w = w;
    this.shared = 0;
  }
  /**
   * The common case in this one call (sessions 23, 37): a plain UDP frame — Ethernet + IPv4 without options +
   * UDP, no checksum given, no netem bit, no payload bytes (a zero payload) — whose header fields are those
   * of `tpl` (the point's previous full record, still in this chunk) but for the IP id is a 16-byte REPEAT
   * record (session 27: its template's distance, the id, the time read from the clock); another plain UDP
   * frame is writeUdpRecord's full short record (then the template), any other frame goes through ringOut.
   * The fields are compared as they are on the packet, before any packing (equal fields give equal record
   * words). The departure is marked for the peer's arrival here (saveTag ≠ 0; session 32). Written out in
   * the point's own method rather than a function it calls (session 37: a call frame of ~45 instructions a
   * departure, callgrind of capture-cost's window).
   */
  departed(pkt: Packet): void {
    if (this.gate !== null && !this.gate.pass(pkt)) return this.skipped(pkt);
    const tag = this.saveTag;
    const eth = pkt.eth;
    const ip = pkt.ip;
    const u = pkt.udp;
    if (
      eth === null ||
      ip === null ||
      u === null ||
      pkt.payload !== null ||
      pkt.tcp !== null ||
      pkt.icmp !== null ||
      ip.options !== null ||
      ip.checksum !== null ||
      u.checksum !== null ||
      pkt.corruptBit >= 0 ||
      pkt.arp !== null ||
      pkt.fragOf !== null ||
      pkt.vxlan !== null
    ) {
      this.w.ringOut(this.r, this.ifId, this.clock, pkt, this.snap, tag);
      return;
    }
    const payLen = pkt.payloadLength;
    const tpl = this.tpl;
    if (
      payLen === tpl.payLen &&
      ip.ttl === tpl.ttl &&
      ip.totalLength === tpl.totalLength &&
      u.length === tpl.udpLength &&
      u.srcPort === tpl.srcPort &&
      u.dstPort === tpl.dstPort &&
      ip.src === tpl.ipSrc &&
      ip.dst === tpl.ipDst &&
      eth.dst === tpl.dst &&
      eth.src === tpl.src &&
      eth.etherType === tpl.etherType &&
      ip.tos === tpl.tos &&
      ip.flags === tpl.flags &&
      ip.fragOffset === tpl.fragOffset &&
      ip.protocol === tpl.protocol
    ) {
      // (payLen equal to the template's: its length passed the snaplen and MAX_PAYLEN checks.)
      const back = this.r.chunkStart - tpl.at;
      if (back <= 0) {
        // fitHere16, not recordHere, first: no call on the common path (see AsyncChunkSink.fitHere16).
        const o = this.r.fitHere16();
        if (o >= 0) return this.repeat(pkt, ip.id, tpl, o, back, tag);
        const o2 = this.r.recordHere(K.REPEAT_BYTES);
        if (o2 >= 0) return this.repeat(pkt, ip.id, tpl, o2, back, tag);
      }
    }
    if (writeUdpRecord(this.r, this.ifId, pkt, this.snap, this.clock, tpl, tag) < 0) {
      this.w.ringOut(this.r, this.ifId, this.clock, pkt, this.snap, tag);
      return;
    }
    this.sent++;
    if (tag !== 0 && this.memo.verifying) this.memo.remember(pkt);
  }
  /**
   * departed's REPEAT record at `o` in the current chunk (16 bytes fit there), `back` bytes after its template (≤ 0), and
   * the peer's mark: an 8-byte DREPEAT when its time is within 2^16 ns after this point's last REPEAT's (session 45: S1's
   * every departure but a chunk's first of each interface; the ring's bytes an echo 96 → 64), else the 16-byte REPEAT.
   */
  private repeat(pkt: Packet, id: number, tpl: DepartureTemplate, o: number, back: number, tag: number): void {
    const r = this.r;
    const w = (r.slotBase + o) >> 2;
    const now = this.clock.now;
    const dt = now - this.tRep; // NaN without a base: (NaN & 0xffff) is 0
    if (this.shared === 0) this.tRep = now;
    if ((dt & 0xffff) === dt) {
      r.i32[w] = K.R_DREPEAT | ((o + back) << K.C_SRC_SHIFT);
      r.i32[w + 1] = (id & 0xffff) | (dt << K.D_DT_SHIFT);
      r.pos = o + K.DREPEAT_BYTES;
    } else {
      r.i32[w] = K.R_REPEAT | ((o + back) << K.C_SRC_SHIFT);
      r.i32[w + K.P_ID] = id & 0xffff;
      r.f64[(w + K.F_TIME) >> 1] = now;
      r.pos = o + K.REPEAT_BYTES;
    }
    // (The EPB's size and the frame's length are the template's: payLen is.)
    r.outBytes += tpl.epb;
    this.sent++;
    if (tag !== 0) {
      pkt.capTag = tag;
      pkt.capAt = r.markBase + (o >> 1);
      pkt.capLen = tpl.len;
      if (this.memo.verifying) this.memo.remember(pkt);
    }
  }

  /**
   * A copied arrival in this one call (sessions 23, 37, 38, 39): its departure on the wire peer marked the
   * packet (copyTag: the peer's tag; −1 with a gate) and is in the current chunk, its frame is not cut here,
   * a record fits at pos (AsyncChunkSink.fastMax: no VERBATIM record open, not verify mode), and its time is
   * within an int32 of ns after t0 (the last long COPY of the peer's departures, this point's): an 8-byte
   * SCOPY record, written here — two word stores, no interface, no f64 view (session 39; the writer thread
   * takes the interface and base time from that COPY). The mark is left (the peer's next departure marks or
   * clears it: `skipped`, PcapngWriter.ringOut). Small in bytecode on purpose (session 38): TurboFan inlines
   * it into link/channel's `arrive` and still has budget for ip-input's `netifReceive` there (920 bytecode
   * bytes in all, a candidate counted ×1.2; without that, ip-input is compiled in another shape, ~78
   * instructions an arrival dearer). Anything else goes through arrivedOther (a long COPY there sets t0).
   */
  arrived(pkt: Packet): void {
    const r = this.r;
    const o = r.pos;
    // The departure's place in the chunk, + 2 for a fast record (capAt: 2 × its word + 1; + 0 for frame bytes
    // serialized into the chunk; both 4-aligned): SCOPY's word 0 carries both; < 0 is an earlier chunk.
    const at = pkt.capAt * 2 - r.chunkStart;
    const len = pkt.capLen;
    const dt = this.clock.now - this.t0; // NaN while there is no base: (NaN | 0) is 0
    if (pkt.capTag !== this.copyTag || at < 0 || len > this.snap || o > r.fastMax || (dt | 0) !== dt) return this.arrivedOther(pkt);
    const w = (r.slotBase + o) >> 2;
    const i32 = r.i32;
    i32[w] = (at << K.C_SRC_SHIFT) | K.R_SCOPY;
    i32[w + K.S_DT] = dt;
    r.pos = o + K.SCOPY_BYTES;
    r.outBytes += (len + 35) & ~3; // the EPB: 32 + len padded to 4
    this.copies++;
  }

  /** A second point writes this interface's departures (PcapngWriter.point): no more DREPEATs (see tRep). */
  shareInterface(): void {
    this.shared = 1;
    this.tRep = NaN;
  }

  /** PcapngWriter.ringCopy wrote a long COPY of this point's peer's departure at interface ifId, time `now`: the new base. */
  based(ifId: number, now: number): void {
    this.t0 = ifId === this.ifId && Math.floor(now) === now ? now : NaN;
  }

  /**
   * A departure the gate refused: an earlier mark on the packet is cleared (every departure from a point whose peer is
   * captured marks the packet or clears its mark, so `arrived`, which leaves the mark it copied, never copies a stale one).
   */
  private skipped(pkt: Packet): void {
    if (this.saveTag !== 0) pkt.capTag = 0;
  }

  /** An arrival not copied by `arrived`: the gate, then ringArrive (a COPY there if it can be, else the frame). Apart, so `arrived` stays small. */
  private arrivedOther(pkt: Packet): void {
    if (this.gate !== null && !this.gate.pass(pkt)) return;
    this.w.ringArrive(this.r, this.ifId, this.clock, pkt, this.snap, this.peerTag, this.peer);
  }
}
