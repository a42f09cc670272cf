// link/qdisc — the qdiscs faults put on a device's egress, chained as Chaos Mesh's tc setup chains
// them (a prio root whose filtered band holds netem, then tbf), plus tc filters that drop (a
// partition) on egress and on ingress. Layer: link (imports packet, link/).
// Each stage is an EgressQdisc with a `next`; frames a stage's filter does not match pass straight
// on. Order on a device: drop filters, netem(s), tbf, then whatever qdisc the device had before the
// first fault (a links[] / network netem), then the driver. Removing the last stage restores it.
import type { Packet } from '../packet/packet.js';
import { passOn, type EgressQdisc, type IngressFilter, type NetDevice, type QdiscDevice } from './device.js';
import type { QdiscMatch } from './netem.js';

/** A device faults can chain qdiscs on (NicDevice, VethDevice). */
export type ChainDevice = QdiscDevice & NetDevice & { qdisc: EgressQdisc | null };

/** One stage of a fault chain. */
export interface ChainStage extends EgressQdisc {
  /** Position: 0 drop filters, 1 netem, 2 tbf. */
  readonly rank: number;
  next: EgressQdisc | null;
}

interface Chain {
  stages: ChainStage[];
  /** The device's qdisc before any fault. */
  base: EgressQdisc | null;
}

const chains = new WeakMap<ChainDevice, Chain>();

function relink(dev: ChainDevice, c: Chain): void {
  c.stages.sort((a, b) => a.rank - b.rank); // stable: same rank keeps insertion order
  c.stages.forEach((s, i) => (s.next = c.stages[i + 1] ?? c.base));
  dev.qdisc = c.stages[0] ?? c.base;
  if (c.stages.length === 0) chains.delete(dev);
}

/** Adds a stage to a device's egress. */
export function addStage(dev: ChainDevice, stage: ChainStage): void {
  let c = chains.get(dev);
  if (c === undefined) {
    c = { stages: [], base: dev.qdisc };
    chains.set(dev, c);
  }
  c.stages.push(stage);
  relink(dev, c);
}

/** Removes a stage (frames it holds still leave through the stages after it). */
export function removeStage(dev: ChainDevice, stage: ChainStage): void {
  const c = chains.get(dev);
  if (c === undefined) return;
  const i = c.stages.indexOf(stage);
  if (i < 0) return;
  c.stages.splice(i, 1);
  const next = stage.next;
  relink(dev, c);
  stage.next = next;
}

/** The qdisc the device had before faults (a links[] / network netem), or its current root. */
export function baseQdisc(dev: ChainDevice): EgressQdisc | null {
  return chains.get(dev)?.base ?? dev.qdisc;
}

/** The stages on a device now (for tests and `tc qdisc show`-like listings). */
export function stagesOf(dev: ChainDevice): readonly ChainStage[] {
  return chains.get(dev)?.stages ?? [];
}

/** `tc filter … match ip dst PEERS action drop` on egress: a partition's `to` side. */
export class EgressDrop implements ChainStage {
  readonly rank = 0;
  next: EgressQdisc | null = null;
  dropped = 0;
  constructor(readonly match: QdiscMatch) {}
  enqueue(dev: QdiscDevice, pkt: Packet): void {
    if (this.match(pkt)) {
      this.dropped++;
      return dev.drop(pkt, 'tc-filter-drop');
    }
    passOn(this.next, dev, pkt);
  }
}

/** The ingress filters of one device (`tc qdisc add dev X ingress` + drop filters): a partition's `from` side. */
export class IngressDrops implements IngressFilter {
  readonly matches: QdiscMatch[] = [];
  dropped = 0;
  drops(pkt: Packet): boolean {
    for (const m of this.matches) {
      if (m(pkt)) {
        this.dropped++;
        return true;
      }
    }
    return false;
  }
}

/** Adds an ingress drop filter to a device. */
export function addIngressDrop(dev: NetDevice, match: QdiscMatch): void {
  if (!(dev.ingress instanceof IngressDrops)) dev.ingress = new IngressDrops();
  (dev.ingress as IngressDrops).matches.push(match);
}

/** Removes an ingress drop filter (the ingress qdisc goes with the last). */
export function removeIngressDrop(dev: NetDevice, match: QdiscMatch): void {
  const f = dev.ingress;
  if (!(f instanceof IngressDrops)) return;
  const i = f.matches.indexOf(match);
  if (i >= 0) f.matches.splice(i, 1);
  if (f.matches.length === 0) dev.ingress = null;
}

/** A u32 filter on the IPv4 destination (`match ip dst A/32` per peer, as Chaos Mesh's ipset). */
export function dstIn(peers: ReadonlySet<number>): QdiscMatch {
  return (pkt) => pkt.ip !== null && peers.has(pkt.ip.dst);
}

/** A u32 filter on the IPv4 source. */
export function srcIn(peers: ReadonlySet<number>): QdiscMatch {
  return (pkt) => pkt.ip !== null && peers.has(pkt.ip.src);
}

/** Every IPv4 frame (ARP passes, as an iptables/ipset rule lets it). */
export const anyIp: QdiscMatch = (pkt) => pkt.ip !== null;
