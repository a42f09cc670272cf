// link/veth — a virtual ethernet pair (drivers/net/veth.c). Layer: link.
// What one end transmits, the other receives at the same instant (veth_xmit → __dev_forward_skb →
// netif_rx); there is no qdisc (veth defaults to noqueue) and no serialization delay. A frame longer
// than the peer's MTU + Ethernet header + VLAN_HLEN is dropped, as is_skb_forwardable() does.
// A fault may put a root qdisc in front (`tc qdisc add dev eth0 root netem …` in a pod, as Chaos Mesh
// does): `xmit` hands frames to it and it calls `transmit` (the capture tap is there, after the qdisc).
import type { Simulator } from '../core/simulator.js';
import { skbLength as skbLengthImported } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import type { Mac } from '../wire/types.js';
import { NetDevice, type EgressQdisc, type QdiscDevice } from './device.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const skbLength = skbLengthImported;

/** One end of a veth pair. */
export class VethDevice extends NetDevice implements QdiscDevice {
  // What a sent frame reads first (right after NetDevice's fields, the send's line), `kind` after.
  /** A root qdisc installed by a fault, null for veth's default noqueue. */
  qdisc: EgressQdisc | null = null;
  peer!: VethDevice;
  /**
   * Time from this end's transmit to the peer's receive, ns. 0 (the default) delivers in the same
   * instant; a few microseconds stand for the backlog queue and softirq a real veth goes through.
   */
  delayNs = 0;
  readonly kind = 'veth';

  /** Creates both ends (`ip link add A type veth peer name B`). */
  static pair(sim: Simulator, nameA: string, macA: Mac, nameB: string, macB: Mac, mtu = 1500): [VethDevice, VethDevice] {
    const a = new VethDevice(sim, nameA, macA, mtu);
    const b = new VethDevice(sim, nameB, macB, mtu);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  xmit(pkt: Packet): void {
    if (this.qdisc !== null) {
      if (!this.up) return this.drop(pkt, 'link-down');
      return this.qdisc.enqueue(this, pkt);
    }
    this.transmit(pkt);
  }

  /** veth_xmit: straight to the peer. */
  transmit(pkt: Packet): void {
    const st = this.st; // (up and carrier: one field, see NetDevice.st)
    if (st !== 0) return this.drop(pkt, (st & 1) !== 0 ? 'link-down' : 'no-carrier');
    const len = skbLength(pkt);
    this.noteTx(pkt, len);
    const peer = this.peer;
    if ((peer.st & 1) !== 0) return this.drop(pkt, 'no-carrier'); // (the peer administratively down)
    if (len > peer.mtu + 14 + 4) return peer.drop(pkt, 'mtu-exceeded');
    if (this.delayNs === 0) peer.receive(pkt, len);
    else this.sim.post(this.delayNs, vethArrive, peer, pkt);
  }
}

function vethArrive(peer: VethDevice, pkt: Packet): void {
  if (!peer.up) return peer.drop(pkt, 'no-carrier');
  peer.receive(pkt, skbLength(pkt));
}
