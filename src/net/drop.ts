// net/drop — typed drop reasons of the IP layer and the one place a packet is dropped (Linux enum
// skb_drop_reason in include/net/dropreason-core.h, kfree_skb_reason). Layer: net (imports packet,
// and net/namespace for its counters and trace sources).
import type { Packet } from '../packet/packet.js';
import type { Namespace } from './namespace.js';

/** Every reason the per-namespace kernel drops a packet. Closed union: counters and reports use it. */
export const NET_DROP_REASONS = [
  'no-route',
  'ttl-expired',
  'forwarding-disabled',
  'otherhost',
  'neigh-failed',
  'neigh-queue-full',
  'frag-needed',
  'frag-timeout',
  'frag-overlap',
  'netfilter-drop',
  'netfilter-reject',
  'no-protocol',
  'no-socket',
  'bad-header',
  'icmp-ratelimit',
  'ipvs-no-destination',
  // ip_vs_nat_xmit's crosses_local_route_boundary: a 127/8 source scheduled to a real server off the host.
  'ipvs-loopback-source',
  // SKB_DROP_REASON_IP_CSUM, _TCP_CSUM, _UDP_CSUM, _ICMP_CSUM: a checksum failed (a netem-corrupted frame).
  'ip-csum',
  'tcp-csum',
  'udp-csum',
  'icmp-csum',
] as const;
export type NetDropReason = (typeof NET_DROP_REASONS)[number];

/**
 * kfree_skb_reason: counts the drop in `ns.drops`, fires `ns.dropped` and a `drop` hop. Every drop
 * of net/ goes through here. For 'icmp-ratelimit' the packet is the one the ICMP error was not sent about.
 */
export function dropPacket(ns: Namespace, pkt: Packet, reason: NetDropReason): void {
  ns.drops[reason] = (ns.drops[reason] ?? 0) + 1;
  if (ns.dropped.connected) ns.dropped.fire(ns, pkt, reason);
  if (ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'drop', reason });
}
