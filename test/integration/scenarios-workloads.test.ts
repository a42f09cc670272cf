// Behaviour of the workload scenarios (issue 5, "Done means"): faults.yaml — 1% loss on node2's link
// shows as TCP retransmissions in stats.json and in tshark, every request ends as a success or an error
// counted by kind, the run ends, the timeline reads pod down → EndpointSlice not ready → kube-proxy
// sync (and back), and once the sync has happened no new connection is DNATed to web-2 until it is
// back; http-clusterip.yaml — a clean run has no TCP analysis flags on any interface, HTTP decodes in
// tshark with one GET and one 200 per request, latency percentiles in stats.json agree with a direct
// computation over the raw samples, and two runs with the same seed write identical bytes.
//
// Wireshark's TCP analysis is judged per interface: a merged capture shows every segment once per
// interface it crosses, which tshark would flag as retransmissions. The capture is split into one
// pcapng per interface (SHB + that IDB + its EPBs) and tshark reads each.
//
//   client (node1) --HTTP--> ClusterIP web:80 ==DNAT==> web-0 (node1) | web-1, web-2 (node2)
//                                                    node2/eth0: netem loss 1% from t=2s
//   t=4s web-2 down → +1s EndpointSlice not ready → +1s kube-proxy sync;  t=8s web-2 up → +1s → +1s
//
//   http-clusterip: client-* (node1) --> 10.96.0.50:80 --> web-* :8080 (node1/node2, VXLAN)
//                   laptop --> 10.100.11.12:30080 --DNAT + MASQUERADE--> web-* :8080
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/packet/parse.js';
import type { Packet } from '../../src/packet/packet.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatMac } from '../../src/wire/mac.js';
import { TcpFlag } from '../../src/wire/types.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkCheck } from '../helpers/tshark.js';
import { readPcapng } from './pcapng-read.js';

const ROOT = resolve(import.meta.dirname, '../..');
const HAS_TSHARK = hasTshark();
const inTshark = HAS_TSHARK ? 'in tshark' : `in tshark — skipped: ${NO_TSHARK}`;
const execFileP = promisify(execFile);

