// bench/h1-at — H1 (bench/run.ts's H1_SCENARIO) with another simulated duration; prints requests completed,
// the run's CPU and wall seconds and events. For steady-state figures: two durations, difference per request.
//   node bench/h1-at.mjs TREE DURATION_S
import { h1World } from './h1-world.mjs';

const [tree, dur] = [process.argv[2], process.argv[3]];
const world = await h1World(tree, dur);
const c0 = process.cpuUsage();
const t0 = performance.now();
world.sim.run();
const c = process.cpuUsage(c0);
const w = (performance.now() - t0) / 1000;
const f = world.stats.flow('load');
console.log(JSON.stringify({ dur, ok: f.successes, cpuS: (c.user + c.system) / 1e6, wallS: w, events: world.sim.eventsExecuted }));
