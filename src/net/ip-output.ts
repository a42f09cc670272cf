// net/ip-output — the IPv4 output path of a namespace (net/ipv4/ip_output.c, route.c's
// ip_route_output and ip_idents). Layer: net (imports core, wire, packet, link, netfilter, and net/).
//
//   ipLocalOut (routeOutput, source selection, selectIdent) → nf(OUTPUT) (re-route after DNAT)
//     → ipOutput → nf(POSTROUTING) → ipFinishOutput [→ ipFragment (net/ip-fragment.ts)]
//     → neighbour output (net/neighbour.ts, net/arp.ts)
//
// The MTU of a locally generated packet is the path MTU (ip_skb_dst_mtu: a route exception learned
// from ICMP fragmentation-needed, route.c __ip_rt_update_pmtu: 10 min, not below min_pmtu 552, as
// `ip route get` shows `cache expires 599sec mtu 1400`); a forwarded one uses the device MTU
// (ip_dst_mtu_maybe_forward with ip_forward_use_pmtu = 0). A local DF packet above it is refused
// (EMSGSIZE, 'frag-needed'); a non-DF one is fragmented after POSTROUTING.
// Not modelled: the route cache itself, GSO, IP options, PMTU locking (mtu lock routes).
import { traceEverSubscribed as traceEverSubscribedImported } from '../core/trace.js';
import { NO_ENTRIES } from './no-entries.js';
import { intsInto, type Rng } from '../core/rng.js';
import { ruleCostExit } from '../netfilter/cost-model.js';
import { localOutLength as localOutLengthImported } from '../packet/length.js';
import { NetDevice } from '../link/device.js';
import type { Packet } from '../packet/packet.js';
import { BROADCAST_MAC, EtherType, IP_DF as IP_DF_I, type Ipv4 } from '../wire/types.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { neighSend as neighSendImported, neighSendLast as neighSendLastImported } from './arp.js';
import { dropPacket } from './drop.js';
import { formatRoute, routeEpoch as routeEpochImported, type Route } from './fib.js';
import { verdictDrop } from './icmp.js';
import { ipFragment } from './ip-fragment.js';
import { ipvsLocalOut } from './ipvs-in.js';
import type { Namespace } from './namespace.js';
import { readyEntry as readyEntryImported, UNTIL_UNIT } from './neighbour.js';
const IP_DF = IP_DF_I; // a module constant: an import is a Cell load and check at each use
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const localOutLength = localOutLengthImported;
const readyEntry = readyEntryImported;
const NEIGH_UNTIL_UNIT = UNTIL_UNIT;
const neighSendLast = neighSendLastImported;
const neighSend = neighSendImported;
const routeEpoch = routeEpochImported;
// This module's own exported functions, called here: an export is a module cell too.
const routeOutputHere = routeOutput;
const ipOutputHere = ipOutput;

/** IP_IDENTS_SZ: the number of ip_idents counters. */
const IP_IDENTS_SZ = 2048;

/** Namespaces whose ip_idents buckets one pool holds (4 MB of numbers: a pool grown by push is copied as it grows). */
const IDENT_POOL_NAMESPACES = 256;
/**
 * The pools a simulator's namespaces keep their ip_idents buckets in, one namespace's IP_IDENTS_SZ
 * numbers after another's: a send reads its bucket and the pool's header, which the sends of every
 * namespace in the pool keep in cache, where a namespace's own array was one more cold line a send in
 * a big cluster (a node numbers each VXLAN datagram it sends to another node). `cur` is the pool new
 * namespaces are appended to; a torn-down pod's namespace gives its slice back (`freePools`/`freeBases`),
 * and the next namespace to draw takes the last one given back, so a run with pod churn holds no more
 * slices than namespaces alive at once. Per simulator (a WeakMap): nothing stays from one run to the next.
 */
interface IdentPools {
  cur: number[];
  readonly freePools: number[][];
  readonly freeBases: number[];
}
const identPools = new WeakMap<object, IdentPools>();

