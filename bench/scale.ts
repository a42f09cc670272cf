// bench/scale — the scale grid of issue 13: generated clusters (`podwire generate cluster`, N nodes,
// S Services, K pods per Service, flannel VXLAN, kube-proxy iptables mode), each point in its own
// child process with a timeout. Per point: load (YAML + zod), build (buildWorld: namespaces, devices,
// routes, every node's rules), run (the simulator, F HTTP flows with a new connection per request),
// peak RSS (process.resourceUsage().maxRSS) and events. The parent prints a markdown table and the
// growth exponents fitted by least squares on log-log (build wall and peak RSS against N at fixed S,
// and against S at fixed N). Speed is measured here, never asserted in a test.
//
//   node dist/bench/scale.js                       # the quick grid (points up to a few seconds)
//   node dist/bench/scale.js --grid full --timeout 300
//   node dist/bench/scale.js --point 1000x10000    # one point (NxS), e.g. the issue's target
//   node dist/bench/scale.js --flows 0 --point 1000x1x10000 --point 1000x1x100000   # NxSxK: K pods per Service
//   node dist/bench/scale.js --point 1000x10000 --flows 100 --requests 10000 --rate 10 --heap 7000 --timeout 1500   # 1 M requests
//   node --cpu-prof dist/bench/scale.js --child 100 1000 3 10 1   # profile one build (and a short run) in this process
import '../src/cli/v8-tuning.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateClusterYaml, CLUSTER_GEN_DEFAULTS } from '../src/scenario/generate.js';
import { loadScenarioText } from '../src/scenario/load.js';
import { buildWorld } from '../src/scenario/build.js';

interface Point {
  n: number;
  s: number;
  k: number;
  /** HTTP flows (each to its own Service) and requests per flow. */
  flows: number;
  requests: number;
  /** Requests per second of each flow (the generator's --rate). */
  rate: number;
}

interface Measured {
  point: Point;
  status: 'ok' | 'timeout' | 'failed';
  /** Generating the YAML text (0.05 CPU s at 1000 × 10000) and loadScenarioText: wall and CPU seconds. */
  loadS?: number;
  loadCpuS?: number;
  buildS?: number;
  runS?: number;
  /** CPU seconds (user + system) of the build and of the run: steadier than wall on a shared machine. */
  buildCpuS?: number;
  runCpuS?: number;
  requestsOk?: number;
  /** Failed requests by kind (the flows' stats.json errors). */
  errors?: Record<string, number>;
  events?: number;
  rssMiB?: number;
  heapMiB?: number;
  note?: string;
}

const QUICK: Array<[number, number]> = [
  [10, 100], [30, 100], [100, 100], [300, 100],
  [10, 300], [10, 1000], [10, 3000],
  [100, 1000],
];
const FULL: Array<[number, number]> = [...QUICK, [1000, 100], [10, 10000], [300, 1000], [1000, 1000], [1000, 10000]];

function child(p: Point): string {
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const t0 = performance.now();
  const c0 = cpu();
  const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: p.n, services: p.s, podsPerService: p.k, flows: p.flows, requests: p.requests, rate: p.rate });
  const loaded = loadScenarioText(yaml, `gen-${p.n}x${p.s}.yaml`);
  const t1 = performance.now();
  const c1 = cpu();
  const world = buildWorld(loaded, 1);
  const t2 = performance.now();
  const c2 = cpu();
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  world.sim.run();
  const t3 = performance.now();
  const c3 = cpu();
  let ok = 0;
  const errors: Record<string, number> = {};
  for (let f = 0; f < p.flows; f++) {
    const fs = world.stats.flow(`flow-${f}`);
    ok += fs.successes;
    for (const [k, v] of Object.entries(fs.errors)) if (v > 0) errors[k] = (errors[k] ?? 0) + v;
  }
  const m: Measured = {
    point: p,
    status: 'ok',
    loadS: (t1 - t0) / 1000,
    loadCpuS: c1 - c0,
    buildS: (t2 - t1) / 1000,
    runS: (t3 - t2) / 1000,
    buildCpuS: c2 - c1,
    runCpuS: c3 - c2,
    requestsOk: ok,
    errors,
    events: world.sim.eventsExecuted,
    rssMiB: process.resourceUsage().maxRSS / 1024,
    heapMiB,
  };
  return JSON.stringify(m);
}

