// net/drop — typed drop reasons of the IP layer (cf. Linux enum skb_drop_reason). Layer: net.

/** Every reason the per-namespace kernel drops a packet. Closed union: counters and reports use it. */
export const NET_DROP_REASONS = [
  'no-route',
  'ttl-expired',
  'forwarding-disabled',
  'otherhost',
  'neigh-failed',
  'neigh-queue-full',
  'frag-needed',
  'netfilter-drop',
  'netfilter-reject',
  'no-protocol',
  'no-socket',
  'bad-header',
  'martian',
  'icmp-ratelimit',
  'ipvs-no-destination',
] as const;
export type NetDropReason = (typeof NET_DROP_REASONS)[number];
