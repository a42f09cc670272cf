// net/ip-defrag — reassembling IPv4 fragments (net/ipv4/ip_fragment.c ip_defrag, ip_frag_queue,
// ip_frag_reasm, ip_expire; net/ipv4/inet_fragment.c inet_frag_find, inet_frag_queue_insert).
// Layer: net (imports core, packet, wire, and net/).
//
// Two users, as in Linux: IP_DEFRAG_LOCAL_DELIVER (ip_local_deliver, before LOCAL_IN) and
// IP_DEFRAG_CONNTRACK_IN / _BRIDGE_IN (nf_defrag_ipv4 at PREROUTING priority −400, before conntrack:
// a namespace with netfilter reassembles what it forwards, and ip_do_fragment cuts it again on output).
// Queues are keyed by (src, dst, id, protocol, user). A queue lives ipfrag_time = 30 s from its first
// fragment (the timer is not restarted); on expiry its fragments are dropped as 'frag-timeout' and, when
// the first fragment had arrived and the datagram was for this host, ICMP time exceeded code 1
// (fragment reassembly time exceeded) goes back. A fragment overlapping a queued one kills the queue
// ('frag-overlap', RFC 5722 as Linux applies it to IPv4); an exact duplicate is dropped alone.
// Reassembly morphs the arriving skb into the whole datagram (skb_morph in inet_frag_reasm_prepare):
// the caller's packet object becomes the datagram, with the first fragment's IP header (MF and offset
// cleared) and the fragments' sizes in `fragList` (the frag_list ip_do_fragment may reuse).
// Not modelled: ipfrag_high_thresh / low_thresh memory limits, ipfrag_max_dist, ECN combination of the
// fragments' TOS, fragments whose data does not come from a podwire fragment (`fragOf` unset).
import { NO_ENTRIES } from './no-entries.js';
import type { SimEvent } from '../core/scheduler.js';
import type { Packet } from '../packet/packet.js';
import { ipv4HeaderLength } from '../wire/ipv4.js';
import { IcmpType, IP_MF } from '../wire/types.js';
import { dropPacket } from './drop.js';
import { icmpSend } from './icmp.js';
import type { Namespace } from './namespace.js';

/** net.ipv4.ipfrag_time: 30 s. */
export const IPFRAG_TIME_NS = 30e9;

/** enum ip_defrag_users (include/net/ip.h): who reassembles, part of the queue key. */
export const DefragUser = { LOCAL_DELIVER: 0, CONNTRACK_IN: 1, CONNTRACK_BRIDGE_IN: 2 } as const;
export type DefragUser = (typeof DefragUser)[keyof typeof DefragUser];

/** ICMP time exceeded code 1: fragment reassembly time exceeded. */
const ICMP_EXC_FRAGTIME = 1;

/** One reassembly queue (struct ipq). */
export interface FragQueue {
  readonly key: string;
  readonly user: DefragUser;
  /** Queued fragments in offset order. */
  readonly frags: Packet[];
  /** Total IP payload length once the last fragment (MF clear) arrived, else 0. */
  len: number;
  /** Payload bytes received. */
  meat: number;
  timer: SimEvent | null;
}

/** True when `pkt` is a fragment (ip_is_fragment: MF set or a non-zero offset). */
export function ipIsFragment(pkt: Packet): boolean {
  const ip = pkt.ip!;
  return ((ip.flags & IP_MF) | ip.fragOffset) !== 0;
}

/**
 * ip_defrag: queues the fragment `pkt`. Returns true when it completed its datagram — `pkt` is then the
 * reassembled datagram and the caller goes on with it — and false when the fragment was queued or dropped.
 */
