// bench/run — the ns-3 performance anchors (../shared/anchors/ns3, RESULTS.md) rebuilt with podwire's
// real classes, one line per scenario in the anchor's form:
//
//   S1 deliveries=400000 wall_s=… pkts_per_s=… events=… events_per_s=… rss_mib=… frames=…
//
// Usage: npm run bench                    (S1, S2, S3, S4, H1, each in its own child process)
//        npm run bench -- S1 S3           (chosen scenarios; also I1 and C1, which are not in the default set)
//        npm run bench -- --ns3 --runs 3  (each of S1–S4 beside its ns-3 twin, interleaved round-robin, 3 rounds)
//        npm run bench -- --scale         (then the scale grid: node dist/bench/scale.js, quick grid)
// --ns3 runs ../shared/anchors/ns3's programs (built by its run.sh with BUILD_ONLY=1 into $NS3_BUILD,
// default ${TMPDIR:-/tmp}/ns3-anchor/build, if they are not there; needs libns3-dev 3.37 and g++). Without
// ns-3 the summary compares with the medians recorded in RESULTS.md. The summary ends with the capture
// ratio (S4 wall / S1 wall, paired by round), podwire's and ns-3's.
// wall_s is measured around Simulator.run() only (setup excluded, as the anchor does); cpu_s is the
// child's user + system CPU over the same span; rss_mib is the child process's peak resident set
// (process.resourceUsage().maxRSS). Speed is measured here, never asserted in a test.
//
// S1 udp-echo-chain   A —— R —— B, two 1 Gbps / 50 µs NicDevice+Channel links, 200,000 UDP echo
//                     requests of 64 bytes every 10 µs from t = 1 s to B:9 (UdpEchoServer), stop at 4 s.
// S2 bridge-star      32 hosts, each on its own 1 Gbps / 1 µs link to a port of one BridgeDevice; each
//                     sends 6,250 64-byte datagrams every 100 µs from 1 s + i·3.125 µs to a peer chosen
//                     by the anchor's per-host xorshift32; stop at 2.625 s.
// S3 tcp-bulk         S1's topology; one TCP connection A → B:5000 sends 10^8 bytes from t = 1 s (Linux
//                     defaults: CUBIC, SACK, timestamps, MSS 1448); stops when B has received them all.
// S4 echo + pcapng    S1 with every one of the 4 devices captured into one pcapng (PcapngWriter), its writer
//                     thread booted before the world's build and up before the timed run, as `podwire run` does.
// H1 http-service     HTTP through a ClusterIP Service: 2 nodes (flannel VXLAN), 3 web pods, 4 client
//                     pods, each opening a new TCP connection per request at 500 req/s for 20 s
//                     simulated (40,000 requests), kube-proxy iptables mode; reports requests
//                     simulated per wall second (no capture).
// H1L http-service H1 over 50 s simulated (100,000 requests). Run beside H1 (`npm run bench -- H1 H1L
//                     --runs 3`), the pair gives H1's steady-state cost: (H1L − H1) CPU and wall over
//                     (H1L − H1) requests, paired by round — a request's cost without the JIT's warm-up,
//                     about 30 % of H1's CPU time (measured 2026-12-04).
// I1 http-ingress     H1's workload through an ingress-nginx controller pod: the clients call the
//                     controller's ClusterIP (kube-proxy DNAT), the controller ends their connection,
//                     picks a web pod per request (round robin) and keeps a keep-alive pool to the
//                     pods; requests per wall second and peak RSS, as H1.
// C1 rule-cost curve  the cost model (spec.cluster.kubeProxy.costModel, netfilter/cost-model.ts): a generated
//                     2-node cluster with S Services (S = 10 … 5,000), one client pod calling the middle
//                     Service with a new connection per request, in iptables, nftables and ipvs mode, with
//                     perRule 50ns (and iptables without the model); prints the handshake and request p50.
//
// Differences from the ns-3 twin (see bench/README.md): Ethernet framing with ARP instead of PPP,
// no FqCoDel root qdisc (a drop-tail txqueue of 1000), full-duplex links in S2 (ns-3 CSMA is half duplex).
import '../src/cli/v8-tuning.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UdpEchoServer } from '../src/app/udp-probe.js';
import { prestartWriterThread } from '../src/capture/async-sink.js';
import { PcapngWriter } from '../src/capture/pcapng.js';
import { Simulator } from '../src/core/simulator.js';
import { BridgeDevice } from '../src/link/bridge.js';
import { Channel, type ChannelConfig } from '../src/link/channel.js';
import { NicDevice } from '../src/link/nic.js';
import type { NetDevice } from '../src/link/device.js';
import { Namespace } from '../src/net/namespace.js';
import { UdpLayer } from '../src/transport/udp.js';
import { parseIpv4 } from '../src/wire/ipv4-addr.js';
import { loadScenarioText } from '../src/scenario/load.js';
import { buildWorld } from '../src/scenario/build.js';
import { generateClusterYaml, CLUSTER_GEN_DEFAULTS } from '../src/scenario/generate.js';
import { TcpLayer } from '../src/transport/tcp/index.js';
import { chainABR } from './chain.js';

