// link/vxlan — a VXLAN tunnel device (drivers/net/vxlan/vxlan_core.c), as flannel creates flannel.1:
// `ip link add flannel.1 type vxlan id 1 local NODE_IP dev eth0 dstport 8472 nolearning`.
// Layer: link. Transmit: the inner Ethernet frame's destination MAC is looked up in the device's FDB
// (`bridge fdb append MAC dev flannel.1 dst REMOTE_NODE_IP`) and the frame leaves inside
// outer IPv4 / UDP / VXLAN toward that node through the namespace's ip_local_out (an L3Output the net
// layer provides). Receive: `attach` registers the device's UDP port with its namespace (as
// setup_udp_tunnel_sock sets encap_rcv); net hands each outer datagram that arrives on that port to
// `encapReceive`, which checks the VNI and delivers the inner frame as received on this device.
// On the wire as Linux sends it: outer TTL 64, TOS 0, DF clear (df unset), IP ID from the ip_idents
// counters, UDP checksum computed (the kernel's default when the creator does not set
// IFLA_VXLAN_UDP_CSUM, as flannel's netlink call does not; observed on this machine's kernel), UDP source port from a hash of the
// inner flow scaled into the local port range 32768–60999 (udp_flow_src_port), destination port the
// configured one (8472 for flannel, 4789 IANA), VXLAN flags 0x08 with the VNI.
// Not modelled: learning (flannel uses nolearning), L2 miss / L3 miss notifications, GBP, multicast groups.
import type { Simulator } from '../core/simulator.js';
import { frameLength } from '../packet/length.js';
import { Packet } from '../packet/packet.js';
import { EtherType, IpProto, type Ipv4, type Mac } from '../wire/types.js';
import { ipv4Header } from '../wire/ipv4.js';
import { NetDevice } from './device.js';

/** How a tunnel device sends its outer packets: the namespace's ip_local_out. Implemented by net/. */
export interface L3Output {
  ipLocalOut(pkt: Packet): boolean;
}

/**
 * Where a UDP tunnel opens its port (setup_udp_tunnel_sock): the namespace hands `rx` every locally
 * delivered UDP datagram to `port` that carries an encapsulated frame (udp_sk(sk)->encap_rcv).
 * Implemented by net/.
 */
export interface UdpTunnelHost {
  registerUdpEncap(port: number, rx: (outer: Packet) => void): void;
}

const PORT_MIN = 32768;
const PORT_MAX = 61000;

/** A VXLAN device. */
export class VxlanDevice extends NetDevice {
  readonly kind = 'vxlan';
  /** `bridge fdb` entries: inner MAC → remote VTEP IP. */
  readonly fdb = new Map<Mac, Ipv4>();
  /** The namespace the tunnel sends through, once attached. */
  private l3: L3Output | null = null;
  readonly counters = { txNoFdb: 0, rxBadVni: 0 };

  constructor(
    sim: Simulator,
    name: string,
    mac: Mac,
    readonly vni: number,
    readonly local: Ipv4,
    readonly dstPort: number,
    /** skb hash seed (hashrnd), drawn per node from a seeded stream. */
    private readonly hashSeed: number,
    mtu = 1450,
  ) {
    super(sim, name, mac, mtu);
  }

  /** vxlan_sock_add → setup_udp_tunnel_sock: opens `dstPort` in `host` (the device's namespace) and sends through it. */
  attach(host: L3Output & UdpTunnelHost): void {
    this.l3 = host;
    host.registerUdpEncap(this.dstPort, (outer) => this.encapReceive(outer));
  }

  /** vxlan_xmit: encapsulates the frame toward the VTEP its destination MAC maps to. */
  xmit(inner: Packet): void {
    if (!this.up) return this.drop(inner, 'link-down');
    const len = frameLength(inner);
    const remote = this.fdb.get(inner.eth!.dst);
    if (remote === undefined || this.l3 === null) {
      this.counters.txNoFdb++;
      return this.drop(inner, 'no-carrier');
    }
    this.noteTx(inner, len);
    const outer = new Packet();
    outer.ip = ipv4Header(IpProto.UDP, this.local, remote);
    outer.udp = { srcPort: this.flowSrcPort(inner), dstPort: this.dstPort, length: 0, checksum: null };
    outer.vxlan = { flags: 0x08, reserved1: 0, vni: this.vni, reserved2: 0 };
    outer.inner = inner;
    outer.udp.length = 8 + 8 + len;
    outer.flowId = inner.flowId;
    outer.sentAt = inner.sentAt;
    this.l3.ipLocalOut(outer);
  }

  /** vxlan_rcv: the outer datagram arrived on our UDP port; deliver the inner frame here. */
  encapReceive(outer: Packet): void {
    const inner = outer.inner;
    if (outer.vxlan === null || inner === null || inner.eth === null) return this.drop(outer, 'no-handler');
    if (outer.vxlan.vni !== this.vni) {
      this.counters.rxBadVni++;
      return this.drop(outer, 'no-handler');
    }
    this.receive(inner, frameLength(inner));
  }

  /** udp_flow_src_port: hash of the inner flow scaled into [32768, 61000). */
  private flowSrcPort(inner: Packet): number {
    let h = this.hashSeed | 0;
    const ip = inner.ip;
    if (ip !== null) {
      h = mix(h, ip.src);
      h = mix(h, ip.dst);
      h = mix(h, ip.protocol);
      const ports = inner.tcp ?? inner.udp;
      if (ports !== null) h = mix(h, (ports.srcPort << 16) | ports.dstPort);
      else if (inner.icmp !== null) h = mix(h, inner.icmp.rest >>> 16);
    } else if (inner.arp !== null) {
      h = mix(h, inner.arp.spa);
      h = mix(h, inner.arp.tpa);
      h = mix(h, EtherType.ARP);
    }
    h ^= h >>> 16;
    const hash = h >>> 0;
    return Math.floor((hash * (PORT_MAX - PORT_MIN)) / 4294967296) + PORT_MIN;
  }
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x5bd1e995);
  return (h ^ (h >>> 15)) | 0;
}
