// net/namespace — one network namespace: its devices, addresses, routes, neighbours and the IPv4
// datapath (net/ipv4/ip_input.c, ip_forward.c, ip_output.c, route.c, arp.c, icmp.c). Layer: net
// (imports core, wire, packet, link, netfilter via net/hooks). Function names mirror the kernel's.
//
//   rx:  netifReceive → arpRcv | ipRcv → nf(PREROUTING) → ipRcvFinish (route input)
//          → ipLocalDeliver → nf(INPUT) → L4 receiver / icmpRcv
//          → ipForward (TTL check + decrement) → nf(FORWARD) → ipOutput
//   tx:  ipLocalOut (route output, source selection, IP ID) → nf(OUTPUT) (re-route after DNAT) → ipOutput
//   out: ipOutput → nf(POSTROUTING) → ipFinishOutput → neighbour (ARP) → device xmit
//
// Not modelled: IPv6 (pods here have no IPv6 addresses, so none of the IPv6 ND/MLD chatter a real
// veth shows), IP fragmentation and reassembly (an oversized packet is dropped, with ICMP
// fragmentation-needed when DF is set), ICMP redirects, rp_filter, multicast routing, policy routing.
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import { TraceSource } from '../core/trace.js';
import type { NetDevice } from '../link/device.js';
import { LoopbackDevice } from '../link/loopback.js';
import type { UdpTunnelHost } from '../link/vxlan.js';
import { ipTotalLength } from '../packet/length.js';
import { isMulticastMac } from '../wire/mac.js';
import { ipv4Header } from '../wire/ipv4.js';
import { Packet } from '../packet/packet.js';
import {
  ArpOp,
  BROADCAST_MAC,
  EtherType,
  IcmpType,
  IcmpUnreachCode,
  IP_DF,
  IpProto,
  TcpFlag,
  type Ipv4,
  type Mac,
} from '../wire/types.js';
import type { IpStack, L4Receiver } from './api.js';
import type { NetDropReason } from './drop.js';
import { RouteTable, type Route } from './fib.js';
import { formatIpv4, maskFromPrefix } from '../wire/ipv4-addr.js';
import type { BridgeDevice } from '../link/bridge.js';
import { Netfilter, NfHook, type NetfilterOptions, type NfHost, type NfVerdict } from '../netfilter/netfilter.js';
import type { RejectWith } from '../netfilter/rules.js';
import { CtStatus, NatManip } from '../netfilter/conntrack.js';
import type { Ipvs, IpvsProto } from '../netfilter/ipvs.js';
import { NeighbourTable, type NeighOwner } from './neighbour.js';

/** An address on an interface (`ip addr`). */
export interface IfAddr {
  addr: Ipv4;
  prefix: number;
  dev: NetDevice;
  /** Directed broadcast of the subnet (0 for /31 and /32). */
  broadcast: Ipv4;
}

/** Events of a packet's walk through a namespace, for `podwire trace`. */
export type HopEvent =
  | { kind: 'rx'; dev: string }
  | { kind: 'route'; decision: 'local' | 'forward' | 'output'; route: string }
  | { kind: 'ttl'; from: number; to: number }
  | { kind: 'xmit'; dev: string; nexthop: string }
  | { kind: 'deliver'; protocol: number }
  | { kind: 'ipvs'; server: string }
  | { kind: 'drop'; reason: NetDropReason };

/** A receiver of ICMP echo replies for one identifier (the kernel's ping socket, net/ipv4/ping.c). */
export interface PingHandler {
  reply(pkt: Packet): void;
  error(icmp: Packet): void;
}

const ECHO_ID_MASK = 0xffff;

/** One network namespace and its IPv4 stack. */
export class Namespace implements IpStack, NeighOwner, NfHost, UdpTunnelHost {
  readonly lo: LoopbackDevice;
  readonly devices: NetDevice[] = [];
  readonly addrs: IfAddr[] = [];
  readonly localTable = new RouteTable();
  readonly mainTable = new RouteTable();
  readonly neigh: NeighbourTable;
  /** net.ipv4.ip_forward. */
  ipForwardEnabled = false;
  /** The namespace's netfilter, or null when none is set up (no hooks run: the fast path). */
  nf: Netfilter | null = null;
  /** IPVS virtual services of this namespace (kube-proxy IPVS mode), or null. */
  ipvs: Ipvs | null = null;
  /** ip sets for `-m set` (name → membership test), as `ipset` holds them. */
  ipsets: Map<string, (flags: readonly string[], pkt: Packet) => boolean> | null = null;
  /** The same sets as `ipset save` prints them (for `podwire inspect --ipset`). */
  ipsetSave: (() => string) | null = null;
  /**
   * Addresses this namespace answers ARP for without owning them (a MetalLB-style layer-2
   * announcement of LoadBalancer IPs; a speaker replies with the receiving interface's MAC).
   */
  readonly arpAnnounce = new Set<Ipv4>();
  /** net.ipv4.conf.all.arp_ignore: 0 answers for any local address, 1 only for addresses on the receiving interface. */
  arpIgnore: 0 | 1 = 0;
  /** net.ipv4.icmp_ratelimit (ns) for unreachable / time-exceeded errors, per destination. */
  icmpRatelimitNs = 1e9;
  readonly drops: Partial<Record<NetDropReason, number>> = {};
  /** Fires on every drop. */
  readonly dropped = new TraceSource<[ns: Namespace, pkt: Packet, reason: NetDropReason]>();
  /** Fires at each step of a packet's walk (subscribe only to trace: it allocates events). */
  readonly hops = new TraceSource<[ns: Namespace, pkt: Packet, ev: HopEvent]>();

