// net/ip-input — the receive path of a namespace (net/core/dev.c __netif_receive_skb, net/ipv4/
// ip_input.c). Layer: net (imports core, wire, packet, link, netfilter, and net/).
//
//   netifReceive → arpRcv (net/arp.ts) | ipRcv → nf(PREROUTING) → ipRcvFinish (route input)
//     → ipLocalDeliver → [ipvsIn (net/ipvs-in.ts)] → nf(INPUT) → icmpRcv | UDP encap | L4 receiver
//       (none registered: TCP RST / ICMP port unreachable, as Linux's always-present TCP and UDP)
//     → ipForward (net/ip-forward.ts)
//
// A frame that came up through a bridge with br_netfilter had PREROUTING at the bridge port
// (net/br-netfilter.ts, pkt.brPrerouted): ipRcv goes straight to ipRcvFinish (ip_sabotage_in).
// Fragments are reassembled (net/ip-defrag.ts) before PREROUTING when the namespace has netfilter
// (nf_defrag_ipv4) and in ipLocalDeliver (ip_defrag IP_DEFRAG_LOCAL_DELIVER).
// Not modelled: rp_filter, martian source checks, IP options, multicast routing.
import { traceEverSubscribed as traceEverSubscribedImported } from '../core/trace.js';
import { NetDevice } from '../link/device.js';
import { ruleCostExit } from '../netfilter/cost-model.js';
import { releaseSegment as releaseSegmentImported, type Packet } from '../packet/packet.js';
import { ipv4HeaderLength as ipv4HeaderLengthImported } from '../wire/ipv4.js';
import { isMulticastMac as isMulticastMacImported, macFromParts as macFromPartsImported } from '../wire/mac.js';
import { EtherType, IcmpType, IcmpUnreachCode, IpProto, type Ipv4 } from '../wire/types.js';
import { arpRcv as arpRcvImported } from './arp.js';
import { dropPacket } from './drop.js';
import { formatRoute, routeEpoch as routeEpochImported, type Route } from './fib.js';
import { icmpRcv, icmpSend, tcpV4SendReset, verdictDrop } from './icmp.js';
import { DefragUser, ipDefrag as ipDefragImported, ipIsFragment as ipIsFragmentImported } from './ip-defrag.js';
import { ipForward as ipForwardImported } from './ip-forward.js';
import { confirmHeld } from './ip-output.js';
import { ipvsIn as ipvsInImported, ipvsOut as ipvsOutImported } from './ipvs-in.js';
import type { Namespace } from './namespace.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const releaseSegment = releaseSegmentImported;
const ipv4HeaderLength = ipv4HeaderLengthImported;
const isMulticastMac = isMulticastMacImported;
const macFromParts = macFromPartsImported;
const arpRcv = arpRcvImported;
const routeEpoch = routeEpochImported;
const ipDefrag = ipDefragImported;
const ipIsFragment = ipIsFragmentImported;
const ipForward = ipForwardImported;
const ipvsIn = ipvsInImported;
const ipvsOut = ipvsOutImported;
// This module's own exported functions, called here (an export is a module cell too), and EtherType.IPv4.
const ipRcvFinishHere = ipRcvFinish;
const fibLookupInHere = fibLookupIn;
const ETH_P_IP = EtherType.IPv4;
const [ETH_P_ARP, P_ICMP, P_UDP, P_TCP] = [EtherType.ARP, IpProto.ICMP, IpProto.UDP, IpProto.TCP] as const;

/** __netif_receive_skb: dispatch by EtherType (the namespace's rx handler for every device in it). */
export function netifReceive(ns: Namespace, dev: NetDevice, pkt: Packet): void {
  const eth = pkt.eth;
  if (eth === null) return dropPacket(ns, pkt, 'bad-header');
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'rx', dev: dev.name });
  // eth_type_trans: a unicast frame for another MAC is PACKET_OTHERHOST; arp_rcv and ip_rcv drop it.
  const otherhost = eth.dst !== macFromParts(dev.macHi, dev.macLo) && !isMulticastMac(eth.dst) && dev !== ns.lo;
  if (eth.etherType === ETH_P_ARP && pkt.arp !== null) {
    if (otherhost) return dropPacket(ns, pkt, 'otherhost');
    return arpRcv(ns, dev, pkt);
  }
  if (eth.etherType === ETH_P_IP && pkt.ip !== null) {
    if (otherhost) return dropPacket(ns, pkt, 'otherhost');
    return ipRcv(ns, dev, pkt);
  }
  dropPacket(ns, pkt, 'no-protocol');
}

