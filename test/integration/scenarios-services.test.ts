// Behaviour of the Service scenarios, read from the captures and stats.json they write (issue 4,
// "Done means"): ClusterIP DNAT hop by hop and un-DNAT of replies (clusterip.yaml), NodePort DNAT +
// MASQUERADE to the outgoing interface's address vs. externalTrafficPolicy Local (nodeport.yaml), one
// node answering ARP for the LoadBalancer IP (loadbalancer.yaml), a Service without selector reaching
// an external database masqueraded (service-without-selector.yaml), endpoint shares and iptables
// random vs. IPVS round robin (http-clusterip.yaml / http-ipvs.yaml), `podwire inspect --iptables`
// round trip and `podwire trace --json` probabilities, and DNS on the wire (dns.yaml,
// externalname.yaml, headless.yaml). Each scenario runs once, in process, into a temporary directory.
//
//   front-end (node1) --> 10.99.11.12:80 ==DNAT==> back-end pods :80 (node1, node2)
//   laptop 10.100.11.100 --> node1|node2:30008 ==DNAT+MASQ==> myapp pods     (:30009 Local: node2's, source kept)
//   laptop --> 10.100.11.240:80 (ARP: one node) ==DNAT+MASQ==> web pods;  laptop --> node2:31080 (pending LB)
//   app --> 10.99.0.30:5432/udp ==DNAT==> host/database 10.100.11.50 (MASQ to node1 10.100.11.11)
//   client --> kube-dns 10.96.0.10:53 (CoreDNS pods) --> resolver 10.100.11.53 on the external network
//
//   node1 10.100.11.11 [cni0 10.244.0.1, flannel.1 10.244.0.0] ===VXLAN=== node2 10.100.11.12 [10.244.1.1, 10.244.1.0]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';
import type { Packet } from '../../src/packet/packet.js';
import { type World } from '../../src/scenario/build.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatMac } from '../../src/wire/mac.js';
import { ArpOp, TcpFlag } from '../../src/wire/types.js';
import { CLI, ensureBuilt } from '../scenario/dist.js';
import { hasTshark, NO_TSHARK, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { runScenarioFrames, type Frame } from './run-scenario.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSHARK = hasTshark();
const inTshark = TSHARK ? 'in tshark' : `in tshark — skipped: ${NO_TSHARK}`;

interface FlowDoc {
  name: string;
  requests: number;
  successes: number;
  errors: number;
  errorsByKind: Record<string, number>;
}
interface StatsDoc {
  stop: string;
  flows: FlowDoc[];
  endpoints: { name: string; served: number; share: number }[];
}
interface Run {
  dir: string;
  world: World;
  capturePath: string;
  frames: Frame[];
  stats: StatsDoc;
}

const runs: Run[] = [];
/** Runs scenarios/NAME.yaml with its own seed; parses every captured frame. */
function runScenario(name: string): Run {
  const { dir, world, capturePath, frames, statsJson } = runScenarioFrames(name);
  const r = { dir, world, capturePath, frames, stats: JSON.parse(statsJson) as StatsDoc };
  runs.push(r);
  return r;
}
afterAll(() => {
  for (const r of runs) rmSync(r.dir, { recursive: true, force: true });
});

const ip = formatIpv4;
const isSyn = (p: Packet) => p.tcp !== null && (p.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
const flow = (r: Run, name: string) => r.stats.flows.find((f) => f.name === name)!;
const node = (r: Run, name: string) => r.world.cluster!.nodes.find((n) => n.name === name)!;
const podsOf = (r: Run, prefix: string) => r.world.cluster!.pods.filter((p) => p.name.startsWith(prefix));
const addrOf = (r: Run, nodeName: string, dev: string) => ip(node(r, nodeName).ns.addrs.find((a) => a.dev.name === dev)!.addr);
const at = (r: Run, ifName: string) => r.frames.filter((f) => f.ifName === ifName);
/** Frames on `ifName` that its host transmitted (source MAC = that device's own). */
function sentBy(r: Run, ifName: string): Frame[] {
  const [host, dev] = ifName.split('/') as [string, string];
  const m = r.world.namespaces.get(host)!.device(dev)!.mac;
  return at(r, ifName).filter((f) => f.pkt.eth!.src === m);
}
/**
 * Frames at a node's bridge headed to a pod (destination MAC not the bridge's own): what the node
 * forwards to its pods, whether routed (source MAC the bridge's) or bridged after br_netfilter's
 * DNAT (source MAC the client pod's, TTL unchanged: the kernel's "bridged DNAT").
 */
function towardPods(r: Run, ifName: string): Frame[] {
  const [host, dev] = ifName.split('/') as [string, string];
  const m = r.world.namespaces.get(host)!.device(dev)!.mac;
  return at(r, ifName).filter((f) => f.pkt.eth!.dst !== m);
}
const endpointShares = (r: Run) => Object.fromEntries(r.stats.endpoints.map((e) => [e.name, e.served]));

describe('clusterip.yaml: pod → ClusterIP 10.99.11.12:80', () => {
  let r: Run;
  let feIp: string;
  let backIps: Set<string>;
  beforeAll(() => {
    r = runScenario('clusterip');
    feIp = ip(r.world.cluster!.pods.find((p) => p.name === 'front-end')!.ip);
    backIps = new Set(podsOf(r, 'back-end-').map((p) => ip(p.ip)));
  });

  it('every request of the front-end succeeds; the back-end pods are on both nodes', () => {
    expect(flow(r, 'front-to-back')).toMatchObject({ requests: 30, successes: 30, errors: 0 });
    expect(new Set(podsOf(r, 'back-end-').map((p) => p.node.name))).toEqual(new Set(['node1', 'node2']));
  });

  it("at the front-end's eth0 every SYN goes from the front-end's IP to 10.99.11.12:80", () => {
    const syns = at(r, 'front-end/eth0').filter((f) => isSyn(f.pkt));
    expect(syns.length).toBeGreaterThanOrEqual(30);
    expect(new Set(syns.map((f) => `${ip(f.pkt.ip!.src)} > ${ip(f.pkt.ip!.dst)}:${f.pkt.tcp!.dstPort}`))).toEqual(new Set([`${feIp} > 10.99.11.12:80`]));
  });

  it('after node1 PREROUTING (node1/cni0 out to a local pod, node1/flannel.1) each connection goes to a back-end pod IP:80, source still the front-end (no masquerade)', () => {
    const isns = new Set(at(r, 'front-end/eth0').filter((f) => isSyn(f.pkt)).map((f) => f.pkt.tcp!.seq));
    const after = [...towardPods(r, 'node1/cni0'), ...sentBy(r, 'node1/flannel.1')].filter((f) => isSyn(f.pkt) && isns.has(f.pkt.tcp!.seq));
    // Each connection (ISN) leaves node1 exactly once, DNATed.
    expect(new Set(after.map((f) => f.pkt.tcp!.seq))).toEqual(isns);
    const bad = after.filter((f) => !backIps.has(ip(f.pkt.ip!.dst)) || f.pkt.tcp!.dstPort !== 80 || ip(f.pkt.ip!.src) !== feIp);
    expect(bad.map((f) => `frame ${f.no} ${f.ifName}: ${ip(f.pkt.ip!.src)} > ${ip(f.pkt.ip!.dst)}:${f.pkt.tcp!.dstPort}`)).toEqual([]);
    // Both ways out of node1 are used (local pod via cni0, node2's pods via flannel.1).
    expect(new Set(after.map((f) => f.ifName))).toEqual(new Set(['node1/cni0', 'node1/flannel.1']));
    // The back-end pods see the front-end's own address.
    const atPods = r.frames.filter((f) => f.ifName.startsWith('back-end-') && isSyn(f.pkt)).map((f) => ip(f.pkt.ip!.src));
    expect(new Set(atPods)).toEqual(new Set([feIp]));
    // Same-node back-ends are reached by bridged DNAT (no routing, TTL 64); node2's through flannel (62).
    const ttls = new Set(r.frames.filter((f) => f.ifName.startsWith('back-end-') && isSyn(f.pkt)).map((f) => `${ip(f.pkt.ip!.dst).startsWith('10.244.0.') ? 'node1' : 'node2'}:${f.pkt.ip!.ttl}`));
    expect(ttls).toEqual(new Set(['node1:64', 'node2:62']));
  });

  it('replies reaching the front-end come from 10.99.11.12:80 (un-DNATed), never from a pod IP', () => {
    const inbound = at(r, 'front-end/eth0').filter((f) => f.pkt.tcp !== null && ip(f.pkt.ip!.dst) === feIp);
    expect(inbound.length).toBeGreaterThan(30 * 3);
    expect(new Set(inbound.map((f) => `${ip(f.pkt.ip!.src)}:${f.pkt.tcp!.srcPort}`))).toEqual(new Set(['10.99.11.12:80']));
  });

  // podwire bug (src/link/bridge.ts, BridgeDevice.portReceive): a frame bridged between two cni0 ports
  // is tapped for the capture after `this.netfilter(...)` ran POSTROUTING on it, so node1/cni0 shows the
  // same-node back-end's reply already un-DNATed (from 10.99.11.12). In the kernel,
  // br_handle_frame_finish forwards a clone (br_forward → deliver_clone; POSTROUTING's NAT un-shares the
  // clone's data) and then br_pass_frame_up()s the original, which is what tcpdump on cni0 sees: the
  // reply from the pod's own address. Checked on this machine's kernel with two netns on a bridge,
  // bridge-nf-call-iptables=1, a DNAT rule and tcpdump -i cni0: the SYN-ACK shows 10.244.0.3.80 >
  // 10.244.0.4 on cni0 while the client's eth0 shows 10.99.11.12.80. (Also seen there, not asserted:
  // the request never shows on cni0 with the ClusterIP, since the bridge's tap runs after br_netfilter's
  // PREROUTING DNAT; podwire shows it.)
  it('node1/cni0 shows the bridged reply of a same-node back-end with the pod source (tapped before POSTROUTING un-DNAT)', () => {
    const local = podsOf(r, 'back-end-').filter((p) => p.node.name === 'node1').map((p) => ip(p.ip));
    expect(local.length).toBeGreaterThan(0);
    const backMacs = new Set(podsOf(r, 'back-end-').filter((p) => p.node.name === 'node1').map((p) => p.ns.device('eth0')!.mac));
    const bridged = at(r, 'node1/cni0').filter((f) => f.pkt.tcp !== null && backMacs.has(f.pkt.eth!.src) && ip(f.pkt.ip!.dst) === feIp);
    expect(bridged.length).toBeGreaterThan(0);
    expect(new Set(bridged.map((f) => ip(f.pkt.ip!.src)))).toEqual(new Set(local));
  });

  it("the laptop's request to the ClusterIP times out (only its default route, to a gateway that never answers ARP) and nothing to 10.99.11.12 leaves the laptop", () => {
    // The laptop sends the service CIDR to the network's gateway 10.100.11.1 (outside the model): its SYNs
    // wait for the gateway's ARP, which fails after 3 s, after the flow's 2 s timeout.
    const f = flow(r, 'laptop-to-clusterip');
    expect(f).toMatchObject({ requests: 1, successes: 0, errors: 1 });
    expect(f.errorsByKind.timeout).toBe(1);
    expect(at(r, 'laptop/eth0').filter((x) => x.pkt.arp && ip(x.pkt.arp.tpa) === '10.100.11.1' && ip(x.pkt.arp.spa) === ip(r.world.cluster!.hosts.find((h) => h.name === 'laptop')!.ip)).length).toBe(3);
    expect(at(r, 'laptop/eth0').filter((x) => x.pkt.ip && ip(x.pkt.ip.dst) === '10.99.11.12').length).toBe(0);
  });
});

describe('nodeport.yaml: laptop → node:30008 (Cluster) and node2:30009 (Local)', () => {
  let r: Run;
  const LAPTOP = '10.100.11.100';
  /** ISN → the laptop's SYN (dst node IP:port) and the SYN the pod received. */
  let conns: { node: string; port: number; podIf: string; podNode: string; src: string; dst: string; dport: number }[];
  beforeAll(() => {
    r = runScenario('nodeport');
    const laptopSyns = at(r, 'laptop/eth0').filter((f) => isSyn(f.pkt));
    const podSyns = new Map(r.frames.filter((f) => f.ifName.startsWith('myapp-') && isSyn(f.pkt)).map((f) => [f.pkt.tcp!.seq, f]));
    conns = laptopSyns.flatMap((l) => {
      const p = podSyns.get(l.pkt.tcp!.seq);
      if (!p) return [];
      const pod = r.world.cluster!.pods.find((x) => `${x.name}/eth0` === p.ifName)!;
      const nodeName = r.world.cluster!.nodes.find((n) => n.ip === l.pkt.ip!.dst)!.name;
      return [{ node: nodeName, port: l.pkt.tcp!.dstPort, podIf: p.ifName, podNode: pod.node.name, src: ip(p.pkt.ip!.src), dst: ip(p.pkt.ip!.dst), dport: p.pkt.tcp!.dstPort }];
    });
  });

  it('all requests succeed; served requests add up to them', () => {
    expect(['via-node1', 'via-node2', 'local-policy'].map((n) => `${n} ${flow(r, n).successes}/${flow(r, n).requests}`)).toEqual(['via-node1 30/30', 'via-node2 30/30', 'local-policy 10/10']);
    expect(r.stats.endpoints.reduce((s, e) => s + e.served, 0)).toBe(70);
  });

  it('every laptop connection reaches a pod, DNATed to the pod IP:80', () => {
    const laptopSyns = new Set(at(r, 'laptop/eth0').filter((f) => isSyn(f.pkt)).map((f) => f.pkt.tcp!.seq));
    expect(conns.length).toBe(laptopSyns.size);
    const podIps = new Set(podsOf(r, 'myapp-').map((p) => ip(p.ip)));
    expect(conns.filter((c) => !podIps.has(c.dst) || c.dport !== 80)).toEqual([]);
  });

  it('externalTrafficPolicy Cluster (30008): MASQUERADE to the outgoing interface address (cni0 10.244.N.1 for a local pod, flannel.1 10.244.N.0 across)', () => {
    const cluster = conns.filter((c) => c.port === 30008);
    expect(cluster.length).toBe(60);
    const want = (c: (typeof cluster)[number]) => (c.node === c.podNode ? addrOf(r, c.node, 'cni0') : addrOf(r, c.node, 'flannel.1'));
    expect(cluster.filter((c) => c.src !== want(c)).map((c) => `via ${c.node} to ${c.podIf}: source ${c.src}, want ${want(c)}`)).toEqual([]);
    // Both cases occur, from both nodes.
    expect(new Set(cluster.map((c) => `${c.node}:${c.node === c.podNode ? 'local' : 'remote'}`))).toEqual(new Set(['node1:local', 'node1:remote', 'node2:local', 'node2:remote']));
  });

  it("externalTrafficPolicy Local (30009): the pod sees the laptop's address 10.100.11.100, and only node2's pods serve", () => {
    const local = conns.filter((c) => c.port === 30009);
    expect(local.length).toBe(10);
    expect(new Set(local.map((c) => c.src))).toEqual(new Set([LAPTOP]));
    expect(new Set(local.map((c) => c.podNode))).toEqual(new Set(['node2']));
  });
});

describe('loadbalancer.yaml: a layer-2 announced LoadBalancer IP and a pending one', () => {
  let r: Run;
  beforeAll(() => {
    r = runScenario('loadbalancer');
  });

  it("the laptop's ARP request for 10.100.11.240 is answered by exactly one node, with its eth0 MAC", () => {
    const LB = 0x0a640bf0; // 10.100.11.240
    const requests = at(r, 'laptop/eth0').filter((f) => f.pkt.arp?.op === ArpOp.REQUEST && f.pkt.arp.tpa === LB);
    expect(requests.length).toBeGreaterThan(0);
    const replies = r.frames.filter((f) => f.pkt.arp?.op === ArpOp.REPLY && f.pkt.arp.spa === LB);
    // Who sent them: the node eth0 interfaces on which a reply appears with that node's own MAC.
    const senders = r.world.cluster!.nodes.filter((n) => replies.some((f) => f.ifName === `${n.name}/eth0` && f.pkt.eth!.src === n.eth0.mac)).map((n) => n.name);
    expect(senders.length).toBe(1);
    const owner = node(r, senders[0]!);
    expect(new Set(replies.map((f) => formatMac(f.pkt.arp!.sha)))).toEqual(new Set([formatMac(owner.eth0.mac)]));
    expect(at(r, 'laptop/eth0').filter((f) => f.pkt.arp?.op === ArpOp.REPLY && f.pkt.arp.spa === LB).length).toBeGreaterThan(0);
  });

  it('web-lb has the pool address; web-pending has none and is served on its node port 31080', () => {
    const lb = r.world.services.find((s) => s.name === 'web-lb')!;
    const pending = r.world.services.find((s) => s.name === 'web-pending')!;
    expect(lb.loadBalancerIPs.map(ip)).toEqual(['10.100.11.240']);
    expect(pending.loadBalancerIPs).toEqual([]);
    expect(flow(r, 'pending-via-nodeport')).toMatchObject({ requests: 10, successes: 10, errors: 0 });
    expect(flow(r, 'via-lb-ip')).toMatchObject({ requests: 30, successes: 30, errors: 0 });
    const toPending = at(r, 'laptop/eth0').filter((f) => isSyn(f.pkt) && f.pkt.tcp!.dstPort === 31080).map((f) => ip(f.pkt.ip!.dst));
    expect(new Set(toPending)).toEqual(new Set(['10.100.11.12']));
  });
});

describe('service-without-selector.yaml: 10.99.0.30:5432/udp → host/database', () => {
  let r: Run;
  beforeAll(() => {
    r = runScenario('service-without-selector');
  });

  it("the datagrams to 10.99.0.30:5432 reach the database 10.100.11.50:5432 from node1's address; replies reach the app from 10.99.0.30:5432", () => {
    const appIp = ip(r.world.cluster!.pods.find((p) => p.name === 'app')!.ip);
    const sent = at(r, 'app/eth0').filter((f) => f.pkt.udp?.dstPort === 5432);
    expect(sent.length).toBe(5);
    expect(new Set(sent.map((f) => `${ip(f.pkt.ip!.src)} > ${ip(f.pkt.ip!.dst)}`))).toEqual(new Set([`${appIp} > 10.99.0.30`]));
    const atDb = at(r, 'database/eth0').filter((f) => f.pkt.udp?.dstPort === 5432);
    expect(atDb.map((f) => `${ip(f.pkt.ip!.src)} > ${ip(f.pkt.ip!.dst)}:${f.pkt.udp!.dstPort}`)).toEqual(Array(5).fill('10.100.11.11 > 10.100.11.50:5432'));
    const back = at(r, 'app/eth0').filter((f) => f.pkt.udp?.srcPort === 5432);
    expect(back.map((f) => `${ip(f.pkt.ip!.src)}:${f.pkt.udp!.srcPort} > ${ip(f.pkt.ip!.dst)}`)).toEqual(Array(5).fill(`10.99.0.30:5432 > ${appIp}`));
    expect(flow(r, 'app-to-db')).toMatchObject({ requests: 5, successes: 5 });
  });
});

describe('http-clusterip.yaml (iptables random) vs http-ipvs.yaml (IPVS rr)', () => {
  let ipt: Run;
  let ipvs: Run;
  beforeAll(() => {
    ipt = runScenario('http-clusterip');
    ipvs = runScenario('http-ipvs');
  });

  it.each([['http-clusterip'], ['http-ipvs']])('%s: per-endpoint served add up to the requests served, shares = served / total, summing to 1', (name) => {
    const r = name === 'http-ipvs' ? ipvs : ipt;
    const served = r.stats.endpoints.reduce((s, e) => s + e.served, 0);
    expect(served).toBe(r.stats.flows.reduce((s, f) => s + f.successes, 0));
    expect(served).toBe(140);
    for (const e of r.stats.endpoints) expect(e.share, e.name).toBeCloseTo(e.served / served, 12);
    expect(r.stats.endpoints.reduce((s, e) => s + e.share, 0)).toBeCloseTo(1, 12);
    expect(r.stats.endpoints.length).toBe(3);
  });

  /** Endpoint pod IP of each client-to-web connection (SYN sent by node1 after DNAT / IPVS), in order. */
  const picks = (r: Run): string[] => {
    const clientIp = ip(podsOf(r, 'client-')[0]!.ip);
    return [...towardPods(r, 'node1/cni0'), ...sentBy(r, 'node1/flannel.1')]
      .filter((f) => isSyn(f.pkt) && ip(f.pkt.ip!.src) === clientIp)
      .sort((a, b) => a.tNs - b.tNs || a.no - b.no)
      // A bridged-DNAT SYN that waited for ARP shows twice on cni0, as on Linux: sent by cni0, then bridged.
      .filter((f, i, all) => all.findIndex((g) => g.pkt.tcp!.seq === f.pkt.tcp!.seq && g.pkt.tcp!.srcPort === f.pkt.tcp!.srcPort) === i)
      .map((f) => ip(f.pkt.ip!.dst));
  };

  it('IPVS rr: the client\'s 100 new connections rotate over the 3 pods in a fixed order (33/33/34)', () => {
    const p = picks(ipvs);
    expect(p.length).toBe(100);
    const order = p.slice(0, 3);
    expect(new Set(order).size).toBe(3);
    expect(p.filter((x, i) => x !== order[i % 3]).length).toBe(0);
  });

  it('iptables random: the 100 connections hit every pod, and not in a round-robin cycle', () => {
    const p = picks(ipt);
    expect(p.length).toBe(100);
    const tally = new Map<string, number>();
    for (const x of p) tally.set(x, (tally.get(x) ?? 0) + 1);
    const counts = [...tally.values()];
    expect(counts.length).toBe(3);
    const order = p.slice(0, 3);
    expect(p.some((x, i) => x !== order[i % 3])).toBe(true);
    // Loose sanity bound for 100 draws at 1/3 each (P(<15) ≈ 1e-4).
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(15);
  });

  it('endpoint shares differ between the modes on the same scenario (same seed)', () => {
    expect(endpointShares(ipvs)).not.toEqual(endpointShares(ipt));
  });
});

describe('podwire inspect --iptables / trace --iptables-save --json (CLI)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'podwire-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  beforeAll(() => ensureBuilt());

  it.each([
    ['http-clusterip', 'node1'],
    ['http-clusterip', 'node2'],
    ['http-ipvs', 'node1'],
  ])('inspect %s --node %s --iptables loads back through the iptables-save parser and renders identically', (scenario, nodeName) => {
    const res = cli(['inspect', `scenarios/${scenario}.yaml`, '--node', nodeName, '--iptables']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^\*nat$/m);
    expect(res.stdout).toMatch(/^\*filter$/m);
    const rs = parseIptablesSave(res.stdout, `${scenario}:${nodeName}`);
    expect(renderIptablesSave(rs)).toBe(res.stdout);
  });

  interface Outcome {
    probability: number;
    verdict: string;
    dnat: string | null;
    masquerade: boolean;
  }
  const trace = (file: string, local: string, src: string, dst: string): Outcome[] => {
    const res = cli(['trace', '--iptables-save', file, '--local-ip', local, '--src', src, '--dst', dst, '--proto', 'tcp', '--json']);
    expect(res.status, res.stderr).toBe(0);
    return (JSON.parse(res.stdout) as { outcomes: Outcome[] }).outcomes;
  };
  const FIXTURE = 'test/fixtures/iptables/kube-proxy-node.save';

  it.each([
    ['10.0.0.2', '172.30.0.44:80', ['10.180.0.4:80', '10.180.0.5:80']],
    ['10.0.0.2', '172.30.0.41:80', ['10.180.0.1:80']],
    ['203.0.113.9', '172.30.0.42:80', ['10.180.0.2:80']],
    ['203.0.113.9', '192.168.0.2:3003', ['10.180.0.3:80']],
  ])('trace on kube-proxy-node.save from %s to %s: probabilities sum to 1 over the expected endpoints', (src, dst, endpoints) => {
    const o = trace(FIXTURE, '192.168.0.2', src, dst);
    expect(o.reduce((s, x) => s + x.probability, 0)).toBeCloseTo(1, 9);
    expect(new Set(o.map((x) => x.dnat))).toEqual(new Set(endpoints));
    for (const x of o) expect(x.probability).toBeCloseTo(1 / endpoints.length, 9);
  });

  it('trace on a node dump podwire rendered (http-clusterip node1, 3 endpoints: statistic 1/3, 1/2, then the rest) gives 1/3 each, summing to 1', () => {
    const res = cli(['inspect', 'scenarios/http-clusterip.yaml', '--node', 'node1', '--iptables']);
    const file = join(tmp, 'node1.save');
    writeFileSync(file, res.stdout);
    const o = trace(file, '10.100.11.11', '10.244.0.9', '10.96.0.50:80');
    expect(o.length).toBe(3);
    expect(o.reduce((s, x) => s + x.probability, 0)).toBeCloseTo(1, 9);
    for (const x of o) expect(x.probability).toBeCloseTo(1 / 3, 6);
    expect(new Set(o.map((x) => x.dnat!.split(':')[1]))).toEqual(new Set(['8080']));
  });
});

describe.skipIf(!TSHARK)(`DNS on the wire (${inTshark})`, () => {
  type Row = Record<string, string>;
  const FIELDS = ['frame.interface_name', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode', 'dns.a', 'dns.cname', 'ip.src', 'ip.dst'];
  const dnsAt = (r: Run, ifName: string): Row[] => tsharkRecords(r.capturePath, FIELDS, ['-Y', `dns && frame.interface_name == "${ifName}"`]);
  const TYPE: Record<string, string> = { '1': 'A', '28': 'AAAA' };
  const queries = (rows: Row[]) => rows.filter((x) => x['dns.flags.response'] === '0').map((x) => `${x['dns.qry.name']} ${TYPE[x['dns.qry.type']!] ?? x['dns.qry.type']}`);

  describe('dns.yaml', () => {
    let r: Run;
    let rows: Row[];
    beforeAll(() => {
      r = runScenario('dns');
      rows = dnsAt(r, 'client/eth0');
    });

    it("a lookup of example.com walks the search list (A and AAAA each) before the bare name, in this order on the client's eth0", () => {
      expect(queries(rows).filter((q) => q.startsWith('example.com'))).toEqual([
        'example.com.default.svc.cluster.local A',
        'example.com.default.svc.cluster.local AAAA',
        'example.com.svc.cluster.local A',
        'example.com.svc.cluster.local AAAA',
        'example.com.cluster.local A',
        'example.com.cluster.local AAAA',
        'example.com A',
        'example.com AAAA',
      ]);
      const answers = rows.filter((x) => x['dns.flags.response'] === '1' && x['dns.qry.name']!.startsWith('example.com'));
      expect(answers.map((x) => `${x['dns.qry.name']} ${TYPE[x['dns.qry.type']!]} rcode=${x['dns.flags.rcode']} ${x['dns.a']}`)).toEqual([
        'example.com.default.svc.cluster.local A rcode=3 ',
        'example.com.default.svc.cluster.local AAAA rcode=3 ',
        'example.com.svc.cluster.local A rcode=3 ',
        'example.com.svc.cluster.local AAAA rcode=3 ',
        'example.com.cluster.local A rcode=3 ',
        'example.com.cluster.local AAAA rcode=3 ',
        'example.com A rcode=0 93.184.216.34',
        'example.com AAAA rcode=0 ',
      ]);
    });

    it('all queries go to kube-dns 10.96.0.10; web resolves at the first search domain to the ClusterIP 10.96.0.50', () => {
      expect(new Set(rows.filter((x) => x['dns.flags.response'] === '0').map((x) => x['ip.dst']))).toEqual(new Set(['10.96.0.10']));
      const web = rows.filter((x) => x['dns.flags.response'] === '1' && x['dns.qry.name'] === 'web.default.svc.cluster.local' && x['dns.qry.type'] === '1');
      expect(web.length).toBeGreaterThanOrEqual(3 + 5);
      expect(new Set(web.map((x) => x['dns.a']))).toEqual(new Set(['10.96.0.50']));
      expect(queries(rows).some((q) => q.startsWith('web.svc.'))).toBe(false);
    });

    it('example.com is forwarded to the upstream resolver on the external network; nosuchservice fails as a DNS error', () => {
      expect(queries(dnsAt(r, 'resolver/eth0'))).toContain('example.com A');
      expect(flow(r, 'lookup-missing')).toMatchObject({ requests: 1, successes: 0, errors: 1 });
      expect(flow(r, 'lookup-missing').errorsByKind['dns']).toBe(1);
      expect(flow(r, 'http-by-name')).toMatchObject({ requests: 5, successes: 5 });
    });
  });

  describe('externalname.yaml', () => {
    let r: Run;
    beforeAll(() => {
      r = runScenario('externalname');
    });

    it('db.default.svc.cluster.local is answered with a CNAME to db.example.com and its address, chased through the upstream resolver', () => {
      const rows = dnsAt(r, 'app/eth0');
      expect(queries(rows)).toEqual(Array(2).fill(['db.default.svc.cluster.local A', 'db.default.svc.cluster.local AAAA']).flat());
      const a = rows.filter((x) => x['dns.flags.response'] === '1' && x['dns.qry.type'] === '1');
      expect(a.map((x) => `${x['dns.cname']} ${x['dns.a']} rcode=${x['dns.flags.rcode']}`)).toEqual(Array(2).fill('db.example.com 10.100.11.60 rcode=0'));
      expect(queries(dnsAt(r, 'resolver/eth0'))).toContain('db.example.com A');
    });

    it('has no kube-proxy rule for the ExternalName service', () => {
      const rules = r.world.cluster!.nodes[0]!.ns.nf!.save();
      expect(rules).toMatch(/^-A KUBE-SERVICES /m);
      expect(rules).not.toMatch(/default\/db/);
    });
  });

  describe('headless.yaml', () => {
    let r: Run;
    beforeAll(() => {
      r = runScenario('headless');
    });

    it('db.default.svc.cluster.local answers with one A record per ready pod (3), no virtual IP', () => {
      const rows = dnsAt(r, 'client/eth0');
      const a = rows.filter((x) => x['dns.flags.response'] === '1' && x['dns.qry.type'] === '1');
      expect(a.length).toBeGreaterThanOrEqual(2);
      const podIps = podsOf(r, 'db-').map((p) => ip(p.ip)).sort();
      for (const x of a) expect(x['dns.a']!.split(',').sort()).toEqual(podIps);
      expect(r.world.services.find((s) => s.name === 'db')!.clusterIP).toBeNull();
    });

    it('the HTTP flow connects straight to a pod IP:8080 (no DNAT)', () => {
      const podIps = new Set(podsOf(r, 'db-').map((p) => ip(p.ip)));
      const syns = at(r, 'client/eth0').filter((f) => isSyn(f.pkt));
      expect(syns.length).toBe(5);
      for (const f of syns) expect(podIps.has(ip(f.pkt.ip!.dst)) && f.pkt.tcp!.dstPort === 8080, ip(f.pkt.ip!.dst)).toBe(true);
      expect(flow(r, 'http-to-first-record')).toMatchObject({ requests: 5, successes: 5 });
    });
  });
});

describe.skipIf(!TSHARK)(`every capture above (${inTshark})`, () => {
  it('has zero malformed frames and zero bad checksums', () => {
    expect(runs.length).toBe(9);
    const report: string[] = [];
    for (const r of runs) {
      const c = tsharkCheck(r.capturePath);
      if (c.malformed + c.badChecksums > 0) report.push(`${r.world.name}: malformed ${c.malformedFrames.slice(0, 5).join(',')} bad checksum ${c.badChecksumFrames.slice(0, 5).join(',')} ${c.errors.slice(0, 3).join('; ')}`);
    }
    expect(report).toEqual([]);
  });
});
