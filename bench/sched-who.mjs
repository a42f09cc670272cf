// bench/sched-who — whom the simulation thread waited behind (runnable, not running) during one
// capture-cost child, from the kernel's scheduler trace; and what ran on the CPUs over the run, by kind.
// Linux, perf and root (or perf_event_paranoid ≤ 1) needed:
//
//   perf sched record -k CLOCK_MONOTONIC -o ps.data -- node dist/bench/capture-cost.js --child async > ps.json
//   node bench/sched-who.mjs ps.data ps.json
//
// ps.json is the child's JSON line: its pid and the run's CLOCK_MONOTONIC span (monoNs, from
// process.hrtime) cut the trace to the run; diag.thTid names the writer thread. Threads of the child
// by kind as capture-cost's CAPCOST_THREADS (V8's platform workers: the 2nd to (1+CAPCOST_V8_POOL)th
// thread the child started — record from before the child starts so its forks are in the trace);
// kernel threads by name; anything else is "other processes". The wait is charged to the task running
// on the CPU whose queue the simulation thread was on (the CPU it last ran on, woken on, or was moved to).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [data, jsonFile] = process.argv.slice(2);
if (!data || !jsonFile) throw new Error('usage: node bench/sched-who.mjs PERF.data CHILD.json');
const j = JSON.parse(readFileSync(jsonFile, 'utf8').trim().split('\n').pop());
const pid = j.pid;
const [t0, t1] = j.monoNs.map((x) => Number(BigInt(x)) / 1e9);
const wtid = j.diag?.thTid > 0 ? j.diag.thTid : -1;
const v8Pool = Number(process.env.CAPCOST_V8_POOL ?? 4);
const text = execFileSync('perf', ['script', '-i', data, '-F', 'cpu,time,event,trace'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });

const ours = new Set([pid]);
const born = []; // the child's threads in the order it started them
const kind = (tid, comm) => {
  if (tid === 0) return 'idle';
  if (tid === pid) return 'simulation';
  if (tid === wtid) return 'writer thread';
  const i = born.indexOf(tid);
  if (i >= 1 && i <= v8Pool) return 'V8 platform';
  if (ours.has(tid)) return 'node other (libuv pool…)';
  const k = /^(kworker|jbd2|ksoftirqd|rcu_|migration|kswapd|kcompactd|kdamond)/.exec(comm);
  return k ? `kernel ${k[1]}` : 'other processes';
};
const cur = new Map(); // cpu → [tid, comm]
const occupancy = new Map();
const behind = new Map();
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
let state = 'run'; // of the simulation thread: run | wait | sleep
let qcpu = -1;
let last = t0;
const advance = (t) => {
  const a = Math.max(last, t0);
  const b = Math.min(t, t1);
  if (b > a) {
    for (const [, [tid, comm]] of cur) add(occupancy, kind(tid, comm), b - a);
    if (state === 'wait' && cur.has(qcpu)) add(behind, kind(...cur.get(qcpu)), b - a);
  }
  last = Math.max(last, t);
};
const line = /^\s*\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s+(.*)$/;
for (const l of text.split('\n')) {
  const m = line.exec(l);
  if (!m) continue;
  const cpu = Number(m[1]);
  const t = Number(m[2]);
  const ev = m[3];
  const rest = m[4];
  advance(t);
  if (ev === 'sched_process_fork') {
    const f = /pid=(\d+) child_comm=.* child_pid=(\d+)/.exec(rest);
    if (f && ours.has(Number(f[1]))) {
      ours.add(Number(f[2]));
      if (Number(f[1]) === pid) born.push(Number(f[2]));
    }
  } else if (ev === 'sched_switch') {
    const s = /prev_comm=(.*) prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+)/.exec(rest);
    if (!s) continue;
    cur.set(cpu, [Number(s[5]), s[4]]);
    if (Number(s[2]) === pid) {
      state = s[3].startsWith('R') ? 'wait' : 'sleep';
      qcpu = cpu;
    }
    if (Number(s[5]) === pid) {
      state = 'run';
      qcpu = cpu;
    }
  } else if (ev === 'sched_waking' || ev === 'sched_wakeup') {
    const w = /pid=(\d+) prio=\d+ target_cpu=(\d+)/.exec(rest);
    if (w && Number(w[1]) === pid && state === 'sleep') {
      state = 'wait';
      qcpu = Number(w[2]);
    }
  } else if (ev === 'sched_migrate_task') {
    const g = /pid=(\d+) prio=\d+ orig_cpu=\d+ dest_cpu=(\d+)/.exec(rest);
    if (g && Number(g[1]) === pid) qcpu = Number(g[2]);
  }
}
advance(t1);
const ms = (s) => (s * 1e3).toFixed(1).padStart(8);
const waited = [...behind.values()].reduce((a, b) => a + b, 0);
console.log(`run ${(t1 - t0).toFixed(3)} s (${j.mode}); the simulation thread waited ${ms(waited).trim()} ms for a CPU (its schedstat: ${(j.sched.runqWaitS * 1e3).toFixed(1)} ms), behind:`);
for (const [k, v] of [...behind].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)}${ms(v)} ms`);
console.log('on the CPUs over the run (all CPUs summed):');
for (const [k, v] of [...occupancy].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)}${ms(v)} ms`);
