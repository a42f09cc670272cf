// bench/heap-at — the live heap of one bench/run scenario at a simulated instant: the run stops at
// T seconds of simulated time, a full GC runs, and the heap in use is printed (MB), then optionally the
// self size and count of the largest constructors from a heap snapshot. Plain ESM over the built dist/
// (npm run build first); needs --expose-gc:
//
//   node --expose-gc bench/heap-at.mjs H1 15 [tree] [--top N]
//
// The run is cut at T (the scenario's own outputs are not written).
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import v8 from 'node:v8';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 0;
const [id, tSec, treeArg] = args;
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const tree = resolve(treeArg ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
Simulator.prototype.run = function (opts = {}) {
  run.call(this, { ...opts, until: Number(tSec) * 1e9 });
  globalThis.gc();
  globalThis.gc();
  const used = process.memoryUsage().heapUsed;
  let line = `${id} t=${tSec}s heap_used_mb=${(used / 1e6).toFixed(1)}`;
  if (top > 0) line += '\n' + constructors(top);
  process.stdout.write(line + '\n');
  process.exit(0);
};
process.argv = [process.argv[0], `${tree}/dist/bench/run.js`, '--child', id];
await import(`${tree}/dist/bench/run.js`);

/** Self size and count per constructor name (object nodes), the `n` largest, from a heap snapshot. */
function constructors(n) {
  const file = v8.writeHeapSnapshot(resolve(tmpdir(), `heap-at-${process.pid}.heapsnapshot`));
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
  const by = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += f.length) {
    const type = types[nodes[i + iType]];
    const name = type === 'object' || type === 'closure' ? snap.strings[nodes[i + iName]] : `(${type})`;
    const e = by.get(name) ?? { size: 0, count: 0 };
    e.size += nodes[i + iSize];
    e.count++;
    by.set(name, e);
  }
  return [...by.entries()]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, n)
    .map(([name, e]) => `  ${(e.size / 1e6).toFixed(1).padStart(7)} MB ${String(e.count).padStart(9)}  ${name}`)
    .join('\n');
}