function identPoolsOf(owner: object): IdentPools {
  let ps = identPools.get(owner);
  if (ps === undefined) {
    ps = { cur: newIdentPool(), freePools: [], freeBases: [] };
    identPools.set(owner, ps);
  }
  return ps;
}

/** A namespace's slice of `owner`'s pools given back (its namespace will not send again): the next draw reuses it. */
export function releaseIdentSlice(owner: object, pool: number[], base: number): void {
  const ps = identPoolsOf(owner);
  ps.freePools.push(pool);
  ps.freeBases.push(base);
}

/** An empty pool of packed doubles (a double stored first, then removed): no store changes the elements' kind. */
function newIdentPool(): number[] {
  const p = [0.5];
  p.pop();
  return p;
}

/**
 * ip_idents (net/ipv4/route.c): 2048 IP ID counters with random starting values, the jiffy each was
 * last used (ip_idents_reserve's tstamp), and the key of the per-bucket random increments (so one
 * flow's draws never move another's). Draws from `rng` in construction only.
 * A bucket's jiffy and counter are one number, jiffy * 2^16 + counter (exact: a jiffy stays below 2^37):
 * the bucket a packet hashes to is seldom in cache (S2's profile: its first read was most of
 * selectIdent), and one 8-byte element is one line where a 16-byte pair crossed one a quarter of the
 * time (its place in a shared pool is not 16-byte aligned). The namespace keeps the shared pool its
 * `slots` were appended to, where they start there, and `key` in its own fields (Namespace.identSlots,
 * identBase, identKey): selectIdent reads no IpIdents object.
 */
export class IpIdents {
  /**
   * Bucket h: last jiffy * 65536 + counter (0..65535). A number array of packed doubles (in the
   * array's own elements, as a Float64Array's), not a Float64Array: a typed array's header is 80 bytes,
   * its length and data pointers a second line to read half the time; an array's is 32.
   */
  readonly slots: number[];
  /** The increments' key as a signed 32-bit integer (read only through `^`): a uint32 above 2^31 is a heap number of its own. */
  readonly key: number;
  constructor(rng: Rng) {
    const drawn = new Float64Array(2 * IP_IDENTS_SZ);
    intsInto(rng, 65536, drawn, 1, 2, IP_IDENTS_SZ); // (rng.int(65536) into each bucket's counter, in order)
    const slots = newIdentPool();
    for (let h = 0; h < IP_IDENTS_SZ; h++) slots.push(drawn[2 * h + 1]!); // (jiffy 0; packed doubles: no store changes the elements' kind)
    this.slots = slots;
    this.key = rng.uint32() | 0;
  }

  /** Where the buckets start in the pool `place` put them in. */
  at = 0;

  /**
   * Puts the buckets in `owner`'s pools: into the slice a released namespace gave back last, else
   * appended to the current pool (a new one when it is full). Returns the pool; `at` is where they start
   * (a multiple of IP_IDENTS_SZ). Every bucket is written, so which slice it is changes no ID.
   */
  place(owner: object): number[] {
    const ps = identPoolsOf(owner);
    const slots = this.slots;
    const freed = ps.freePools.pop();
    if (freed !== undefined) {
      const base = ps.freeBases.pop()!;
      for (let i = 0; i < slots.length; i++) freed[base + i] = slots[i]!;
      this.at = base;
      return freed;
    }
    if (ps.cur.length >= IDENT_POOL_NAMESPACES * IP_IDENTS_SZ) ps.cur = newIdentPool();
    const p = ps.cur;
    this.at = p.length;
    for (let i = 0; i < slots.length; i++) p.push(slots[i]!);
    return p;
  }
}

/**
 * ip_local_out for a locally generated packet (IpStack.ipLocalOut): route, source address, IP ID,
 * OUTPUT (with ip_route_me_harder after DNAT), MTU check, then ipOutput. Returns false when there is
 * no route or the packet is too big (the socket sees an error); true when it was sent or filtered.
 */
