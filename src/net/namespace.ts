// net/namespace — one network namespace: its devices, addresses, routing tables, neighbour table,
// sysctls, protocol registry, netfilter/IPVS handles, drop counters and trace sources (struct net;
// addresses and routes as net/ipv4/devinet.c and fib_frontend.c add them). Layer: net (imports core,
// wire, packet, link, netfilter). The datapath is free functions over a Namespace, one file per
// kernel concern; the methods the interfaces below require are one-line delegates to them:
//
//   net/ip-input.ts     netifReceive, ipRcv, ipRcvFinish, ipLocalDeliver       ip_input.c
//   net/ip-forward.ts   ipForward                                              ip_forward.c
//   net/ip-output.ts    ipLocalOut, routeOutput, selectIdent, ipOutput, PMTU  ip_output.c, route.c
//   net/ip-fragment.ts  ipFragment, ipDoFragment                              ip_output.c
//   net/ip-defrag.ts    ipDefrag and the reassembly queues                     ip_fragment.c
//   net/arp.ts          arpRcv, arpSolicit, neighSend, neighFailed             arp.c
//   net/icmp.ts         icmpRcv, icmpSend and its rate limit, verdictDrop      icmp.c, nf_reject_ipv4.c
//   net/br-netfilter.ts brNetfilter                                            br_netfilter_hooks.c
//   net/ipvs-in.ts      ipvsIn                                                 ip_vs_core.c
//   net/drop.ts         dropPacket and the drop reasons                        kfree_skb_reason
//
// Not modelled: IPv6 (pods here have no IPv6 addresses, so none of the IPv6 ND/MLD chatter a real
// veth shows), ICMP redirects, rp_filter, multicast routing, policy routing.
import { NO_ENTRIES, NO_MEMBERS } from './no-entries.js';
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import { TraceSource, traceEverSubscribed } from '../core/trace.js';
import { type BridgeDevice, type BridgeNetfilter, type BridgeNetfilterTarget } from '../link/bridge.js';
import { NetDevice, type RxHandler, type RxTarget } from '../link/device.js';
import { LoopbackDevice } from '../link/loopback.js';
import type { EncapReceiver, UdpTunnelHost } from '../link/vxlan.js';
import { Netfilter, type NetfilterOptions, type NfHost } from '../netfilter/netfilter.js';
import type { Ipvs } from '../netfilter/ipvs.js';
import { packetRecyclingAllowed, type Packet } from '../packet/packet.js';
import { maskFromPrefix } from '../wire/ipv4-addr.js';
import { IpProto, type Ipv4, type Mac } from '../wire/types.js';
import type { IpStack, L4Receiver, RouteHint, SendError } from './api.js';
import { arpSolicit, confirmNeighbour, neighFailed, neighSend } from './arp.js';
import { brNetfilter as brNetfilterImported } from './br-netfilter.js';
import { dropPacket, type NetDropReason } from './drop.js';
import { newRoute, reverseRouteOf, RouteTable, selectUniverseAddr, routeEpoch as routeEpochImported, type Route } from './fib.js';
import { icmpSend, type IcmpPeer } from './icmp.js';
import { netifReceive as netifReceiveImported } from './ip-input.js';
import type { FragQueue } from './ip-defrag.js';
import { FibCache } from './fib-cache.js';
import { IpIdents, ipLocalOut, releaseIdentSlice, ipv4UpdatePmtu, pmtuFor, type PmtuException } from './ip-output.js';
import { NeighbourTable, type ConfirmHolder, type NeighEntry, type NeighOwner } from './neighbour.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const netifReceive = netifReceiveImported;
const brNetfilter = brNetfilterImported;
const routeEpoch = routeEpochImported;

export { formatRoute } from './fib.js';

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
/** inet_protos slots made up front: up to UDP's 17 (TCP 6, UDP 17); a higher number grows the array. */
const PROTOCOL_SLOTS = 18;
/** Device lookups by name scan this many devices at most; a namespace with more keeps a Map. */
const DEVICE_SCAN_MAX = 8;
/** Device and address lists are copied to exact size up to this length, then grown in place. */
const SHORT_LIST = 16;