/** ip_rcv: header sanity, then PREROUTING (unless br_netfilter ran it at the bridge port). */
function ipRcv(ns: Namespace, dev: NetDevice, pkt: Packet): void {
  const ip = pkt.ip!;
  // ip_rcv_core: ip_fast_csum over the header (IPSTATS_MIB_CSUMERRORS, INHDRERRORS).
  if (pkt.corruptBit >= 0 && pkt.corruptBit >> 3 < ipv4HeaderLength(ip)) return dropPacket(ns, pkt, 'ip-csum');
  if (ip.ttl === 0 && !ns.isLocal(ip.dst)) return dropPacket(ns, pkt, 'bad-header');
  if (pkt.brPrerouted) {
    pkt.brPrerouted = false; // br_netfilter ran PREROUTING at the bridge port already
    return ipRcvFinishHere(ns, dev, pkt);
  }
  if (ns.nf !== null) {
    // nf_defrag_ipv4 (PREROUTING, priority −400): conntrack sees whole datagrams.
    if (ipIsFragment(pkt) && !ipDefrag(ns, pkt, DefragUser.CONNTRACK_IN)) return;
    const v = ns.nf.hookPre(pkt, dev.ifindex);
    if (v.kind !== 'accept') return verdictDrop(ns, pkt, v);
  }
  ipRcvFinishHere(ns, dev, pkt);
}

/**
 * ns.fibLookup for a packet received on `dev` (ip_route_input), answered from the device's last lookup
 * when it was for the same destination in this namespace and no table or device state changed since
 * (the epoch the namespace's route cache is emptied by): a node's packets of one connection arrive on
 * one device toward one destination, and the device is in cache when the route cache is not.
 * br_netfilter's lookup after a DNAT at a bridge port goes through here too (net/br-netfilter.ts), so
 * ip_rcv_finish then finds its answer on the bridge, as Linux finds the route kept on the skb.
 */
export function fibLookupIn(ns: Namespace, dev: NetDevice, dst: Ipv4): Route | null {
  const epoch = routeEpoch() + NetDevice.upEpoch;
  const key = dst | 0;
  if (dev.fibDst === key && dev.fibEpoch === epoch && dev.fibNs === ns) return dev.fibRoute as Route | null;
  const rt = ns.fibLookup(dst);
  // Pointers stored on change only (a store into an old object is a write barrier, which reads the
  // page headers of both objects): a device's lookups mostly miss on the destination, not the route.
  if (dev.fibNs !== ns) dev.fibNs = ns;
  dev.fibDst = key;
  dev.fibEpoch = epoch;
  if (dev.fibRoute !== rt) dev.fibRoute = rt;
  dev.fibLocal = rt !== null && (rt.type === 'local' || rt.type === 'broadcast');
  return rt;
}

/** ip_rcv_finish: route input (after any DNAT in PREROUTING); ip_error for unroutable destinations. */
export function ipRcvFinish(ns: Namespace, dev: NetDevice, pkt: Packet): void {
  const ip = pkt.ip!;
  const rt = fibLookupInHere(ns, dev, ip.dst);
  // (the device's flag, not rt.type: a pod's local route is one more cold object, the device is in hand)
  if (dev.fibLocal) {
    if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'route', decision: 'local', route: formatRoute(rt!) });
    return ipLocalDeliver(ns, dev, pkt);
  }
  if (!ns.ipForwardEnabled) return dropPacket(ns, pkt, 'forwarding-disabled');
  if (rt === null || rt.type !== 'unicast') {
    // ip_error: blackhole discards silently; unreachable → host unreachable; prohibit → admin
    // prohibited; no route at all → net unreachable.
    const type = rt?.type ?? null;
    if (type === 'blackhole') return dropPacket(ns, pkt, 'no-route');
    const code = type === 'unreachable' ? IcmpUnreachCode.HOST : type === 'prohibit' ? IcmpUnreachCode.ADMIN_PROHIBITED : IcmpUnreachCode.NET;
    icmpSend(ns, pkt, IcmpType.DEST_UNREACH, code, 0);
    return dropPacket(ns, pkt, 'no-route');
  }
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'route', decision: 'forward', route: formatRoute(rt) });
  ipForward(ns, dev, pkt, rt);
}

/**
 * ip_local_deliver: IPVS first (ip_vs_out, ip_vs_in at LOCAL_IN), INPUT, then ip_local_deliver_finish: ICMP to
 * icmpRcv, a UDP tunnel's datagram to its encap_rcv, others to the registered protocol.
 */
