// net/br-netfilter — br_netfilter with bridge-nf-call-iptables=1 (net/bridge/br_netfilter_hooks.c):
// the IPv4 hooks a namespace runs for IP frames crossing one of its bridges. The bridge calls it
// through link/bridge.ts's BridgeNetfilter at the port (br_nf_pre_routing) and before forwarding.
// Layer: net (imports link, netfilter, packet, wire, and net/).
//
//   bridged between two ports:  PREROUTING (in = the bridge) → [DNAT changed dst: ipRcvFinish, routed]
//                               → FORWARD (in = out = the bridge) → POSTROUTING → the bridge forwards
//   for the bridge itself:      PREROUTING, pkt.brPrerouted = true → ipRcv skips PREROUTING
//                               (ip_sabotage_in) → [DNAT to a neighbour on the same bridge: bridged DNAT]
//
// Not modelled: bridge-nf-call-arptables, the NFPROTO_BRIDGE (ebtables) hooks, VLAN/PPPoE
// encapsulated IP. Fragments are reassembled before PREROUTING
// (nf_defrag_ipv4, IP_DEFRAG_CONNTRACK_BRIDGE_IN) and a bridged datagram is cut again as it came.
import { traceEverSubscribed as traceEverSubscribedImported } from '../core/trace.js';
import type { BridgeDevice } from '../link/bridge.js';
import type { NetDevice } from '../link/device.js';
import { ruleCostExit } from '../netfilter/cost-model.js';
import { HookCtx } from '../netfilter/x-tables.js';
import type { Netfilter } from '../netfilter/netfilter.js';
import type { Packet } from '../packet/packet.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import type { Route } from './fib.js';
import { verdictDrop } from './icmp.js';
import { DefragUser, ipDefrag, ipIsFragment as ipIsFragmentImported } from './ip-defrag.js';
import { ipDoFragment } from './ip-fragment.js';
import { fibLookupIn as fibLookupInImported, ipRcvFinish as ipRcvFinishImported } from './ip-input.js';
import { confirmHeld } from './ip-output.js';
import { ipv4HeaderLength } from '../wire/ipv4.js';
import { ipvsOut } from './ipvs-in.js';
import type { Namespace } from './namespace.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const ipIsFragment = ipIsFragmentImported;
const fibLookupIn = fibLookupInImported;
const ipRcvFinish = ipRcvFinishImported;

/**
 * br_nf_pre_routing and br_nf_forward_ip / br_nf_post_routing for one IP frame entering `br` on
 * `inPort`: with an `outPort` the frame is being bridged between two ports; with `outPort` null it is
 * for the bridge itself and about to go up. When PREROUTING DNAT changed the destination, the packet
 * leaves the bridge path and is routed by this namespace (br_nf_pre_routing_finish). Returns false
 * when the bridge must not go on with the frame.
 */
export function brNetfilter(ns: Namespace, br: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null, pkt: Packet): boolean {
  const nf = ns.nf;
  if (nf === null) return true;
  // skb->nf_bridge for -m physdev, while this frame's hooks run here (never across an event).
  HookCtx.physIn = inPort.ifindex;
  const ok = brNfHooks(ns, nf, br, inPort, outPort, pkt);
  HookCtx.physIn = 0;
  HookCtx.physOut = 0;
  return ok;
}

/** The bridged-DNAT frame whose out port -m physdev may ask for (physOutToward). */
let dnatNs: Namespace | null = null;
let dnatBr: BridgeDevice | null = null;
let dnatNexthop = 0;
HookCtx.physOutLazy = () => {
  const n = dnatNs!.neigh.get(dnatBr!, dnatNexthop);
  const e = n !== undefined && dnatNs!.neigh.connected(n) ? dnatBr!.lookup(n.mac) : null;
  return e === null || e.local ? 0 : e.port.ifindex;
};

/** brNetfilter's hooks, with the frame's bridge ports set on `nf`. */
function brNfHooks(ns: Namespace, nf: Netfilter, br: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null, pkt: Packet): boolean {
  const ip = pkt.ip!;
  const dst = ip.dst;
  // The process-wide flag first (as ip-input does): an untraced run then never reads the namespace's
  // trace source, an object of its own and cold on a node of a thousand.
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'rx', dev: `${br.name} (bridge port ${inPort.name}, br_netfilter)` });
  if (ipIsFragment(pkt) && !ipDefrag(ns, pkt, DefragUser.CONNTRACK_BRIDGE_IN)) return false;
  const v = nf.hookPre(pkt, br.ifindex);
  if (v.kind !== 'accept') {
    verdictDrop(ns, pkt, v);
    return false;
  }
  if (outPort === null) {
    // A frame for the bridge itself: PREROUTING here, the rest in ip_rcv.
    if (ip.dst !== dst && bridgedDnat(ns, nf, br, inPort, pkt)) return false;
    pkt.brPrerouted = true;
    return true;
  }
  if (ip.dst !== dst) {
    HookCtx.physIn = 0; // routed from here on (what it causes at once is no bridged frame)
    ipRcvFinish(ns, br, pkt);
    return false;
  }
  HookCtx.physOut = outPort.ifindex;
  if (!brNfForward(ns, nf, br, pkt)) return false;
  HookCtx.physIn = HookCtx.physOut = 0; // (its fragments below leave as new frames)
  if (nf.perRuleNs !== 0 && !confirmHeld(ns, pkt)) return false; // not held (not charged), confirmed at once
  if (pkt.fragList === null) return true;
  // br_nf_dev_queue_xmit: a datagram nf_defrag reassembled leaves cut as it came (frag_max_size).
  for (const f of ipDoFragment(pkt, Math.min(outPort.mtu, Math.max(...pkt.fragList) + ipv4HeaderLength(pkt.ip!)))) {
    f.eth = { ...pkt.eth! };
    outPort.xmit(f);
  }
  return false;
}