export function ipLocalOut(ns: Namespace, pkt: Packet, fib: Route | null = null): boolean {
  const ip = pkt.ip!;
  let rt = fib === null ? routeOutputHere(ns, ip.dst) : outputRouteOf(ns, fib);
  if (rt === null) {
    dropPacket(ns, pkt, 'no-route');
    ns.sendError = 'no-route';
    return false;
  }
  if (ip.src === 0) ip.src = (rt.type === 'local' ? ip.dst : ns.outputSource(rt, ip.dst)) >>> 0;
  selectIdent(ns, pkt);
  ip.totalLength = localOutLength(pkt);
  ip.checksum = null;
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'route', decision: 'output', route: formatRoute(rt) });
  if (ns.nf !== null) {
    const dst = ip.dst;
    const v = ns.nf.hookOut(pkt, rt.dev!.ifindex);
    if (v.kind !== 'accept') {
      verdictDrop(ns, pkt, v);
      return true;
    }
    // ip_vs_local_request4: a virtual service's packet is sent on by IPVS (its route is the local one).
    if (ns.ipvs !== null && rt.type === 'local' && ipvsLocalOut(ns, pkt)) return true;
    // ip_route_me_harder: re-route when OUTPUT DNAT (or a mark) changed the destination.
    if (ip.dst !== dst || v.reroute) {
      rt = routeOutputHere(ns, ip.dst);
      if (rt === null) {
        dropPacket(ns, pkt, 'no-route');
        ns.sendError = 'no-route';
        return false;
      }
    }
  }
  const dev = rt.dev!;
  const mtu = ns.pmtu.size === 0 ? dev.mtu : pmtuFor(ns, ip.dst, dev.mtu);
  if (ip.totalLength > mtu && (ip.flags & IP_DF) !== 0) {
    // ip_fragment: a datagram socket's packet (IP_PMTUDISC_WANT sets skb->ignore_df) is fragmented,
    // its fragments without DF; a TCP segment is refused with EMSGSIZE.
    if (pkt.tcp === null) ip.flags &= ~IP_DF;
    else {
      dropPacket(ns, pkt, 'frag-needed');
      ns.sendError = 'msgsize';
      return false;
    }
  }
  ipOutputHere(ns, pkt, rt, mtu);
  return true;
}

/** A route exception's learned path MTU (struct fib_nh_exception: fnhe_pmtu, fnhe_expires). */
export interface PmtuException {
  mtu: number;
  /** Simulated time (ns) it lapses. */
  expires: number;
}

/** net.ipv4.route.mtu_expires: 600 s. */
export const IP_RT_MTU_EXPIRES_NS = 600e9;
/** net.ipv4.route.min_pmtu: 552. */
export const IP_RT_MIN_PMTU = 552;

/** ipv4_mtu for a destination: the learned PMTU while its exception lives, else the device MTU. */
export function pmtuFor(ns: Namespace, dst: Ipv4, devMtu: number): number {
  const e = ns.pmtu.get(dst);
  if (e === undefined) return devMtu;
  if (ns.sim.now >= e.expires) {
    ns.pmtu.delete(dst);
    return devMtu;
  }
  return e.mtu < devMtu ? e.mtu : devMtu;
}

/**
 * __ip_rt_update_pmtu: a smaller path MTU toward `dst` (never below min_pmtu) becomes a route
 * exception for 10 min; the same value is not refreshed until half of that has passed.
 */