  private readonly protocols: (L4Receiver | undefined)[] = [];
  /** UDP encapsulation sockets by destination port (udp_sk(sk)->encap_rcv): VXLAN devices. */
  private readonly udpEncap = new Map<number, (outer: Packet) => void>();
  private readonly pingHandlers = new Map<number, PingHandler>();
  private readonly idents: Uint16Array;
  /** Last jiffy each ip_idents bucket was used (ip_idents_reserve's tstamp). */
  private readonly identStamp: Float64Array;
  /** Key of the per-bucket random increments (so one flow's draws never move another's). */
  private readonly identKey: number;
  private readonly icmpTokens = new Map<Ipv4, { tokens: number; last: number }>();
  private readonly rxHandler = (dev: NetDevice, pkt: Packet): void => this.netifReceive(dev, pkt);

  constructor(
    readonly sim: Simulator,
    readonly name: string,
  ) {
    this.neigh = new NeighbourTable(sim, this, sim.rng.stream(`${name}/neigh`));
    const idRng: Rng = sim.rng.stream(`${name}/ip-ident`);
    // ip_idents: 2048 counters with random starting values (net/ipv4/route.c, IP_IDENTS_SZ).
    this.idents = new Uint16Array(2048);
    for (let i = 0; i < this.idents.length; i++) this.idents[i] = idRng.int(65536);
    this.identStamp = new Float64Array(2048);
    this.identKey = idRng.uint32();
    this.lo = new LoopbackDevice(sim);
    this.addDevice(this.lo);
    this.addAddress(this.lo, 0x7f000001, 8);
  }

  // ---------------------------------------------------------------- configuration (ip link/addr/route)

  /** Moves a device into this namespace (`ip link set DEV netns NS`). */
  addDevice(dev: NetDevice): void {
    if (this.devices.some((d) => d.name === dev.name)) throw new Error(`${this.name}: device ${dev.name} exists`);
    this.devices.push(dev);
    dev.rxHandler = this.rxHandler;
    dev.qualifiedName = `${this.name}/${dev.name}`;
  }

  /** The device called `name`, or undefined. */
  device(name: string): NetDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  /** `ip addr add ADDR/PREFIX dev DEV`: adds the local route and the connected subnet route. */
  addAddress(dev: NetDevice, addr: Ipv4, prefix: number): void {
    addr >>>= 0;
    const mask = maskFromPrefix(prefix);
    const net = (addr & mask) >>> 0;
    const broadcast = prefix >= 31 ? 0 : (net | ~mask) >>> 0;
    this.addrs.push({ addr, prefix, dev, broadcast });
    const isLo = dev === this.lo;
    this.localTable.add(route('local', 'local', addr, 32, 0, dev, addr, 'host'));
    if (isLo) {
      this.localTable.add(route('local', 'local', net, prefix, 0, dev, addr, 'host'));
      return;
    }
    if (prefix < 32) this.mainTable.add(route('main', 'unicast', net, prefix, 0, dev, addr, 'link'));
    if (broadcast !== 0) this.localTable.add(route('local', 'broadcast', broadcast, 32, 0, dev, addr, 'link'));
  }

  /** `ip route add DST/PREFIX [via GW] dev DEV [src SRC] [onlink] [metric N]` in the main table. */
  addRoute(r: { dst: Ipv4; prefix: number; gateway?: Ipv4; dev: NetDevice; prefsrc?: Ipv4; onlink?: boolean; metric?: number; type?: Route['type'] }): void {
    const rt = route('main', r.type ?? 'unicast', r.dst, r.prefix, r.gateway ?? 0, r.dev, r.prefsrc ?? 0, r.gateway ? 'global' : 'link');
    rt.onlink = r.onlink ?? false;
    rt.metric = r.metric ?? 0;
    rt.proto = 'boot';
    this.mainTable.add(rt);
  }

  /** Route lookup as fib_lookup: local table first, then main. */
  fibLookup(dst: Ipv4): Route | null {
    return this.localTable.lookup(dst) ?? this.mainTable.lookup(dst);
  }

  /** True when `addr` is a local address of this namespace (RTN_LOCAL). */
  isLocal(addr: Ipv4): boolean {
    const r = this.localTable.lookup(addr);
    return r !== null && r.type === 'local';
  }