/** Local tables larger than this (an IPVS node's thousands of Service addresses) get no quick "not local". */
const LOCAL_SUMMARY_MAX_ROUTES = 64;
/** The most /32 local routes isLocal answers "yes" for from the namespace's own fields (a node has four: lo, eth0, flannel.1, cni0). */
const LOCAL_EXACT = 4;

/** One network namespace and its IPv4 stack. */
export class Namespace implements IpStack, NeighOwner, ConfirmHolder, NfHost, UdpTunnelHost, RxTarget, BridgeNetfilterTarget {
  // The fields a packet reads first (a namespace object spans several cache lines, and in a big cluster
  // it is cold at every visit): the datapath's, then configuration and rarely read state.
  readonly neigh: NeighbourTable;
  /** `neigh.id`, kept beside it: a send compares an entry's ownerId to it without reading the table (net/neighbour.ts readyNeighbour). */
  readonly neighId: number;
  /** TCP's latest confirmation of confirmLast not yet applied, hi * 2^30 + lo (hi -1: none; net/neighbour.ts ConfirmHolder): beside the table, read before an entry. */
  confirmPendHi = -1;
  confirmPendLo = 0;
  /** net.ipv4.ip_forward. */
  ipForwardEnabled = false;
  /** The namespace's netfilter, or null when none is set up (no hooks run: the fast path). */
  nf: Netfilter | null = null;
  /** IPVS virtual services of this namespace (kube-proxy IPVS mode), or null. */
  ipvs: Ipvs | null = null;
  // Datapath state, read and written by the net/ip-*.ts, arp, icmp and ipvs-in functions.
  /** protocols[TCP], in the namespace itself: the array and its elements are two more objects to fetch per segment (a pod's, cold). */
  tcpRx: L4Receiver | undefined = undefined;
  /**
   * The port and receiving device of the namespace's only UDP tunnel socket (a node's flannel.1), read
   * before `udpEncap` (-1 and null with none, several, or one registered without its device): the Map,
   * its table, the receiver closure and its context are more objects to fetch for every encapsulated
   * datagram, cold on a node of a thousand, where this namespace's own fields and the device are not.
   */
  encapPort = -1;
  encapTarget: EncapReceiver | null = null;
  /** Whether this namespace's ends give packets back (packet/packet.ts packetRecyclingAllowed, asked at the first delivery unless set). */
  recycle: boolean | null = null;
  /** A delivered TCP segment may be given back for reuse (net/ip-input.ts; the ownership rule in packet/packet.ts). */
  recyclesPackets(): boolean {
    return (this.recycle ??= packetRecyclingAllowed(this.sim)) && !traceEverSubscribed();
  }
  private lastIfindex = 0; // the last interface index given out here (per namespace, as net->ifindex: lo is 1)
  /** Route exceptions holding a learned path MTU (fib_nh_exception), by destination (net/ip-output.ts). */
  pmtu: Map<Ipv4, PmtuException> = NO_ENTRIES;
  sendError: SendError = 'no-route'; // why the last refused ipLocalOut refused (IpStack.sendError)
  private fibCache: FibCache | null = null;
  /**
   * confirmNeighbour's last answer (net/arp.ts): the destination (signed 32-bit), the route epoch it
   * was looked up at and the neighbour entry it confirmed (null once that left the table: the table
   * clears it).
   */
  confirmDst = 0;
  confirmEpoch = -1;
  confirmLast: NeighEntry | null = null;
  /** routeOutput's last answer (net/ip-output.ts), likewise: destination, epoch, route. */
  outDst = 0;
  outEpoch = -1;
  outRoute: Route | null = null;
  /** ip_idents (ip-output.ts selectIdent): its pool (null until first used), place there and key, beside routeOutput's fields. */
  identSlots: number[] | null = null;
  identBase = 0;
  identKey = 0;
  /** Draws ip_idents (its own stream, so when does not matter) and keeps its pool, place and key; the pool. */
  drawIdents(): number[] {
    const d = new IpIdents(this.sim.rng.stream(`${this.name}/ip-ident`));
    this.identKey = d.key;
    const pool = (this.identSlots = d.place(this.sim));
    this.identBase = d.at;
    return pool;
  }
  /** A torn-down pod's namespace gives its ip_idents slice back to the simulator's pools (drawn again if it ever sends). */
  releaseIdents(): void {
    if (this.identSlots !== null) releaseIdentSlice(this.sim, this.identSlots, this.identBase);
    this.identSlots = null;
  }
  /**
   * isLocal's own answers in the namespace object itself, valid while localEpoch (routing tables' and
   * devices' epochs) stands. "Yes": when the local table has at most LOCAL_EXACT /32 local routes, each
   * its table's answer (no same-destination route ahead, device up), and one shorter local route (lo's
   * 127/8), localA..localD hold them (signed; unused slots repeat localA) and localBloom is 0 (a node's
   * own address, asked by -m addrtype for every new outer VXLAN flow, read no route cache object). "No":
   * a 32-bit filter of the /32 local routes (bit = top 5 bits of the Fibonacci hash; 0 when exact, never
   * 0 otherwise) and the shorter route's prefix: an address with its bit clear outside that prefix is not
   * local (all bits set, no quick answer, when the table is large or has two shorter local routes).
   */
  private localEpoch = -1;
  private localBloom = -1; // (beside the epoch: a "yes" reads six words in a row, not seven)
  private localA = 0;
  private localB = 0;
  private localC = 0;
  private localD = 0;
  private localWideNet = 0;
  private localWideMask = 0;

