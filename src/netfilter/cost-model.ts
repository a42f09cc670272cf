// netfilter/cost-model — the optional rule-traversal cost (issue 13 item 5). Layer: netfilter.
// The kernel evaluates an iptables chain rule by rule (ipt_do_table), so a new connection's first
// packet walks kube-proxy's KUBE-SERVICES chain linearly until its Service's rule: O(services). Packets
// of established connections skip the nat table (nf_nat_inet_fn binds the connection on its first
// packet), so they pay only the short filter/mangle chains. nftables mode looks Services up in verdict
// maps (one rule, O(1)), IPVS mode in a hash plus an ipset match. With the cost model on
// (`spec.cluster.kubeProxy.costModel.perRule`), every node's Netfilter counts the rules it evaluated
// for a packet across its hooks (Netfilter.walked, nftWalked: the index of big chains is skipped over as
// the kernel would have walked it) and the net layer holds the packet back by count × perRule where
// it leaves the namespace's IP path (after POSTROUTING, or after INPUT before local delivery).
// Off (perRuleNs = 0) nothing is deferred and every output is byte-identical.
// Not charged: frames bridged by br_netfilter (same-node pod to pod) and IPVS's own lookup.
// Each held packet is walked as if on a CPU of its own: packets that arrive during another's hold are
// not queued behind its walk (the exits keep their order, above). So two packets of one new flow within
// one hold both pass conntrack `in` before either confirms, the race behind the DNS insert_failed
// clashes (ct-confirm.ts resolves it as Linux >= 5.9: UDP merged or kept by its reply tuple for 1 s,
// TCP dropped). On a kernel the race needs the two packets processed at once on two CPUs; here any
// two packets of a new flow within one hold race, so with the model on it happens more often.
import type { Netfilter } from './netfilter.js';

/** Where a deferred packet may leave: never before a packet this namespace deferred earlier (no reordering). */
const lastExit = new WeakMap<Netfilter, number>();

/**
 * The simulated time at which the packet in progress leaves after its rule walk (now + rules × perRule,
 * not before the previous deferred packet of this namespace), or -1 when it costs nothing. Resets the count.
 */
export function ruleCostExit(nf: Netfilter, now: number): number {
  const rules = nf.walked + nf.nftWalked;
  nf.walked = 0;
  nf.nftWalked = 0;
  if (nf.perRuleNs === 0) return -1;
  let at = now + Math.round(rules * nf.perRuleNs);
  const prev = lastExit.get(nf);
  if (prev !== undefined && prev > at) at = prev;
  if (at === now) return -1;
  lastExit.set(nf, at);
  return at;
}