export function ipv4UpdatePmtu(ns: Namespace, dst: Ipv4, mtu: number): void {
  const rt = ns.fibLookup(dst);
  if (rt === null || rt.dev === null) return;
  const old = pmtuFor(ns, dst, rt.dev.mtu);
  if (old < mtu) return;
  if (mtu < IP_RT_MIN_PMTU) mtu = Math.min(old, IP_RT_MIN_PMTU);
  const now = ns.sim.now;
  const e = ns.pmtu.get(dst);
  if (e !== undefined && e.mtu === mtu && now < e.expires - IP_RT_MTU_EXPIRES_NS / 2) return;
  if (ns.pmtu === NO_ENTRIES) ns.pmtu = new Map();
  ns.pmtu.set(dst, { mtu, expires: now + IP_RT_MTU_EXPIRES_NS });
}

/** `ip route get DST`'s cache line for a route exception: `cache expires 599sec mtu 1400`, or null. */
export function formatPmtuCache(ns: Namespace, dst: Ipv4): string | null {
  const e = ns.pmtu.get(dst);
  if (e === undefined || ns.sim.now >= e.expires) return null;
  return `cache expires ${Math.floor((e.expires - ns.sim.now) / 1e9)}sec mtu ${e.mtu}`;
}

/**
 * ip_route_output: the route a locally generated packet to `dst` takes (local → lo). The namespace's
 * last answer again for the same destination while no table or device state changed (the route
 * cache's own rule): a socket's segments go to one destination, like the dst a Linux socket keeps.
 */
export function routeOutput(ns: Namespace, dst: Ipv4): Route | null {
  const epoch = routeEpoch() + NetDevice.upEpoch;
  const key = dst | 0;
  if (ns.outDst === key && ns.outEpoch === epoch) return ns.outRoute;
  const rt = outputRouteOf(ns, ns.fibLookup(dst));
  ns.outDst = key;
  ns.outEpoch = epoch;
  // On change only (a write barrier otherwise): a node's VXLAN packets go to a new VTEP each time, by one route.
  if (ns.outRoute !== rt) ns.outRoute = rt;
  return rt;
}

/** routeOutput for the route fibLookup gave (null: none). */
function outputRouteOf(ns: Namespace, rt: Route | null): Route | null {
  if (rt === null || rt.dev === null) return null;
  if (rt.type !== 'unicast' && rt.type !== 'local' && rt.type !== 'broadcast') return null;
  if (rt.type === 'local') return ns.loRoute(rt);
  return rt;
}

/**
 * ip_select_ident: a socket that numbers its own packets (inet_id of a connected socket, or 0 for a
 * SYN-ACK) hands its ID in; `id < 0` asks the kernel, which takes the ip_idents counter hashed by
 * (dst, src, protocol) — for DF packets too on this kernel line (observed on Linux 6.18: an
 * unconnected UDP socket's DF datagrams carry hashed, non-zero IDs).
 */
function selectIdent(ns: Namespace, pkt: Packet): void {
  const ip = pkt.ip!;
  if (ip.id >= 0) return;
  // (the namespace's pool, where its buckets start there, and its key, in its own fields: drawn on first use)
  const drawn = ns.identSlots;
  const slots = drawn !== null ? drawn : ns.drawIdents();
  const base = ns.identBase;
  const h = (Math.imul(ip.dst ^ Math.imul(ip.src, 0x9e3779b1), 0x85ebca6b) ^ ip.protocol) >>> 21;
  const at = base + h;
  // ip_idents_reserve: when jiffies moved since the bucket's last use, add a random 0..elapsed-1
  // so the IDs leak no exact packet count (HZ = 250, Debian's).
  const jiffy = Math.floor(ns.sim.now / 4e6);
  const v = slots[at]!;
  const old = Math.floor(v / 65536);
  let delta = 0;
  if (jiffy > old) {
    // A hash of (key, bucket, jiffy) stands for get_random_u32_below: deterministic per bucket.
    let x = Math.imul(ns.identKey ^ Math.imul(h, 0x27d4eb2d), 0x165667b1) ^ jiffy;
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    delta = ((x ^ (x >>> 16)) >>> 0) % (jiffy - old);
  }
  const id = (v - old * 65536 + delta) & 0xffff;
  slots[at] = jiffy * 65536 + ((id + 1) & 0xffff);
  ip.id = id;
}

