// test/fidelity/kernel-kube-proxy — differential test of kube-proxy's NAT (issue 4, "Done means": a
// differential test against the real kernel — namespaces + real iptables with the rules podwire renders —
// agrees on where each packet goes and what NAT it gets). The cluster of scenarios/http-clusterip.yaml
// (two nodes, flannel VXLAN, NodePort Service web 10.96.0.50:80 → 3 pods :8080, nodePort 30080) plus a
// Service `noep` without endpoints (10.96.0.51:80, nodePort 30081) is built twice: once in podwire, once
// with REAL network namespaces on this machine; every node of the kernel copy gets, through the real
// iptables-restore, exactly the rules podwire loads into that node, in podwire's order (scenario/build →
// programKubeProxy): renderKubeProxyBase() with a plain restore, then flanneld's --ip-masq rules
// (renderFlannelRules) and kubeProxyRestoreText() each with --noflush. The same connections are made on
// both sides and compared.
//
//   pwn-<pid>-node1 10.100.11.11 (rules loaded)              pwn-<pid>-node2 10.100.11.12 (rules loaded)
//   +-------------------------------------------+           +----------------------------------------+
//   | web-a 10.244.0.2  web-b 10.244.0.3        |           | web-c 10.244.1.2                        |
//   | client 10.244.0.4   (veths on cni0)       |           |   (veth on cni0)                        |
//   |   cni0 10.244.0.1/24 bridge, br_netfilter |           |   cni0 10.244.1.1/24, br_netfilter      |
//   |   flannel.1 10.244.0.0/32 (vxlan) ════════╪═══ VXLAN ═╪═  flannel.1 10.244.1.0/32               |
//   |   eth0, default via 10.100.11.1 ──────────┼─ swp1 swp2┼── eth0, default via 10.100.11.1         |
//   +-------------------------------------------+    br0    +----------------------------------------+
//                                    pwn-<pid>-switch  swp3 ── eth0 pwn-<pid>-laptop 10.100.11.100
//
// Decisions (the kernel side, derived from how real nodes are set up, not from podwire):
// - Pods sit on a real bridge cni0, as the CNI bridge plugin puts them. br_netfilter is loaded on this
//   kernel and net.bridge.bridge-nf-call-iptables is per network namespace (kernel ≥ 5.3): it is set to 1
//   in the node namespaces (as kubeadm requires) and 0 in the switch's. Every connection here is routed
//   by the node anyway (pods address the gateway's MAC), so every packet passes PREROUTING/POSTROUTING.
// - Nodes get a default route via 10.100.11.1 on eth0 on BOTH sides (podwire's cluster builder gives
//   nodes none; the test adds it to podwire's node namespaces). Real nodes have one; without it a
//   node-local connect to a ClusterIP fails with ENETUNREACH before OUTPUT, and a pod's SYN to a Service
//   IP without endpoints gets ICMP net-unreachable from routing before FORWARD's REJECT can run.
// - kube-proxy's `-m nfacct` rules need their nfacct objects: they are created with `nfacct add` in
//   each node namespace. Without the nfacct program the matches are stripped from the loaded text (and
//   from podwire's dump before the round-trip comparison).
// - Landing and source address are read where the kernel reports them to an application: a Python TCP
//   server in each web pod prints accept()'s peer (source as the pod sees it, after MASQUERADE) and
//   getsockname() (the DNAT destination). ICMP errors are read by a raw ICMP socket in the sender's
//   namespace. NAT tuples are read with `conntrack -L` in node1 (skipped when conntrack-tools is missing).
//   On podwire's side the same facts come from the namespaces' `hops` trace ('deliver' events) and
//   node1's `nf.conntrack`.
//
// What is compared (kernel vs podwire), per kind of connection:
//   (a) client pod → 10.96.0.50:80, (b) laptop → 10.100.11.11:30080, (c) node1 itself → 10.96.0.50:80:
//       the set of endpoints that received SYNs (60 connections: with statistic 1/3, 1/2, 1 every endpoint
//       is hit, p(miss) ≈ 3·(2/3)^60), none outside the Service's endpoints, the DNAT port (8080), the
//       source address each endpoint saw (no SNAT for a pod inside the cluster CIDR; MASQUERADE, to the
//       address of the interface the packet leaves node1 by, for NodePort and node-local traffic), and
//       node1's conntrack REPLY tuples (who answers, to which address, port kept or remapped).
//   (d) the same three senders → noep (ClusterIP and NodePort): connection refused by ICMP port
//       unreachable, its source address and the datagram it quotes; no conntrack entry is left behind.
//   (e) 10 SYNs at once from each web pod to noep: how many ICMP errors REJECT sends (the kernel's
//       icmp_send rate limit: a token bucket per peer, burst 6).
//   And the round trip: `iptables-save` of each kernel node after loading == podwire's nf.save() for
//   that node, modulo the `#` banner lines and counters.
//
// Two disagreements found by this test were fixed in podwire: a node-local connect to a Service
// without endpoints now sees ECONNREFUSED at once (loopback delivers on the next event, as the
// backlog does), and REJECT's ICMP errors are rate limited per peer like every icmp_send.
// Not covered: hairpin (a web pod reaching itself through the ClusterIP needs hairpin_mode on its cni0
// port; podwire's bridge does not model hairpin mode), IPVS mode, externalTrafficPolicy Local.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioText } from '../../src/scenario/load.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { kubeProxyRestoreText } from '../../src/k8s/kube-proxy/index.js';
import { renderKubeProxyBase } from '../../src/k8s/kube-proxy/iptables.js';
import { renderFlannelRules } from '../../src/k8s/flannel.js';
import type { ClusterNode } from '../../src/k8s/cluster.js';
import type { Namespace } from '../../src/net/namespace.js';
import type { Packet } from '../../src/packet/packet.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatMac } from '../../src/wire/mac.js';
import { IpProto, TcpFlag } from '../../src/wire/types.js';
import { CtStatus } from '../../src/netfilter/conntrack.js';
import {
  CONNTRACK,
  NFACCT,
  PYTHON,
  NetnsSet,
  TCP_BURST,
  TCP_CLIENT,
  TCP_SERVER,
  buildCluster,
  killAll,
  listConntrack,
  loadRules,
  normalizeSave,
  natSkipReason,
  nsSpawn,
  pythonJson,
  reapStaleNetns,
  saveRules,
  stopChild,
  stripNfacct,
  waitFor,
  type Child,
  type ClusterPlan,
  type CtLine,
  type NsNames,
} from '../helpers/netns-nat.js';

