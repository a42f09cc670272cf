// bench/pair-big — big scale runs of several built trees, alternated (A B … B A per round), each run
// next to a gauge of the host's speed at that minute. The host (a 2-vCPU KVM guest) drifts by a third
// within half an hour (bench/README.md, session 34), more than any one change moves a run, so a run's
// wall time alone cannot say which side of a goal it falls on. The gauge is the ns-3 anchor's S1
// (../shared/anchors/ns3, built by its run.sh as `bench/run.ts --ns3` builds it): code that is not
// podwire's, whose median on the anchor's day is recorded (RESULTS.md: 3.155 s). Its ratio to that
// median is the host's slowness at the minute (2 = half the anchor day's speed); each run is also printed
// divided by that factor, "at the anchor's speed". Without ns-3 (`--gauge none`) the runs are only paired.
//
//   npm run build   # in every tree
//   node bench/pair-big.mjs OUT --rounds 2 -- 1000 10000 3 100 10000 10 -- TREE_A TREE_B
//   node bench/pair-big.mjs OUT --gauge none --heap 7000 -- 300 3000 3 100 2000 10 -- /tmp/base .
//   node bench/pair-big.mjs OUT --gauge ns3,mem -- 1000 10000 3 100 10000 10 -- TREE_A TREE_B
//
// `--gauge mem` adds bench/mem-gauge.mjs (the host's memory latency, ns a dependent random step over 256 MiB)
// run right before and right after each run, their mean printed as "mem ns": the big run is bound by
// cache misses, which S1 (cache-resident) does not feel. With it the summary also gives the correlation of
// run wall with the memory latency.
//
// Each run is `node --max-old-space-size=HEAP --trace-gc TREE/dist/bench/scale.js --child ARGS` (its
// stdout in OUT/K-NAME.txt); the gauge runs right before it. Prints a markdown table (and writes
// OUT/table.md): the time and load, the tree, the gauge's wall and factor, build and run wall, run CPU,
// run wall at the anchor's speed, events, scavenges and mark-compacts in the run with their pauses, peak
// RSS; then medians by tree and the correlation of run wall with the gauge over all runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ANCHOR_S1_WALL = 3.155; // RESULTS.md: S1 median wall_run_s over 7 rounds on the anchor's day