/** ip_output: POSTROUTING, then __ip_finish_output (fragmenting above `mtu`, the device's unless given). */
export function ipOutput(ns: Namespace, pkt: Packet, rt: Route, mtu = rt.dev!.mtu): void {
  if (ns.nf !== null) {
    const v = ns.nf.hookPost(pkt, rt.dev!.ifindex);
    if (v.kind !== 'accept') return verdictDrop(ns, pkt, v);
    if (ns.nf.perRuleNs !== 0) {
      // netfilter/cost-model.ts: held for its rule walk, confirmed as it leaves
      const at = ruleCostExit(ns.nf, ns.sim.now);
      if (at >= 0) return deferOutputFinish(ns, pkt, rt, mtu, at);
      if (!confirmHeld(ns, pkt)) return;
    }
  }
  ipOutputFinish(ns, pkt, rt, mtu);
}

/**
 * With the cost model, conntrack's confirm where the packet leaves after its hold (Conntrack.holdConfirm):
 * false when the packet is dropped (a confirm clash nothing resolves, counted as a netfilter drop).
 */
export function confirmHeld(ns: Namespace, pkt: Packet): boolean {
  if (ns.nf!.conntrack.confirmHeld(pkt, ns.sim.now).ok) return true;
  dropPacket(ns, pkt, 'netfilter-drop');
  return false;
}

/**
 * The cost model's delay before __ip_finish_output. A function of its own: a closure inside ipOutput
 * would capture its parameters, and V8 then allocates their context on every call, used or not.
 */
function deferOutputFinish(ns: Namespace, pkt: Packet, rt: Route, mtu: number, at: number): void {
  ns.sim.scheduleAt(at, () => {
    if (confirmHeld(ns, pkt)) ipOutputFinish(ns, pkt, rt, mtu);
  });
}

function ipOutputFinish(ns: Namespace, pkt: Packet, rt: Route, mtu: number): void {
  // __ip_finish_output: skb->len > mtu, or a datagram reassembled here (IPCB(skb)->frag_max_size).
  if (pkt.ip!.totalLength > mtu || pkt.fragList !== null) {
    const frags = ipFragment(ns, pkt, mtu);
    if (frags !== null) for (let i = 0; i < frags.length; i++) ipFinishOutput(ns, frags[i]!, rt);
    return;
  }
  ipFinishOutput(ns, pkt, rt);
}

/** ip_finish_output2: resolve the next hop and hand to the device (an IFF_NOARP device directly). */
function ipFinishOutput(ns: Namespace, pkt: Packet, rt: Route): void {
  const dev = rt.dev!;
  const nexthop = rt.gateway !== 0 ? rt.gateway : pkt.ip!.dst;
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'xmit', dev: dev.name, nexthop: formatIpv4(nexthop) });
  if (dev.noArp) {
    pkt.eth = { dst: 0, src: 0, etherType: EtherType.IPv4 };
    dev.xmit(pkt);
    return;
  }
  if (rt.type === 'broadcast' || pkt.ip!.dst === 0xffffffff) {
    neighSend(dev, BROADCAST_MAC, pkt);
    return;
  }
  // neigh_output: the device's last entry when it can send as is (no table read; by the device's copy
  // of it, NetDevice.neighKey …), else the table. A ready entry is the device's last, its copy current.
  // (readyNeighbour written out: its copy test here, the entry's call apart. V8 did not inline the whole
  // of it in the big cluster once the copy test was added: a call per send, +2.6 k instructions a request.)
  const table = ns.neigh;
  const id = ns.neighId;
  if ((dev.neighKey === (nexthop | 0) && dev.neighOwner === id && dev.sim.now < dev.neighUntil * NEIGH_UNTIL_UNIT) || readyEntry(table, id, dev, nexthop) !== null) {
    neighSendLast(dev, pkt);
  } else table.output(dev, nexthop, pkt);
}
