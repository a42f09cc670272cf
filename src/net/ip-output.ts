// net/ip-output — the IPv4 output path of a namespace (net/ipv4/ip_output.c, route.c's
// ip_route_output and ip_idents). Layer: net (imports core, wire, packet, link, netfilter, and net/).
//
//   ipLocalOut (routeOutput, source selection, selectIdent) → nf(OUTPUT) (re-route after DNAT)
//     → ipOutput → nf(POSTROUTING) → ipFinishOutput → neighbour output (net/neighbour.ts, net/arp.ts)
//
// Not modelled: fragmentation (an oversized local packet is dropped as 'frag-needed'), the route
// cache and PMTU exceptions, GSO, IP options.
import type { Rng } from '../core/rng.js';
import { NfHook } from '../netfilter/netfilter.js';
import { ipTotalLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { BROADCAST_MAC, EtherType, type Ipv4 } from '../wire/types.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { neighSend } from './arp.js';
import { dropPacket } from './drop.js';
import { formatRoute, type Route } from './fib.js';
import { verdictDrop } from './icmp.js';
import type { Namespace } from './namespace.js';

/** IP_IDENTS_SZ: the number of ip_idents counters. */
const IP_IDENTS_SZ = 2048;

/**
 * ip_idents (net/ipv4/route.c): 2048 IP ID counters with random starting values, the jiffy each was
 * last used (ip_idents_reserve's tstamp), and the key of the per-bucket random increments (so one
 * flow's draws never move another's). Draws from `rng` in construction only.
 */
export class IpIdents {
  readonly counters = new Uint16Array(IP_IDENTS_SZ);
  readonly stamps: Float64Array;
  readonly key: number;
  constructor(rng: Rng) {
    for (let i = 0; i < IP_IDENTS_SZ; i++) this.counters[i] = rng.int(65536);
    this.stamps = new Float64Array(IP_IDENTS_SZ);
    this.key = rng.uint32();
  }
}

/**
 * ip_local_out for a locally generated packet (IpStack.ipLocalOut): route, source address, IP ID,
 * OUTPUT (with ip_route_me_harder after DNAT), MTU check, then ipOutput. Returns false when there is
 * no route or the packet is too big (the socket sees an error); true when it was sent or filtered.
 */
export function ipLocalOut(ns: Namespace, pkt: Packet): boolean {
  const ip = pkt.ip!;
  let rt = routeOutput(ns, ip.dst);
  if (rt === null) {
    dropPacket(ns, pkt, 'no-route');
    return false;
  }
  if (ip.src === 0) ip.src = rt.type === 'local' ? ip.dst : rt.prefsrc || ns.selectAddr(rt.dev, rt.gateway || ip.dst);
  selectIdent(ns, pkt);
  ip.totalLength = ipTotalLength(pkt);
  ip.checksum = null;
  if (ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'route', decision: 'output', route: formatRoute(rt) });
  if (ns.nf !== null) {
    const dst = ip.dst;
    const v = ns.nf.hook(NfHook.OUTPUT, pkt, null, rt.dev!.name);
    if (v.kind !== 'accept') {
      verdictDrop(ns, pkt, v);
      return true;
    }
    // ip_route_me_harder: re-route when OUTPUT DNAT (or a mark) changed the destination.
    if (ip.dst !== dst || v.reroute) {
      rt = routeOutput(ns, ip.dst);
      if (rt === null) {
        dropPacket(ns, pkt, 'no-route');
        return false;
      }
    }
  }
  if (ip.totalLength > rt.dev!.mtu) {
    dropPacket(ns, pkt, 'frag-needed');
    return false;
  }
  ipOutput(ns, pkt, rt);
  return true;
}

/** ip_route_output: the route a locally generated packet to `dst` takes (local → lo). */
export function routeOutput(ns: Namespace, dst: Ipv4): Route | null {
  const rt = ns.fibLookup(dst);
  if (rt === null || rt.dev === null) return null;
  if (rt.type !== 'unicast' && rt.type !== 'local' && rt.type !== 'broadcast') return null;
  if (rt.type === 'local') return { ...rt, dev: ns.lo };
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
  const idents = ns.idents;
  const h = (Math.imul(ip.dst ^ Math.imul(ip.src, 0x9e3779b1), 0x85ebca6b) ^ ip.protocol) >>> 21;
  // ip_idents_reserve: when jiffies moved since the bucket's last use, add a random 0..elapsed-1
  // so the IDs leak no exact packet count (HZ = 250, Debian's).
  const jiffy = Math.floor(ns.sim.now / 4e6);
  const old = idents.stamps[h]!;
  let delta = 0;
  if (old !== jiffy) {
    if (jiffy > old) {
      // A hash of (key, bucket, jiffy) stands for get_random_u32_below: deterministic per bucket.
      let x = Math.imul(idents.key ^ Math.imul(h, 0x27d4eb2d), 0x165667b1) ^ jiffy;
      x = Math.imul(x ^ (x >>> 15), 0x85ebca6b);
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
      delta = ((x ^ (x >>> 16)) >>> 0) % (jiffy - old);
    }
    idents.stamps[h] = jiffy;
  }
  const id = (idents.counters[h]! + delta) & 0xffff;
  idents.counters[h] = (id + 1) & 0xffff;
  ip.id = id;
}

/** ip_output: POSTROUTING, then neighbour output. */
export function ipOutput(ns: Namespace, pkt: Packet, rt: Route): void {
  if (ns.nf !== null) {
    const v = ns.nf.hook(NfHook.POSTROUTING, pkt, null, rt.dev!.name);
    if (v.kind !== 'accept') return verdictDrop(ns, pkt, v);
  }
  ipFinishOutput(ns, pkt, rt);
}

/** ip_finish_output2: resolve the next hop and hand to the device (an IFF_NOARP device directly). */
function ipFinishOutput(ns: Namespace, pkt: Packet, rt: Route): void {
  const dev = rt.dev!;
  const nexthop = rt.gateway !== 0 ? rt.gateway : pkt.ip!.dst;
  if (ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'xmit', dev: dev.name, nexthop: formatIpv4(nexthop) });
  if (dev.noArp) {
    pkt.eth = { dst: 0, src: 0, etherType: EtherType.IPv4 };
    dev.xmit(pkt);
    return;
  }
  if (rt.type === 'broadcast' || pkt.ip!.dst === 0xffffffff) {
    neighSend(dev, BROADCAST_MAC, pkt);
    return;
  }
  ns.neigh.output(dev, nexthop, pkt);
}
