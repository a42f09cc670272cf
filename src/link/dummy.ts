// link/dummy — the dummy device (drivers/net/dummy.c). Layer: link (imports core, packet).
// A dummy interface swallows what is sent to it (kube-ipvs0 holds service IPs that way). It has
// IFF_NOARP: the namespace hands it packets without resolving a next hop.
import type { Simulator } from '../core/simulator.js';
import { skbLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { NetDevice } from './device.js';

/** A dummy interface: transmit counts and discards. */
export class DummyDevice extends NetDevice {
  readonly kind = 'dummy';
  override readonly noArp = true;
  constructor(sim: Simulator, name: string, mac: number) {
    super(sim, name, mac, 1500);
  }
  xmit(pkt: Packet): void {
    if (!this.up) return this.drop(pkt, 'link-down');
    this.noteTx(pkt, skbLength(pkt));
  }
}
