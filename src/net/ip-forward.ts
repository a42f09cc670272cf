// net/ip-forward — forwarding a routed packet (net/ipv4/ip_forward.c). Layer: net (imports link,
// netfilter, packet, wire, and net/). Called by ipRcvFinish when the route is unicast and
// net.ipv4.ip_forward is on: TTL check, MTU check, ip_decrease_ttl, FORWARD, then ipOutput.
// ip_exceeds_mtu: only a DF packet above the output device's MTU is refused (ICMP fragmentation
// needed with that MTU, as measured: type 3 code 4, next-hop MTU 1400, from the router's address
// toward the sender); a non-DF one goes on and ipOutput fragments it (net/ip-fragment.ts).
// Not modelled: ICMP redirects (ip_rt_send_redirect), router alert, xfrm policy checks.
import { traceEverSubscribed as traceEverSubscribedImported } from '../core/trace.js';
import type { NetDevice } from '../link/device.js';
import type { Packet } from '../packet/packet.js';
import { IcmpType, IcmpUnreachCode, IP_DF as IP_DF_I } from '../wire/types.js';
import { dropPacket } from './drop.js';
import type { Route } from './fib.js';
import { icmpSend, verdictDrop } from './icmp.js';
import { ipOutput as ipOutputImported } from './ip-output.js';
import { ipvsOut as ipvsOutImported } from './ipvs-in.js';
import type { Namespace } from './namespace.js';
const IP_DF = IP_DF_I; // a module constant: an import is a Cell load and check at each use
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const ipOutput = ipOutputImported;
const ipvsOut = ipvsOutImported;

/** ip_forward: TTL check (too_many_hops) and decrement, MTU check (DF only), FORWARD hook, ip_forward_finish. */
export function ipForward(ns: Namespace, inDev: NetDevice, pkt: Packet, rt: Route): void {
  const ip = pkt.ip!;
  if (ip.ttl <= 1) {
    icmpSend(ns, pkt, IcmpType.TIME_EXCEEDED, 0, 0);
    return dropPacket(ns, pkt, 'ttl-expired');
  }
  const outDev = rt.dev!;
  if (ip.totalLength > outDev.mtu && (ip.flags & IP_DF) !== 0) {
    icmpSend(ns, pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.FRAG_NEEDED, outDev.mtu);
    return dropPacket(ns, pkt, 'frag-needed');
  }
  // ip_decrease_ttl (the checksum is recomputed when the header is serialized).
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'ttl', from: ip.ttl, to: ip.ttl - 1 });
  ip.ttl--;
  ip.checksum = null;
  if (ns.nf !== null) {
    const v = ns.nf.hookFwd(pkt, inDev.ifindex, outDev.ifindex);
    if (v.kind !== 'accept') return verdictDrop(ns, pkt, v);
    if (ns.ipvs !== null) ipvsOut(ns, pkt); // ip_vs_out_hook at FORWARD: an IPVS reply gets the VIP back
  }
  ipOutput(ns, pkt, rt);
}
