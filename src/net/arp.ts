// net/arp — ARP of one namespace (net/ipv4/arp.c, ns-3 ArpL3Protocol): receiving requests and
// replies, sending requests for the neighbour table, and the neigh_ops the table calls back
// (NeighOwner: solicit, resolved output, failure). The entries, states and timers are
// net/neighbour.ts. Layer: net (imports core, wire, packet, link, and net/).
// Not modelled: arp_announce other than 0, arp_filter, proxy ARP, gratuitous ARP on address add,
// ARP for addresses of other interfaces beyond arp_ignore 0/1.
import { NetDevice } from '../link/device.js';
import { Packet, takeEthernet as takeEthernetImported } from '../packet/packet.js';
import { arpReply, arpRequest } from '../wire/arp.js';
import { macFromParts as macFromPartsImported, macHigh16 as macHigh16Imported, macLow32 as macLow32Imported } from '../wire/mac.js';
import { ArpOp, BROADCAST_MAC, EtherType, IcmpType, IcmpUnreachCode, type Ipv4, type Mac } from '../wire/types.js';
import { dropPacket } from './drop.js';
import { icmpSend } from './icmp.js';
import { routeEpoch as routeEpochImported } from './fib.js';
import { routeOutput as routeOutputImported } from './ip-output.js';
import { confirmEntryNow as confirmEntryNowImported, HI as HI_IMPORTED, settleConfirm as settleConfirmImported } from './neighbour.js';
import type { Namespace } from './namespace.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const takeEthernet = takeEthernetImported;
const macFromParts = macFromPartsImported;
const macHigh16 = macHigh16Imported;
const macLow32 = macLow32Imported;
const routeEpoch = routeEpochImported;
const routeOutput = routeOutputImported;
const confirmEntryNow = confirmEntryNowImported;
const settleConfirm = settleConfirmImported;
const HI = HI_IMPORTED;
/** 2^52: a clock below it, a whole number, is held as hi * 2^30 + lo (hi below 2^22, a small integer). */
const MAX_HELD = 4503599627370496;
const ETH_P_IP = EtherType.IPv4;

/**
 * arp_process: answer requests for our addresses (arp_ignore 0: any local address; 1: only one on
 * the receiving interface) and for announced addresses, learn from requests and replies.
 */
export function arpRcv(ns: Namespace, dev: NetDevice, pkt: Packet): void {
  const arp = pkt.arp!;
  if (arp.op === ArpOp.REQUEST) {
    const ours = ns.isLocal(arp.tpa) && (ns.arpIgnore === 0 || hasAddressOn(ns, arp.tpa, dev));
    if (ours || (ns.arpAnnounce.size !== 0 && ns.arpAnnounce.has(arp.tpa))) {
      ns.neigh.update(dev, arp.spa, arp.sha, 'request-for-us');
      const reply = new Packet();
      reply.eth = { dst: arp.sha, src: dev.mac, etherType: EtherType.ARP };
      reply.arp = arpReply(dev.mac, arp.tpa, arp.sha, arp.spa);
      dev.xmit(reply);
    } else {
      ns.neigh.update(dev, arp.spa, arp.sha, 'other');
    }
    return;
  }
  if (arp.op === ArpOp.REPLY) ns.neigh.update(dev, arp.spa, arp.sha, 'reply');
}

/**
 * arp_ignore 1: `addr` is configured on `dev` itself. A loop, not addrs.some with a closure: that
 * would capture arpRcv's `arp` and `dev`, and V8 allocates their context on every arpRcv call.
 */
function hasAddressOn(ns: Namespace, addr: Ipv4, dev: NetDevice): boolean {
  const addrs = ns.addrs;
  for (let i = 0; i < addrs.length; i++) if (addrs[i]!.addr === addr && addrs[i]!.dev === dev) return true;
  return false;
}

/**
 * arp_solicit with arp_announce=0: a request for `ip` from the trigger's source if it is ours, else
 * from inet_select_addr; broadcast, or unicast to `unicastTo` when re-confirming (PROBE).
 */
export function arpSolicit(ns: Namespace, dev: NetDevice, ip: Ipv4, unicastTo: Mac | null, trigger: Packet | null): void {
  const tsrc = trigger?.ip?.src ?? 0;
  const spa = tsrc !== 0 && ns.isLocal(tsrc) ? tsrc : ns.selectAddr(dev, ip);
  const req = new Packet();
  req.eth = { dst: unicastTo ?? BROADCAST_MAC, src: dev.mac, etherType: EtherType.ARP };
  req.arp = arpRequest(dev.mac, spa, ip);
  dev.xmit(req);
}