const SKIP = natSkipReason();

const CONNS = 60;
const REJECTS = 3;
const BURST = 10;
const GATEWAY = '10.100.11.1';

/** http-clusterip.yaml's cluster, web and client, plus the Service noep; one traffic flow per phase, a second apart. */
const SCENARIO = `
apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: kernel-kube-proxy }
spec:
  seed: 7
  cluster:
    podCIDR: 10.244.0.0/16
    serviceCIDR: 10.96.0.0/12
    cni: flannel-vxlan
    network: { cidr: 10.100.11.0/24, rate: 1Gbps, delay: 50us }
    nodes:
      - { name: node1, ip: 10.100.11.11 }
      - { name: node2, ip: 10.100.11.12 }
    externalHosts:
      - { name: laptop, ip: 10.100.11.100 }
  traffic:
    - { name: pod-clusterip, type: http, from: deployment/client, to: "svc/web:80", rate: 200, arrival: constant, count: ${CONNS}, start: 1s, connection: new }
    - { name: laptop-nodeport, type: http, from: host/laptop, to: "node/node1:30080", rate: 200, arrival: constant, count: ${CONNS}, start: 2s, connection: new }
    - { name: node-clusterip, type: http, from: node/node1, to: "svc/web:80", rate: 200, arrival: constant, count: ${CONNS}, start: 3s, connection: new }
    - { name: pod-noep, type: http, from: deployment/client, to: "svc/noep:80", rate: 20, arrival: constant, count: ${REJECTS}, start: 4s, connection: new }
    - { name: laptop-noep-nodeport, type: http, from: host/laptop, to: "node/node1:30081", rate: 20, arrival: constant, count: ${REJECTS}, start: 5s, connection: new }
    - { name: node-noep, type: http, from: node/node1, to: "svc/noep:80", rate: 20, arrival: constant, count: ${REJECTS}, start: 6s, connection: new }
    - { name: burst-noep, type: http, from: deployment/web, to: "svc/noep:80", rate: 100000, arrival: constant, count: ${BURST}, start: 7s, timeout: 500ms, connection: new }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      annotations:
        podwire.dev/app: http
        podwire.dev/workers: "2"
        podwire.dev/response-size: "512"
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: client }
spec:
  replicas: 1
  selector: { matchLabels: { app: client } }
  template:
    metadata: { labels: { app: client } }
    spec:
      nodeName: node1
      containers: [{ name: client, image: curlimages/curl:8.10.1 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  clusterIP: 10.96.0.50
  selector: { app: web }
  ports:
    - { name: http, port: 80, targetPort: http, nodePort: 30080 }
---
apiVersion: v1
kind: Service
metadata: { name: noep }
spec:
  type: NodePort
  clusterIP: 10.96.0.51
  selector: { app: nothing-has-this-label }
  ports:
    - { name: http, port: 80, targetPort: 8080, nodePort: 30081 }
`;

