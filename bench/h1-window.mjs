// bench/h1-window — H1's steady state under callgrind: the scenario (bench/run.ts's H1 with `duration`
// DUR s) runs uninstrumented up to FROM s of simulated time, with callgrind's instrumentation on from FROM
// to TO, then stops. So the profile holds only warmed-up requests (no build, no JIT warm-up), and
// Ir / requests-in-window is the steady-state cost of a request in instructions. Run under
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=OUT node --single-threaded \
//     --predictable --perf-basic-prof bench/h1-window.mjs TREE [FROM TO DUR]     (defaults 25 30 80)
// (JIT code is named by /tmp/perf-PID.map when OUT is annotated). Prints the requests completed
// in the window and the events executed in it.
import { h1World } from './h1-world.mjs';
import { instrument as switchCallgrind } from './callgrind-switch.mjs';

const [tree, from = '25', to = '30', dur = '80'] = process.argv.slice(2);
const world = await h1World(tree, dur);

const S = 1e9;
world.sim.run({ until: Number(from) * S });
const ok0 = world.stats.flow('load').successes;
const ev0 = world.sim.eventsExecuted;
switchCallgrind(true, 'h1-window');
world.sim.run({ until: Number(to) * S });
switchCallgrind(false, 'h1-window');
const ok1 = world.stats.flow('load').successes;
console.log(JSON.stringify({ from, to, requests: ok1 - ok0, events: world.sim.eventsExecuted - ev0 }));
process.exit(0);