/** br_nf_forward_ip then br_nf_post_routing: FORWARD and POSTROUTING with in = out = the bridge. */
function brNfForward(ns: Namespace, nf: Netfilter, br: BridgeDevice, pkt: Packet): boolean {
  let v = nf.hookFwd(pkt, br.ifindex, br.ifindex);
  if (v.kind === 'accept' && ns.ipvs !== null) ipvsOut(ns, pkt); // ip_vs_out_hook at FORWARD
  if (v.kind === 'accept') v = nf.hookPost(pkt, br.ifindex);
  if (v.kind !== 'accept') {
    verdictDrop(ns, pkt, v);
    return false;
  }
  return true;
}

/**
 * br_nf_pre_routing_finish: DNAT to a neighbour reached through this same bridge is "bridged DNAT":
 * the frame gets the neighbour's MAC and is bridged to it (FORWARD and POSTROUTING with in = out = the
 * bridge), not routed, so its TTL is not decremented. Returns false when the new destination is not
 * such a neighbour (the frame goes up and is routed).
 */
function bridgedDnat(ns: Namespace, nf: Netfilter, br: BridgeDevice, inPort: NetDevice, pkt: Packet): boolean {
  const ip = pkt.ip!;
  // (the frame goes up on `br` next when this is not bridged DNAT: ipRcvFinish's lookup for it, made here)
  const rt = fibLookupIn(ns, br, ip.dst);
  if (rt === null || rt.dev !== br || rt.type !== 'unicast') return false;
  // br_nf_forward_ip's physoutdev: the port toward the new destination's neighbour, looked up if a rule asks.
  dnatNs = ns;
  dnatBr = br;
  dnatNexthop = rt.gateway !== 0 ? rt.gateway : ip.dst;
  HookCtx.physOut = -1;
  const fwd = brNfForward(ns, nf, br, pkt);
  HookCtx.physIn = HookCtx.physOut = 0;
  dnatNs = dnatBr = null;
  if (!fwd) return true;
  if (nf.perRuleNs !== 0) {
    // netfilter/cost-model.ts: held for its rule walk, confirmed as it leaves
    const at = ruleCostExit(nf, ns.sim.now);
    if (at >= 0) {
      deferBridgedDnatOut(ns, br, inPort, pkt, rt, at);
      return true;
    }
    if (!confirmHeld(ns, pkt)) return true;
  }
  bridgedDnatOut(ns, br, inPort, pkt, rt);
  return true;
}

/** The cost model's delay (a closure in bridgedDnat would allocate its context on every call). */
function deferBridgedDnatOut(ns: Namespace, br: BridgeDevice, inPort: NetDevice, pkt: Packet, rt: Route, at: number): void {
  ns.sim.scheduleAt(at, () => {
    if (confirmHeld(ns, pkt)) bridgedDnatOut(ns, br, inPort, pkt, rt);
  });
}

function bridgedDnatOut(ns: Namespace, br: BridgeDevice, inPort: NetDevice, pkt: Packet, rt: Route): void {
  const ip = pkt.ip!;
  const nh = rt.gateway !== 0 ? rt.gateway : ip.dst;
  const n = ns.neigh.get(br, nh);
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'xmit', dev: `${br.name} (bridged DNAT)`, nexthop: formatIpv4(nh) });
  if (n !== undefined && ns.neigh.connected(n)) {
    pkt.eth!.dst = n.mac;
    br.rebridge(inPort, pkt);
  } else {
    // Not NUD_CONNECTED: neigh->output resolves (or re-confirms) the neighbour and sends the frame out
    // of the bridge, where br_dev_xmit sees nf_bridge->bridged_dnat, puts the saved source MAC back
    // and bridges it from its ingress port (br_nf_pre_routing_finish_bridge_slow).
    br.holdBridgedDnat(pkt, inPort);
    ns.neigh.output(br, nh, pkt);
  }
}
