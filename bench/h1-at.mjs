// bench/h1-at — H1 (bench/run.ts's H1_SCENARIO) with another simulated duration; prints requests completed,
// the run's CPU and wall seconds and events. For steady-state figures: two durations, difference per request.
//   node bench/h1-at.mjs TREE DURATION_S
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [tree, dur] = [process.argv[2], process.argv[3]];
const src = readFileSync(`${tree}/bench/run.ts`, 'utf8');
let text = /const H1_SCENARIO = `([\s\S]*?)`;/.exec(src)[1];
if (!text.includes('duration: 20s')) throw new Error(`${tree}/bench/run.ts: H1_SCENARIO has no 'duration: 20s' to change`);
text = text.replace('duration: 20s', `duration: ${dur}s`);
const { loadScenarioText } = await import(pathToFileURL(`${resolve(tree)}/dist/src/scenario/load.js`).href);
const { buildWorld } = await import(pathToFileURL(`${resolve(tree)}/dist/src/scenario/build.js`).href);
const world = buildWorld(loadScenarioText(text, 'h1.yaml'), 7);
const c0 = process.cpuUsage();
const t0 = performance.now();
world.sim.run();
const c = process.cpuUsage(c0);
const w = (performance.now() - t0) / 1000;
const f = world.stats.flow('load');
console.log(JSON.stringify({ dur, ok: f.successes, cpuS: (c.user + c.system) / 1e6, wallS: w, events: world.sim.eventsExecuted }));