  readonly lo: LoopbackDevice;
  /** The devices and addresses (replaced while short: a pushed array keeps room for 17, a pod has two of each); addDevice / addAddress change them. */
  devices: readonly NetDevice[] = [];
  /** By name, once there are more devices than a scan should walk (a node's veths); null before. */
  private deviceByName: Map<string, NetDevice> | null = null;
  /** By ifindex, made with deviceByName (netfilter's -i / -o on a node with many veths). */
  private deviceByIndex: Map<number, NetDevice> | null = null;
  addrs: readonly IfAddr[] = [];
  readonly localTable = new RouteTable();
  readonly mainTable = new RouteTable();
  /** Addresses answered in ARP without owning them (MetalLB-style layer-2 announcement: the receiving interface's MAC). */
  arpAnnounce: Set<Ipv4> = NO_MEMBERS;
  /** Answers ARP for `ip` from now on (a MetalLB speaker's or a cloud load balancer's announcement). */
  announceArp(ip: Ipv4): void {
    (this.arpAnnounce === NO_MEMBERS ? (this.arpAnnounce = new Set()) : this.arpAnnounce).add(ip);
  }
  /** net.ipv4.conf.all.arp_ignore: 0 answers for any local address, 1 only for addresses on the receiving interface. */
  arpIgnore: 0 | 1 = 0;
  /** net.ipv4.icmp_ratelimit (ns) for unreachable / time-exceeded errors, per destination. */
  icmpRatelimitNs = 1e9;
  readonly drops: Partial<Record<NetDropReason, number>> = {};
  /** Fires on every drop. */
  readonly dropped = new TraceSource<[ns: Namespace, pkt: Packet, reason: NetDropReason]>();
  /** Fires at each step of a packet's walk (subscribe only to trace: it allocates events). */
  readonly hops = new TraceSource<[ns: Namespace, pkt: Packet, ev: HopEvent]>();
  /** inet_protos: the L4 receiver of each IP protocol number. */
  readonly protocols: (L4Receiver | undefined)[] = new Array(PROTOCOL_SLOTS);
  /** UDP encapsulation sockets by destination port (udp_sk(sk)->encap_rcv): VXLAN devices. */
  udpEncap: Map<number, (outer: Packet) => void> = NO_ENTRIES;
  /** Ping sockets by echo identifier. */
  pingHandlers: Map<number, PingHandler> = NO_ENTRIES;
  /** inet_peer ICMP rate-limit buckets by destination (net/icmp.ts). */
  icmpPeers: Map<Ipv4, IcmpPeer> = NO_ENTRIES;
  /** IPv4 reassembly queues (net/ip-defrag.ts), by (src, dst, id, protocol, user). */
  ipq: Map<string, FragQueue> = NO_ENTRIES;
  private readonly rxHandler: RxHandler = (dev, pkt) => netifReceive(this, dev, pkt);
  private brNetfilterLazy: BridgeNetfilter | null = null;
  /**
   * br_netfilter for this namespace's bridges (net/br-netfilter.ts) as a function; a builder installs it
   * with `attachBrNetfilter` when bridge-nf-call-iptables=1. Made on first use (a pod has no bridge).
   */
  get brNetfilter(): BridgeNetfilter {
    let f = this.brNetfilterLazy;
    if (f === null) {
      f = this.brNetfilterLazy = (br, inPort, outPort, pkt) => brNetfilter(this, br, inPort, outPort, pkt);
    }
    return f;
  }