export function ipDefrag(ns: Namespace, pkt: Packet, user: DefragUser): boolean {
  const ip = pkt.ip!;
  const key = `${ip.src}/${ip.dst}/${ip.id}/${ip.protocol}/${user}`;
  let q = ns.ipq.get(key);
  if (q === undefined) {
    q = { key, user, frags: [], len: 0, meat: 0, timer: null };
    if (ns.ipq === NO_ENTRIES) ns.ipq = new Map();
    ns.ipq.set(key, q);
    q.timer = ns.sim.schedule(IPFRAG_TIME_NS, ipExpire, ns, q);
  }
  const start = ip.fragOffset * 8;
  const end = start + pkt.payloadLength;
  const last = (ip.flags & IP_MF) === 0;
  if (end > 65535 - ipv4HeaderLength(ip) || (last && q.len !== 0 && end !== q.len) || (q.len !== 0 && end > q.len)) {
    dropPacket(ns, pkt, 'bad-header');
    return false;
  }
  // inet_frag_queue_insert: find the place; a duplicate is dropped, an overlap kills the queue.
  const frags = q.frags;
  let i = frags.length;
  while (i > 0 && frags[i - 1]!.ip!.fragOffset * 8 >= end) i--;
  if (i > 0) {
    const prev = frags[i - 1]!;
    const ps = prev.ip!.fragOffset * 8;
    const pe = ps + prev.payloadLength;
    if (ps === start && pe === end) {
      dropPacket(ns, pkt, 'frag-overlap');
      return false;
    }
    if (pe > start) {
      ipqKill(ns, q, 'frag-overlap');
      dropPacket(ns, pkt, 'frag-overlap');
      return false;
    }
  }
  frags.splice(i, 0, pkt);
  q.meat += pkt.payloadLength;
  if (last) q.len = end;
  if (q.len === 0 || q.meat !== q.len) return false;
  ipFragReasm(ns, q, pkt);
  return true;
}

/** ip_frag_reasm: every byte is here; `into` (the fragment that completed it) becomes the datagram. */
function ipFragReasm(ns: Namespace, q: FragQueue, into: Packet): void {
  ipqUnlink(ns, q);
  const first = q.frags[0]!;
  const whole = first.fragOf;
  const sizes = q.frags.map((f) => f.payloadLength);
  const hdr = { ...first.ip!, flags: first.ip!.flags & ~IP_MF, fragOffset: 0, checksum: null };
  hdr.totalLength = ipv4HeaderLength(hdr) + q.len;
  if (whole !== null) {
    const w = whole.clone();
    into.udp = w.udp;
    into.tcp = w.tcp;
    into.icmp = w.icmp;
    into.vxlan = w.vxlan;
    into.inner = w.inner;
    into.payloadLength = w.payloadLength;
    into.payload = w.payload;
    into.flowId = w.flowId;
  } else {
    into.payloadLength = q.len;
    into.payload = null;
  }
  into.ip = hdr;
  into.fragOf = null;
  into.fragList = sizes;
  into.eth = first.eth;
  into.mark = first.mark;
}

/** ip_expire: the queue's 30 s are up; ICMP fragment-reassembly-time-exceeded when due, then every fragment dropped. */
function ipExpire(ns: Namespace, q: FragQueue): void {
  q.timer = null;
  const first = q.frags[0];
  // Only an end host sends the ICMP (RFC 792), and only when it holds the first fragment.
  if (first !== undefined && first.ip!.fragOffset === 0 && (q.user === DefragUser.LOCAL_DELIVER || ns.isLocal(first.ip!.dst))) {
    icmpSend(ns, first, IcmpType.TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
  }
  ipqKill(ns, q, 'frag-timeout');
}

/** inet_frag_kill + purge: the queue goes, its fragments are dropped with `reason`. */
function ipqKill(ns: Namespace, q: FragQueue, reason: 'frag-timeout' | 'frag-overlap'): void {
  ipqUnlink(ns, q);
  for (const f of q.frags) dropPacket(ns, f, reason);
  q.frags.length = 0;
}

function ipqUnlink(ns: Namespace, q: FragQueue): void {
  if (q.timer !== null) q.timer.cancel();
  q.timer = null;
  ns.ipq.delete(q.key);
}