/** The connection phases, in the order both sides run them (podwire: phase i starts at i+1 s). */
const PHASES = ['pod-clusterip', 'laptop-nodeport', 'node-clusterip', 'pod-noep', 'laptop-noep-nodeport', 'node-noep', 'burst-noep'] as const;
type Phase = (typeof PHASES)[number];
type AcceptPhase = 'pod-clusterip' | 'laptop-nodeport' | 'node-clusterip';
type RejectPhase = 'pod-noep' | 'laptop-noep-nodeport' | 'node-noep';

/** A SYN as the receiving web pod saw it: the endpoint (after DNAT) and the source (after any SNAT). */
interface Landing {
  pod: string;
  endpoint: string;
  src: string;
}

/** An ICMP error as the sender's namespace received it. */
interface IcmpSeen {
  src: string;
  type: number;
  code: number;
  innerDst: string;
  innerDport: number;
}

/** Everything one side observed. */
interface Observed {
  label: 'kernel' | 'podwire';
  landings: Record<AcceptPhase, Landing[]>;
  /** Connections the sender saw succeed, per accepting phase. */
  succeeded: Record<AcceptPhase, number>;
  /** Attempts refused (ECONNREFUSED), and the ICMP errors the sender received, per rejecting phase. */
  refused: Record<RejectPhase, number>;
  icmp: Record<RejectPhase, IcmpSeen[]>;
  /** Burst: ICMP port unreachable received by each web pod (by pod name). */
  burstIcmp: Record<string, number>;
  /** node1's conntrack table (TCP), null when it cannot be read. */
  conntrack: CtLine[] | null;
  /** iptables-save per node (normalized). */
  saves: Record<string, string>;
}

const emptyAccept = <T>(f: () => T): Record<AcceptPhase, T> => ({ 'pod-clusterip': f(), 'laptop-nodeport': f(), 'node-clusterip': f() });
const emptyReject = <T>(f: () => T): Record<RejectPhase, T> => ({ 'pod-noep': f(), 'laptop-noep-nodeport': f(), 'node-noep': f() });

// --- the podwire side ----------------------------------------------------------------------------

interface PodwireRun {
  world: World;
  obs: Observed;
  plan: ClusterPlan;
  /** iptables-restore texts per node, in load order: kube-proxy's base, flanneld's rules, kube-proxy's sync. */
  rules: Record<string, string[]>;
}

const ipText = (a: number): string => formatIpv4(a);

