// capture/frame-memo — serialize a frame once for its two captures on a wire: leaving a device and
// arriving at its wire peer (the two ends of a veth pair, or of a Channel). Layer: capture.
//
// Why it is correct without a version on every packet mutator: the memo is read only at the arrival
// capture on the *wire peer* of the device whose departure capture wrote it, and it is consumed (the tag
// cleared) there. Between a device's departure tap (dev_hard_start_xmit: after the qdisc, so after netem
// and every stack hook) and its peer's arrival tap (before tc ingress, the bridge and the stack) the
// frame is only on the wire: link/channel.ts queues and delays it, link/veth.ts hands it over (now or
// after `delayNs`), and no code that rewrites packets (NAT, TTL, MACs, TCPMSS, VXLAN, netem) runs on it.
// A sender that kept the object and rewrote it in flight would break this: none does (TCP, UDP, ICMP,
// ARP build a Packet per transmission; bridge flooding and netem duplicate/corrupt clone), and the
// verify mode below checks it: with PODWIRE_CAPTURE_VERIFY=1 (or setCaptureVerify(true)) every memo hit
// is also serialized afresh and a difference throws, naming the interface and the packet uid.
//
// Where the bytes are kept: PcapngWriter's default (writer-thread) sink leaves the copy to the writer
// thread: the arrival is a COPY record naming its departure's record in the same ring chunk
// (capture/epb-records), so nothing is copied on the simulation thread; its synchronous sink reads them
// back from its own output chunk (the departure's EPB, `mark`; copyWithin at the arrival) while that
// chunk is not written yet; PcapWriter (one file per interface) copies them into a 1 MiB ring per writer
// (`save`). An entry no longer there (the chunk was handed over or written out, or 1 MiB of later
// departures overwrote the ring) is simply serialized again. In verify mode a departure written as a
// record keeps a fresh serialization (`remember`), since its bytes are made later on the writer thread.
import { frameLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { serializeFrame, writeFrame } from '../packet/serialize.js';

const RING = 1 << 20;
const MAX_FRAME = RING >> 4;
/** Tags are writer serial · 2^20 + interface id + 1, so two writers never read each other's entries. */
const IF_SPACE = 1 << 20;
let nextSerial = 1;

/**
 * The verify mode, as a field of a constant object (session 32): TurboFan reads it with one load, where a
 * module `let` costs a context load and a TDZ check at every capture point's arrival and marked departure.
 */
const mode = { verify: process.env['PODWIRE_CAPTURE_VERIFY'] === '1' };
/** The verify mode's object, read-only: capture/point's copied arrival reads its field itself (fewer bytecode bytes than the getter). */
export const captureMode: { readonly verify: boolean } = mode;

/** Turns the verify mode on or off (every memo hit compared with a fresh serialization). */
export function setCaptureVerify(on: boolean): void {
  mode.verify = on;
}

/** `link` argument of writePacketRecord for a departure whose wire peer is captured by the same writer. */
export const LINK_SAVE = -2;
/** `link` argument when the capture is neither (the default). */
export const LINK_NONE = -1;

export class FrameMemo {
  private readonly ring = new Uint8Array(RING);
  /** Logical write position (grows; physical = head % RING). */
  private head = 0;
  private readonly base = nextSerial++ * IF_SPACE;
  private scratch = new Uint8Array(2048);
  /** Verify mode: the departure's bytes of frames written as records (see remember). */
  private readonly copies = new WeakMap<Packet, Uint8Array>();
  hits = 0;

  /** True in verify mode (PODWIRE_CAPTURE_VERIFY=1 or setCaptureVerify). */
  get verifying(): boolean {
    // `=== true`: TurboFan does not know a field's type, and a bare `mode.verify` in a condition is a
    // ToBoolean of any value (~12 instructions at every capture point's arrival and marked departure, session 26).
    return mode.verify === true;
  }

  /** Verify mode: keeps a fresh serialization of a departure whose bytes the writer thread makes. */
  remember(pkt: Packet): void {
    if (mode.verify) this.copies.set(pkt, serializeFrame(pkt));
  }

  /** Counts a hit whose departure was remembered; in verify mode compares it with a fresh serialization. */
  hitRemembered(pkt: Packet, len: number, ifName: string): void {
    if (mode.verify) {
      const c = this.copies.get(pkt);
      if (c !== undefined) {
        this.copies.delete(pkt);
        this.check(pkt, c, 0, len, ifName);
      }
    }
    this.hits++;
  }

  /** Tag of interface `ifId` of this writer. */
  tag(ifId: number): number {
    if (ifId >= IF_SPACE - 1) throw new Error(`capture: interface id ${ifId} out of range`);
    return this.base + ifId + 1;
  }

  /**
   * Where `pkt`'s frame was kept when captured leaving interface `fromIf` (the wire peer of the arriving
   * interface): the position given to mark() or save(), or −1. Consumes the entry.
   */
  take(pkt: Packet, fromIf: number, len: number): number {
    if (pkt.capTag !== this.base + fromIf + 1) return -1;
    pkt.capTag = 0;
    return pkt.capLen === len ? pkt.capAt : -1;
  }

  /** Notes that `pkt`'s frame (len bytes) stays readable at position `at` (the writer's own output). */
  mark(pkt: Packet, ifId: number, at: number, len: number): void {
    pkt.capTag = this.base + ifId + 1;
    pkt.capAt = at;
    pkt.capLen = len;
  }

  /** Counts a hit; in verify mode compares src[p, p+len) with a fresh serialization of `pkt`. */
  hit(pkt: Packet, src: Uint8Array, p: number, len: number, ifName: string): void {
    if (mode.verify) this.check(pkt, src, p, len, ifName);
    this.hits++;
  }

  /** Keeps a copy of the frame just written at src[off, off+len) in the ring (a writer whose output is not one buffer). */
  save(pkt: Packet, ifId: number, src: Uint8Array, off: number, len: number): void {
    if (len > MAX_FRAME) {
      pkt.capTag = 0;
      return;
    }
    let p = this.head % RING;
    if (p + len > RING) {
      this.head += RING - p;
      p = 0;
    }
    const ring = this.ring;
    if (len <= 256) for (let i = 0; i < len; i++) ring[p + i] = src[off + i]!;
    else ring.set(src.subarray(off, off + len), p);
    this.mark(pkt, ifId, this.head, len);
    this.head += len;
  }

  /** Offset in `bytes` of a ring entry saved at logical position `at`, or −1 when later frames overwrote it. */
  ringOffset(at: number): number {
    return at < 0 || this.head - at > RING ? -1 : at % RING;
  }

  get bytes(): Uint8Array {
    return this.ring;
  }

  private check(pkt: Packet, src: Uint8Array, p: number, len: number, ifName: string): void {
    const fresh = frameLength(pkt);
    if (this.scratch.length < fresh) this.scratch = new Uint8Array(fresh);
    const n = fresh === len ? writeFrame(pkt, this.scratch, 0) : -1;
    let same = n === len;
    for (let i = 0; same && i < len; i++) same = this.scratch[i] === src[p + i];
    if (!same)
      throw new Error(
        `capture verify: packet ${pkt.uid} arriving on ${ifName} differs from its departure capture — something rewrote it on the wire without clearing pkt.capTag`,
      );
  }
}