  /** inet_select_addr: an address on `dev` in dst's subnet, else its first address, else any in the namespace. */
  selectAddr(dev: NetDevice | null, dst: Ipv4): Ipv4 {
    let first = 0;
    for (const a of this.addrs) {
      if (a.dev !== dev) continue;
      if (((a.addr ^ dst) & maskFromPrefix(a.prefix)) === 0) return a.addr;
      if (first === 0) first = a.addr;
    }
    if (first !== 0) return first;
    for (const a of this.addrs) if (a.dev !== this.lo) return a.addr;
    return 0;
  }

  sourceFor(dst: Ipv4): Ipv4 | null {
    const rt = this.fibLookup(dst);
    if (rt === null || rt.type === 'unreachable' || rt.type === 'blackhole' || rt.type === 'prohibit') return null;
    if (rt.type === 'local') return dst;
    if (rt.prefsrc !== 0) return rt.prefsrc;
    return this.selectAddr(rt.dev, rt.gateway !== 0 ? rt.gateway : dst) || null;
  }

  mtuFor(dst: Ipv4): number | null {
    const rt = this.fibLookup(dst);
    return rt?.dev ? rt.dev.mtu : null;
  }

  registerProtocol(protocol: number, rx: L4Receiver): void {
    this.protocols[protocol] = rx;
  }

  /** A UDP tunnel's receive hook for datagrams to `port` (setup_udp_tunnel_sock). */
  registerUdpEncap(port: number, rx: (outer: Packet) => void): void {
    this.udpEncap.set(port, rx);
  }

  /** Opens the kernel's ping socket for ICMP echo identifier `id`. */
  openPing(id: number, h: PingHandler): void {
    this.pingHandlers.set(id & ECHO_ID_MASK, h);
  }

  /** Closes a ping socket. */
  closePing(id: number): void {
    this.pingHandlers.delete(id & ECHO_ID_MASK);
  }

  // ---------------------------------------------------------------- netfilter (NfHost)

  /** Sets up this namespace's netfilter (empty tables, conntrack) if it has none; returns it. */
  enableNetfilter(opts: NetfilterOptions = {}): Netfilter {
    if (this.nf === null) this.nf = new Netfilter(this, opts);
    return this.nf;
  }

  now(): number {
    return this.sim.now;
  }

  isLocalAddress(ip: number): boolean {
    return this.isLocal(ip);
  }

  /** MASQUERADE: inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE). */
  masqueradeAddress(outIf: string, dst: number): number | null {
    const dev = this.device(outIf);
    if (dev === undefined) return null;
    const rt = this.fibLookup(dst);
    const nh = rt !== null && rt.gateway !== 0 ? rt.gateway : dst;
    return this.selectAddr(dev, nh) || null;
  }

  rng(name: string): Rng {
    return this.sim.rng.stream(`${this.name}/nf/${name}`);
  }

  ipsetTest(name: string, flags: readonly string[], pkt: Packet): boolean | undefined {
    const set = this.ipsets?.get(name);
    return set === undefined ? undefined : set(flags, pkt);
  }

