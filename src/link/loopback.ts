// link/loopback — the loopback device `lo` (drivers/net/loopback.c). Layer: link (imports core,
// packet). Every frame sent on it comes back to its own namespace, one event later (loopback_xmit →
// netif_rx → the backlog). IFF_LOOPBACK | IFF_NOARP: no neighbour resolution.
import type { Simulator } from '../core/simulator.js';
import { skbLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { NetDevice } from './device.js';

/** The loopback interface `lo` (MTU 65536, MAC 00:00:00:00:00:00). */
export class LoopbackDevice extends NetDevice {
  readonly kind = 'loopback';
  override readonly noArp = true;
  constructor(sim: Simulator) {
    super(sim, 'lo', 0, 65536);
  }
  xmit(pkt: Packet): void {
    const len = skbLength(pkt);
    // tcpdump -i lo shows each packet once (on transmit); the loopback receive is not captured again.
    // loopback_xmit → netif_rx: the packet is queued to the backlog and received after the sender's
    // call returns (same instant, next event), so a connect() that triggers an ICMP error on lo sees
    // it after connect() has returned, as in the kernel.
    this.noteTx(pkt, len);
    this.sim.post(0, loopbackRx, this, pkt);
  }

  /** The backlog half of loopback_xmit. */
  rxLater(pkt: Packet): void {
    const len = skbLength(pkt);
    this.rxPackets++;
    this.rxBytes += len;
    this.deliverUp(pkt);
  }
}

function loopbackRx(lo: LoopbackDevice, pkt: Packet): void {
  lo.rxLater(pkt);
}