/** neigh_resolve_output's send half (dev_hard_header + dev_queue_xmit): fills the Ethernet header and transmits. */
export function neighSend(dev: NetDevice, mac: Mac, pkt: Packet): void {
  sendTo(dev, macHigh16(mac), macLow32(mac) | 0, pkt);
}

/**
 * neighSend to the MAC of the device's last neighbour entry, from the device's copy of it (NetDevice.neighMacHi/
 * neighMacLo, which readyNeighbour answered from or wrote): no line of the entry read.
 */
export function neighSendLast(dev: NetDevice, pkt: Packet): void {
  sendTo(dev, dev.neighMacHi, dev.neighMacLo, pkt);
}

/**
 * The send of both: the destination MAC comes as its halves (as wire/mac's macFromParts takes them), the
 * source from the device's (NetDevice.macHi): a MAC handed to a call V8 does not inline is a new heap number.
 */
function sendTo(dev: NetDevice, dstHi: number, dstLo: number, pkt: Packet): void {
  const eth = pkt.eth ?? takeEthernet();
  if (eth === null) return sendNew(dev, dstHi, dstLo, pkt);
  // The frame's own record (rewritten at each hop), or a spare one of a packet given back (packet.ts),
  // stored only when new: a store into a recycled (old) packet is a write barrier, which reads the
  // page headers of both objects.
  if (pkt.eth !== eth) pkt.eth = eth;
  eth.dst = macFromParts(dstHi, dstLo);
  eth.src = macFromParts(dev.macHi, dev.macLo);
  eth.etherType = ETH_P_IP;
  dev.xmit(pkt);
}

/**
 * sendTo for a packet with no Ethernet record and no spare one: a new record. Apart so that sendTo's bytecode (with what
 * its optimized code inlines) fits the inlining budget ipFinishOutput has left after readyNeighbour (v8-tuning.ts: 460).
 */
function sendNew(dev: NetDevice, dstHi: number, dstLo: number, pkt: Packet): void {
  pkt.eth = { dst: macFromParts(dstHi, dstLo), src: macFromParts(dev.macHi, dev.macLo), etherType: ETH_P_IP };
  dev.xmit(pkt);
}

/**
 * sock_confirm_neigh → neigh_confirm for the next hop toward `dst` (TCP's dst_confirm on forward
 * progress): the entry's confirmation time moves to now, so a REACHABLE entry stays so and a DELAY
 * one returns to REACHABLE instead of probing.
 */
export function confirmNeighbour(ns: Namespace, dst: Ipv4): void {
  // The last confirmation's entry again when it was for the same destination, no route or device
  // state changed since (then the route, and so the next hop, is the same) and the entry is still the
  // table's (the table clears confirmLast when it leaves): TCP confirms once per ACK, mostly toward one
  // destination, and needs no route lookup then. The confirmation is held in the namespace
  // (Namespace.confirmPendHi/Lo) and applied when the table next reads or changes an entry
  // (net/neighbour.ts settleConfirm): no line of the entry read here.
  const epoch = routeEpoch() + NetDevice.upEpoch;
  const key = dst | 0;
  const last = ns.confirmLast;
  if (last !== null && ns.confirmDst === key && ns.confirmEpoch === epoch) {
    const now = ns.sim.now;
    if (now >= 0 && now < MAX_HELD && Math.floor(now) === now) {
      const hi = Math.floor(now / HI) | 0;
      ns.confirmPendHi = hi;
      ns.confirmPendLo = (now - hi * HI) | 0;
      return;
    }
    settleConfirm(ns);
    confirmEntryNow(last, ns.sim);
    return;
  }
  const rt = routeOutput(ns, dst);
  if (rt === null || rt.dev === null || rt.type !== 'unicast') return;
  const e = ns.neigh.confirm(rt.dev, rt.gateway !== 0 ? rt.gateway : dst);
  if (e === undefined) return;
  if (ns.confirmLast !== e) ns.confirmLast = e; // (on change only: a write barrier otherwise)
  ns.confirmDst = key;
  ns.confirmEpoch = epoch;
}

/** arp_error_report → ipv4_link_failure → icmp_send(HOST_UNREACH), also for locally sent packets. */
export function neighFailed(ns: Namespace, pkt: Packet): void {
  icmpSend(ns, pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.HOST, 0);
  dropPacket(ns, pkt, 'neigh-failed');
}