  /**
   * br_netfilter with bridge-nf-call-iptables=1: an IP frame bridged between two ports of `br` passes
   * PREROUTING (conntrack, DNAT; in = the bridge), FORWARD and POSTROUTING (SNAT, confirm; in/out = the
   * bridge). When PREROUTING DNAT changed the destination, the packet leaves the bridge path and is
   * routed by this namespace (br_nf_pre_routing_finish). Returns false when the bridge must not forward it.
   */
  readonly brNetfilter = (br: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null, pkt: Packet): boolean => {
    const nf = this.nf;
    if (nf === null) return true;
    const ip = pkt.ip!;
    const dst = ip.dst;
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'rx', dev: `${br.name} (bridge port ${inPort.name}, br_netfilter)` });
    let v = nf.hook(NfHook.PREROUTING, pkt, br.name, null);
    if (outPort === null) {
      // A frame for the bridge itself: PREROUTING here, the rest in ip_rcv.
      if (v.kind !== 'accept') {
        this.verdictDrop(pkt, v);
        return false;
      }
      if (ip.dst !== dst) {
        // br_nf_pre_routing_finish: DNAT to a neighbour reached through this same bridge is "bridged
        // DNAT": the frame gets the neighbour's MAC and is bridged to it (FORWARD and POSTROUTING
        // with in = out = the bridge), not routed, so its TTL is not decremented.
        const rt = this.fibLookup(ip.dst);
        if (rt !== null && rt.dev === br && rt.type === 'unicast') {
          v = nf.hook(NfHook.FORWARD, pkt, br.name, br.name);
          if (v.kind === 'accept') v = nf.hook(NfHook.POSTROUTING, pkt, null, br.name);
          if (v.kind !== 'accept') {
            this.verdictDrop(pkt, v);
            return false;
          }
          const nh = rt.gateway !== 0 ? rt.gateway : ip.dst;
          const n = this.neigh.get(br, nh);
          if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'xmit', dev: `${br.name} (bridged DNAT)`, nexthop: formatIpv4(nh) });
          if (n !== undefined && n.state !== 'INCOMPLETE' && n.state !== 'FAILED') {
            pkt.eth!.dst = n.mac;
            br.rebridge(inPort, pkt);
          } else {
            // Not resolved yet: the neighbour layer resolves it and sends the frame out of the bridge
            // (the kernel also restores the original source MAC here; podwire's carries the bridge's).
            this.neigh.output(br, nh, pkt);
          }
          return false;
        }
      }
      pkt.brPrerouted = true;
      return true;
    }
    if (v.kind !== 'accept') {
      this.verdictDrop(pkt, v);
      return false;
    }
    if (ip.dst !== dst) {
      this.ipRcvFinish(br, pkt);
      return false;
    }
    v = nf.hook(NfHook.FORWARD, pkt, br.name, br.name);
    if (v.kind === 'accept') v = nf.hook(NfHook.POSTROUTING, pkt, null, br.name);
    if (v.kind !== 'accept') {
      this.verdictDrop(pkt, v);
      return false;
    }
    return true;
  };

  // ---------------------------------------------------------------- drops and tracing

  /** Counts, traces and discards a packet (kfree_skb_reason). */
  dropPacket(pkt: Packet, reason: NetDropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    if (this.dropped.connected) this.dropped.fire(this, pkt, reason);
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'drop', reason });
  }

  // ---------------------------------------------------------------- receive path

  /** __netif_receive_skb: dispatch by EtherType. */
  netifReceive(dev: NetDevice, pkt: Packet): void {
    const eth = pkt.eth;
    if (eth === null) return this.dropPacket(pkt, 'bad-header');
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'rx', dev: dev.name });
    // eth_type_trans: a unicast frame for another MAC is PACKET_OTHERHOST; arp_rcv and ip_rcv drop it.
    const otherhost = eth.dst !== dev.mac && !isMulticastMac(eth.dst) && dev !== this.lo;
    if (eth.etherType === EtherType.ARP && pkt.arp !== null) {
      if (otherhost) return this.dropPacket(pkt, 'otherhost');
      return this.arpRcv(dev, pkt);
    }
    if (eth.etherType === EtherType.IPv4 && pkt.ip !== null) {
      if (otherhost) return this.dropPacket(pkt, 'otherhost');
      return this.ipRcv(dev, pkt);
    }
    this.dropPacket(pkt, 'no-protocol');
  }

  /** arp_process: answer requests for our addresses, learn from requests and replies. */
  private arpRcv(dev: NetDevice, pkt: Packet): void {
    const arp = pkt.arp!;
    if (arp.op === ArpOp.REQUEST) {
      const ours = this.isLocal(arp.tpa) && (this.arpIgnore === 0 || this.addrs.some((a) => a.addr === arp.tpa && a.dev === dev));
      if (ours || this.arpAnnounce.has(arp.tpa)) {
        this.neigh.update(dev, arp.spa, arp.sha, 'request-for-us');
        const reply = new Packet();
        reply.eth = { dst: arp.sha, src: dev.mac, etherType: EtherType.ARP };
        reply.arp = { htype: 1, ptype: EtherType.IPv4, hlen: 6, plen: 4, op: ArpOp.REPLY, sha: dev.mac, spa: arp.tpa, tha: arp.sha, tpa: arp.spa };
        dev.xmit(reply);
      } else {
        this.neigh.update(dev, arp.spa, arp.sha, 'other');
      }
      return;
    }
    if (arp.op === ArpOp.REPLY) this.neigh.update(dev, arp.spa, arp.sha, 'reply');
  }

  /** ip_rcv: header sanity, then PREROUTING. */
  ipRcv(dev: NetDevice, pkt: Packet): void {
    const ip = pkt.ip!;
    if (ip.ttl === 0 && !this.isLocal(ip.dst)) return this.dropPacket(pkt, 'bad-header');
    if (pkt.brPrerouted) {
      pkt.brPrerouted = false; // br_netfilter ran PREROUTING at the bridge port already
      return this.ipRcvFinish(dev, pkt);
    }
    if (this.nf !== null) {
      const v = this.nf.hook(NfHook.PREROUTING, pkt, dev.name, null);
      if (v.kind !== 'accept') return this.verdictDrop(pkt, v);
    }
    this.ipRcvFinish(dev, pkt);
  }

  /** ip_rcv_finish: route input (after any DNAT in PREROUTING). */
  ipRcvFinish(dev: NetDevice, pkt: Packet): void {
    const ip = pkt.ip!;
    const rt = this.fibLookup(ip.dst);
    if (rt !== null && (rt.type === 'local' || rt.type === 'broadcast')) {
      if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'route', decision: 'local', route: formatRoute(rt) });
      return this.ipLocalDeliver(dev, pkt);
    }
    if (!this.ipForwardEnabled) return this.dropPacket(pkt, 'forwarding-disabled');
    if (rt === null || rt.type !== 'unicast') {
      // ip_error: blackhole discards silently; unreachable → host unreachable; prohibit → admin
      // prohibited; no route at all → net unreachable.
      const type = rt?.type ?? null;
      if (type === 'blackhole') return this.dropPacket(pkt, 'no-route');
      const code = type === 'unreachable' ? IcmpUnreachCode.HOST : type === 'prohibit' ? IcmpUnreachCode.ADMIN_PROHIBITED : IcmpUnreachCode.NET;
      this.icmpSend(pkt, IcmpType.DEST_UNREACH, code, 0);
      return this.dropPacket(pkt, 'no-route');
    }
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'route', decision: 'forward', route: formatRoute(rt) });
    this.ipForward(dev, pkt, rt);
  }

  /** ip_forward: TTL check and decrement, MTU check, FORWARD hook. */
  ipForward(inDev: NetDevice, pkt: Packet, rt: Route): void {
    const ip = pkt.ip!;
    if (ip.ttl <= 1) {
      this.icmpSend(pkt, IcmpType.TIME_EXCEEDED, 0, 0);
      return this.dropPacket(pkt, 'ttl-expired');
    }
    const outDev = rt.dev!;
    if (ip.totalLength > outDev.mtu) {
      if ((ip.flags & IP_DF) !== 0) this.icmpSend(pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.FRAG_NEEDED, outDev.mtu);
      return this.dropPacket(pkt, 'frag-needed');
    }
    // ip_decrease_ttl (the checksum is recomputed when the header is serialized).
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'ttl', from: ip.ttl, to: ip.ttl - 1 });
    ip.ttl--;
    ip.checksum = null;
    if (this.nf !== null) {
      const v = this.nf.hook(NfHook.FORWARD, pkt, inDev.name, outDev.name);
      if (v.kind !== 'accept') return this.verdictDrop(pkt, v);
    }
    this.ipOutput(pkt, rt);
  }

  /** ip_local_deliver: INPUT hook, then the protocol handler. */
  ipLocalDeliver(dev: NetDevice, pkt: Packet): void {
    if (this.ipvs !== null && this.ipvsIn(pkt)) return;
    if (this.nf !== null) {
      const v = this.nf.hook(NfHook.INPUT, pkt, dev.name, null);
      if (v.kind !== 'accept') return this.verdictDrop(pkt, v);
    }
    const proto = pkt.ip!.protocol;
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'deliver', protocol: proto });
    if (proto === IpProto.ICMP) return this.icmpRcv(pkt);
    if (proto === IpProto.UDP && pkt.vxlan !== null && this.udpEncap.size > 0) {
      const encapRcv = this.udpEncap.get(pkt.udp!.dstPort);
      if (encapRcv !== undefined) return encapRcv(pkt);
    }
    const rx = this.protocols[proto];
    if (rx === undefined) {
      this.icmpSend(pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.PROTOCOL, 0);
      return this.dropPacket(pkt, 'no-protocol');
    }
    rx.receive(pkt);
  }

  /**
   * ip_vs_in (LOCAL_IN): a packet for an IPVS virtual service is scheduled to a real server, its
   * conntrack entry gets the DNAT binding (net.ipv4.vs.conntrack=1, ip_vs_update_conntrack), the TTL
   * is decremented, and it leaves through LOCAL_OUT and POSTROUTING (ip_vs_nat_xmit). Replies are
   * un-NATed by conntrack. Simplification: the filter table's INPUT chain is not walked first.
   */
  private ipvsIn(pkt: Packet): boolean {
    const ip = pkt.ip!;
    const l4 = pkt.tcp ?? pkt.udp;
    if (l4 === null) return false;
    const proto: IpvsProto = pkt.tcp !== null ? 'tcp' : 'udp';
    const ipvs = this.ipvs!;
    if (!ipvs.has(proto, ip.dst, l4.dstPort)) return false;
    const nf = this.nf;
    if (nf === null) return false;
    const ep = ipvs.schedule(proto, { src: ip.src, sport: l4.srcPort }, ip.dst, l4.dstPort, this.sim.now);
    if (ep === null) {
      this.dropPacket(pkt, 'ipvs-no-destination');
      return true;
    }
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'ipvs', server: `${formatIpv4(ep.ip)}:${ep.port}` });
    const ct = nf.conntrack.ctOf(pkt);
    if (ct !== null && pkt.ctDir === 0) {
      const r = { minIp: ep.ip, maxIp: ep.ip, ports: { min: ep.port, max: ep.port }, random: false, randomFully: false, persistent: false };
      if (!(ct.status & CtStatus.DST_NAT)) nf.conntrack.setupNat(ct, NatManip.DST, r, this.sim.now);
      nf.conntrack.natPacket(pkt, NatManip.DST);
    } else {
      ip.dst = ep.ip;
      l4.dstPort = ep.port;
      l4.checksum = null;
    }
    ip.checksum = null;
    const rt = this.routeOutput(ip.dst);
    if (rt === null) {
      this.dropPacket(pkt, 'no-route');
      return true;
    }
    if (rt.type === 'local') return false;
    if (ip.ttl <= 1) {
      this.icmpSend(pkt, IcmpType.TIME_EXCEEDED, 0, 0);
      this.dropPacket(pkt, 'ttl-expired');
      return true;
    }
    ip.ttl--;
    const v = nf.hook(NfHook.OUTPUT, pkt, null, rt.dev!.name);
    if (v.kind !== 'accept') {
      this.verdictDrop(pkt, v);
      return true;
    }
    this.ipOutput(pkt, rt);
    return true;
  }

  // ---------------------------------------------------------------- transmit path

  ipLocalOut(pkt: Packet): boolean {
    const ip = pkt.ip!;
    let rt = this.routeOutput(ip.dst);
    if (rt === null) {
      this.dropPacket(pkt, 'no-route');
      return false;
    }
    if (ip.src === 0) ip.src = rt.type === 'local' ? ip.dst : rt.prefsrc || this.selectAddr(rt.dev, rt.gateway || ip.dst);
    this.selectIdent(pkt);
    ip.totalLength = ipTotalLength(pkt);
    ip.checksum = null;
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'route', decision: 'output', route: formatRoute(rt) });
    if (this.nf !== null) {
      const dst = ip.dst;
      const v = this.nf.hook(NfHook.OUTPUT, pkt, null, rt.dev!.name);
      if (v.kind !== 'accept') {
        this.verdictDrop(pkt, v);
        return true;
      }
      // ip_route_me_harder: re-route when OUTPUT DNAT (or a mark) changed the destination.
      if (ip.dst !== dst || v.reroute) {
        rt = this.routeOutput(ip.dst);
        if (rt === null) {
          this.dropPacket(pkt, 'no-route');
          return false;
        }
      }
    }
    if (ip.totalLength > rt.dev!.mtu) {
      this.dropPacket(pkt, 'frag-needed');
      return false;
    }
    this.ipOutput(pkt, rt);
    return true;
  }

  /** ip_route_output: the route a locally generated packet to `dst` takes (local → lo). */
  private routeOutput(dst: Ipv4): Route | null {
    const rt = this.fibLookup(dst);
    if (rt === null || rt.dev === null) return null;
    if (rt.type !== 'unicast' && rt.type !== 'local' && rt.type !== 'broadcast') return null;
    if (rt.type === 'local') return { ...rt, dev: this.lo };
    return rt;
  }

  /**
   * ip_select_ident: a socket that numbers its own packets (inet_id of a connected socket, or 0 for a
   * SYN-ACK) hands its ID in; `id < 0` asks the kernel, which takes the ip_idents counter hashed by
   * (dst, src, protocol) — for DF packets too on this kernel line (observed on Linux 6.18: an
   * unconnected UDP socket's DF datagrams carry hashed, non-zero IDs).
   */
  private selectIdent(pkt: Packet): void {
    const ip = pkt.ip!;
    if (ip.id >= 0) return;
    const h = (Math.imul(ip.dst ^ Math.imul(ip.src, 0x9e3779b1), 0x85ebca6b) ^ ip.protocol) >>> 21;
    // ip_idents_reserve: when jiffies moved since the bucket's last use, add a random 0..elapsed-1
    // so the IDs leak no exact packet count (HZ = 250, Debian's).
    const jiffy = Math.floor(this.sim.now / 4e6);
    const old = this.identStamp[h]!;
    let delta = 0;
    if (old !== jiffy) {
      if (jiffy > old) {
        // A hash of (key, bucket, jiffy) stands for get_random_u32_below: deterministic per bucket.
        let x = Math.imul(this.identKey ^ Math.imul(h, 0x27d4eb2d), 0x165667b1) ^ jiffy;
        x = Math.imul(x ^ (x >>> 15), 0x85ebca6b);
        x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
        delta = ((x ^ (x >>> 16)) >>> 0) % (jiffy - old);
      }
      this.identStamp[h] = jiffy;
    }
    const id = (this.idents[h]! + delta) & 0xffff;
    this.idents[h] = (id + 1) & 0xffff;
    ip.id = id;
  }

  /** ip_output: POSTROUTING, then neighbour output. */
  ipOutput(pkt: Packet, rt: Route): void {
    if (this.nf !== null) {
      const v = this.nf.hook(NfHook.POSTROUTING, pkt, null, rt.dev!.name);
      if (v.kind !== 'accept') return this.verdictDrop(pkt, v);
    }
    this.ipFinishOutput(pkt, rt);
  }

  /** ip_finish_output2: resolve the next hop and hand to the device. */
  ipFinishOutput(pkt: Packet, rt: Route): void {
    const dev = rt.dev!;
    const nexthop = rt.gateway !== 0 ? rt.gateway : pkt.ip!.dst;
    if (this.hops.connected) this.hops.fire(this, pkt, { kind: 'xmit', dev: dev.name, nexthop: formatIpv4(nexthop) });
    if (dev.noArp) {
      pkt.eth = { dst: 0, src: 0, etherType: EtherType.IPv4 };
      dev.xmit(pkt);
      return;
    }
    if (rt.type === 'broadcast' || pkt.ip!.dst === 0xffffffff) {
      this.neighSend(dev, BROADCAST_MAC, pkt);
      return;
    }
    this.neigh.output(dev, nexthop, pkt);
  }

  // ---------------------------------------------------------------- NeighOwner

  neighSend(dev: NetDevice, mac: Mac, pkt: Packet): void {
    const eth = pkt.eth;
    if (eth === null) pkt.eth = { dst: mac, src: dev.mac, etherType: EtherType.IPv4 };
    else {
      eth.dst = mac;
      eth.src = dev.mac;
      eth.etherType = EtherType.IPv4;
    }
    dev.xmit(pkt);
  }

  arpSolicit(dev: NetDevice, ip: Ipv4, unicastTo: Mac | null, trigger: Packet | null): void {
    // arp_solicit with arp_announce=0: the trigger's source if it is ours, else inet_select_addr.
    const tsrc = trigger?.ip?.src ?? 0;
    const spa = tsrc !== 0 && this.isLocal(tsrc) ? tsrc : this.selectAddr(dev, ip);
    const req = new Packet();
    req.eth = { dst: unicastTo ?? BROADCAST_MAC, src: dev.mac, etherType: EtherType.ARP };
    req.arp = { htype: 1, ptype: EtherType.IPv4, hlen: 6, plen: 4, op: ArpOp.REQUEST, sha: dev.mac, spa, tha: 0, tpa: ip };
    dev.xmit(req);
  }

  neighFailed(_dev: NetDevice, pkt: Packet): void {
    // arp_error_report → ipv4_link_failure → icmp_send(HOST_UNREACH), also for locally sent packets.
    this.icmpSend(pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.HOST, 0);
    this.dropPacket(pkt, 'neigh-failed');
  }

  neighQueueFull(_dev: NetDevice, pkt: Packet): void {
    this.dropPacket(pkt, 'neigh-queue-full');
  }

  // ---------------------------------------------------------------- ICMP (net/ipv4/icmp.c)

  /** icmp_rcv: echo requests are answered by the kernel; replies and errors go to their sockets. */
  private icmpRcv(pkt: Packet): void {
    const icmp = pkt.icmp;
    if (icmp === null) return this.dropPacket(pkt, 'bad-header');
    switch (icmp.type) {
      case IcmpType.ECHO_REQUEST:
        return this.icmpEcho(pkt);
      case IcmpType.ECHO_REPLY: {
        const h = this.pingHandlers.get(icmp.rest >>> 16);
        if (h === undefined) return this.dropPacket(pkt, 'no-socket');
        return h.reply(pkt);
      }
      case IcmpType.DEST_UNREACH:
      case IcmpType.TIME_EXCEEDED: {
        const inner = pkt.inner;
        if (inner === null || inner.ip === null) return this.dropPacket(pkt, 'bad-header');
        if (inner.ip.protocol === IpProto.ICMP) {
          const h = inner.icmp ? this.pingHandlers.get(inner.icmp.rest >>> 16) : undefined;
          if (h === undefined) return this.dropPacket(pkt, 'no-socket');
          return h.error(pkt);
        }
        const rx = this.protocols[inner.ip.protocol];
        if (rx === undefined) return this.dropPacket(pkt, 'no-socket');
        return rx.error(pkt);
      }
      default:
        return this.dropPacket(pkt, 'no-protocol');
    }
  }

  /** icmp_echo → icmp_reply: same id, sequence and data; TOS copied; no DF (the ICMP socket's PMTUDISC_DONT). */
  private icmpEcho(req: Packet): void {
    const rip = req.ip!;
    if (rip.dst === 0xffffffff || !this.isLocal(rip.dst)) return; // icmp_echo_ignore_broadcasts=1
    const rep = new Packet();
    rep.ip = ipv4Header(IpProto.ICMP, rip.dst, rip.src, 0, rip.tos);
    rep.icmp = { type: IcmpType.ECHO_REPLY, code: 0, checksum: null, rest: req.icmp!.rest };
    rep.payloadLength = req.payloadLength;
    rep.payload = req.payload;
    rep.flowId = req.flowId;
    rep.sentAt = req.sentAt;
    this.ipLocalOut(rep);
  }

  /**
   * icmp_send: an error about `orig`. Never about an ICMP error, a broadcast, or a non-first fragment;
   * unreachable (except fragmentation-needed) and time-exceeded are rate limited per destination
   * (inet_peer_xrlim_allow: a token bucket of icmp_ratelimit with a burst of 6). TOS is 0xc0
   * (IPTOS_PREC_INTERNETCONTROL), no DF, TTL 64; the source is the address routing picks toward the
   * original sender, or the original destination when that was ours.
   */
  icmpSend(orig: Packet, type: number, code: number, rest: number): void {
    const oip = orig.ip;
    if (oip === null) return;
    if (oip.fragOffset !== 0) return;
    if (orig.icmp !== null && orig.icmp.type !== IcmpType.ECHO_REQUEST && orig.icmp.type !== IcmpType.ECHO_REPLY) return;
    if (oip.dst === 0xffffffff || (oip.dst & 0xf0000000) >>> 0 === 0xe0000000 || oip.src === 0) return;
    const limited = type === IcmpType.TIME_EXCEEDED || (type === IcmpType.DEST_UNREACH && code !== IcmpUnreachCode.FRAG_NEEDED);
    if (limited && !this.isLocal(oip.src) && !this.icmpAllow(oip.src)) {
      this.drops['icmp-ratelimit'] = (this.drops['icmp-ratelimit'] ?? 0) + 1;
      return;
    }
    const src = this.isLocal(oip.dst) ? oip.dst : this.sourceFor(oip.src);
    if (src === null) return;
    const err = new Packet();
    err.ip = ipv4Header(IpProto.ICMP, src, oip.src, 0, (oip.tos & 0x1e) | 0xc0);
    err.icmp = { type, code, checksum: null, rest };
    err.inner = orig;
    err.flowId = orig.flowId;
    this.ipLocalOut(err);
  }

  private icmpAllow(peer: Ipv4): boolean {
    const now = this.sim.now;
    const limit = this.icmpRatelimitNs;
    let b = this.icmpTokens.get(peer);
    if (b === undefined) {
      b = { tokens: 6 * limit, last: now };
      this.icmpTokens.set(peer, b);
    }
    b.tokens = Math.min(6 * limit, b.tokens + (now - b.last));
    b.last = now;
    if (b.tokens >= limit) {
      b.tokens -= limit;
      return true;
    }
    return false;
  }

  /**
   * Acts on a non-accept hook verdict: REJECT emits its TCP reset or ICMP error (nf_send_unreach →
   * icmp_send, rate limited like any other), then the packet is dropped.
   */
  private verdictDrop(pkt: Packet, v: NfVerdict): void {
    if (v.kind === 'accept') return;
    if (v.kind === 'drop') return this.dropPacket(pkt, 'netfilter-drop');
    if (v.with === 'tcp-reset') this.sendReset(pkt);
    else this.icmpSend(pkt, IcmpType.DEST_UNREACH, REJECT_CODE[v.with], 0);
    this.dropPacket(pkt, 'netfilter-reject');
  }

  /** nf_send_reset: a TCP RST answering `pkt` (REJECT --reject-with tcp-reset). */
  private sendReset(pkt: Packet): void {
    const ip = pkt.ip!;
    const tcp = pkt.tcp;
    if (tcp === null || (tcp.flags & TcpFlag.RST) !== 0) return;
    const rst = new Packet();
    rst.ip = ipv4Header(IpProto.TCP, ip.dst, ip.src, IP_DF);
    const hasAck = (tcp.flags & TcpFlag.ACK) !== 0;
    const segLen = pkt.payloadLength + ((tcp.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((tcp.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    rst.tcp = {
      srcPort: tcp.dstPort,
      dstPort: tcp.srcPort,
      seq: hasAck ? tcp.ack : 0,
      ack: hasAck ? 0 : (tcp.seq + segLen) >>> 0,
      flags: hasAck ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK,
      window: 0,
      checksum: null,
      urgent: 0,
      options: [],
    };
    this.ipLocalOut(rst);
  }
}

/** ICMP destination-unreachable code of each REJECT --reject-with (libipt_REJECT.c). */
const REJECT_CODE = {
  'icmp-net-unreachable': IcmpUnreachCode.NET,
  'icmp-host-unreachable': IcmpUnreachCode.HOST,
  'icmp-port-unreachable': IcmpUnreachCode.PORT,
  'icmp-proto-unreachable': IcmpUnreachCode.PROTOCOL,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': IcmpUnreachCode.ADMIN_PROHIBITED,
} as const satisfies Record<Exclude<RejectWith, 'tcp-reset'>, number>;

function route(table: Route['table'], type: Route['type'], dst: Ipv4, prefix: number, gateway: Ipv4, dev: NetDevice, prefsrc: Ipv4, scope: Route['scope']): Route {
  return { table, type, dst: dst >>> 0, prefix, gateway, dev, prefsrc, scope, onlink: false, metric: 0, proto: 'kernel' };
}

/** A route as `ip route show` prints it. */
export function formatRoute(r: Route): string {
  const dst = r.prefix === 0 ? 'default' : r.prefix === 32 ? formatIpv4(r.dst) : `${formatIpv4(r.dst)}/${r.prefix}`;
  const parts = [r.type === 'unicast' ? dst : `${r.type} ${dst}`];
  if (r.gateway !== 0) parts.push(`via ${formatIpv4(r.gateway)}`);
  if (r.dev) parts.push(`dev ${r.dev.name}`);
  if (r.proto !== 'boot') parts.push(`proto ${r.proto}`);
  if (r.scope !== 'global') parts.push(`scope ${r.scope}`);
  if (r.prefsrc !== 0) parts.push(`src ${formatIpv4(r.prefsrc)}`);
  if (r.metric !== 0) parts.push(`metric ${r.metric}`);
  if (r.onlink) parts.push('onlink');
  return parts.join(' ');
}