function measure(p: Point, timeoutS: number, heapMiB: number): Measured {
  const self = fileURLToPath(import.meta.url);
  const args = [`--max-old-space-size=${heapMiB}`, self, '--child', String(p.n), String(p.s), String(p.k), String(p.flows), String(p.requests), String(p.rate)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutS * 1000, maxBuffer: 1 << 24 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { point: p, status: 'timeout', note: `> ${timeoutS} s` };
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? '';
    return { point: p, status: 'failed', note: /heap out of memory|Allocation failed/.test(r.stderr ?? '') ? `out of heap (${heapMiB} MiB)` : `exit ${r.status ?? r.signal}: ${last.slice(0, 120)}` };
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
}

/** Least-squares slope of log(y) on log(x); null with fewer than 2 points. */
export function fitExponent(xs: number[], ys: number[]): number | null {
  if (xs.length < 2) return null;
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i]! - mx) * (ly[i]! - my);
    den += (lx[i]! - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

const f2 = (v: number | undefined, d = 2): string => (v === undefined ? '—' : v.toFixed(d));

function table(ms: Measured[]): string[] {
  const out = ['| N nodes | S services | pods | load s (CPU s) | build s (CPU s) | run s (CPU s) | requests | µs CPU / request | events/s (CPU) | peak RSS MiB | heap after build MiB |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const m of ms) {
    const p = m.point;
    if (m.status !== 'ok') {
      out.push(`| ${p.n} | ${p.s} | ${p.s * p.k} | ${m.status}: ${m.note ?? ''} | | | | | | | |`);
      continue;
    }
    const perReq = m.requestsOk ? ((m.runCpuS! * 1e6) / m.requestsOk).toFixed(0) : '—';
    const eps = m.runCpuS! > 0 ? Math.round(m.events! / m.runCpuS!).toLocaleString('en-US') : '—';
    out.push(`| ${p.n} | ${p.s} | ${p.s * p.k} | ${f2(m.loadS)} (${f2(m.loadCpuS)}) | ${f2(m.buildS)} (${f2(m.buildCpuS)}) | ${f2(m.runS)} (${f2(m.runCpuS)}) | ${m.requestsOk} | ${perReq} | ${eps} | ${f2(m.rssMiB, 0)} | ${f2(m.heapMiB, 0)} |`);
  }
  return out;
}

function exponents(ms: Measured[]): string[] {
  const ok = ms.filter((m) => m.status === 'ok');
  const out: string[] = [];
  // Points that differ only in one of N, S and K (pods per Service), grouped by the other two.
  const vary = (axis: 'n' | 's' | 'k', label: (p: Point) => string): void => {
    const g = new Map<string, Measured[]>();
    for (const m of ok) {
      const key = label(m.point);
      g.set(key, [...(g.get(key) ?? []), m]);
    }
    const name = axis === 'k' ? 'K' : axis.toUpperCase();
    for (const [fixed, ms2] of g) {
      if (ms2.length < 2) continue;
      const xs = ms2.map((m) => m.point[axis]);
      const fit = (ys: number[]): string => f2(fitExponent(xs, ys) ?? undefined);
      out.push(`- ${fixed}, ${name} = ${xs.join(', ')}: build CPU ∝ ${name}^${fit(ms2.map((m) => m.buildCpuS!))}, peak RSS ∝ ${name}^${fit(ms2.map((m) => m.rssMiB!))}, heap ∝ ${name}^${fit(ms2.map((m) => m.heapMiB!))}`);
    }
  };
  vary('n', (p) => `S = ${p.s}${p.k !== 3 ? `, K = ${p.k}` : ''}`);
  vary('s', (p) => `N = ${p.n}${p.k !== 3 ? `, K = ${p.k}` : ''}`);
  vary('k', (p) => `N = ${p.n}, S = ${p.s}`);
  return out;
}

function main(argv: string[]): void {
  if (argv[0] === '--child') {
    const [n, s, k, flows, requests, rate] = argv.slice(1).map(Number) as [number, number, number, number, number, number | undefined];
    process.stdout.write(child({ n, s, k, flows, requests, rate: rate ?? 200 }) + '\n');
    return;
  }
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const timeoutS = Number(opt('--timeout') ?? 120);
  const heap = Number(opt('--heap') ?? 6144);
  const k = Number(opt('--pods-per-service') ?? 3);
  const flowsMax = Number(opt('--flows') ?? 10);
  const requests = Number(opt('--requests') ?? 100);
  // Per flow. The client's node keeps three conntrack entries per connection: the TCP one 120 s after
  // it closes (TIME_WAIT) and the two one-way VXLAN flows (outer source port hashed from the inner
  // flow) 30 s each, ~180 entry-seconds; flows x rate x 180 over nf_conntrack_max (262,144) fills the
  // table, and new connections are dropped when early_drop's window finds only ASSURED entries.
  const rate = Number(opt('--rate') ?? 200);
  // --point NxS or NxSxK (K pods per Service: --point 1000x1x100000 is issue 14's 100k-replica Deployment); repeatable.
  const points: Array<[number, number, number]> = [];
  argv.forEach((a, i) => {
    if (a === '--point') {
      const [n, s, kk] = argv[i + 1]!.split('x').map(Number) as [number, number, number | undefined];
      points.push([n, s, kk ?? k]);
    }
  });
  const grid: Array<[number, number, number]> = points.length > 0 ? points : (opt('--grid') === 'full' ? FULL : QUICK).map(([n, s]) => [n, s, k]);
  const ms: Measured[] = [];
  for (const [n, s, kk] of grid) {
    const m = measure({ n, s, k: kk, flows: Math.min(flowsMax, s), requests, rate }, timeoutS, heap);
    ms.push(m);
    process.stderr.write(`${n}x${s}: ${m.status === 'ok' ? `build ${f2(m.buildS)} s (${f2(m.buildCpuS)} CPU), run ${f2(m.runS)} s (${f2(m.runCpuS)} CPU), rss ${f2(m.rssMiB, 0)} MiB` : `${m.status} ${m.note ?? ''}`}\n`);
  }
  process.stdout.write([...table(ms), '', ...exponents(ms)].join('\n') + '\n');
}

main(process.argv.slice(2));