  /** Makes `br` call this namespace's br_netfilter (bridge-nf-call-iptables=1), as an object. */
  attachBrNetfilter(br: BridgeDevice): void {
    br.setNetfilter(this, this.brNetfilter);
  }

  bridgeNetfilter(br: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null, pkt: Packet): boolean {
    return brNetfilter(this, br, inPort, outPort, pkt);
  }

  constructor(
    readonly sim: Simulator,
    readonly name: string,
  ) {
    // The neighbour stream is named by the namespace alone, so drawing it on first use changes nothing.
    this.neigh = new NeighbourTable(sim, this, () => sim.rng.stream(`${name}/neigh`));
    this.neighId = this.neigh.id;
    this.lo = new LoopbackDevice(sim);
    this.addDevice(this.lo);
    this.addAddress(this.lo, 0x7f000001, 8);
  }

  // ---------------------------------------------------------------- configuration (ip link/addr/route)

  /** Moves a device into this namespace (`ip link set DEV netns NS`); it is numbered as one created here. */
  addDevice(dev: NetDevice): void {
    if (this.device(dev.name) !== undefined) throw new Error(`${this.name}: device ${dev.name} exists`);
    dev.nsIfindex = ++this.lastIfindex; // (never reused after a removal: the kernel's counter moves on too)
    this.devices = appended(this.devices, dev);
    if (this.deviceByName !== null) {
      this.deviceByName.set(dev.name, dev);
      this.deviceByIndex!.set(dev.ifindex, dev);
    } else if (this.devices.length > DEVICE_SCAN_MAX) {
      this.deviceByName = new Map(this.devices.map((d) => [d.name, d]));
      this.deviceByIndex = new Map(this.devices.map((d) => [d.ifindex, d]));
    }
    dev.setReceiver(this, this.rxHandler);
    dev.qualifiedName = `${this.name}/${dev.name}`;
  }

  /**
   * `ip link del DEV` of a device nothing routes through (a bridge port: the caller detaches it first):
   * it goes down and leaves the namespace; its name is free again.
   */
  removeDevice(dev: NetDevice): void {
    const i = this.devices.indexOf(dev);
    if (i < 0) return;
    this.devices = this.devices.filter((d) => d !== dev);
    this.deviceByName?.delete(dev.name);
    this.deviceByIndex?.delete(dev.ifindex);
    dev.up = false;
    dev.rxHandler = null;
  }

  /** The device called `name`, or undefined. */
  device(name: string): NetDevice | undefined {
    if (this.deviceByName !== null) return this.deviceByName.get(name);
    const devs = this.devices;
    for (let i = 0; i < devs.length; i++) if (devs[i]!.name === name) return devs[i];
    return undefined;
  }

