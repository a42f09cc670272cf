// link/nic — an Ethernet NIC plugged into a point-to-point Channel (a node's eth0; ns-3
// PointToPointNetDevice, Linux: a physical NIC driver's ndo_start_xmit handing frames to the wire).
// Layer: link (imports core, wire, packet). The NIC owns no queue: link/channel.ts models the qdisc,
// serialization and propagation; the capture tap fires when serialization of a frame starts.
import type { Simulator } from '../core/simulator.js';
import { skbLength as skbLengthImported } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import type { Mac } from '../wire/types.js';
import type { Channel, Transmitter } from './channel.js';
import { NetDevice, type EgressQdisc, type QdiscDevice } from './device.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const skbLength = skbLengthImported;

export type { EgressQdisc } from './device.js';

/** An Ethernet NIC (a node's eth0) attached to a Channel. */
export class NicDevice extends NetDevice implements QdiscDevice {
  // What a sent frame reads first (right after NetDevice's fields, the send's line): the qdisc test, the transmitter.
  /** The root qdisc in front of the driver (netem), null for the default (the channel's drop-tail queue). */
  qdisc: EgressQdisc | null = null;
  /** This end's side of the channel (what a frame sent here goes through), null while unplugged. */
  private tx: Transmitter | null = null;
  readonly kind = 'ether';
  private channel: Channel | null = null;

  constructor(sim: Simulator, name: string, mac: Mac, mtu = 1500) {
    super(sim, name, mac, mtu);
  }
  /** The channel this NIC is plugged into, or null. */
  get link(): Channel | null {
    return this.channel;
  }
  /** Called by Channel's constructor, with this end's transmit side. */
  attach(ch: Channel, tx: Transmitter): void {
    this.channel = ch;
    this.tx = tx;
  }
  xmit(pkt: Packet): void {
    if (!this.up) return this.drop(pkt, 'link-down');
    if (this.qdisc !== null) return this.qdisc.enqueue(this, pkt);
    this.transmit(pkt);
  }
  /**
   * A flood's copy made when it reaches the other end of the channel, not now (NetDevice.xmitFloodCopy):
   * a copy made now would wait out the wire's delay (the underlay's 50 µs) with a thousand others, and
   * a scavenge in that time promotes them all (the big cluster's floods: ~14 MB of the 50 k run's
   * promoted bytes). Only without a qdisc (netem writes the frame it holds).
   */
  override xmitFloodCopy(template: Packet): void {
    const tx = this.tx;
    if (this.qdisc !== null || tx === null || !this.up || !this.carrier) return this.xmit(template.floodCopy());
    tx.send(template, skbLength(template), true);
  }

  /** The qdisc hands the frame to the driver: onto the channel (whose queue and wire the capture follows). */
  transmit(pkt: Packet): void {
    if (!this.up) return this.drop(pkt, 'link-down');
    if (!this.carrier) return this.drop(pkt, 'no-carrier');
    const tx = this.tx;
    if (tx === null) return this.drop(pkt, 'no-carrier');
    tx.send(pkt, skbLength(pkt), false);
  }
  /** Counts the frame and fires the capture tap as its serialization starts. */
  noteWire(pkt: Packet, len: number): void {
    this.noteTx(pkt, len);
  }
}
