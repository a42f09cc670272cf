// link/channel — a full-duplex point-to-point medium with rate, propagation delay and a drop-tail
// queue per direction (ns-3 PointToPointChannel + DropTailQueue; Linux: a NIC with a pfifo qdisc of
// `txqueuelen` packets on a wire). Layer: link (imports core, packet).
// One event per frame per direction: the sending NIC computes when serialization of the frame ends
// (it starts when the previous frame's ends) and schedules the arrival at end + delay. The queue
// holds frames whose serialization has not started; a frame that finds `queueLimit` waiting is dropped.
// Each direction's state (when the wire is free, the queue, the config) is in the NIC it is sent from
// (link/nic.ts): a frame's send then reads the NIC, not the channel object nor an object of the
// direction's own (cold, one link of a thousand, when the frame comes).
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import type { NicDevice } from './nic.js';

/** Per-direction link properties. */
export interface ChannelConfig {
  /** Bits per second. */
  rateBps: number;
  /** One-way propagation delay, ns. */
  delayNs: TimeNs;
  /** Frames that may wait for the wire (txqueuelen; Linux default 1000). */
  queueLimit: number;
}

/** The medium joining two NICs. */
export class Channel {
  /** The two directions' transmit sides: the NICs themselves (a → b, b → a). */
  private readonly ab: NicDevice;
  private readonly ba: NicDevice;

  constructor(
    readonly sim: Simulator,
    readonly a: NicDevice,
    readonly b: NicDevice,
    cfgAB: ChannelConfig,
    cfgBA: ChannelConfig = cfgAB,
  ) {
    this.ab = a;
    this.ba = b;
    a.attach(this, cfgAB, b);
    b.attach(this, cfgBA, a);
  }

  /** Queues a frame from `from` (one of the two ends) toward the other end: NicDevice.send of its direction. */
  send(from: NicDevice, pkt: Packet, len: number, copyAtArrival: boolean): void {
    (from === this.a ? this.ab : this.ba).send(pkt, len, copyAtArrival);
  }
}
