// scenario/faults-net — the network faults of the timeline: netem, partition, bandwidth (tbf) and
// link down/up, placed where tc and Chaos Mesh place them. Layer: scenario (imports core, link, net,
// k8s types, scenario/selectors).
//
// Where: the `device` (eth0) of every pod / node / host the target selects when the fault fires (a
// pod's eth0 is its veth end: Chaos Mesh runs tc in the pod's network namespace), or one HOST/IFNAME.
// Which frames: with a `peer` and/or `externalTargets`, only frames to (or from) their addresses, as
// Chaos Mesh's ipset + tc filter; without, every frame. Addresses are those on the wire where the
// qdisc sits: on a node's eth0 the pod traffic of flannel VXLAN is encapsulated, so a node-to-node
// fault names nodes (or `host-gw` keeps pod addresses on the wire).
// Direction (Chaos Mesh's): `to` acts on the target's egress toward the peers; `from` on the frames
// the peers send to the target — netem and tbf on the peers' egress (they must select interfaces),
// a partition as an ingress drop filter on the target (tcpdump there still sees the frame arrive, as
// it would before an iptables INPUT DROP); `both` is both.
// Partition is modelled as tc filters with `action drop` (egress) and an ingress filter (not as
// Chaos Mesh's iptables chains: the pods here have no netfilter, and the effect on the wire is the
// same: no frame to the peers leaves, none from them is delivered; ARP still passes).
// Link down is carrier loss on the interface and its peer end (a cable pulled): frames sent or in
// flight are dropped ('no-carrier'); each side's neighbours on it are flushed (neigh_carrier_down);
// routes stay and are still chosen, as with net.ipv4.conf.*.ignore_routes_with_linkdown = 0 (Linux's
// default: they get the `linkdown` flag), so what is routed there is dropped at the device until
// the carrier returns and ARP resolves again (in the capture).
import type { Rng } from '../core/rng.js';
import { durationOr0, parseRate } from '../core/time.js';
import type { Simulator } from '../core/simulator.js';
import type { NetDevice } from '../link/device.js';
import { Netem, type NetemConfig, type QdiscMatch } from '../link/netem.js';
import { NicDevice } from '../link/nic.js';
import { addIngressDrop, addStage, anyIp, baseQdisc, EgressDrop, removeIngressDrop, removeStage, type ChainDevice, type ChainStage } from '../link/qdisc.js';
import { Tbf } from '../link/tbf.js';
import { VethDevice } from '../link/veth.js';
import type { Namespace } from '../net/namespace.js';
import { maskFromPrefix, parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import { probability, type BandwidthFaultT, type LinkDownFaultT, type LinkUpFaultT, type NetemFaultT, type NetFaultT, type PartitionFaultT } from './faults-net-schema.js';
import { describeSelection, describeTarget, resolveTarget, type SelectorWorld } from './selectors.js';

/** What the network faults need from the fault scheduler. */
export interface NetFaultContext {
  sim: Simulator;
  namespaces: Map<string, Namespace>;
  world: SelectorWorld;
  record(what: string): void;
  err(path: (string | number)[], message: string): void;
}

/** Interfaces and their addresses a target resolves to now. */
interface Ends {
  devs: ChainDevice[];
  ips: Set<Ipv4>;
  text: string;
}

const isChain = (d: NetDevice | undefined): d is ChainDevice => d instanceof NicDevice || d instanceof VethDevice;
const isShorthand = (t: string): boolean => /^(pod|node|host|svc)\//.test(t);

/** A set of addresses and prefixes as a filter on the IPv4 destination or source. */
function addrMatch(ips: ReadonlySet<Ipv4>, nets: readonly { net: number; mask: number }[], field: 'dst' | 'src'): QdiscMatch {
  if (nets.length === 0) return field === 'dst' ? (p) => p.ip !== null && ips.has(p.ip.dst) : (p) => p.ip !== null && ips.has(p.ip.src);
  return (p) => {
    if (p.ip === null) return false;
    const a = field === 'dst' ? p.ip.dst : p.ip.src;
    if (ips.has(a)) return true;
    for (const n of nets) if ((a & n.mask) >>> 0 === n.net) return true;
    return false;
  };
}

/** Schedules the network faults of one run (one instance per world). */
export class NetFaults {
  /** Fault netems created per device (for their stream names). */
  private readonly netems = new Map<ChainDevice, number>();

  constructor(private readonly ctx: NetFaultContext) {}

  /** Checks what can be checked before the run and schedules fault `f` (spec.faults[i]). */
  schedule(f: NetFaultT, i: number): void {
    const at = ['faults', i];
    const t0 = durationOr0(f.at);
    if (f.kind === 'link-down' || f.kind === 'link-up') return this.scheduleLink(f, at, t0);
    if (!this.checkTarget(f.target, f.device, [...at, 'target'])) return;
    if (f.peer !== undefined && typeof f.peer === 'string' && !this.checkTarget(f.peer, f.device, [...at, 'peer'])) return;
    const ext = this.externals(f.externalTargets ?? [], [...at, 'externalTargets']);
    if (ext === null) return;
    if (f.direction !== 'to' && f.externalTargets !== undefined) return this.ctx.err([...at, 'direction'], 'externalTargets take direction "to" (as Chaos Mesh)');
    if (f.direction !== 'to' && f.kind !== 'partition' && f.peer === undefined) return this.ctx.err([...at, 'direction'], `direction "${f.direction}" acts on the peers' egress: give a peer`);
    const end = f.duration !== undefined ? t0 + durationOr0(f.duration) : null;
    const rng = this.ctx.sim.rng.stream(`faults/${i}/select`);
    this.ctx.sim.scheduleAt(t0, () => {
      const target = this.ends(f.target, f.device, rng);
      const peer = f.peer === undefined ? null : this.ends(f.peer, f.device, rng);
      if (typeof target === 'string' || typeof peer === 'string') return this.ctx.record(`${f.kind} on ${describeTarget(f.target)}: not applied: ${typeof target === 'string' ? target : peer}`);
      const undo = this.apply(f, target, peer, ext);
      if (end !== null) this.ctx.sim.scheduleAt(end, () => {
        undo();
        this.ctx.record(`${f.kind} on ${target.text} removed`);
      });
    });
  }

  /** A shorthand names something that exists; HOST/IFNAME names an interface a qdisc can sit on. */
  private checkTarget(t: NetFaultT['target'], device: string, path: (string | number)[]): boolean {
    if (typeof t !== 'string') return true;
    if (isShorthand(t)) {
      if (t.startsWith('svc/')) return true; // endpoints are looked up when the fault fires
      const r = resolveTarget(this.ctx.world, t, this.ctx.sim.rng.stream('faults/check'));
      if (!r.ok) this.ctx.err(path, r.error);
      else if (!r.selected.every((s) => isChain(s.ns.device(device)))) this.ctx.err(path, `${t} has no interface ${device} a qdisc can sit on`);
      return r.ok;
    }
    const [host, ifname] = t.split('/') as [string, string];
    const ok = isChain(this.ctx.namespaces.get(host)?.device(ifname));
    if (!ok) this.ctx.err(path, `${t} is not a NIC or veth end (a node's or host's eth0, a links[] or veths[] end)`);
    return ok;
  }

  /** externalTargets → addresses and prefixes (a name is an external host's address). */
  private externals(list: string[], path: (string | number)[]): { ips: Set<Ipv4>; nets: { net: number; mask: number }[] } | null {
    const ips = new Set<Ipv4>();
    const nets: { net: number; mask: number }[] = [];
    for (const [k, e] of list.entries()) {
      const ip = parseIpv4(e);
      const cidr = ip === null ? parseCidr(e) : null;
      if (ip !== null) ips.add(ip);
      else if (cidr !== null) nets.push({ net: (cidr.addr & maskFromPrefix(cidr.prefix)) >>> 0, mask: maskFromPrefix(cidr.prefix) });
      else {
        const h = this.ctx.world.hosts.find((x) => x.name === e);
        if (!h) {
          this.ctx.err([...path, k], `no external host "${e}" (give an IPv4 address, a CIDR or an external host's name)`);
          return null;
        }
        ips.add(h.ip);
      }
    }
    return { ips, nets };
  }

  /** Resolves a target to its interfaces and addresses now. */
  private ends(t: NetFaultT['target'], device: string, rng: Rng): Ends | string {
    if (typeof t === 'string' && !isShorthand(t)) {
      const [host, ifname] = t.split('/') as [string, string];
      const ns = this.ctx.namespaces.get(host)!;
      const dev = ns.device(ifname) as ChainDevice;
      return { devs: [dev], ips: new Set(ns.addrs.filter((a) => a.dev === dev).map((a) => a.addr)), text: t };
    }
    const r = resolveTarget(this.ctx.world, t, rng);
    if (!r.ok) return r.error;
    const devs: ChainDevice[] = [];
    const ips = new Set<Ipv4>();
    for (const s of r.selected) {
      const d = s.ns.device(device);
      if (!isChain(d)) return `${s.kind}/${s.name} has no interface ${device}`;
      devs.push(d);
      if (s.ip !== null) ips.add(s.ip);
    }
    return { devs, ips, text: describeSelection(r.selected) };
  }

  /** Installs a fault; returns what removes it. */
  private apply(f: NetemFaultT | PartitionFaultT | BandwidthFaultT, target: Ends, peer: Ends | null, ext: { ips: Set<Ipv4>; nets: { net: number; mask: number }[] }): () => void {
    const peerIps = new Set([...(peer?.ips ?? []), ...ext.ips]);
    const filtered = peer !== null || ext.ips.size > 0 || ext.nets.length > 0;
    const toPeers = filtered ? addrMatch(peerIps, ext.nets, 'dst') : null;
    const undos: (() => void)[] = [];
    const onTo = f.direction === 'to' || f.direction === 'both';
    const onFrom = f.direction === 'from' || f.direction === 'both';
    if (f.kind === 'partition') {
      if (onTo) for (const d of target.devs) undos.push(this.addStage(d, new EgressDrop(toPeers ?? anyIp)));
      if (onFrom) {
        const m = filtered ? addrMatch(peerIps, ext.nets, 'src') : anyIp;
        for (const d of target.devs) {
          addIngressDrop(d, m);
          undos.push(() => removeIngressDrop(d, m));
        }
      }
      this.ctx.record(`partition: ${target.text} ${f.direction === 'both' ? '↔' : f.direction === 'to' ? '→' : '←'} ${filtered ? [peer?.text, ...(f.externalTargets ?? [])].filter(Boolean).join(', ') : 'everything'} dropped`);
    } else {
      const make = (m: QdiscMatch | null, d: ChainDevice): (() => void) => (f.kind === 'netem' ? this.addNetem(f, d, m) : this.addStage(d, this.tbf(f, m)));
      if (onTo) for (const d of target.devs) undos.push(make(toPeers, d));
      if (onFrom && peer !== null) for (const d of peer.devs) undos.push(make(addrMatch(target.ips, [], 'dst'), d));
      this.ctx.record(f.kind === 'netem' ? this.netemNote(f, target, peer, filtered) : `bandwidth on ${target.text}${filtered ? ` (${f.direction} ${peer?.text ?? ''}${(f.externalTargets ?? []).join(', ')})` : ''}: tbf rate ${f.rate} buffer ${f.buffer} limit ${f.limit}`);
    }
    return () => undos.forEach((u) => u());
  }

  private addStage(d: ChainDevice, s: ChainStage): () => void {
    addStage(d, s);
    return () => removeStage(d, s);
  }

  private tbf(f: BandwidthFaultT, m: QdiscMatch | null): Tbf {
    const peak = f.peakrate !== undefined ? parseRate(f.peakrate)! : 0;
    const t = new Tbf({ rateBps: parseRate(f.rate)!, burstBytes: f.buffer, limitBytes: f.limit, peakRateBps: peak, minburstBytes: f.minburst ?? 1514 }, this.ctx.sim);
    t.match = m;
    return t;
  }

  /**
   * netem on one device. Without a filter on a device whose own qdisc is a netem (a links[] / network
   * loss), the fault replaces its parameters (`tc qdisc replace … root netem`) and restores them after.
   */
  private addNetem(f: NetemFaultT, d: ChainDevice, m: QdiscMatch | null): () => void {
    const cfg = netemConfig(f);
    const base = baseQdisc(d);
    if (m === null && base instanceof Netem && base === d.qdisc) {
      const before = base.cfg;
      base.configure(cfg);
      return () => base.configure(before);
    }
    const n = this.netems.get(d) ?? 0;
    this.netems.set(d, n + 1);
    const own = base instanceof Netem ? n + 1 : n;
    const q = new Netem(cfg, this.ctx.sim, this.ctx.sim.rng.stream(own === 0 ? `netem/${d.qualifiedName}` : `netem/${d.qualifiedName}#${own}`));
    q.match = m;
    return this.addStage(d, q);
  }

  private netemNote(f: NetemFaultT, target: Ends, peer: Ends | null, filtered: boolean): string {
    const c = netemConfig(f);
    const where = typeof f.target === 'string' && !isShorthand(f.target) ? f.target : target.text;
    let s = `netem on ${where}${filtered ? ` (${f.direction} ${[peer?.text, ...(f.externalTargets ?? [])].filter(Boolean).join(', ')})` : ''}: loss ${(c.loss * 100).toFixed(2)}% delay ${c.delayNs / 1e6}ms jitter ${c.jitterNs / 1e6}ms`;
    if (c.distribution) s += ` distribution ${c.distribution}`;
    if (c.lossModel) s += ` loss ${c.lossModel.kind}`;
    if (c.duplicate) s += ` duplicate ${(c.duplicate * 100).toFixed(2)}%`;
    if (c.corrupt) s += ` corrupt ${(c.corrupt * 100).toFixed(2)}%`;
    if (c.reorder) s += ` reorder ${(c.reorder * 100).toFixed(2)}% gap ${c.gap ?? 1}`;
    if (c.rateBps) s += ` rate ${c.rateBps / 1e6}Mbit`;
    return s;
  }

  /** link-down / link-up: carrier on an interface and its peer end. */
  private scheduleLink(f: LinkDownFaultT | LinkUpFaultT, at: (string | number)[], t0: number): void {
    const dev = this.linkDevice(f.target, f.device, [...at, 'target']);
    if (dev === null) return;
    const peer = dev instanceof NicDevice ? (dev.link === null ? null : dev.link.a === dev ? dev.link.b : dev.link.a) : (dev as VethDevice).peer;
    const both = peer === null ? [dev] : [dev, peer];
    const set = (carrier: boolean): void => {
      for (const d of both) {
        d.carrier = carrier;
        if (!carrier) for (const ns of this.ctx.namespaces.values()) if (ns.devices.includes(d)) ns.neigh.carrierDown(d);
      }
      this.ctx.record(`link ${f.target}${f.target.includes('/') && !/^(pod|node|host)\//.test(f.target) ? '' : ` ${f.device}`} ${carrier ? 'up (carrier back)' : 'down (carrier lost; neighbours flushed)'}`);
    };
    this.ctx.sim.scheduleAt(t0, () => set(f.kind === 'link-up'));
    if (f.kind === 'link-down' && f.duration !== undefined) this.ctx.sim.scheduleAt(t0 + durationOr0(f.duration), () => set(true));
  }

  private linkDevice(t: string, device: string, path: (string | number)[]): ChainDevice | null {
    let dev: NetDevice | undefined;
    if (/^(pod|node|host)\//.test(t)) {
      const r = resolveTarget(this.ctx.world, t, this.ctx.sim.rng.stream('faults/check'));
      if (!r.ok) {
        this.ctx.err(path, r.error);
        return null;
      }
      dev = r.selected[0]!.ns.device(device);
    } else {
      const [host, ifname] = t.split('/') as [string, string];
      dev = this.ctx.namespaces.get(host)?.device(ifname);
    }
    if (!isChain(dev)) {
      this.ctx.err(path, `${t} has no NIC or veth ${device}`);
      return null;
    }
    return dev;
  }
}

/** A netem fault's parameters as the qdisc takes them. */
export function netemConfig(f: NetemFaultT): NetemConfig {
  const pr = probability;
  const cfg: NetemConfig = { loss: pr(f.loss), delayNs: durationOr0(f.delay), jitterNs: durationOr0(f.jitter), limit: f.limit };
  if (f.delayCorrelation !== undefined) cfg.delayCorrelation = pr(f.delayCorrelation);
  if (f.distribution !== 'uniform') cfg.distribution = f.distribution;
  if (f.lossCorrelation !== undefined) cfg.lossCorrelation = pr(f.lossCorrelation);
  if (f.gemodel) {
    const p = pr(f.gemodel.p);
    cfg.lossModel = { kind: 'gemodel', p, r: f.gemodel.r !== undefined ? pr(f.gemodel.r) : 1 - p, lossBad: f.gemodel.badLoss !== undefined ? pr(f.gemodel.badLoss) : 1, lossGood: pr(f.gemodel.goodLoss) };
  } else if (f.lossState) {
    const s = f.lossState;
    const p13 = pr(s.p13);
    cfg.lossModel = { kind: 'state', p13, p31: s.p31 !== undefined ? pr(s.p31) : 1 - p13, p32: pr(s.p32), p23: s.p23 !== undefined ? pr(s.p23) : 1, p14: pr(s.p14) };
  }
  if (f.duplicate !== undefined) cfg.duplicate = pr(f.duplicate);
  if (f.duplicateCorrelation !== undefined) cfg.duplicateCorrelation = pr(f.duplicateCorrelation);
  if (f.corrupt !== undefined) cfg.corrupt = pr(f.corrupt);
  if (f.corruptCorrelation !== undefined) cfg.corruptCorrelation = pr(f.corruptCorrelation);
  if (f.reorder !== undefined) {
    cfg.reorder = pr(f.reorder);
    cfg.gap = f.gap ?? 1; // tc: reorder without gap reorders any frame with that probability
  }
  if (f.reorderCorrelation !== undefined) cfg.reorderCorrelation = pr(f.reorderCorrelation);
  if (f.rate !== undefined) cfg.rateBps = parseRate(f.rate)!;
  if (f.packetOverhead !== undefined) cfg.packetOverhead = f.packetOverhead;
  if (f.cellSize !== undefined) cfg.cellSize = f.cellSize;
  if (f.cellOverhead !== undefined) cfg.cellOverhead = f.cellOverhead;
  return cfg;
}