function usage(msg) {
  process.stderr.write(`pair-big: ${msg}\nusage: node bench/pair-big.mjs OUT [--rounds R] [--gauge ns3|none] [--heap MiB] -- N S K FLOWS REQUESTS RATE -- TREE...\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const out = argv.shift();
if (!out || out.startsWith('--')) usage('an output folder first');
let rounds = 1;
let gauges = ['ns3'];
let heap = 7000;
while (argv.length > 0 && argv[0] !== '--') {
  const a = argv.shift();
  const v = argv.shift();
  if (v === undefined) usage(`${a} needs a value`);
  if (a === '--rounds') rounds = Number(v);
  else if (a === '--gauge') gauges = v === 'none' ? [] : v.split(',');
  else if (a === '--heap') heap = Number(v);
  else usage(`unknown option ${a}`);
}
if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 50)) usage('--rounds takes 1 to 50');
if (gauges.some((g) => g !== 'ns3' && g !== 'mem')) usage('--gauge takes ns3, mem, ns3,mem or none');
if (!(Number.isInteger(heap) && heap >= 256)) usage('--heap takes MiB, at least 256');
argv.shift();
const sep = argv.indexOf('--');
if (sep !== 6) usage('six scale arguments (N S K FLOWS REQUESTS RATE), then --, then the trees');
const args = argv.slice(0, 6);
const trees = argv.slice(7).map((t) => resolve(t));
if (trees.length === 0) usage('at least one tree');
for (const t of trees) if (!existsSync(join(t, 'dist', 'bench', 'scale.js'))) usage(`${t}: no dist/bench/scale.js (run npm run build there)`);
const names = trees.map((t, i) => (trees.filter((u) => basename(u) === basename(t)).length > 1 ? `${basename(t)}#${i + 1}` : basename(t)));

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

/** The gauge's program: the anchor's S1, built as bench/run.ts --ns3 builds it (run.sh BUILD_ONLY=1). */
function gaugeProgram() {
  const build = process.env['NS3_BUILD'] ?? join(process.env['TMPDIR'] ?? tmpdir(), 'ns3-anchor', 'build');
  const prog = join(build, 's1_udp_echo_chain');
  if (existsSync(prog)) return prog;
  const anchor = [process.env['NS3_ANCHOR'], join(repo, '..', 'shared', 'anchors', 'ns3'), join(repo, '..', '..', 'shared', 'anchors', 'ns3')].find((d) => d && existsSync(join(d, 'run.sh')));
  if (!anchor) usage('--gauge ns3 needs the anchor folder (set NS3_ANCHOR), or use --gauge none');
  const r = spawnSync('bash', [join(anchor, 'run.sh')], { env: { ...process.env, BUILD_ONLY: '1', NS3_BUILD: build }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(prog)) usage('building the ns-3 anchor failed: it needs g++ and libns3-dev 3.37 (apt-get install -y g++ libns3-dev), or use --gauge none');
  return prog;
}

/** One gauge run: S1's wall_run_s from its RESULT line. */
function runGauge(prog) {
  const r = spawnSync(prog, [], { encoding: 'utf8', timeout: 120_000 });
  const m = /wall_run_s=([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`pair-big: the gauge ${prog} failed (exit ${r.status})`);
  return Number(m[1]);
}

/** One memory gauge run: ns a dependent random step (bench/mem-gauge.mjs, 256 MiB, 5 M steps). */
function runMemGauge() {
  const r = spawnSync(process.execPath, [join(here, 'mem-gauge.mjs'), '256', '5000000'], { encoding: 'utf8', timeout: 120_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`pair-big: the memory gauge failed (exit ${r.status})`);
  return JSON.parse(line).nsPerStep;
}

/** Sums the run phase's GC lines of a --trace-gc log: [count, pause ms] by kind. */
function gcOfRun(text, result) {
  const startMs = (result.loadS + result.buildS) * 1000 + 300;
  const sum = { Scavenge: [0, 0], 'Mark-Compact': [0, 0] };
  for (const line of text.split('\n')) {
    const m = /\s(\d+) ms: (Scavenge|Mark-Compact)[^,]*, ([\d.]+) \/ [\d.]+ ms/.exec(line);
    if (!m || Number(m[1]) < startMs) continue;
    sum[m[2]][0]++;
    sum[m[2]][1] += Number(m[3]);
  }
  return sum;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const hhmm = () => new Date().toISOString().slice(11, 19);

mkdirSync(out, { recursive: true });
const prog = gauges.includes('ns3') ? gaugeProgram() : null;
const mem = gauges.includes('mem');
const order = [];
for (let r = 0; r < rounds; r++) order.push(...(r % 2 === 0 ? trees.map((_, i) => i) : trees.map((_, i) => trees.length - 1 - i)), ...(r % 2 === 0 ? trees.map((_, i) => trees.length - 1 - i) : trees.map((_, i) => i)));
const rows = [];
const header = '| # | time | load | tree | gauge s | host factor | mem ns | build s | run s | run CPU s | run s at anchor speed | events | scavenges (ms) | mark-compacts (ms) | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
process.stdout.write(`pair-big: ${order.length} runs of scale.js --child ${args.join(' ')} on ${cpus().length} CPUs, gauge ${gauges.join(',') || 'none'}\n${header}\n`);
order.forEach((ti, k) => {
  const at = hhmm();
  const load = loadavg()[0];
  const g = prog ? runGauge(prog) : NaN;
  const memBefore = mem ? runMemGauge() : NaN;
  const file = join(out, `${k + 1}-${names[ti]}.txt`);
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heap}`, '--trace-gc', join(trees[ti], 'dist', 'bench', 'scale.js'), '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 3_600_000 });
  writeFileSync(file, (r.stdout ?? '') + (r.stderr ?? ''));
  const memNs = mem ? (memBefore + runMemGauge()) / 2 : NaN;
  const json = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).pop();
  const res = json ? JSON.parse(json) : null;
  if (!res || res.status !== 'ok') {
    process.stdout.write(`| ${k + 1} | ${at} | ${load.toFixed(2)} | ${names[ti]} | failed (exit ${r.status}, ${file}) |\n`);
    return;
  }
  const gc = gcOfRun(r.stdout, res);
  const factor = g / ANCHOR_S1_WALL;
  const row = { k: k + 1, tree: names[ti], gauge: g, factor, memNs, build: res.buildS, run: res.runS, cpu: res.runCpuS, norm: res.runS / factor, events: res.events, gc, rss: res.rssMiB };
  rows.push(row);
  process.stdout.write(`| ${row.k} | ${at} | ${load.toFixed(2)} | ${row.tree} | ${f2(g)} | ${f2(factor)} | ${Number.isFinite(memNs) ? Math.round(memNs) : '–'} | ${f1(row.build)} | ${f1(row.run)} | ${f1(row.cpu)} | ${f1(row.norm)} | ${row.events.toLocaleString('en-US')} | ${gc.Scavenge[0]} (${Math.round(gc.Scavenge[1])}) | ${gc['Mark-Compact'][0]} (${Math.round(gc['Mark-Compact'][1])}) | ${Math.round(row.rss)} |\n`);
});
const lines = [header, ...rows.map((r) => `| ${r.k} | | | ${r.tree} | ${f2(r.gauge)} | ${f2(r.factor)} | ${Number.isFinite(r.memNs) ? Math.round(r.memNs) : '–'} | ${f1(r.build)} | ${f1(r.run)} | ${f1(r.cpu)} | ${f1(r.norm)} | ${r.events.toLocaleString('en-US')} | ${r.gc.Scavenge[0]} (${Math.round(r.gc.Scavenge[1])}) | ${r.gc['Mark-Compact'][0]} (${Math.round(r.gc['Mark-Compact'][1])}) | ${Math.round(r.rss)} |`)];
const summary = ['', '| tree | runs | run s, median (min–max) | run s at anchor speed, median (min–max) | host factor, median (min–max) |', '|---|---|---|---|---|'];
for (const name of names) {
  const rs = rows.filter((r) => r.tree === name);
  if (rs.length === 0) continue;
  const span = (xs, f) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
  summary.push(`| ${name} | ${rs.length} | ${span(rs.map((r) => r.run), f1)} | ${prog ? span(rs.map((r) => r.norm), f1) : '–'} | ${prog ? span(rs.map((r) => r.factor), f2) : '–'} |`);
}
/** Pearson correlation of ys with xs. */
function correlation(xs, ys) {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
// How much of the runs' spread each gauge explains.
if (prog && rows.length >= 3) summary.push('', `correlation of run wall with the ns-3 gauge over ${rows.length} runs: r = ${f2(correlation(rows.map((r) => r.gauge), rows.map((r) => r.run)))}`);
if (mem && rows.length >= 3) summary.push('', `correlation of run wall with the memory latency over ${rows.length} runs: r = ${f2(correlation(rows.map((r) => r.memNs), rows.map((r) => r.run)))}`);
process.stdout.write(summary.join('\n') + '\n');
writeFileSync(join(out, 'table.md'), [...lines, ...summary].join('\n') + '\n');