function runPodwire(): PodwireRun {
  const loaded = loadScenarioText(SCENARIO, 'kernel-kube-proxy.yaml');
  const world = buildWorld(loaded, 7);
  const c = world.cluster!;
  const gw = parseIpv4(GATEWAY)!;
  // podwire gives every node `default via` the network's .1 (k8s/cluster.ts defaultViaGateway), as the kernel side sets it.
  for (const n of c.nodes) {
    const defaults = n.ns.mainTable.all().filter((r) => r.prefix === 0);
    if (defaults.length !== 1 || defaults[0]!.gateway !== gw || defaults[0]!.dev !== n.eth0) throw new Error(`${n.name}: no default via ${GATEWAY}`);
  }

  const obs = emptyObserved('podwire');
  const phaseNow = (): Phase | undefined => PHASES[Math.floor(world.sim.now / 1e9) - 1];
  const webPods = c.pods.filter((p) => p.deployment === 'web');
  const client = c.pods.find((p) => p.deployment === 'client')!;
  const node1 = c.nodes.find((n) => n.name === 'node1')!;
  const laptop = c.hosts.find((h) => h.name === 'laptop')!;
  for (const p of webPods) {
    p.ns.hops.connect((_ns: Namespace, pkt: Packet, ev) => {
      if (ev.kind !== 'deliver' || pkt.tcp === null || pkt.ip === null) return;
      if ((pkt.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) return;
      const ph = phaseNow();
      if (ph === 'pod-clusterip' || ph === 'laptop-nodeport' || ph === 'node-clusterip') obs.landings[ph].push({ pod: p.name, endpoint: `${ipText(pkt.ip.dst)}:${pkt.tcp.dstPort}`, src: ipText(pkt.ip.src) });
    });
  }
  const icmpOf = (pkt: Packet): IcmpSeen | null => {
    if (pkt.ip === null || pkt.icmp === null || pkt.ip.protocol !== IpProto.ICMP || pkt.icmp.type !== 3) return null;
    const inner = pkt.inner;
    return { src: ipText(pkt.ip.src), type: pkt.icmp.type, code: pkt.icmp.code, innerDst: inner?.ip ? ipText(inner.ip.dst) : '?', innerDport: inner?.tcp?.dstPort ?? -1 };
  };
  const senders: [Namespace, RejectPhase][] = [
    [client.ns, 'pod-noep'],
    [laptop.ns, 'laptop-noep-nodeport'],
    [node1.ns, 'node-noep'],
  ];
  for (const [ns, phase] of senders) {
    ns.hops.connect((_ns, pkt, ev) => {
      if (ev.kind !== 'deliver' || phaseNow() !== phase) return;
      const seen = icmpOf(pkt);
      if (seen) obs.icmp[phase].push(seen);
    });
  }
  for (const p of webPods) {
    obs.burstIcmp[p.name] = 0;
    p.ns.hops.connect((_ns, pkt, ev) => {
      if (ev.kind !== 'deliver' || phaseNow() !== 'burst-noep') return;
      const seen = icmpOf(pkt);
      if (seen && seen.code === 3) obs.burstIcmp[p.name]!++;
    });
  }

  world.sim.run({ until: (PHASES.length + 1) * 1e9 + 5e8 });

  for (const ph of ['pod-clusterip', 'laptop-nodeport', 'node-clusterip'] as const) obs.succeeded[ph] = world.stats.flow(ph).successes;
  for (const ph of ['pod-noep', 'laptop-noep-nodeport', 'node-noep'] as const) obs.refused[ph] = world.stats.flow(ph).errors.refused;
  const now = world.sim.now;
  obs.conntrack = node1.ns.nf!.conntrack
    .list()
    .filter((ct) => ct.expires > now && ct.tuple[0].proto === IpProto.TCP && (ct.status & CtStatus.CONFIRMED) !== 0)
    .map((ct) => {
      const [o, r] = ct.tuple;
      return {
        proto: 'tcp',
        state: ct.tcpState,
        orig: { src: ipText(o.src), dst: ipText(o.dst), sport: o.sport, dport: o.dport },
        reply: { src: ipText(r.src), dst: ipText(r.dst), sport: r.sport, dport: r.dport },
      };
    });

  // As scenario/build programs each node (programKubeProxy with flannel's rules as the preload).
  const kp = loaded.scenario.spec.cluster!.kubeProxy;
  const opts = { mode: 'iptables' as const, scheduler: kp.scheduler, clusterCIDR: c.config.podCIDR, masqueradeAll: kp.masqueradeAll, randomFully: kp.randomFully };
  const rules: PodwireRun['rules'] = {};
  for (const n of c.nodes) {
    rules[n.name] = [renderKubeProxyBase(), renderFlannelRules(c.config.podCIDR, `${ipText(n.podNet)}/${n.podPrefix}`, kp.randomFully), kubeProxyRestoreText(n, world.services, opts)];
    const save = n.ns.nf!.save();
    obs.saves[n.name] = normalizeSave(NFACCT ? save : stripNfacct(save));
  }
  return { world, obs, plan: planOf(world), rules };
}

/** The kernel plan of podwire's cluster (same names, addresses and MACs). */
function planOf(world: World): ClusterPlan {
  const c = world.cluster!;
  const mac = (m: number): string => formatMac(m);
  let swp = 0;
  // cluster.ts links the switch ports in creation order: the nodes first, then the external hosts.
  const nextSwp = (): { name: string; mac: string } => {
    const name = `swp${++swp}`;
    return { name, mac: mac(c.network.device(name)!.mac) };
  };
  const podMtu = c.config.cni === 'flannel-vxlan' ? c.config.network.mtu - 50 : c.config.network.mtu;
  const nodes = c.nodes.map((n: ClusterNode) => ({
    name: n.name,
    ip: ipText(n.ip),
    eth0Mac: mac(n.eth0.mac),
    swp: nextSwp(),
    cni0Mac: mac(n.cni0!.mac),
    flannelMac: mac(n.flannel!.mac),
    podNet: ipText(n.podNet),
    podPrefix: n.podPrefix,
  }));
  const hosts = c.hosts.map((h) => ({ name: h.name, ip: ipText(h.ip), eth0Mac: mac(h.ns.device('eth0')!.mac), swp: nextSwp() }));
  const pods = c.pods.map((p) => ({ name: p.name, node: p.node.name, ip: ipText(p.ip), eth0Mac: mac(p.ns.device('eth0')!.mac), veth: { name: p.hostVeth!.name, mac: mac(p.hostVeth!.mac) } }));
  return {
    netPrefix: Number(c.config.network.cidr.split('/')[1]),
    podCidr: c.config.podCIDR,
    vni: c.config.vni,
    vxlanPort: c.config.vxlanPort,
    podMtu,
    switchBr: { name: 'br0', mac: mac(c.network.device('br0')!.mac) },
    nodes,
    pods,
    hosts,
    defaultGateway: GATEWAY,
  };
}

// --- the kernel side -----------------------------------------------------------------------------

interface ClientResult {
  attempts: { result: string; local?: string; localPort?: number }[];
  icmp: { src: string; type: number; code: number; innerDst?: string; innerDport?: number }[];
}

interface ServerLine {
  peer: string;
  peerPort: number;
  local: string;
  localPort: number;
}

/** An observation with nothing seen yet. */
function emptyObserved(label: Observed['label']): Observed {
  return { label, landings: emptyAccept(() => []), succeeded: emptyAccept(() => 0), refused: emptyReject(() => 0), icmp: emptyReject(() => []), burstIcmp: {}, conntrack: null, saves: {} };
}

async function runKernel(pw: PodwireRun, set: NetnsSet): Promise<Observed> {
  const plan = pw.plan;
  const names: NsNames = buildCluster(plan, set);
  for (const n of plan.nodes) loadRules(names.get(n.name)!, pw.rules[n.name]!);
  const obs = emptyObserved('kernel');
  for (const n of plan.nodes) obs.saves[n.name] = saveRules(names.get(n.name)!);

  const webPods = plan.pods.filter((p) => p.name.startsWith('web-'));
  const client = plan.pods.find((p) => p.name.startsWith('client-'))!;
  const node1 = plan.nodes.find((n) => n.name === 'node1')!;
  const ns = (podwireName: string): string => names.get(podwireName)!;
  const servers: { pod: string; child: Child; seen: number }[] = [];
  try {
    for (const p of webPods) servers.push({ pod: p.name, child: nsSpawn(ns(p.name), PYTHON!, ['-c', TCP_SERVER, '8080', '60']), seen: 0 });
    await waitFor(() => servers.every((s) => s.child.stdout().includes('ready') || s.child.proc.exitCode !== null), 5000, 'the web pods\u2019 TCP servers');
    for (const s of servers) if (!s.child.stdout().includes('ready')) throw new Error(`TCP server in ${s.pod} did not start: ${s.child.stderr()}`);
    const lines = (s: (typeof servers)[number]): ServerLine[] =>
      s.child
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ServerLine);

    const accepting: [AcceptPhase, string, string, number][] = [
      ['pod-clusterip', client.name, '10.96.0.50', 80],
      ['laptop-nodeport', 'laptop', node1.ip, 30080],
      ['node-clusterip', 'node1', '10.96.0.50', 80],
    ];
    for (const [phase, from, dst, port] of accepting) {
      const r = pythonJson<ClientResult>(ns(from), TCP_CLIENT, [dst, String(port), String(CONNS), '2'], 30_000);
      const ok = r.attempts.filter((a) => a.result === 'ok').length;
      obs.succeeded[phase] = ok;
      const total = (): number => servers.reduce((a, s) => a + lines(s).length - s.seen, 0);
      await waitFor(() => total() >= ok, 3000, `${ok} accepts for ${phase}`).catch(() => undefined);
      for (const s of servers) {
        const all = lines(s);
        for (const l of all.slice(s.seen)) obs.landings[phase].push({ pod: s.pod, endpoint: `${l.local}:${l.localPort}`, src: l.peer });
        s.seen = all.length;
      }
    }
    const rejecting: [RejectPhase, string, string, number][] = [
      ['pod-noep', client.name, '10.96.0.51', 80],
      ['laptop-noep-nodeport', 'laptop', node1.ip, 30081],
      ['node-noep', 'node1', '10.96.0.51', 80],
    ];
    for (const [phase, from, dst, port] of rejecting) {
      const r = pythonJson<ClientResult>(ns(from), TCP_CLIENT, [dst, String(port), String(REJECTS), '2'], 15_000);
      obs.refused[phase] = r.attempts.filter((a) => a.result === 'refused').length;
      obs.icmp[phase] = r.icmp.filter((m) => m.type === 3).map((m) => ({ src: m.src, type: m.type, code: m.code, innerDst: m.innerDst ?? '?', innerDport: m.innerDport ?? -1 }));
    }
    for (const p of webPods) {
      const r = pythonJson<{ refused: number; pending: number; icmp: number }>(ns(p.name), TCP_BURST, ['10.96.0.51', '80', String(BURST), '0.5'], 10_000);
      obs.burstIcmp[p.name] = r.icmp;
    }
    // After every phase: TIME_WAIT entries (120 s) of the accepted connections are all still there.
    if (CONNTRACK) obs.conntrack = listConntrack(ns('node1'));
  } finally {
    for (const s of servers) await stopChild(s.child, 500);
  }
  return obs;
}