interface FlowDoc {
  name: string;
  requests: number;
  successes: number;
  errors: number;
  retries: number;
  errorsByKind: Record<string, number>;
  latencyUs: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
}
interface StatsDoc {
  stop: string;
  flows: FlowDoc[];
  endpoints: { name: string; served: number; share: number }[];
  timeline: { atUs: number; what: string }[];
  counters: Record<string, Record<string, number>>;
}
interface Run {
  dir: string;
  world: World;
  capturePath: string;
  capture: Buffer;
  statsText: string;
  stats: StatsDoc;
  /** Raw latency samples (ns) per flow, as handed to the stats recorder. */
  samples: Map<string, number[]>;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs scenarios/NAME.yaml with its own seed, recording every latency sample handed to stats. */
function runScenario(name: string): Run {
  const loaded = loadScenarioFile(join(ROOT, 'scenarios', `${name}.yaml`));
  const world = buildWorld(loaded, loaded.scenario.spec.seed ?? 1);
  const samples = new Map<string, number[]>();
  for (const f of world.flows) {
    const rec = world.stats.flow(f.name).latency;
    const orig = rec.record.bind(rec);
    const list: number[] = [];
    samples.set(f.name, list);
    rec.record = (ns: number) => {
      list.push(ns > 0 ? Math.round(ns) : 0);
      orig(ns);
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `podwire-${name}-`));
  dirs.push(dir);
  const res = runWorld(world, { outDir: dir, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
  return { dir, world, capturePath: res.files.capture, capture: readFileSync(res.files.capture), statsText: res.statsJson, stats: JSON.parse(res.statsJson) as StatsDoc, samples };
}


/** Runs tshark over each file (two at a time) and returns, per interface, the frames matching `filter`. */
async function perInterface(files: Map<string, string>, filter: string, fields: string[]): Promise<Map<string, string[][]>> {
  const out = new Map<string, string[][]>();
  const todo = [...files];
  const lane = async () => {
    for (let job = todo.shift(); job; job = todo.shift()) {
      const [name, file] = job;
      const args = ['-r', file, ...TSHARK_ARGS, '-Y', filter, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f'];
      for (const f of fields) args.push('-e', f);
      const { stdout } = await execFileP(TSHARK, args, { maxBuffer: 256 * 1024 * 1024 });
      out.set(name, stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')));
    }
  };
  await Promise.all([lane(), lane()]);
  return out;
}

interface Frame {
  ifName: string;
  tNs: number;
  pkt: Packet;
}
/** Parsed frames of the listed interfaces only. */
function framesOn(capturePath: string, ifNames: Set<string>): Frame[] {
  const f = readPcapng(capturePath);
  return f.packets.filter((p) => ifNames.has(f.interfaces[p.ifId]!)).map((p) => ({ ifName: f.interfaces[p.ifId]!, tNs: Number(p.ts), pkt: parseFrame(p.data) }));
}
const ip = formatIpv4;
const isSyn = (p: Packet) => p.tcp !== null && (p.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('faults.yaml: 1% loss on node2/eth0 from 2s, web-2 down 4s–8s', () => {
  let r: Run;
  let split: Map<string, string>;
  beforeAll(() => {
    r = runScenario('faults');
    split = splitPcapngPerInterface(r.capture, r.dir);
  });

  it('the run ends by itself (stop "idle")', () => {
    expect(r.stats.stop).toBe('idle');
  });

  it('every request is a success or an error counted by kind: requests = successes + errors = successes + Σ errorsByKind', () => {
    const f = r.stats.flows.find((x) => x.name === 'client-to-web')!;
    expect(f.requests).toBeGreaterThan(900);
    expect(f.successes + f.errors).toBe(f.requests);
    expect(sum(Object.values(f.errorsByKind))).toBe(f.errors);
    // Connections DNATed to the dead pod time out and are retried.
    expect(f.retries).toBeGreaterThan(0);
  });

  it('stats.json counts TCP retransmissions (RetransSegs > 0 in some tcp/<ns> group)', () => {
    const retrans = Object.entries(r.stats.counters).filter(([k]) => k.startsWith('tcp/')).map(([k, v]) => [k, v['RetransSegs'] ?? 0] as const);
    expect(retrans.length).toBeGreaterThan(0);
    expect(sum(retrans.map(([, n]) => n))).toBeGreaterThan(0);
  });

  it('the timeline reads: netem, pod down → endpointslice not ready (+1s) → kube-proxy sync (+1s), pod up → ready (+1s) → sync (+1s)', () => {
    expect(r.stats.timeline.map((t) => `${t.atUs / 1e6}s ${t.what.replace(/:.*/, ':')}`)).toEqual([
      '2s netem on node2/eth0:',
      '4s pod web-2 down',
      '5s endpointslice:',
      '6s kube-proxy:',
      '8s pod web-2 up',
      '9s endpointslice:',
      '10s kube-proxy:',
    ]);
    expect(r.stats.timeline[2]!.what).toMatch(/web-2 not ready/);
    expect(r.stats.timeline[3]!.what).toMatch(/rules synced/);
    expect(r.stats.timeline[5]!.what).toMatch(/web-2 ready/);
  });

  it('after the sync that follows pod down, no new connection is DNATed to web-2 until the sync that follows pod up; before and after, some are', () => {
    const tl = r.stats.timeline;
    const downSync = tl.findIndex((t, i) => i > tl.findIndex((x) => x.what === 'pod web-2 down') && t.what.startsWith('kube-proxy'));
    const upSync = tl.findIndex((t, i) => i > tl.findIndex((x) => x.what === 'pod web-2 up') && t.what.startsWith('kube-proxy'));
    const t0 = tl[downSync]!.atUs * 1000;
    const t1 = tl[upSync]!.atUs * 1000;
    const client = r.world.cluster!.pods.find((p) => p.name === 'client')!;
    const web2 = ip(r.world.cluster!.pods.find((p) => p.name === 'web-2')!.ip);
    const frames = framesOn(r.capturePath, new Set(['client/eth0', 'node1/cni0', 'node1/flannel.1']));
    // A connection is new at its first SYN on the client's eth0; where it went is the SYN node1 sent on.
    const firstSyn = new Map<number, number>();
    for (const f of frames) if (f.ifName === 'client/eth0' && isSyn(f.pkt) && !firstSyn.has(f.pkt.tcp!.seq)) firstSyn.set(f.pkt.tcp!.seq, f.tNs);
    const n1 = r.world.cluster!.nodes.find((n) => n.name === 'node1')!;
    // Toward a pod from node1: on cni0 any frame not addressed to cni0 itself (routed, or bridged after
    // br_netfilter's DNAT with the client's source MAC); on flannel.1 what node1 sends.
    const sentByNode1 = (f: Frame) => (f.ifName === 'node1/cni0' ? f.pkt.eth!.dst !== n1.cni0!.mac : f.ifName === 'node1/flannel.1');
    const dest = new Map<number, string>();
    for (const f of frames) if (f.ifName !== 'client/eth0' && sentByNode1(f) && isSyn(f.pkt) && ip(f.pkt.ip!.src) === ip(client.ip)) dest.set(f.pkt.tcp!.seq, ip(f.pkt.ip!.dst));
    const conns = [...firstSyn].map(([isn, t]) => ({ t, to: dest.get(isn) }));
    expect(conns.length).toBeGreaterThan(900);
    expect(conns.filter((c) => c.to === undefined).length).toBe(0);
    const toWeb2 = conns.filter((c) => c.to === web2);
    expect(toWeb2.filter((c) => c.t >= t0 && c.t < t1).map((c) => `connection at ${c.t / 1e9}s DNATed to web-2`)).toEqual([]);
    expect(toWeb2.filter((c) => c.t < tl.find((x) => x.what === 'pod web-2 down')!.atUs * 1000).length).toBeGreaterThan(0);
    expect(toWeb2.filter((c) => c.t >= t0 && c.t < tl.find((x) => x.what === 'pod web-2 down')!.atUs * 1000).length).toBe(0);
    expect(toWeb2.filter((c) => c.t >= t1).length).toBeGreaterThan(0);
  });

  it.skipIf(!HAS_TSHARK)(`retransmissions show per interface (${inTshark}): tcp.analysis.retransmission or out-of-order frames on the client's or the web pods' eth0`, async () => {
    const pick = new Map([...split].filter(([n]) => n === 'client/eth0' || /^web-\d\/eth0$/.test(n)));
    expect(pick.size).toBe(4);
    const hits = await perInterface(pick, 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.out_of_order', ['frame.number']);
    const counts = Object.fromEntries([...hits].map(([n, rows]) => [n, rows.length]));
    expect(sum(Object.values(counts)), JSON.stringify(counts)).toBeGreaterThan(0);
  });
});

describe('http-clusterip.yaml: a clean run', () => {
  let r: Run;
  let again: Run;
  let split: Map<string, string>;
  beforeAll(() => {
    r = runScenario('http-clusterip');
    split = splitPcapngPerInterface(r.capture, r.dir);
  });

  it('every request succeeds; no retransmission counted anywhere', () => {
    for (const f of r.stats.flows) expect(`${f.name} ${f.successes}/${f.requests} errors=${f.errors}`).toBe(`${f.name} ${f.requests}/${f.requests} errors=0`);
    const retrans = Object.entries(r.stats.counters).filter(([k, v]) => k.startsWith('tcp/') && (v['RetransSegs'] ?? 0) > 0);
    expect(retrans).toEqual([]);
  });

  it.skipIf(!HAS_TSHARK)(`zero malformed frames and zero bad checksums (${inTshark})`, () => {
    const c = tsharkCheck(r.capturePath);
    expect(c.frames).toBeGreaterThan(1000);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
  });

  it.skipIf(!HAS_TSHARK)(`no tcp.analysis.flags on any interface (${inTshark}, one interface at a time)`, async () => {
    const flagged = await perInterface(split, 'tcp.analysis.flags', ['frame.number', '_ws.expert.message', 'ip.id', 'tcp.seq_raw']);
    // As on Linux (tcpdump on cni0): a bridged-DNAT SYN that waited for cni0's ARP is seen leaving cni0
    // with the bridge's MAC (dev_queue_xmit_nit), then bridged from the client's port with the client's
    // MAC back (br_nf_pre_routing_finish_bridge_slow); tshark calls the second a retransmission. Only
    // those frames are allowed.
    const cni0 = formatMac(r.world.cluster!.nodes.find((n) => n.name === 'node1')!.cni0!.mac);
    const fromBridge = await perInterface(new Map([['node1/cni0', split.get('node1/cni0')!]]), `tcp.flags == 0x002 && eth.src == ${cni0} && ip.ttl == 64`, ['ip.id', 'tcp.seq_raw']);
    const held = new Set((fromBridge.get('node1/cni0') ?? []).map((x) => x.join('/')));
    const report = [...flagged]
      .map(([n, rows]) => [n, rows.filter((x) => !(n === 'node1/cni0' && held.has(`${x[2]}/${x[3]}`)))] as const)
      .filter(([, rows]) => rows.length > 0)
      .map(([n, rows]) => `${n}: ${rows.length} frames, first ${rows[0]!.join(' ')}`);
    expect(report).toEqual([]);
    expect(flagged.size).toBe(split.size);
  });

  it.skipIf(!HAS_TSHARK)(`HTTP decodes (${inTshark}): one GET and one 200 per request at each client's interface`, async () => {
    const client = r.world.cluster!.pods.find((p) => p.name.startsWith('client-'))!;
    const pick = new Map([...split].filter(([n]) => n === `${client.name}/eth0` || n === 'laptop/eth0'));
    expect(pick.size).toBe(2);
    const files = new Map([...pick].map(([n, f]) => [n, f]));
    const rows = await perInterface(files, 'http.request.method == "GET" || http.response.code == 200', ['http.request.method', 'http.response.code']);
    // The laptop talks to node port 30080, which Wireshark does not know as HTTP: decode it as HTTP.
    const laptop = await execFileP(TSHARK, ['-r', pick.get('laptop/eth0')!, ...TSHARK_ARGS, '-d', 'tcp.port==30080,http', '-Y', 'http', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.response.code']);
    const tally = (lines: string[][]) => ({ get: lines.filter((x) => x[0] === 'GET').length, ok: lines.filter((x) => x[1] === '200').length });
    const want = (name: string) => r.stats.flows.find((f) => f.name === name)!.requests;
    expect(tally(rows.get(`${client.name}/eth0`)!)).toEqual({ get: want('client-to-web'), ok: want('client-to-web') });
    expect(tally(laptop.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')))).toEqual({ get: want('laptop-to-nodeport'), ok: want('laptop-to-nodeport') });
  });

  it('latency in stats.json agrees with the raw samples: count, min, mean, max exact; p50/p90/p99/p99.9 the nearest-rank sample within HDR precision (1/1024)', () => {
    for (const f of r.stats.flows) {
      const s = [...r.samples.get(f.name)!].sort((a, b) => a - b);
      expect(s.length, f.name).toBe(f.successes);
      const us = (ns: number) => Math.round(ns) / 1000;
      expect(f.latencyUs.min, `${f.name} min`).toBe(us(s[0]!));
      expect(f.latencyUs.max, `${f.name} max`).toBe(us(s.at(-1)!));
      expect(f.latencyUs.mean, `${f.name} mean`).toBeCloseTo(sum(s) / s.length / 1000, 3);
      for (const [key, p] of [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]] as const) {
        const exact = s[Math.max(1, Math.ceil((p * s.length) / 100 - 1e-9)) - 1]!;
        const got = f.latencyUs[key] * 1000;
        const ok = got >= exact - 0.5 && got <= Math.min(exact * (1 + 1 / 1024) + 1, s.at(-1)! + 0.5);
        expect(ok, `${f.name} ${key}: reported ${got} ns, nearest-rank sample ${exact} ns`).toBe(true);
      }
      const l = f.latencyUs;
      expect(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max && l.min <= l.mean && l.mean <= l.max, JSON.stringify(l)).toBe(true);
    }
  });

  it('two runs with the same seed write byte-identical capture.pcapng and stats.json', () => {
    again = runScenario('http-clusterip');
    expect(again.capture.length).toBe(r.capture.length);
    expect(again.capture.equals(r.capture)).toBe(true);
    expect(again.statsText).toBe(r.statsText);
  });
});
