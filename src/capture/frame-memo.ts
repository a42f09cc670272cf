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
// Bytes are kept in a 1 MiB ring per writer; an entry overwritten by later frames (the peer's capture
// came more than 1 MiB of departures later) is simply serialized again.
import { frameLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { writeFrame } from '../packet/serialize.js';

const RING = 1 << 20;
const MAX_FRAME = RING >> 4;
/** Tags are writer serial · 2^20 + interface id + 1, so two writers never read each other's entries. */
const IF_SPACE = 1 << 20;
let nextSerial = 1;

let verify = process.env['PODWIRE_CAPTURE_VERIFY'] === '1';

/** Turns the verify mode on or off (every memo hit compared with a fresh serialization). */
export function setCaptureVerify(on: boolean): void {
  verify = on;
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
  hits = 0;
  saves = 0;

  /** Tag of interface `ifId` of this writer. */
  tag(ifId: number): number {
    if (ifId >= IF_SPACE - 1) throw new Error(`capture: interface id ${ifId} out of range`);
    return this.base + ifId + 1;
  }

  /**
   * Physical offset in `bytes` of `pkt`'s frame as captured leaving interface `fromIf` (the wire peer of
   * the arriving interface `ifId`), or −1. Consumes the entry.
   */
  take(pkt: Packet, fromIf: number, len: number, ifName: string): number {
    if (pkt.capTag !== this.base + fromIf + 1) return -1;
    pkt.capTag = 0;
    const at = pkt.capAt;
    if (pkt.capLen !== len || this.head - at > RING) return -1;
    const p = at % RING;
    if (verify) this.check(pkt, p, len, ifName);
    this.hits++;
    return p;
  }

  /** Keeps a copy of the frame just written at src[off, off+len) for the wire peer's capture. */
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
    pkt.capTag = this.base + ifId + 1;
    pkt.capAt = this.head;
    pkt.capLen = len;
    this.head += len;
    this.saves++;
  }

  /** Copies `len` bytes of the entry at physical `p` into dst[at]. */
  copy(p: number, dst: Uint8Array, at: number, len: number): void {
    const ring = this.ring;
    if (len <= 256) for (let i = 0; i < len; i++) dst[at + i] = ring[p + i]!;
    else dst.set(ring.subarray(p, p + len), at);
  }

  get bytes(): Uint8Array {
    return this.ring;
  }

  private check(pkt: Packet, p: number, len: number, ifName: string): void {
    const fresh = frameLength(pkt);
    if (this.scratch.length < fresh) this.scratch = new Uint8Array(fresh);
    const n = fresh === len ? writeFrame(pkt, this.scratch, 0) : -1;
    let same = n === len;
    for (let i = 0; same && i < len; i++) same = this.scratch[i] === this.ring[p + i];
    if (!same)
      throw new Error(
        `capture verify: packet ${pkt.uid} arriving on ${ifName} differs from its departure capture — something rewrote it on the wire without clearing pkt.capTag`,
      );
  }
}
