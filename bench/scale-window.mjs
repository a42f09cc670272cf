// bench/scale-window — a generated cluster's steady state (bench/scale.ts's workload: N nodes, S Services,
// K pods a Service, F HTTP flows of R requests at RATE a second each), measured over a window of simulated
// time after the JIT has warmed up and conntrack, TIME_WAIT and the stats have reached their steady size
// (conntrack keeps a closed connection 120 s, TIME_WAIT 60 s: start the window past 130 s). The run goes
// uninstrumented up to FROM s of simulated time, then over the window [FROM, TO], then stops.
//   node bench/scale-window.mjs TREE N S K F R RATE FROM TO            # prints the window's CPU and wall a request
//   valgrind --tool=callgrind --instr-atstart=no [--cache-sim=yes …] --callgrind-out-file=OUT node \
//     --single-threaded --predictable --perf-basic-prof bench/scale-window.mjs TREE N S K F R RATE FROM TO --callgrind
// With --callgrind, callgrind's instrumentation is on only inside the window (JIT code is named by
// /tmp/perf-PID.map). Example (small world, 200 s, window 150–160 s: ~10 k requests):
//   node bench/scale-window.mjs . 10 100 3 100 2000 10 150 160
import { resolve } from 'node:path';
import { instrument as switchCallgrind } from './callgrind-switch.mjs';

const args = process.argv.slice(2);
const cg = args.includes('--callgrind');
const [treeArg, n, s, k, flows, requests, rate, from, to] = args.filter((a) => a !== '--callgrind');
if (to === undefined) throw new Error('usage: scale-window.mjs TREE N S K F R RATE FROM TO [--callgrind]');
const tree = resolve(treeArg);
await import(`${tree}/dist/src/cli/v8-tuning.js`);
const { generateClusterYaml, CLUSTER_GEN_DEFAULTS } = await import(`${tree}/dist/src/scenario/generate.js`);
const { loadScenarioText } = await import(`${tree}/dist/src/scenario/load.js`);
const { buildWorld } = await import(`${tree}/dist/src/scenario/build.js`);

const p = { nodes: Number(n), services: Number(s), podsPerService: Number(k), flows: Number(flows), requests: Number(requests), rate: Number(rate) };
const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, ...p });
const world = buildWorld(loadScenarioText(yaml, `gen-${n}x${s}.yaml`), 1);

function instrument(on) {
  if (cg) switchCallgrind(on, 'scale-window');
}
function served() {
  let ok = 0;
  for (let f = 0; f < p.flows; f++) ok += world.stats.flow(`flow-${f}`).successes;
  return ok;
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const S = 1e9;
const w0 = performance.now();
world.sim.run({ until: Number(from) * S });
const ok0 = served();
const ev0 = world.sim.eventsExecuted;
instrument(true);
const t0 = performance.now();
const c0 = cpu();
world.sim.run({ until: Number(to) * S });
const t1 = performance.now();
const c1 = cpu();
instrument(false);
const req = served() - ok0;
console.log(
  JSON.stringify({
    from: Number(from),
    to: Number(to),
    requests: req,
    events: world.sim.eventsExecuted - ev0,
    beforeS: (t0 - w0) / 1000,
    windowS: (t1 - t0) / 1000,
    windowCpuS: c1 - c0,
    usPerRequest: (1e6 * (t1 - t0)) / 1000 / req,
    cpuUsPerRequest: (1e6 * (c1 - c0)) / req,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  }),
);
process.exit(0);