// --- comparisons ---------------------------------------------------------------------------------

/** endpoint → number of SYNs it received. */
function hits(ls: Landing[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of ls) out[l.endpoint] = (out[l.endpoint] ?? 0) + 1;
  return out;
}

/** endpoint → sorted distinct source addresses it saw. */
function sourcesByEndpoint(ls: Landing[]): Record<string, string[]> {
  const m = new Map<string, Set<string>>();
  for (const l of ls) {
    let s = m.get(l.endpoint);
    if (!s) m.set(l.endpoint, (s = new Set()));
    s.add(l.src);
  }
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, [...v].sort()]));
}

/** Conntrack entries of one phase, reduced to their NAT shape: "orig → reply src (answerer) → reply dst, port kept|remapped". */
function natShapes(cts: CtLine[], origSrc: string, origDst: string, dport: number): { shapes: string[]; count: number; remapped: number } {
  const mine = cts.filter((c) => c.orig.src === origSrc && c.orig.dst === origDst && c.orig.dport === dport);
  const shapes = new Set<string>();
  let remapped = 0;
  for (const c of mine) {
    const kept = c.reply.dport === c.orig.sport;
    if (!kept) remapped++;
    const snat = c.reply.dst === c.orig.src ? 'no SNAT' : `SNAT to ${c.reply.dst}`;
    shapes.add(`${c.orig.src} → ${c.orig.dst}:${c.orig.dport} DNAT to ${c.reply.src}:${c.reply.sport}, ${snat}`);
  }
  return { shapes: [...shapes].sort(), count: mine.length, remapped };
}

