// bench/run — the ns-3 performance anchors (../shared/anchors/ns3, RESULTS.md) rebuilt with podwire's
// real classes, one line per scenario in the anchor's form:
//
//   S1 deliveries=400000 wall_s=… pkts_per_s=… events=… events_per_s=… rss_mib=… frames=…
//
// Usage: npm run bench            (S1, S2, S4, each in its own child process)
//        npm run bench -- S1      (one scenario; several names allowed)
// wall_s is measured around Simulator.run() only (setup excluded, as the anchor does); rss_mib is the
// child process's peak resident set (process.resourceUsage().maxRSS). Speed is measured here, never
// asserted in a test.
//
// S1 udp-echo-chain   A —— R —— B, two 1 Gbps / 50 µs NicDevice+Channel links, 200,000 UDP echo
//                     requests of 64 bytes every 10 µs from t = 1 s to B:9 (UdpEchoServer), stop at 4 s.
// S2 bridge-star      32 hosts, each on its own 1 Gbps / 1 µs link to a port of one BridgeDevice; each
//                     sends 6,250 64-byte datagrams every 100 µs from 1 s + i·3.125 µs to a peer chosen
//                     by the anchor's per-host xorshift32; stop at 2.625 s.
// S4 echo + pcapng    S1 with every one of the 4 devices captured into one pcapng (PcapngWriter).
// H1 http-service     HTTP through a ClusterIP Service: 2 nodes (flannel VXLAN), 3 web pods, 4 client
//                     pods, each opening a new TCP connection per request at 500 req/s for 20 s
//                     simulated (40,000 requests), kube-proxy iptables mode; reports requests
//                     simulated per wall second (no capture).
// I1 http-ingress     H1's workload through an ingress-nginx controller pod: the clients call the
//                     controller's ClusterIP (kube-proxy DNAT), the controller ends their connection,
//                     picks a web pod per request (round robin) and keeps a keep-alive pool to the
//                     pods; requests per wall second and peak RSS, as H1.
//
// Differences from the ns-3 twin (see bench/README.md): Ethernet framing with ARP instead of PPP,
// no FqCoDel root qdisc (a drop-tail txqueue of 1000), full-duplex links in S2 (ns-3 CSMA is half duplex).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UdpEchoServer } from '../src/app/udp-probe.js';
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

const SCENARIOS = ['S1', 'S2', 'S4', 'H1', 'I1'] as const;
type ScenarioId = (typeof SCENARIOS)[number];

interface Result {
  deliveries: number;
  wallS: number;
  events: number;
  frames: number;
  extra: string;
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
  const sim = new Simulator(1);
  const wire: ChannelConfig = { rateBps: 1e9, delayNs: 50_000, queueLimit: 1000 };
  const a = new Namespace(sim, 'a');
  const r = new Namespace(sim, 'r');
  const b = new Namespace(sim, 'b');
  r.ipForwardEnabled = true;
  const ea = nic(sim, a, 'eth0');
  const ra = nic(sim, r, 'eth0');
  const rb = nic(sim, r, 'eth1');
  const eb = nic(sim, b, 'eth0');
  new Channel(sim, ea, ra, wire);
  new Channel(sim, rb, eb, wire);
  a.addAddress(ea, ip('10.1.1.1'), 24);
  r.addAddress(ra, ip('10.1.1.2'), 24);
  r.addAddress(rb, ip('10.1.2.1'), 24);
  b.addAddress(eb, ip('10.1.2.2'), 24);
  a.addRoute({ dst: ip('10.1.2.0'), prefix: 24, gateway: ip('10.1.1.2'), dev: ea });
  b.addRoute({ dst: ip('10.1.1.0'), prefix: 24, gateway: ip('10.1.2.1'), dev: eb });
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
    for (const d of devs) {
      const id = w.addInterface(d.qualifiedName);
      d.tap.connect((_d, pkt) => w.writePacketRecord(id, sim.now, pkt));
    }
  }
  const t0 = performance.now();
  sim.run({ until: 4e9 });
  if (writer) writer.close(); // flushing the file is part of the capture's cost
  const wallS = (performance.now() - t0) / 1000;
  let extra = `replies=${replies}`;
  if (pcap) {
    extra += ` pcap_bytes=${statSync(path).size}`;
    rmSync(dir, { recursive: true, force: true });
  }
  return { deliveries: udpIn(ua) + udpIn(ub), wallS, events: sim.eventsExecuted, frames: framesOf(devs), extra };
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
  const t0 = performance.now();
  sim.run({ until: 2.625e9 });
  const wallS = (performance.now() - t0) / 1000;
  let deliveries = 0;
  for (const u of layers) deliveries += udpIn(u);
  return { deliveries, wallS, events: sim.eventsExecuted, frames: framesOf(devs), extra: `fdb=${br.fdb.size}` };
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
  const t0 = performance.now();
  world.sim.run();
  const wallS = (performance.now() - t0) / 1000;
  const f = world.stats.flow('load');
  let frames = 0;
  for (const d of world.devices) frames += d.stats.rxPackets;
  const rps = f.successes / wallS;
  return { deliveries: f.successes, wallS, events: world.sim.eventsExecuted, frames, extra: `requests=${f.requests} errors=${f.errorCount} requests_per_wall_s=${Math.round(rps)} sim_s=${(world.sim.now / 1e9).toFixed(3)}` };
}

function runOne(id: ScenarioId): string {
  const r = id === 'S1' ? s1(false) : id === 'S4' ? s1(true) : id === 'H1' ? h1() : id === 'I1' ? h1(I1_SCENARIO, 'bench-i1.yaml') : s2();
  const rssMib = process.resourceUsage().maxRSS / 1024;
  const pps = r.deliveries / r.wallS;
  const eps = r.events / r.wallS;
  return `${id} deliveries=${r.deliveries} wall_s=${r.wallS.toFixed(3)} pkts_per_s=${Math.round(pps)} events=${r.events} events_per_s=${Math.round(eps)} rss_mib=${rssMib.toFixed(1)} frames=${r.frames} ${r.extra}`;
}

function main(argv: string[]): void {
  if (argv[0] === '--child') {
    process.stdout.write(runOne(argv[1] as ScenarioId) + '\n');
    return;
  }
  const wanted = argv.length > 0 ? argv.map((a) => a.toUpperCase()) : [...SCENARIOS];
  const unknown = wanted.filter((w) => !(SCENARIOS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})\n`);
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  for (const id of wanted) {
    // Each scenario in a fresh process: its own JIT warm-up and its own peak RSS, as the anchor runs.
    const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) {
      process.stderr.write(`bench: ${id} failed (exit ${r.status})\n`);
      process.exit(1);
    }
    process.stdout.write(r.stdout);
  }
}

main(process.argv.slice(2));