const SCENARIOS = ['S1', 'S2', 'S3', 'S4', 'H1', 'H1L', 'I1', 'C1'] as const;
type ScenarioId = (typeof SCENARIOS)[number];
const DEFAULT_SET: ScenarioId[] = ['S1', 'S2', 'S3', 'S4', 'H1'];

interface Result {
  deliveries: number;
  wallS: number;
  /** User + system CPU seconds of the child over the same span as wallS. */
  cpuS?: number;
  events: number;
  frames: number;
  extra: string;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function ip(text: string): number {
  const v = parseIpv4(text);
  if (v === null) throw new Error(`bad address ${text}`);
  return v;
}

let macSeq = 1;
const mac = (): number => 0x020000000000 + macSeq++;

function nic(sim: Simulator, ns: Namespace, name: string): NicDevice {
  const d = new NicDevice(sim, name, mac());
  ns.addDevice(d);
  return d;
}

/** Packets handed to UDP at a host (matched, unmatched and malformed). */
function udpIn(u: UdpLayer): number {
  const c = u.counters;
  return c.InDatagrams + c.NoPorts + c.InErrors;
}

function framesOf(devs: NetDevice[]): number {
  let n = 0;
  for (const d of devs) n += d.stats.rxPackets;
  return n;
}

/** S1 (and S4 with `pcap`): A — R — B. */
function s1(pcap: boolean): Result {
  // S4: the capture's writer thread is booted before the world is built, as `podwire run` does (session 36;
  // capture/async-sink prestartWriterThread), and the timed run starts once it is up (ready_ms: the wait for
  // it after the setup; S1's setup is a few ms, a scenario's build 5–340 ms), as bench/capture-cost's `early`.
  if (pcap) prestartWriterThread();
  const sim = new Simulator(1);
  const { a, b, ea, ra, rb, eb } = chainABR(sim);
  const ua = new UdpLayer(a);
  const ub = new UdpLayer(b);
  new UdpEchoServer(ub, 9);
  const client = ua.socket().connect(ip('10.1.2.2'), 9);
  let replies = 0;
  client.onMessage = () => replies++;
  const N = 200_000;
  let sent = 0;
  const send = (): void => {
    client.send(64);
    if (++sent < N) sim.schedule(10_000, send);
  };
  sim.scheduleAt(1e9, send);

  const devs = [ea, ra, rb, eb];
  let writer: PcapngWriter | null = null;
  let dir = '';
  let path = '';
  if (pcap) {
    dir = mkdtempSync(join(tmpdir(), 'podwire-bench-'));
    path = join(dir, 's4.pcapng');
    const w = new PcapngWriter(path, { application: 'podwire-bench' });
    writer = w;
    for (const d of devs) w.addInterface(d.qualifiedName);
    // As scenario/run.ts: a capture point per device; a frame's arrival at the wire peer (ea ↔ ra, rb ↔ eb)
    // copies its departure's bytes.
    devs.forEach((d, id) => {
      d.capture = w.point(id, sim, id ^ 1);
    });
  }
  const tr = performance.now();
  writer?.asyncSink?.waitThreadUp(5000);
  const readyMs = performance.now() - tr;
  const c0 = cpuNow();
  const m0 = process.hrtime.bigint();
  const t0 = performance.now();
  sim.run({ until: 4e9 });
  const mr = Number(process.hrtime.bigint() - m0) / 1e6;
  const tc = performance.now();
  if (writer) writer.close(); // flushing the file is part of the capture's cost
  const t1 = performance.now();
  const wallS = (t1 - t0) / 1000;
  const cpuS = cpuNow() - c0;
  let extra = `replies=${replies}`;
  if (pcap) {
    // close_ms: the wall from the last event to close() returning (the writer thread's last chunks, the final fsync, the rename).
    extra += ` pcap_bytes=${statSync(path).size} close_ms=${(t1 - tc).toFixed(1)} ready_ms=${readyMs.toFixed(1)}`;
    // wall_ns3_s: ns-3's window, as bench/capture-cost's wallNs3: the run until the writer thread's last write(2)
    // returned (threadStats[16], CLOCK_MONOTONIC ms as hrtime), without the final fsync and the rename — ns-3's
    // Simulator::Run() hands its pcap bytes to the kernel (ofstream) and closes its files after it, never fsynced.
    const lastWrite = writer?.asyncSink?.threadStats[16] ?? 0;
    if (lastWrite > 0) extra += ` wall_ns3_s=${(Math.max(mr, lastWrite - Number(m0) / 1e6) / 1000).toFixed(4)}`;
    rmSync(dir, { recursive: true, force: true });
  }
  return { deliveries: udpIn(ua) + udpIn(ub), wallS, cpuS, events: sim.eventsExecuted, frames: framesOf(devs), extra };
}

/** The anchor's per-host destination sequence (s2_bridge_star.cc): xorshift32 from 2463534242 + i. */
export function xorshiftDestinations(i: number, k: number): () => number {
  let s = (2463534242 + i) >>> 0;
  return () => {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    return (i + 1 + (s % (k - 1))) % k;
  };
}

function checkXorshift(): void {
  const seq = (i: number) => {
    const next = xorshiftDestinations(i, 32);
    return Array.from({ length: 8 }, next).join(',');
  };
  // Check values from RESULTS.md.
  if (seq(0) !== '9,25,5,2,31,21,3,18' || seq(31) !== '25,16,22,9,24,30,2,11') {
    throw new Error(`xorshift destinations differ from the anchor: h0 ${seq(0)}, h31 ${seq(31)}`);
  }
}

/** S2: 32 hosts on one learning bridge. */
function s2(): Result {
  checkXorshift();
  const K = 32;
  const PER_HOST = 6250;
  const sim = new Simulator(1);
  const wire: ChannelConfig = { rateBps: 1e9, delayNs: 1_000, queueLimit: 1000 };
  const sw = new Namespace(sim, 'sw');
  const br = new BridgeDevice(sim, 'br0', mac());
  sw.addDevice(br);
  const devs: NetDevice[] = [];
  const layers: UdpLayer[] = [];
  const addrs: number[] = [];
  for (let i = 0; i < K; i++) addrs.push(ip(`10.0.0.${i + 1}`));
  for (let i = 0; i < K; i++) {
    const h = new Namespace(sim, `h${i}`);
    const e = nic(sim, h, 'eth0');
    const port = nic(sim, sw, `swp${i}`);
    new Channel(sim, e, port, wire);
    br.addPort(port);
    h.addAddress(e, addrs[i]!, 24);
    devs.push(e, port);
    const u = new UdpLayer(h);
    layers.push(u);
    const sock = u.socket().bind(9);
    const next = xorshiftDestinations(i, K);
    let sent = 0;
    const send = (): void => {
      sock.sendTo(addrs[next()]!, 9, 64);
      if (++sent < PER_HOST) sim.schedule(100_000, send);
    };
    sim.scheduleAt(1e9 + i * 3125, send);
  }
  const c0 = cpuNow();
  const t0 = performance.now();
  sim.run({ until: 2.625e9 });
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuNow() - c0;
  let deliveries = 0;
  for (const u of layers) deliveries += udpIn(u);
  return { deliveries, wallS, cpuS, events: sim.eventsExecuted, frames: framesOf(devs), extra: `fdb=${br.fdb.size}` };
}

const H1_SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: bench-h1 }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: load, type: http, from: deployment/client, to: "svc/web:80", rate: 500, duration: 20s, start: 1s, connection: new, timeout: 2s }
  capture: { interfaces: none }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http, podwire.dev/service-time: exponential:1ms, podwire.dev/workers: "4" } }
    spec: { containers: [{ name: web, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: client }
spec:
  replicas: 4
  selector: { matchLabels: { app: client } }
  template:
    metadata: { labels: { app: client } }
    spec: { containers: [{ name: client, image: curl }] }
`;

/** H1L: H1 for 50 s of simulated time instead of 20 (the steady-state cost per request, beside H1). */
const H1L_SCENARIO = H1_SCENARIO.replace('name: bench-h1', 'name: bench-h1l').replace('duration: 20s', 'duration: 50s');
if (!H1L_SCENARIO.includes('duration: 50s')) throw new Error("bench/run.ts: H1_SCENARIO has no 'duration: 20s' for H1L to change");

/** I1: H1 with an ingress-nginx controller between the clients and the web pods (a host-less Ingress rule). */
const I1_SCENARIO = H1_SCENARIO.replace('name: bench-h1', 'name: bench-i1')
  .replace('nodes: [{ name: node1 }, { name: node2 }]', 'nodes: [{ name: node1 }, { name: node2 }]\n    ingressController: { replicas: 1, service: { type: NodePort } }')
  .replace('to: "svc/web:80"', 'to: "svc/ingress-nginx-controller.ingress-nginx:80"')
  .concat(`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  ingressClassName: nginx
  rules: [{ http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }]
`);

/** H1: HTTP requests through a ClusterIP Service (I1: through the Ingress controller). deliveries = requests completed. */
function h1(text = H1_SCENARIO, file = 'bench-h1.yaml'): Result {
  const world = buildWorld(loadScenarioText(text, file), 7);
  const c0 = cpuNow();
  const t0 = performance.now();
  world.sim.run();
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuNow() - c0;
  const f = world.stats.flow('load');
  let frames = 0;
  for (const d of world.devices) frames += d.stats.rxPackets;
  const rps = f.successes / wallS;
  return { deliveries: f.successes, wallS, cpuS, events: world.sim.eventsExecuted, frames, extra: `requests=${f.requests} errors=${f.errorCount} requests_per_wall_s=${Math.round(rps)} sim_s=${(world.sim.now / 1e9).toFixed(3)}` };
}

/** S3: A — R — B as S1; one TCP connection A → B:5000 carries 10^8 bytes; stop when B has them all. */
function s3(): Result {
  const sim = new Simulator(1);
  const { a, b, ea, ra, rb, eb } = chainABR(sim);
  const ta = new TcpLayer(a);
  const tb = new TcpLayer(b);
  const TOTAL = 100_000_000;
  let got = 0;
  let doneAt = -1;
  tb.listen(5000, (s) => {
    s.onData = (_d, len) => {
      got += len;
      if (got >= TOTAL && doneAt < 0) {
        doneAt = sim.now;
        sim.stop();
      }
    };
  });
  sim.scheduleAt(1e9, () => ta.connect(ip('10.1.2.2'), 5000, (s) => s.send(TOTAL)));
  const c0 = cpuNow();
  const t0 = performance.now();
  sim.run({ until: 120e9 });
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuNow() - c0;
  const completion = doneAt < 0 ? -1 : (doneAt - 1e9) / 1e9;
  const goodput = completion > 0 ? (TOTAL * 8) / completion / 1e6 : 0;
  return {
    // As the anchor counts them: packets handed to the transport at A and B (data segments and ACKs).
    deliveries: ta.counters.InSegs + tb.counters.InSegs,
    wallS,
    cpuS,
    events: sim.eventsExecuted,
    frames: framesOf([ea, ra, rb, eb]),
    extra: `bytes=${got} completion_sim_s=${completion.toFixed(6)} goodput_mbps=${goodput.toFixed(1)} retrans=${ta.counters.RetransSegs}`,
  };
}

/** C1: first-connection latency against the number of Services, per kube-proxy mode, with and without the rule-cost model. */
function c1(): string {
  const counts = [10, 100, 1000, 5000];
  const perRule = '50ns';
  const lines = [
    `| mode | ${counts.map((n) => `S = ${n}`).join(' | ')} |`,
    `|---|${counts.map(() => '---|').join('')}`,
  ];
  for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
    const cells: string[] = [];
    for (const n of counts) {
      const off = costPoint(n, mode, null);
      const on = costPoint(n, mode, perRule);
      cells.push(`+${(on.connectP50 - off.connectP50).toFixed(1)} (${off.connectP50.toFixed(1)} → ${on.connectP50.toFixed(1)})`);
    }
    lines.push(`| ${mode} | ${cells.join(' | ')} |`);
  }
  return `C1 TCP handshake p50 in µs added by costModel.perRule = ${perRule} (without → with) — 2 nodes, client pod on node-1, 100 requests to the middle Service, a new connection each\n${lines.join('\n')}`;
}

/** One point of C1: the generated cluster, the flow aimed at Service svc-(S/2), the cost model as given. */
export function costPoint(services: number, mode: 'iptables' | 'nftables' | 'ipvs', perRule: string | null): { connectP50: number; totalP50: number } {
  let yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 2, services, podsPerService: 3, mode, flows: 1, requests: 100, rate: 100 });
  yaml = yaml.replace('to: "svc/svc-0:80"', `to: "svc/svc-${Math.floor(services / 2)}:80"`);
  if (perRule !== null) yaml = yaml.replace(`kubeProxy: { mode: ${mode} }`, `kubeProxy: { mode: ${mode}, costModel: { perRule: ${perRule} } }`);
  const world = buildWorld(loadScenarioText(yaml, `c1-${mode}-${services}.yaml`), 1);
  world.sim.run();
  const f = world.stats.flow('flow-0');
  if (f.successes !== 100) throw new Error(`C1 ${mode} S=${services}: ${f.successes} of 100 requests succeeded`);
  return { connectP50: f.connect.percentileNs(50) / 1000, totalP50: f.latency.percentileNs(50) / 1000 };
}

function runOne(id: ScenarioId): string {
  if (id === 'C1') return c1();
  const r = id === 'S1' ? s1(false) : id === 'S4' ? s1(true) : id === 'S3' ? s3() : id === 'H1' ? h1() : id === 'H1L' ? h1(H1L_SCENARIO, 'bench-h1l.yaml') : id === 'I1' ? h1(I1_SCENARIO, 'bench-i1.yaml') : s2();
  const rssMib = process.resourceUsage().maxRSS / 1024;
  const pps = r.deliveries / r.wallS;
  const eps = r.events / r.wallS;
  const cpu = r.cpuS === undefined ? '' : ` cpu_s=${r.cpuS.toFixed(3)}`;
  return `${id} deliveries=${r.deliveries} wall_s=${r.wallS.toFixed(3)}${cpu} pkts_per_s=${Math.round(pps)} events=${r.events} events_per_s=${Math.round(eps)} rss_mib=${rssMib.toFixed(1)} frames=${r.frames} ${r.extra}`;
}

/** The anchor's recorded medians (RESULTS.md, 7 runs): wall s and deliveries, for when ns-3 is not run here. */
const NS3_RECORDED: Partial<Record<ScenarioId, { wallS: number; deliveries: number }>> = {
  S1: { wallS: 3.155, deliveries: 400_000 },
  S2: { wallS: 1.629, deliveries: 200_000 },
  S3: { wallS: 1.266, deliveries: 103_590 },
  S4: { wallS: 3.471, deliveries: 400_000 },
};

/** The ns-3 program and arguments of each anchored scenario (run.sh's CMD table). */
function ns3Command(id: ScenarioId, build: string, pcapPrefix: string): string[] | null {
  switch (id) {
    case 'S1':
      return [join(build, 's1_udp_echo_chain')];
    case 'S2':
      return [join(build, 's2_bridge_star')];
    case 'S3':
      return [join(build, 's3_tcp_bulk')];
    case 'S4':
      return [join(build, 's1_udp_echo_chain'), '--pcap=1', `--pcapPrefix=${pcapPrefix}`];
    default:
      return null;
  }
}

/** The anchor folder: $NS3_ANCHOR, else ../shared/anchors/ns3 from the repository or from its parent (worktrees). */
function anchorDir(repo: string): string | null {
  const candidates = [process.env['NS3_ANCHOR'], join(repo, '..', 'shared', 'anchors', 'ns3'), join(repo, '..', '..', 'shared', 'anchors', 'ns3')];
  for (const c of candidates) if (c && existsSync(join(c, 'run.sh'))) return c;
  return null;
}

/** Builds the ns-3 twins with the anchor's run.sh (BUILD_ONLY=1) unless they are there; returns the build folder. */
function ns3Build(repo: string): string {
  const build = process.env['NS3_BUILD'] ?? join(process.env['TMPDIR'] ?? tmpdir(), 'ns3-anchor', 'build');
  const bins = ['s1_udp_echo_chain', 's2_bridge_star', 's3_tcp_bulk'];
  if (bins.every((b) => existsSync(join(build, b)))) return build;
  const dir = anchorDir(repo);
  if (dir === null) throw new Error('bench: --ns3 needs the anchor folder (set NS3_ANCHOR to shared/anchors/ns3)');
  const r = spawnSync('bash', [join(dir, 'run.sh')], { env: { ...process.env, BUILD_ONLY: '1', NS3_BUILD: build }, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench: building the ns-3 anchor failed (exit ${r.status}); it needs g++ and libns3-dev 3.37`);
  return build;
}