  /** `ip addr add ADDR/PREFIX dev DEV`: adds the local route and the connected subnet route. */
  addAddress(dev: NetDevice, addr: Ipv4, prefix: number): void {
    addr >>>= 0;
    const mask = maskFromPrefix(prefix);
    const net = (addr & mask) >>> 0;
    const broadcast = prefix >= 31 ? 0 : (net | ~mask) >>> 0;
    this.addrs = appended(this.addrs, { addr, prefix, dev, broadcast });
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

  /** The route lookup cache, emptied first when a routing table or a device's state changed since it was filled. */
  private routeCache(): FibCache {
    const c = (this.fibCache ??= new FibCache());
    c.check(routeEpoch() + NetDevice.upEpoch);
    return c;
  }

  /** Slots of the route lookup cache (0 before the first lookup): it grows when lookups keep evicting each other. */
  get routeCacheSlots(): number {
    return this.fibCache === null ? 0 : this.fibCache.locals.length / 2;
  }

  /** Route lookup as fib_lookup: local table first, then main (answered from FibCache when unchanged). */
  fibLookup(dst: Ipv4): Route | null {
    const c = this.routeCache();
    const key = dst | 0;
    const i = 2 * c.slot(dst);
    c.count();
    const routes = c.routes;
    const k = routes[i] as number;
    if (k === key && key !== 0) return routes[i + 1] as Route | null;
    const rt = this.localTable.lookup(dst) ?? this.mainTable.lookup(dst);
    if (key === 0) return rt; // (0 marks an empty slot)
    c.missed(k);
    const j = 2 * c.slot(dst); // (the cache may have grown)
    c.routes[j] = key;
    c.routes[j + 1] = rt;
    return rt;
  }

  /**
   * The source a locally generated packet to `dst` takes when its socket has none (`rt`, not local, is
   * the route fibLookup gives for `dst` now): the route's preferred source, else inet_select_addr on its
   * device toward the gateway or `dst`. Kept per destination while the tables and devices stand (an
   * address is added with its routes, so the epoch moves with the addresses too).
   */
  outputSource(rt: Route, dst: Ipv4): Ipv4 {
    if (rt.prefsrc !== 0) return rt.prefsrc;
    const c = this.routeCache();
    const key = dst | 0;
    const i = 2 * c.slot(dst);
    c.count();
    const srcs = c.srcs;
    const k = srcs[i]!;
    if (k === key && key !== 0) return srcs[i + 1]! >>> 0;
    const src = this.selectAddr(rt.dev, rt.gateway || dst);
    if (key === 0) return src; // (0 marks an empty slot)
    c.missed(k);
    const j = 2 * c.slot(dst);
    c.srcs[j] = key;
    c.srcs[j + 1] = src | 0;
    return src;
  }

  /** A local route as ip_route_output gives it (the same route on lo, by newRoute: one shape), made once per route while the tables stand. */
  loRoute(rt: Route): Route {
    const m = (this.routeCache().loRoutes ??= new Map());
    let r = m.get(rt);
    if (r === undefined) {
      r = newRoute(rt.table, rt.type, rt.dst, rt.prefix, rt.gateway, this.lo, rt.prefsrc, rt.scope, rt.onlink, rt.metric, rt.proto);
      m.set(rt, r);
    }
    return r;
  }

  /** True when `addr` is a local address of this namespace (RTN_LOCAL). */
  isLocal(addr: Ipv4): boolean {
    if (this.localEpoch !== routeEpoch() + NetDevice.upEpoch) this.summariseLocal();
    const k = addr | 0;
    if (k === this.localA || k === this.localB || k === this.localC || k === this.localD) {
      if (this.localBloom === 0) return true;
    } else if ((this.localBloom & (1 << (Math.imul(addr, 0x9e3779b1) >>> 27))) === 0 && ((addr ^ this.localWideNet) & this.localWideMask) !== 0) return false;
    const c = this.routeCache();
    // Not counted towards growing the cache: a node answers ARP requests flooded to every node, each
    // about another address, and would grow for lookups that are never repeated.
    const l = c.locals;
    const i = 2 * c.slot(addr);
    if (l[i] === addr) return l[i + 1] === 1;
    const r = this.localTable.lookup(addr);
    const local = r !== null && r.type === 'local';
    l[i] = addr;
    l[i + 1] = local ? 1 : 0;
    return local;
  }

  /** Recomputes isLocal's own answers (localA..localD, localBloom, localWideNet/Mask) from the local table. */
  private summariseLocal(): void {
    this.localEpoch = routeEpoch() + NetDevice.upEpoch;
    let bloom = 0;
    let wide = 0;
    // Conservative until the table was read: no exact set, no bit clear, no address outside "the" prefix.
    this.localA = this.localB = this.localC = this.localD = 0;
    this.localBloom = -1;
    this.localWideNet = 0;
    this.localWideMask = 0;
    if (this.localTable.size > LOCAL_SUMMARY_MAX_ROUTES) return;
    let net = 0;
    let mask = 0;
    const exact: number[] = [];
    let sure = true;
    const routes = this.localTable.unordered();
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.type !== 'local') continue;
      if (r.prefix === 32) {
        bloom |= 1 << (Math.imul(r.dst, 0x9e3779b1) >>> 27);
        // The table's own answer for the address now (a same-destination route ahead, or a device down, makes it another's).
        const found = this.localTable.lookup(r.dst);
        if (found !== null && found.type === 'local') {
          if (!exact.includes(r.dst | 0)) exact.push(r.dst | 0);
        } else sure = false;
      } else if (++wide > 1) return;
      else {
        // Signed (| 0): V8 keeps a field holding only 31-bit-or-less integers as a Smi in the object, but
        // a value above 2^31 (lo's 0xff000000) turns the field into a double held in a separate box,
        // an extra (cold) load at every isLocal, and re-shapes every namespace made before the store.
        mask = maskFromPrefix(r.prefix) | 0;
        net = r.dst & mask;
      }
    }
    if (sure && exact.length > 0 && exact.length <= LOCAL_EXACT) {
      this.localA = exact[0]!;
      this.localB = exact[1] ?? exact[0]!;
      this.localC = exact[2] ?? exact[0]!;
      this.localD = exact[3] ?? exact[0]!;
      bloom = 0;
    } else if (bloom === 0) bloom = 1; // (0 means "exact"; a spare bit only takes a quick "no" away)
    // With no shorter local route the mask stays 0 and no address counts as outside it: no quick
    // answer (a namespace has lo's 127.0.0.0/8 unless it was removed).
    this.localBloom = bloom;
    this.localWideNet = net;
    this.localWideMask = mask;
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
    return this.outputSource(rt, dst) || null;
  }

  mtuFor(dst: Ipv4, hint?: RouteHint): number | null {
    // routeOutput's last answer when it was for `dst` at this epoch and is fibLookup's own route (it is
    // unless local: those it gives as lo's copy; null, unreachable and the like: fibLookup gives them
    // here): a pod's SYN-ACK asks for its MTU toward the client it last sent to, and the namespace's
    // own fields answer, not its route cache (three more objects, cold in a big cluster).
    const o = this.outRoute;
    const rt =
      this.outDst === (dst | 0) && this.outEpoch === routeEpoch() + NetDevice.upEpoch && o !== null && o.type !== 'local' ? o : this.fibLookup(dst);
    if (hint !== undefined) hint.route = rt;
    if (!rt?.dev) return null;
    // A local destination is reached through lo (ip_route_output's dev_out): its MTU, not the address's device's.
    const devMtu = rt.type === 'local' ? this.lo.mtu : rt.dev.mtu;
    return this.pmtu.size === 0 ? devMtu : pmtuFor(this, dst, devMtu);
  }

  updatePmtu(dst: Ipv4, mtu: number): void {
    ipv4UpdatePmtu(this, dst, mtu);
  }

  registerProtocol(protocol: number, rx: L4Receiver): void {
    this.protocols[protocol] = rx;
    if (protocol === IpProto.TCP) this.tcpRx = rx;
  }

  /** A UDP tunnel's receive hook for datagrams to `port` (setup_udp_tunnel_sock). */
  registerUdpEncap(port: number, rx: (outer: Packet) => void, target?: EncapReceiver): void {
    if (this.udpEncap === NO_ENTRIES) this.udpEncap = new Map();
    this.udpEncap.set(port, rx);
    const only = this.udpEncap.size === 1 && target !== undefined;
    this.encapPort = only ? port : -1;
    this.encapTarget = only ? target : null;
  }

  /** Opens the kernel's ping socket for ICMP echo identifier `id`. */
  openPing(id: number, h: PingHandler): void {
    if (this.pingHandlers === NO_ENTRIES) this.pingHandlers = new Map();
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

  /** The name of this namespace's device of ifindex `ifindex`, '' when none (netfilter's -i / -o: the hooks get ifindexes). */
  deviceName(ifindex: number): string {
    if (this.deviceByIndex !== null) return this.deviceByIndex.get(ifindex)?.name ?? '';
    const devs = this.devices;
    for (let i = 0; i < devs.length; i++) if (devs[i]!.ifindex === ifindex) return devs[i]!.name;
    return '';
  }

  /** MASQUERADE: inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE). */
  masqueradeAddress(outIf: string, dst: number): number | null {
    const dev = this.device(outIf);
    if (dev === undefined) return null;
    const rt = this.fibLookup(dst);
    const nh = rt !== null && rt.gateway !== 0 ? rt.gateway : dst;
    return selectUniverseAddr(this.addrs, dev, nh, this.lo) || null;
  }

  /** TCPMSS: dst_mtu(skb_dst) when `outIf` is given, tcpmss_reverse_mtu's route lookup when not. */
  routeMtu(outIf: string, dst: number): number {
    const dev = outIf !== '' ? this.device(outIf) : this.fibLookup(dst)?.dev;
    if (!dev) return 0xffffffff;
    return this.pmtu.size === 0 ? dev.mtu : pmtuFor(this, dst, dev.mtu);
  }

  rng(name: string): Rng { return this.sim.rng.stream(`${this.name}/nf/${name}`); }
  /** -m rpfilter's reverse lookup (fib_lookup toward the packet's source): the route's type and device, null without one. */
  reverseRoute(addr: number): ReturnType<typeof reverseRouteOf> { return reverseRouteOf(this.fibLookup(addr)); }

  // ---------------------------------------------------------------- IpStack, L3Output, NeighOwner, RxTarget: delegates

  frameIn(dev: NetDevice, pkt: Packet): void {
    netifReceive(this, dev, pkt);
  }

  ipLocalOut(pkt: Packet, fib: Route | null = null): boolean {
    return ipLocalOut(this, pkt, fib);
  }

  icmpSend(orig: Packet, type: number, code: number, info: number): void {
    icmpSend(this, orig, type, code, info);
  }

  confirmNeighbour(dst: Ipv4): void {
    confirmNeighbour(this, dst);
  }

  arpSolicit(dev: NetDevice, ip: Ipv4, unicastTo: Mac | null, trigger: Packet | null): void {
    arpSolicit(this, dev, ip, unicastTo, trigger);
  }

  neighSend(dev: NetDevice, mac: Mac, pkt: Packet): void {
    neighSend(dev, mac, pkt);
  }

  neighFailed(_dev: NetDevice, pkt: Packet): void {
    neighFailed(this, pkt);
  }

  neighQueueFull(_dev: NetDevice, pkt: Packet): void {
    dropPacket(this, pkt, 'neigh-queue-full');
  }
}

/** `list` and `x` after it: an exact-size copy while short, the same array grown beyond that. */
function appended<T>(list: readonly T[], x: T): readonly T[] {
  if (list.length >= SHORT_LIST) {
    (list as T[]).push(x);
    return list;
  }
  return list.concat([x]);
}

function route(table: Route['table'], type: Route['type'], dst: Ipv4, prefix: number, gateway: Ipv4, dev: NetDevice, prefsrc: Ipv4, scope: Route['scope']): Route {
  return newRoute(table, type, dst >>> 0, prefix, gateway, dev, prefsrc, scope, false, 0, 'kernel');
}