function ipLocalDeliver(ns: Namespace, dev: NetDevice, pkt: Packet): void {
  if (ipIsFragment(pkt) && !ipDefrag(ns, pkt, DefragUser.LOCAL_DELIVER)) return;
  if (ns.ipvs !== null) {
    ipvsOut(ns, pkt); // ip_vs_out_hook at LOCAL_IN: a reply to a local client
    if (ipvsIn(ns, pkt)) return;
  }
  if (ns.nf !== null) {
    const v = ns.nf.hookIn(pkt, dev.ifindex);
    if (v.kind !== 'accept') return verdictDrop(ns, pkt, v);
    if (ns.nf.perRuleNs !== 0) {
      // netfilter/cost-model.ts: held for its rule walk, confirmed as it goes on
      const at = ruleCostExit(ns.nf, ns.sim.now);
      if (at >= 0) return deferLocalDeliverFinish(ns, pkt, at);
      if (!confirmHeld(ns, pkt)) return;
    }
  }
  ipLocalDeliverFinish(ns, pkt);
}

/** The cost model's delay before ip_local_deliver_finish (a closure in ipLocalDeliver would allocate its context per call). */
function deferLocalDeliverFinish(ns: Namespace, pkt: Packet, at: number): void {
  ns.sim.scheduleAt(at, () => {
    if (confirmHeld(ns, pkt)) ipLocalDeliverFinish(ns, pkt);
  });
}

/** ip_local_deliver_finish. */
function ipLocalDeliverFinish(ns: Namespace, pkt: Packet): void {
  const proto = pkt.ip!.protocol;
  if (traceEverSubscribed() && ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'deliver', protocol: proto });
  if (pkt.corruptBit >= 0 && !l4ChecksumOk(ns, pkt, proto)) return;
  if (proto === P_ICMP) return icmpRcv(ns, pkt);
  if (proto === P_UDP && pkt.vxlan !== null) {
    const port = pkt.udp!.dstPort;
    if (port === ns.encapPort) return ns.encapTarget!.encapReceive(pkt);
    const encapRcv = ns.udpEncap.size > 0 ? ns.udpEncap.get(port) : undefined;
    if (encapRcv !== undefined) return encapRcv(pkt);
  }
  const rx = proto === P_TCP ? ns.tcpRx : ns.protocols[proto];
  if (rx === undefined) return noReceiver(ns, pkt, proto);
  rx.receive(pkt);
  // The segment ended at its socket's layer and every reader of it returned: give it back for the
  // next segment (packet/packet.ts, the ownership rule).
  if (proto === P_TCP && ns.recyclesPackets()) releaseSegment(pkt);
}

/**
 * The L4 checksum of a corrupted datagram at its destination: icmp_rcv, __udp4_lib_rcv (unless the
 * sender sent checksum 0, "none"), tcp_v4_rcv verify it before any socket lookup; a failure is
 * dropped and counted (the protocol's InCsumErrors and InErrors). A bit in the IP header was caught by ipRcv.
 */
function l4ChecksumOk(ns: Namespace, pkt: Packet, proto: number): boolean {
  if (pkt.corruptBit >> 3 < ipv4HeaderLength(pkt.ip!)) return true;
  if (proto === IpProto.UDP && pkt.udp !== null && pkt.udp.checksum === 0) return true;
  const reason = proto === IpProto.TCP ? 'tcp-csum' : proto === IpProto.UDP ? 'udp-csum' : proto === IpProto.ICMP ? 'icmp-csum' : null;
  if (reason === null) return true;
  ns.protocols[proto]?.csumError?.(pkt);
  dropPacket(ns, pkt, reason);
  return false;
}

/**
 * A protocol with no receiver registered. Linux always has TCP and UDP (inet_init registers them in
 * every namespace), so a namespace where no socket was ever opened answers as tcp_v4_rcv and
 * __udp4_lib_rcv do for a segment with no socket: TCP gets tcp_v4_send_reset's RST, UDP an ICMP port
 * unreachable. Any other protocol gets ICMP protocol unreachable (ip_local_deliver_finish).
 */
function noReceiver(ns: Namespace, pkt: Packet, proto: number): void {
  if (proto === IpProto.TCP && pkt.tcp !== null) {
    tcpV4SendReset(ns, pkt);
    return dropPacket(ns, pkt, 'no-socket');
  }
  if (proto === IpProto.UDP && pkt.udp !== null) {
    icmpSend(ns, pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.PORT, 0);
    return dropPacket(ns, pkt, 'no-socket');
  }
  icmpSend(ns, pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.PROTOCOL, 0);
  dropPacket(ns, pkt, 'no-protocol');
}
