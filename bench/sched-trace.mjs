// bench/sched-trace — records one bench/run scenario's scheduler operations as Float64 quadruples
// (kind, time, seq, background; kind 0 insert, 1 post, 2 cancel, 3 pop, 4 release, 5 insertSeq,
// 6 reserveSeq, 7 move: seq is the moved event's before the move), for sched-replay.
// Plain ESM over the built dist/ of the current directory (npm run build first):
//
//   node bench/sched-trace.mjs H1|S1|S3 /tmp/h1.trace
import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
const id = process.argv[2], out = process.argv[3];
const tree = resolve('.');
const { Scheduler, SimEvent } = await import(`${tree}/dist/src/core/scheduler.js`);
const P = Scheduler.prototype;
let buf = new Float64Array(1 << 22), n = 0;
const rec = (k, t, s, b) => { if (n + 4 > buf.length) { const x = new Float64Array(buf.length * 2); x.set(buf); buf = x; } buf[n++] = k; buf[n++] = t; buf[n++] = s; buf[n++] = b; };
const oi = P.insert; P.insert = function (time, fn, a, b, bg = false) { const ev = oi.call(this, time, fn, a, b, bg); rec(0, time, ev.seq, bg ? 1 : 0); return ev; };
const opo = P.post; P.post = function (time, fn, a, b, bg) { rec(1, time, this.seq, bg ? 1 : 0); return opo.call(this, time, fn, a, b, bg); };
const ors = P.reserveSeq; P.reserveSeq = function () { const q = ors.call(this); rec(6, 0, q, 0); return q; };
const ois = P.insertSeq; P.insertSeq = function (time, seq, fn, a, b, bg) { rec(5, time, seq, bg ? 1 : 0); return ois.call(this, time, seq, fn, a, b, bg); };
const omv = P.move; if (omv) P.move = function (ev, time, fn, a, b, bg) { rec(7, time, ev.seq, bg ? 1 : 0); return omv.call(this, ev, time, fn, a, b, bg); };
const oc = SimEvent.prototype.cancel; SimEvent.prototype.cancel = function () { rec(2, 0, this.seq, 0); return oc.call(this); };
const op = P.pop; P.pop = function () { const ev = op.call(this); if (ev) rec(3, ev.time, ev.seq, 0); return ev; };
const orl = P.release; P.release = function (ev) { rec(4, 0, ev.seq, 0); return orl.call(this, ev); };
process.on('exit', () => { writeFileSync(out, Buffer.from(buf.buffer, 0, n * 8)); console.error('ops', n / 4); });
process.argv = [process.argv[0], `${tree}/dist/bench/run.js`, '--child', id];
await import(`${tree}/dist/bench/run.js`);