/** key=value tokens of one result line. */
function fields(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of line.trim().split(/\s+/)) {
    const eq = t.indexOf('=');
    if (eq > 0) m.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return m;
}

interface Sample {
  round: number;
  wallS: number;
  cpuS: number | null;
  deliveries: number;
  rssMib: number | null;
  /** S4 only: the run in ns-3's window (until the capture's last write(2) returned; no final fsync, no rename). */
  wallNs3S?: number;
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/** "median (min–max)" with `d` decimals, or the single value. */
function spread(xs: number[], d: number, scale = 1): string {
  const f = (x: number): string => (x / scale).toFixed(d);
  if (xs.length === 1) return f(xs[0]!);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

function runPodwire(self: string, id: ScenarioId): string {
  // Each scenario in a fresh process: its own JIT warm-up and its own peak RSS, as the anchor runs.
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${id} failed (exit ${r.status})\n`);
    process.exit(1);
  }
  return r.stdout;
}

function runNs3(cmd: string[], pcapPrefix: string): Sample & { line: string } {
  // Under /usr/bin/time when there is one: the process's CPU (user + sys; setup and library loading
  // included, ~0.03 s) is steadier than wall time on a shared machine.
  const timeFile = join(tmpdir(), `podwire-bench-ns3-time-${process.pid}`);
  const timed = existsSync('/usr/bin/time');
  const argv = timed ? ['/usr/bin/time', '-f', '%U %S', '-o', timeFile, ...cmd] : cmd;
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] });
  const procS = (performance.now() - t0) / 1000;
  for (const f of readdirSafe(pcapPrefix)) rmSync(f, { force: true });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
  if (r.status !== 0 || line === '') throw new Error(`bench: ns-3 ${cmd.join(' ')} failed (exit ${r.status})`);
  let cpuS: number | null = null;
  if (timed) {
    const [u, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
    rmSync(timeFile, { force: true });
    if (Number.isFinite(u) && Number.isFinite(sys)) cpuS = u! + sys!;
  }
  const kv = fields(line);
  const cpu = cpuS === null ? '' : ` proc_cpu_s=${cpuS.toFixed(3)}`;
  return { round: 0, wallS: Number(kv.get('wall_run_s')), cpuS, deliveries: Number(kv.get('deliveries')), rssMib: null, line: `${line} proc_s=${procS.toFixed(3)}${cpu}` };
}

/** The files an ns-3 S4 run left (PREFIX-*.pcap). */
function readdirSafe(prefix: string): string[] {
  const dir = dirname(prefix);
  const base = basename(prefix);
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith(`${base}-`) && f.endsWith('.pcap'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function summary(ids: ScenarioId[], ours: Map<ScenarioId, Sample[]>, theirs: Map<ScenarioId, Sample[]>, ranNs3: boolean): string[] {
  const out = [
    '',
    `| scenario | podwire wall s | podwire CPU s | podwire pkts/s | ns-3 wall s${ranNs3 ? '' : ' (RESULTS.md)'} | ns-3 pkts/s | **podwire / ns-3 (pkts/s)** | ns-3 process CPU s | podwire / ns-3 (pkts per CPU s) |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const id of ids) {
    const p = ours.get(id) ?? [];
    if (p.length === 0) continue;
    const pps = p.map((x) => x.deliveries / x.wallS);
    const cpu = p.map((x) => x.cpuS).filter((x): x is number => x !== null);
    let ns = '—';
    let nsPps = '—';
    let ratio = '—';
    let nsCpu = '—';
    let cpuRatio = '—';
    const t = theirs.get(id) ?? [];
    const rec = NS3_RECORDED[id];
    if (t.length > 0) {
      const tp = t.map((x) => x.deliveries / x.wallS);
      ns = spread(t.map((x) => x.wallS), 3);
      nsPps = `${spread(tp, 1, 1000)} k`;
      ratio = `**${(median(pps) / median(tp)).toFixed(1)}×**`;
      const tc = t.map((x) => x.cpuS).filter((x): x is number => x !== null);
      if (tc.length > 0 && cpu.length > 0) {
        nsCpu = spread(tc, 3);
        cpuRatio = `${(median(tc) / t[0]!.deliveries / (median(cpu) / p[0]!.deliveries)).toFixed(1)}×`;
      }
    } else if (rec) {
      ns = rec.wallS.toFixed(3);
      nsPps = `${(rec.deliveries / rec.wallS / 1000).toFixed(1)} k`;
      ratio = `**${(median(pps) / (rec.deliveries / rec.wallS)).toFixed(1)}×**`;
    }
    out.push(`| ${id} | ${spread(p.map((x) => x.wallS), 3)} | ${cpu.length ? spread(cpu, 3) : '—'} | ${spread(pps, 1, 1000)} k | ${ns} | ${nsPps} | ${ratio} | ${nsCpu} | ${cpuRatio} |`);
  }
  // Capture cost: S4 wall / S1 wall, paired by round (RESULTS.md: ns-3 1.106).
  const ratios = (m: Map<ScenarioId, Sample[]>, of: (x: Sample) => number | null): number[] => {
    const s1 = m.get('S1') ?? [];
    const s4 = m.get('S4') ?? [];
    const r: number[] = [];
    for (const a of s4) {
      const b = s1.find((x) => x.round === a.round);
      const va = of(a);
      const vb = b ? of(b) : null;
      if (va !== null && vb !== null && vb > 0) r.push(va / vb);
    }
    return r;
  };
  const pr = ratios(ours, (x) => x.wallS);
  if (pr.length > 0) {
    const nr = ratios(theirs, (x) => x.wallS);
    out.push('', `capture ratio (S4 wall / S1 wall, paired by round): podwire ${spread(pr, 3)}, ns-3 ${nr.length ? spread(nr, 3) : '1.106 (RESULTS.md)'}`);
    // The same in ns-3's window: podwire's S4 until its last write(2) returned, as ns-3 times Run() without closing its files.
    const pw = ratios(ours, (x) => (x.wallNs3S === undefined ? x.wallS : x.wallNs3S));
    if (ours.get('S4')?.some((x) => x.wallNs3S !== undefined)) out.push(`capture ratio in ns-3's window (S4 until its last write(2) returned, no final fsync or rename / S1): podwire ${spread(pw, 3)}`);
    const pc = ratios(ours, (x) => x.cpuS);
    const nc = ratios(theirs, (x) => x.cpuS);
    if (pc.length > 0) out.push(`capture ratio by CPU (S4 / S1, paired by round; ns-3's is its whole process): podwire ${spread(pc, 3)}${nc.length ? `, ns-3 ${spread(nc, 3)}` : ''}`);
  }
  return out;
}

/**
 * H1's steady-state cost: (H1L − H1) CPU and wall seconds over (H1L − H1) requests, paired by round. Both
 * runs pay the same warm-up (module loading is outside the measured span; the JIT's first compiles are
 * inside it), so the difference is what the 60,151 extra requests cost once the code is optimized.
 */
function marginal(ours: Map<ScenarioId, Sample[]>): string[] {
  const short = ours.get('H1') ?? [];
  const long = ours.get('H1L') ?? [];
  const cpu: number[] = [];
  const wall: number[] = [];
  for (const l of long) {
    const s = short.find((x) => x.round === l.round);
    if (s === undefined || l.deliveries <= s.deliveries) continue;
    const n = l.deliveries - s.deliveries;
    wall.push(((l.wallS - s.wallS) / n) * 1e6);
    if (l.cpuS !== null && s.cpuS !== null) cpu.push(((l.cpuS - s.cpuS) / n) * 1e6);
  }
  if (wall.length === 0) return [];
  const all = short.map((x) => (x.cpuS === null ? NaN : (x.cpuS / x.deliveries) * 1e6)).filter((x) => Number.isFinite(x));
  return [
    '',
    `H1 steady-state cost a request (H1L − H1, paired by round): ${cpu.length ? `${spread(cpu, 1)} µs CPU, ` : ''}${spread(wall, 1)} µs wall` +
      (all.length ? `; H1's whole run, warm-up included: ${spread(all, 1)} µs CPU` : ''),
  ];
}

function main(argv: string[]): void {
  if (argv[0] === '--child') {
    process.stdout.write(runOne(argv[1] as ScenarioId) + '\n');
    return;
  }
  let runs = 1;
  let ns3 = false;
  let scale = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ns3') ns3 = true;
    else if (a === '--scale') scale = true;
    else if (a === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) {
        process.stderr.write(`bench: --runs expects a positive integer\n`);
        process.exit(2);
      }
    } else names.push(a.toUpperCase());
  }
  const wanted = (names.length > 0 ? names : scale ? [] : [...DEFAULT_SET]) as ScenarioId[];
  const unknown = wanted.filter((w) => !(SCENARIOS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})\n`);
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  const repo = join(dirname(self), '..', '..');
  const build = ns3 ? ns3Build(repo) : '';
  const pcapPrefix = join(tmpdir(), `podwire-bench-ns3-s4-${process.pid}`);
  const ours = new Map<ScenarioId, Sample[]>();
  const theirs = new Map<ScenarioId, Sample[]>();
  // Interleaved round-robin (as the anchor's run.sh), so machine noise spreads over both.
  for (let round = 1; round <= runs; round++) {
    for (const id of wanted) {
      const line = runPodwire(self, id);
      process.stdout.write(runs > 1 ? `round=${round} ${line}` : line);
      const kv = fields(line);
      if (kv.has('wall_s')) {
        const cpu = kv.get('cpu_s');
        const list = ours.get(id) ?? [];
        const n3 = kv.get('wall_ns3_s');
        list.push({ round, wallS: Number(kv.get('wall_s')), cpuS: cpu === undefined ? null : Number(cpu), deliveries: Number(kv.get('deliveries')), rssMib: Number(kv.get('rss_mib')), ...(n3 !== undefined ? { wallNs3S: Number(n3) } : {}) });
        ours.set(id, list);
      }
      const cmd = ns3 ? ns3Command(id, build, pcapPrefix) : null;
      if (cmd !== null) {
        const r = runNs3(cmd, pcapPrefix);
        process.stdout.write(`ns-3 ${id}${runs > 1 ? ` round=${round}` : ''} ${r.line}\n`);
        const list = theirs.get(id) ?? [];
        list.push({ ...r, round });
        theirs.set(id, list);
      }
    }
  }
  if (wanted.some((id) => NS3_RECORDED[id] !== undefined)) process.stdout.write(summary(wanted, ours, theirs, ns3).join('\n') + '\n');
  const m = marginal(ours);
  if (m.length > 0) process.stdout.write(m.join('\n') + '\n');
  if (scale) {
    const r = spawnSync(process.execPath, [...process.execArgv, join(dirname(self), 'scale.js')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.exit(1);
  }
}

main(process.argv.slice(2));