// --- the tests -----------------------------------------------------------------------------------

describe.skipIf(SKIP !== null)(`kernel differential: kube-proxy iptables NAT${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  const set = new NetnsSet();
  let pw: PodwireRun;
  let kernel: Observed;
  let podwire: Observed;
  let endpoints: string[];
  let node1: { ip: string; cni0: string; flannel: string; podNet: string };
  let clientIp: string;

  beforeAll(async () => {
    reapStaleNetns();
    pw = runPodwire();
    podwire = pw.obs;
    const web = pw.world.services.find((s) => s.name === 'web')!;
    endpoints = web.ports[0]!.endpoints.map((e) => `${ipText(e.ip)}:${e.port}`).sort();
    const n1 = pw.plan.nodes.find((n) => n.name === 'node1')!;
    const base = n1.podNet.split('.').slice(0, 3).join('.');
    node1 = { ip: n1.ip, cni0: `${base}.1`, flannel: n1.podNet, podNet: base };
    clientIp = pw.plan.pods.find((p) => p.name.startsWith('client-'))!.ip;
    try {
      kernel = await runKernel(pw, set);
    } catch (e) {
      await killAll();
      set.destroy();
      throw e;
    }
  }, 80_000);

  afterAll(async () => {
    await killAll();
    set.destroy();
  });

  /** The address MASQUERADE picks on node1 for a packet to `endpoint`: that of the interface it leaves by. */
  const masqAddr = (endpoint: string): string => (endpoint.startsWith(`${node1.podNet}.`) ? node1.cni0 : node1.flannel);

  it('round trip: iptables-save in the kernel after loading podwire\u2019s rules equals podwire\u2019s nf.save() (every node)', () => {
    for (const node of Object.keys(podwire.saves)) {
      expect(podwire.saves[node], `${node}: podwire nf.save() (left) vs kernel iptables-save (right)`).toBe(kernel.saves[node]);
    }
  });

  describe.each(['pod-clusterip', 'laptop-nodeport', 'node-clusterip'] as const)('%s', (phase) => {
    it(`every connection succeeds; the same endpoints receive SYNs (all of the Service\u2019s, none else), DNAT port 8080`, () => {
      for (const o of [kernel, podwire]) {
        expect(o.succeeded[phase], `${o.label}: connections that succeeded`).toBe(CONNS);
        expect(o.landings[phase].length, `${o.label}: SYNs delivered to web pods`).toBe(CONNS);
      }
      const k = hits(kernel.landings[phase]);
      const p = hits(podwire.landings[phase]);
      expect(Object.keys(k).sort(), `kernel: endpoints hit ${JSON.stringify(k)}`).toEqual(endpoints);
      expect(Object.keys(p).sort(), `podwire: endpoints hit ${JSON.stringify(p)}`).toEqual(endpoints);
      // 1/3 each: Binomial(60, 1/3) < 5 has probability ~3e-6.
      for (const [label, h] of [['kernel', k], ['podwire', p]] as const) for (const e of endpoints) expect(h[e], `${label}: ${e} share of ${CONNS} (${JSON.stringify(h)})`).toBeGreaterThanOrEqual(5);
    });

    it('each endpoint sees the same source address (SNAT or not, and to which address)', () => {
      const k = sourcesByEndpoint(kernel.landings[phase]);
      const p = sourcesByEndpoint(podwire.landings[phase]);
      // What the kernel should do, spelled out so a failure explains itself.
      const expected: Record<string, string[]> = {};
      for (const e of endpoints) {
        if (phase === 'pod-clusterip') expected[e] = [clientIp];
        else expected[e] = [masqAddr(e)];
      }
      expect(k, 'kernel: endpoint → sources seen (expected: pod traffic unmasqueraded; NodePort/node-local MASQUERADEd to the outgoing interface\u2019s address)').toEqual(expected);
      expect(p, 'podwire: endpoint → sources seen, vs the kernel').toEqual(k);
    });

    it.skipIf(CONNTRACK === null)(`node1 conntrack: the same NAT tuples${CONNTRACK ? '' : ' (skipped: conntrack-tools not installed)'}`, () => {
      const [src, dst, dport] = phase === 'pod-clusterip' ? [clientIp, '10.96.0.50', 80] : phase === 'laptop-nodeport' ? [pw.plan.hosts[0]!.ip, node1.ip, 30080] : [node1.ip, '10.96.0.50', 80];
      const k = natShapes(kernel.conntrack!, src, dst, dport);
      const p = natShapes(podwire.conntrack!, src, dst, dport);
      expect(k.count, `kernel: conntrack entries for ${src} → ${dst}:${dport}`).toBe(CONNS);
      expect(p.count, `podwire: conntrack entries for ${src} → ${dst}:${dport}`).toBe(CONNS);
      expect(p.shapes, 'podwire conntrack NAT shapes vs the kernel\u2019s').toEqual(k.shapes);
      if (phase === 'pod-clusterip') {
        // No SNAT: the REPLY tuple's destination port is the original source port.
        expect(k.remapped, 'kernel: source ports remapped without SNAT').toBe(0);
        expect(p.remapped, 'podwire: source ports remapped without SNAT').toBe(0);
      } else {
        // MASQUERADE --random-fully: a random port (equal to the original by chance ~1/64k).
        expect(k.remapped, 'kernel: source ports remapped by MASQUERADE --random-fully').toBeGreaterThanOrEqual(CONNS - 2);
        expect(p.remapped, 'podwire: source ports remapped by MASQUERADE --random-fully').toBeGreaterThanOrEqual(CONNS - 2);
      }
    });
  });

  describe.each(['pod-noep', 'laptop-noep-nodeport', 'node-noep'] as const)('%s (no endpoints: REJECT)', (phase) => {
    it('every attempt is answered by ICMP port unreachable from the same source, quoting the same datagram', () => {
      const dst = phase === 'laptop-noep-nodeport' ? `${node1.ip}:30081` : '10.96.0.51:80';
      // icmp_send picks the source: the original destination when it was a local address (NodePort on
      // node1), else the address routing picks toward the sender (cni0's for a pod; for node-local
      // traffic the route to itself is a local route, whose source is the address itself).
      const src = phase === 'pod-noep' ? node1.cni0 : node1.ip;
      const expected = [`from ${src} type 3 code 3 quoting ${dst}`];
      const fmt = (o: Observed): string[] => [...new Set(o.icmp[phase].map((m) => `from ${m.src} type ${m.type} code ${m.code} quoting ${m.innerDst}:${m.innerDport}`))].sort();
      expect(fmt(kernel), 'kernel: ICMP errors received').toEqual(expected);
      expect(kernel.icmp[phase].length, 'kernel: ICMP errors received (one per attempt)').toBe(REJECTS);
      expect(kernel.refused[phase], 'kernel: attempts refused (ECONNREFUSED)').toBe(REJECTS);
      expect(fmt(podwire), 'podwire: ICMP errors received, vs the kernel').toEqual(fmt(kernel));
      expect(podwire.icmp[phase].length, 'podwire: ICMP errors received (one per attempt)').toBe(kernel.icmp[phase].length);
    });

    it(`the sender sees every attempt refused at once (ECONNREFUSED)`, () => {
      expect(podwire.refused[phase], 'podwire: attempts refused (HttpClient errors of kind "refused"), vs the kernel').toBe(kernel.refused[phase]);
    });
  });

  it.skipIf(CONNTRACK === null)('no conntrack entry is left for a REJECTed connection (never confirmed)', () => {
    const rejected = (cts: CtLine[]): CtLine[] => cts.filter((c) => c.orig.dst === '10.96.0.51' || c.orig.dport === 30081);
    expect(rejected(kernel.conntrack!), 'kernel').toEqual([]);
    expect(rejected(podwire.conntrack!), 'podwire').toEqual([]);
  });

  it(`kernel: of ${BURST} simultaneous SYNs to a Service without endpoints, REJECT answers 6 (icmp_send's per-peer burst)`, () => {
    expect(Object.keys(kernel.burstIcmp).length).toBe(3);
    for (const [pod, n] of Object.entries(kernel.burstIcmp)) expect(n, `kernel: ICMP port unreachable to ${pod} for ${BURST} simultaneous SYNs`).toBe(6);
  });

  it('a burst of SYNs to a Service without endpoints: REJECT\u2019s ICMP errors are rate limited per peer (burst 6)', () => {
    expect(podwire.burstIcmp, `ICMP port unreachable per web pod for ${BURST} simultaneous SYNs: podwire (left) vs kernel (right)`).toEqual(kernel.burstIcmp);
  });
});
