// bench/sched-replay — replays a trace of bench/sched-trace against a tree's Scheduler alone (no
// callbacks run) and prints the min and median CPU ms of the repetitions after the first, with the
// pops and a check that every pop came at the recorded time (bad=0):
//
//   node bench/sched-replay.mjs TRACE TREE [plain|ceiling|ceiling2] [reps]
//
// ceiling: events cancelled before their pop are never inserted (no structure can do better);
// ceiling2: the same, but their SimEvent objects are still allocated (as callers do).
// A trace with moves (kind 7) replays only in plain mode.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
const [trace, treeArg, mode = 'plain', repsArg = '5'] = process.argv.slice(2);
const { Scheduler, SimEvent } = await import(`${resolve(treeArg)}/dist/src/core/scheduler.js`);
const b = readFileSync(trace);
const ops = new Float64Array(b.buffer, b.byteOffset, b.length / 8);
const N = ops.length;
let maxSeq = 0;
for (let i = 0; i < N; i += 4) if (ops[i + 2] > maxSeq) maxSeq = ops[i + 2];
const skip = new Uint8Array(maxSeq + 1);
const cbp = new Uint8Array(maxSeq + 1); // cancelled before popped
{ const popped = new Uint8Array(maxSeq + 1); for (let i = 0; i < N; i += 4) { const k = ops[i], s = ops[i + 2]; if (k === 3) popped[s] = 1; else if (k === 2 && !popped[s]) cbp[s] = 1; } }
// (a reserved seq is not an event until its insertSeq: kind 6 is not counted as one)
if (mode === 'ceiling' || mode === 'ceiling2') skip.set(cbp);
const live0 = { foreground: 0, cancelled: 0, unwheel() {} };
let sink;
const noop = () => {};
function once() {
  const s = new Scheduler();
  const evs = new Array(maxSeq + 1);
  const byRec = new Array(maxSeq + 1);
  const gone = new Uint8Array(maxSeq + 1); // posted events by recorded seq, for release
  let pops = 0, bad = 0;
  for (let i = 0; i < N; i += 4) {
    const k = ops[i], t = ops[i + 1], q = ops[i + 2], bg = ops[i + 3] === 1;
    if (k === 0) { if (!skip[q]) evs[q] = s.insert(t, noop, undefined, undefined, bg); else if (mode === 'ceiling2') sink = new SimEvent(t, q, noop, undefined, undefined, bg, live0); }
    else if (k === 1) s.post(t, noop, undefined, undefined, bg);
    else if (k === 5) { if (!skip[q]) evs[q] = s.insertSeq(t, q, noop, undefined, undefined, bg); }
    else if (k === 6) s.reserveSeq();
    else if (k === 7) {
      // A timer re-armed (Scheduler.move; a tree without it: cancel, then insert).
      const e = evs[q];
      const m = s.move ? s.move(e, t, noop, undefined, undefined, bg) : (e.cancel(), s.insert(t, noop, undefined, undefined, bg));
      evs[q] = undefined; // (the old seq no longer names it: holding it here would keep a moved event alive)
      evs[m.seq] = m;
    }
    else if (k === 2) { if (!skip[q]) { const e = evs[q]; const w = e.slot >= 0; e.cancel(); if (!cbp[q] || w) { evs[q] = undefined; if (w) gone[q] = 1; } } }
    else if (k === 3) {
      if (skip[q]) continue;
      if (gone[q]) continue; // left the queue at cancel
      let ev = s.peek();
      if (ev.time > Infinity) break;
      ev = s.pop();
      pops++;
      if (ev.time !== t) bad++;
      if (ev.pooled) byRec[q] = ev; else evs[q] = undefined;
    } else if (k === 4) { const ev = byRec[q]; if (ev !== undefined) { byRec[q] = undefined; s.release(ev); } }
  }
  return { pops, bad, left: s.size };
}
const reps = Number(repsArg);
const times = [];
for (let r = 0; r < reps; r++) {
  const c0 = process.cpuUsage();
  const res = once();
  const c = process.cpuUsage(c0);
  times.push(((c.user + c.system) / 1e3).toFixed(0));
  if (r === reps - 1) { const v = times.slice(1).map(Number).sort((a, b) => a - b); console.log(mode, treeArg, "min", v[0], "med", v[v.length >> 1], JSON.stringify(res)); }
}
