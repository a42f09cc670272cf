// scenario/faults-net-schema — the network fault kinds of spec.faults (zod), named after tc-netem,
// tc-tbf and Chaos Mesh's NetworkChaos actions. Layer: scenario. schema.ts adds NET_FAULTS to the
// FaultSpec union; faults-net.ts schedules them; chaos-mesh.ts translates NetworkChaos into them.
//
//   netem       tc qdisc add dev IF root netem delay D J C distribution X loss … duplicate … corrupt …
//               reorder P gap N rate R overhead … limit L (on the target's interface; with a `peer` or
//               `externalTargets`: only frames to them, as Chaos Mesh's prio + u32/ipset filter)
//   partition   tc filter … action drop: egress to the peers (`to`), ingress from them (`from`), or both
//   bandwidth   tc qdisc add dev IF root tbf rate R burst B limit L [peakrate P minburst M]
//   link-down   carrier loss on an interface and its peer end (cable pulled), `duration` or a `link-up`
//
// Probabilities are tc's percentages: "1%", "0.5%" as text, or a number in [0, 1].
import { z } from 'zod';
import { CidrText, Duration, EndText, IfName, Ipv4Text, Name, Rate } from './schema-base.js';
import { Target } from './selectors.js';

/** A probability: "P%" (tc, Chaos Mesh) or a number in [0, 1]. */
export const Percent = z.union([z.number().min(0).max(1), z.string().regex(/^\s*(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)\s*%\s*$/, 'expected a percentage like 1%, 0.5% (0..100%) or a probability in [0, 1]')]);
export type PercentT = z.infer<typeof Percent>;

/** A probability in [0, 1] from a Percent. */
export function probability(v: PercentT | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v.trim().replace('%', '')) / 100;
}

/** Where a network fault acts: an interface (HOST/IFNAME), a shorthand or a selector. */
export const NetTarget = z.union([Target, EndText]);
export type NetTargetT = z.infer<typeof NetTarget>;

const Common = {
  at: Duration,
  /** How long the fault lasts (absent: to the end of the run). */
  duration: Duration.optional(),
  /** The pods / nodes / hosts (or one HOST/IFNAME) whose interface gets the fault. */
  target: NetTarget,
  /** Chaos Mesh's `direction`: to the peers (target's egress), from them, or both. */
  direction: z.enum(['to', 'from', 'both']).default('to'),
  /** Chaos Mesh's `target`: only traffic with these pods / nodes / hosts (by IP). */
  peer: Target.optional(),
  /** Chaos Mesh's `externalTargets`: IPv4 addresses, CIDRs or external host names (direction `to`). */
  externalTargets: z.array(z.union([Ipv4Text, CidrText, Name])).optional(),
  /** The interface of a pod / node / host target (default eth0). */
  device: IfName.default('eth0'),
};

export const NetemFault = z.strictObject({
  kind: z.literal('netem'),
  ...Common,
  loss: Percent.default(0),
  lossCorrelation: Percent.optional(),
  /** `loss gemodel p [r [1-h [1-k]]]`: r defaults to 1−p, badLoss (1−h) to 100%, goodLoss (1−k) to 0. */
  gemodel: z.strictObject({ p: Percent, r: Percent.optional(), badLoss: Percent.optional(), goodLoss: Percent.optional() }).optional(),
  /** `loss state p13 [p31 [p32 [p23 [p14]]]]`: defaults p31 = 1−p13, p32 = 0, p23 = 100%, p14 = 0. */
  lossState: z.strictObject({ p13: Percent, p31: Percent.optional(), p32: Percent.optional(), p23: Percent.optional(), p14: Percent.optional() }).optional(),
  delay: Duration.default('0'),
  jitter: Duration.default('0'),
  delayCorrelation: Percent.optional(),
  distribution: z.enum(['uniform', 'normal', 'pareto', 'paretonormal']).default('uniform'),
  duplicate: Percent.optional(),
  duplicateCorrelation: Percent.optional(),
  corrupt: Percent.optional(),
  corruptCorrelation: Percent.optional(),
  reorder: Percent.optional(),
  reorderCorrelation: Percent.optional(),
  gap: z.number().int().min(1).optional(),
  rate: Rate.optional(),
  packetOverhead: z.number().int().min(-1500).max(1500).optional(),
  cellSize: z.number().int().min(1).optional(),
  cellOverhead: z.number().int().min(-1500).max(1500).optional(),
  limit: z.number().int().min(1).default(1000),
});

export const PartitionFault = z.strictObject({ kind: z.literal('partition'), ...Common });

export const BandwidthFault = z.strictObject({
  kind: z.literal('bandwidth'),
  ...Common,
  rate: Rate,
  /** Bytes that may wait (tbf limit). */
  limit: z.number().int().min(1),
  /** Bucket size in bytes (tbf burst / buffer). */
  buffer: z.number().int().min(1),
  peakrate: Rate.optional(),
  /** Peak bucket in bytes (tbf minburst / mtu). */
  minburst: z.number().int().min(1).optional(),
});

const LinkTarget = z.union([z.string().regex(/^(pod|node|host)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected pod/NAME, node/NAME, host/NAME or HOST/IFNAME'), EndText]);

export const LinkDownFault = z.strictObject({
  kind: z.literal('link-down'),
  at: Duration,
  duration: Duration.optional(),
  /** HOST/IFNAME, or node/NAME, host/NAME, pod/NAME (its `device`, default eth0). */
  target: LinkTarget,
  device: IfName.default('eth0'),
});

export const LinkUpFault = z.strictObject({
  kind: z.literal('link-up'),
  at: Duration,
  target: LinkTarget,
  device: IfName.default('eth0'),
});

/** The network fault variants, for FaultSpec's union. */
export const NET_FAULTS = [NetemFault, PartitionFault, BandwidthFault, LinkDownFault, LinkUpFault] as const;

export type NetemFaultT = z.infer<typeof NetemFault>;
export type PartitionFaultT = z.infer<typeof PartitionFault>;
export type BandwidthFaultT = z.infer<typeof BandwidthFault>;
export type LinkDownFaultT = z.infer<typeof LinkDownFault>;
export type LinkUpFaultT = z.infer<typeof LinkUpFault>;
export type NetFaultT = NetemFaultT | PartitionFaultT | BandwidthFaultT | LinkDownFaultT | LinkUpFaultT;
export const NET_FAULT_KINDS: readonly string[] = ['netem', 'partition', 'bandwidth', 'link-down', 'link-up'];
