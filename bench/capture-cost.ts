// bench/capture-cost — what capturing costs a run: bench/run.ts's S1 (A — R — B, 200,000 UDP echoes
// of 64 B, 800,004 frames over 4 NICs) run without capture and with every NIC captured into one pcapng,
// in each capture mode. CPU is the process's user+sys (`process.cpuUsage()`, every thread: the
// writer thread's write(2) and fsync count) and wall is `performance.now()`, both around
// `Simulator.run()` + the writer's `close()` (final flush, fsync, rename); setup is excluded. "sim cpu" is
// the simulation thread's own CPU time (/proc/thread-self/schedstat), the writer thread's excluded: what
// the capture costs the thread that runs the simulation. Each run is a fresh child process; the median of
// RUNS is printed with min–max and the ratio to `none`.
//
//   npm run build && node dist/bench/capture-cost.js [RUNS=3]
//   CAPCOST_MODES=none,async node dist/bench/capture-cost.js 8     # only those modes
//
// The goal's ratio (issue 13) is early's "wall × none" (what `podwire run` does): the run window above, as ns-3's
// anchor times only Simulator::Run() (RESULTS.md: S4/S1 1.106 by wall, paired by round). Beside it, "ns-3's window"
// (session 41): the run until the writer thread's last write(2) returned, without the final fsync and the rename —
// ns-3 hands its pcap bytes to the kernel inside Run() (ofstream) and closes its files after it, untimed, never fsynced. The "command" columns are the
// whole child process, spawn to exit (node's start and module loading, setup, run, close; the capture
// file is removed by the parent after the child exits): that ratio is lower by the fixed start-up both pay.
//
// Modes: none | tap (every NIC's tap connected to a listener that only counts: what a TraceSource
// subscriber costs; the writer no longer subscribes) | sync (every full 1 MiB chunk written by the simulation thread, the writer before the
// writer thread) | async (the default PcapngWriter: a writer thread, 16 × 1 MiB ring) | nomemo (async,
// every capture serialized: no frame-memo hand-off between a wire's two ends) | filter (async with
// `udp dst port 9`: the requests, half the frames) | snap (async, snaplen 64). Every mode but nomemo
// hangs a capture point on each NIC (`NetDevice.capture`) and passes the wire peers as scenario/run.ts does. onesync (async, no fdatasync every 32 MiB: one fsync at
// close, as before the writer thread expanded records). early (session 35): async with the writer thread
// booted before the world is built (capture/async-sink prestartWriterThread, as `podwire run` does: there the
// boot overlaps the world's build, 5–340 ms on scenarios/), the window started once the thread is up: its
// boot (~40–70 ms of its CPU, on the other core) is left out as the build it overlaps is; `readyWaitMs` is
// how long the child waited for it after setup (outside setupMs and the window; in the command columns). Two modes take the simulation thread's part
// apart (their files are not whole captures): call (a capture point on each NIC that only counts: the
// devices' calls without the writer) and noring (async with every record written at the start of the
// first chunk: the record code without the ring's memory traffic; no thread starts). The JSON line of a
// child also has the simulation thread's run-queue wait, context switches and page faults (`sched`: minflt of
// the process, simMinflt of the simulation thread alone) and the ring's slots used (`diag.slotsUsed`), and the writer
// thread's figures (`diag`: stalls, wake-ups of the writer thread at hand-over, finish wait, write(2), fdatasync, its CPU and start-up CPU,
// its run-queue wait, tid and nice). CAPCOST_NICE=N: the writer thread lowers its priority by N (writerNice).
// CAPCOST_THREADS=1: CPU and run-queue wait over the run by thread kind (simulation, writer, V8 platform,
// other: libuv's pool) and the machine's busy CPU. `pid` and `monoNs` let bench/sched-who.mjs cut a
// `perf sched` trace to the run and say whom the simulation thread waited behind.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UdpEchoServer } from '../src/app/udp-probe.js';
import { AsyncChunkSink, prestartWriterThread, spareWriterThreadUp } from '../src/capture/async-sink.js';
import { compileCaptureFilter } from '../src/capture/filter.js';
import { LINK_NONE } from '../src/capture/frame-memo.js';
import { CaptureGate, PcapngWriter } from '../src/capture/pcapng.js';
import { Simulator } from '../src/core/simulator.js';
import { UdpLayer } from '../src/transport/udp.js';
import { chainABR, ip } from './chain.js';

const MODES = ['none', 'tap', 'call', 'noring', 'sync', 'async', 'early', 'onesync', 'nomemo', 'filter', 'snap'] as const;
type Mode = (typeof MODES)[number];

/** CPU seconds of the calling thread (Linux: /proc/thread-self/schedstat, ns on the CPU). */
/** The calling thread's schedstat (s on the CPU, s runnable waiting for one) and context switches (voluntary, involuntary). */
function threadSched(): number[] {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    const st = readFileSync('/proc/thread-self/status', 'utf8');
    const v = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1]);
    const nv = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1]);
    return [Number(run) / 1e9, Number(wait) / 1e9, v, nv];
  } catch {
    return [NaN, NaN, NaN, NaN];
  }
}

/** The calling thread's minor page faults (/proc/thread-self/stat's 10th field): fresh memory it touched first. */
function threadMinflt(): number {
  try {
    const st = readFileSync('/proc/thread-self/stat', 'utf8');
    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return NaN;
  }
}

function threadCpu(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return NaN;
  }
}

/** Every thread of this process: tid → [s on the CPU, s runnable waiting for a core] (each task's schedstat). */
function tasksSched(): Map<number, number[]> {
  const m = new Map<number, number[]>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      try {
        const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ');
        m.set(Number(t), [Number(run) / 1e9, Number(wait) / 1e9]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    // not Linux
  }
  return m;
}

/** The machine's busy and total CPU seconds so far (/proc/stat's cpu line; USER_HZ 100). */
function machineCpu(): number[] {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = f[3]! + f[4]!;
    return [(total - idle) / 100, total / 100];
  } catch {
    return [NaN, NaN];
  }
}

function child(mode: Mode): string {
  // ms since the process started (performance.timeOrigin) when the scenario's setup begins: node's own start
  // and the modules' loading, which the whole command pays in every mode.
  const loadMs = performance.now();
  // early: the writer thread is booted before the world is built, as `podwire run` does (session 35).
  if (mode === 'early') prestartWriterThread();
  const sim = new Simulator(1);
  // CAPCOST_PACKETS=N (not the goal's workload): N echoes instead of S1's 200,000, the run 1 s longer than
  // the last send as in S1, to tell the capture's fixed costs (the writer thread's start, the final fsync)
  // from those per frame.
  const packets = Number(process.env['CAPCOST_PACKETS'] ?? 200_000);
  const { a, b, ea, ra, rb, eb } = chainABR(sim);
  const ua = new UdpLayer(a);
  new UdpEchoServer(new UdpLayer(b), 9);
  const client = ua.socket().connect(ip('10.1.2.2'), 9);
  let sent = 0;
  const send = (): void => {
    client.send(64);
    if (++sent < packets) sim.schedule(10_000, send);
  };
  sim.scheduleAt(1e9, send);
  let writer: PcapngWriter | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'podwire-capcost-'));
  const path = join(dir, 'c.pcapng');
  let taps = 0;
  /** `call` mode: the devices' calls of its counting points. */
  let calls = 0;
  if (mode === 'tap')
    for (const d of [ea, ra, rb, eb])
      d.tap.connect(() => {
        taps++;
      });
  if (mode === 'noring') (AsyncChunkSink.prototype as unknown as { record: (n: number) => number }).record = () => 0;
  if (mode !== 'none' && mode !== 'tap') {
    // CAPCOST_SLOTS / CAPCOST_SLOT_SIZE / CAPCOST_SYNC_EVERY / CAPCOST_OUT_SIZE / CAPCOST_MAX_SYNCS / CAPCOST_START_CHUNK: the ring's shape, the bytes
    // between two fdatasync calls, the writer thread's output buffer (bytes per write(2)), the most fdatasyncs out at once and the hand-over at which the writer thread starts, for trying other sizes (default: PcapngWriter's).
    const env = (k: string): number | undefined => (process.env[k] ? Number(process.env[k]) : undefined);
    const ring = { ...(env('CAPCOST_SLOTS') ? { slots: env('CAPCOST_SLOTS')! } : {}), ...(env('CAPCOST_SLOT_SIZE') ? { slotSize: env('CAPCOST_SLOT_SIZE')! } : {}), ...(env('CAPCOST_SYNC_EVERY') ? { syncEvery: env('CAPCOST_SYNC_EVERY')! } : {}), ...(env('CAPCOST_OUT_SIZE') ? { outSize: env('CAPCOST_OUT_SIZE')! } : {}), ...(env('CAPCOST_MAX_SYNCS') ? { maxSyncs: env('CAPCOST_MAX_SYNCS')! } : {}), ...(env('CAPCOST_START_CHUNK') !== undefined ? { startChunk: env('CAPCOST_START_CHUNK')! } : {}), ...(env('CAPCOST_NICE') !== undefined ? { writerNice: env('CAPCOST_NICE')! } : {}) };
    const w = new PcapngWriter(path, { application: 'podwire-bench', ...ring, ...(mode === 'sync' ? { sync: true } : {}), ...(mode === 'onesync' ? { syncEvery: Infinity } : {}) });
    writer = w;
    const gate = mode === 'filter' ? new CaptureGate(w, compileCaptureFilter('udp dst port 9')) : null;
    const devs = [ea, ra, rb, eb];
    for (const d of devs) w.addInterface(d.qualifiedName, mode === 'snap' ? { snaplen: 64 } : {});
    // Capture points and wire peers as scenario/run.ts hangs them: ea ↔ ra and rb ↔ eb (ids 0 ↔ 1, 2 ↔ 3).
    const memo = mode !== 'nomemo';
    devs.forEach((d, id) => {
      d.capture =
        mode === 'call'
          ? {
              departed: () => void calls++,
              arrived: () => void calls++,
            }
          : w.point(id, sim, memo ? id ^ 1 : LINK_NONE, gate);
    });
  }
  // CAPCOST_PRETOUCH=1 (diagnosis, not a capture mode): the simulation thread touches every page of the ring
  // before the run, so the run's page faults are the rest (what the ring's fresh memory costs the run).
  if (process.env['CAPCOST_PRETOUCH'] === '1' && writer?.asyncSink) {
    const u = writer.asyncSink.i32;
    for (let i = 0; i < u.length; i += 1024) Atomics.compareExchange(u, i, 0, 0);
  }
  // CAPCOST_THREADS=1: CPU and run-queue wait over the run of each kind of thread (see below) and the
  // whole machine's busy CPU s (kernel writeback, other tenants) in the JSON line.
  // early: the window starts once the spare thread is booted (its boot is left out of it; the ms waited
  // for it after setup are readyWaitMs: what a build shorter than the boot would leave of it in the run).
  const tr = performance.now();
  if (mode === 'early' && !spareWriterThreadUp(0) && !writer?.asyncSink?.usedSpare) throw new Error('capture-cost: no spare writer thread');
  if (mode === 'early') writer!.asyncSink!.waitThreadUp(5000);
  const readyWaitMs = performance.now() - tr;
  const threads = process.env['CAPCOST_THREADS'] === '1';
  const tk0 = threads ? tasksSched() : null;
  const mc0 = threads ? machineCpu() : null;
  const c0 = process.cpuUsage();
  const th0 = threadCpu();
  const sc0 = threadSched();
  const mf0 = threadMinflt();
  const ru0 = process.resourceUsage();
  const t0 = performance.now();
  const m0 = process.hrtime.bigint();
  sim.run({ until: 2e9 + packets * 10_000 });
  const mr = process.hrtime.bigint();
  const tc = performance.now();
  writer?.close();
  const closeMs = performance.now() - tc;
  // The whole process so far (startup, module loading, setup, run, close; every thread): the command's CPU.
  const pc = process.cpuUsage();
  const procCpu = (pc.user + pc.system) / 1e6;
  const m1 = process.hrtime.bigint();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const simCpu = threadCpu() - th0;
  let tasks: Record<string, number> | undefined;
  if (tk0 !== null && mc0 !== null) {
    // Threads by kind (Node 20 names them all "node"): main (the simulation), v8 (the 2nd to (1+
    // CAPCOST_V8_POOL)th thread the process started, default 4: V8's platform workers, started right
    // after node's first helper thread; set it as --v8-pool-size. By rank, not pid + n: other processes
    // take tids in between), writer (its tid and
    // figures from threadStats: it has ended by now), other (libuv's pool, which runs the fdatasync
    // calls, and node's signal/inspector threads). cpu s and run-queue wait s over the run.
    const v8Pool = Number(process.env['CAPCOST_V8_POOL'] ?? 4);
    const mc1 = machineCpu();
    const tk1 = tasksSched();
    const wtid = writer?.asyncSink?.threadStats[11];
    tasks = { machineBusyS: +(mc1[0]! - mc0[0]!).toFixed(3), machineTotalS: +(mc1[1]! - mc0[1]!).toFixed(3) };
    const add = (k: string, run: number, wait: number): void => {
      tasks![`${k}Cpu`] = +((tasks![`${k}Cpu`] ?? 0) + run).toFixed(4);
      tasks![`${k}Wait`] = +((tasks![`${k}Wait`] ?? 0) + wait).toFixed(4);
    };
    const rank = new Map([...tk1.keys()].filter((t) => t !== process.pid).sort((x, y) => x - y).map((t, i) => [t, i]));
    for (const [tid, [run, wait]] of tk1) {
      const b = tk0.get(tid) ?? [0, 0];
      add(tid === process.pid ? 'main' : tid === wtid ? 'writer' : rank.get(tid)! >= 1 && rank.get(tid)! <= v8Pool ? 'v8' : 'other', run! - b[0]!, wait! - b[1]!);
    }
    const ts = writer?.asyncSink?.threadStats;
    if (ts !== undefined && !tk1.has(wtid!)) add('writer', (ts[6]! + ts[7]!) / 1e3, (ts[10]! || 0) / 1e3);
  }
  const sc1 = threadSched();
  const mf1 = threadMinflt();
  const ru1 = process.resourceUsage();
  const sched = { runqWaitS: sc1[1]! - sc0[1]!, volCs: sc1[2]! - sc0[2]!, involCs: sc1[3]! - sc0[3]!, minflt: ru1.minorPageFault - ru0.minorPageFault, simMinflt: mf1 - mf0, majflt: ru1.majorPageFault - ru0.majorPageFault, fsWrite: ru1.fsWrite - ru0.fsWrite };
  const bytes = writer ? statSync(path).size : 0;
  // CAPCOST_SHA=1: the file's sha256 in the JSON line (to compare trees' outputs), read after the timing.
  const sha256 = writer && process.env['CAPCOST_SHA'] === '1' ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined;
  // CAPCOST_KEEP=FILE: the capture is moved there (for tshark), not removed.
  if (writer && process.env['CAPCOST_KEEP']) renameSync(path, process.env['CAPCOST_KEEP']);
  // The parent times the whole command and removes the capture after the child exited (a capture run keeps
  // its file: unlinking 224 MB, with the filesystem's discards, is no part of its cost); alone, here.
  if (process.env['CAPCOST_PARENT_RM'] !== '1') rmSync(dir, { recursive: true, force: true });
  const as = writer?.asyncSink ?? null;
  const ts = as?.threadStats;
  // ns-3's window (wallNs3, s): the run until the writer thread's last write(2) returned (threadStats[16], the same
  // CLOCK_MONOTONIC as m0 and mr), the final fsync, the close and the rename left out, as ns-3's Simulator::Run()
  // leaves out its files' close (ofstream, never fsynced). Without a writer it is the run; null for the modes whose
  // sink keeps no such time (sync, whose close() writes on this thread).
  const lastWrite = ts?.[16] ?? 0;
  const wallNs3 = writer === null ? Number(mr - m0) / 1e9 : as !== null && lastWrite > 0 ? (Math.max(Number(mr) / 1e6, lastWrite) - Number(m0) / 1e6) / 1e3 : null;
  const diag = as === null || ts === undefined ? null : { closeMs, stalls: as.stalls, stallMs: as.stallMs, wakes: as.wakes, finishMs: as.finishMs, finishBacklog: as.finishBacklog, slotsUsed: as.slotsUsed, thFinalSyncWaitMs: ts[8], thWaits: ts[9], thWriteMs: ts[0], thSyncMs: ts[1], thSyncs: ts[2], thIdleMs: ts[3], thChunkMs: ts[4], thFinalFsyncMs: ts[5], thCpuMs: ts[6], thBootCpuMs: ts[7], thRunqMs: ts[10], thTid: ts[11], thNice: ts[12], thMaxSyncs: ts[13], thFinishSyncs: ts[15] };
  // pid and the run's CLOCK_MONOTONIC ns (monoNs): to cut a `perf sched record -k CLOCK_MONOTONIC` trace to the run.
  return JSON.stringify({ mode, dir, loadMs, setupMs: t0 - loadMs - readyWaitMs, readyWaitMs, procCpu, pid: process.pid, monoNs: [String(m0), String(m1)], cpu: (c.user + c.system) / 1e6, simCpu, wall, wallNs3, packets: mode === 'call' ? calls : (writer?.packetCount ?? taps), bytes, sched, diag, ...(sha256 !== undefined ? { sha256 } : {}), ...(tasks !== undefined ? { tasks } : {}) });
}

interface Row {
  mode: Mode;
  dir: string;
  /** The whole command, measured by the parent: wall s from spawn to exit, and the child's CPU s of its whole life. */
  cmdWall: number;
  procCpu: number;
  loadMs: number;
  setupMs: number;
  readyWaitMs: number;
  cpu: number;
  simCpu: number;
  wall: number;
  /** ns-3's window (see child): null when the mode's sink keeps no last-write time. */
  wallNs3: number | null;
  packets: number;
  bytes: number;
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const span = (xs: number[]): string => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;

function main(argv: string[]): void {
  if (argv[0] === '--child') {
    process.stdout.write(child(argv[1] as Mode) + '\n');
    return;
  }
  const runs = Number(argv[0] ?? 3);
  const self = fileURLToPath(import.meta.url);
  // CAPCOST_MODES=none,async: only those modes (none is always run: the ratios' base).
  const pick = process.env['CAPCOST_MODES']?.split(',');
  const modes = MODES.filter((m) => m === 'none' || pick === undefined || pick.includes(m));
  const rows = new Map<Mode, Row[]>(modes.map((m) => [m, []]));
  // Interleaved (none, sync, async, … then again) so a change in the machine's load hits every mode alike.
  for (let i = 0; i < runs; i++)
    for (const m of modes) {
      const ts = performance.now();
      const r = spawnSync(process.execPath, [self, '--child', m], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CAPCOST_PARENT_RM: '1' } });
      const cmdWall = (performance.now() - ts) / 1000;
      if (r.status !== 0) throw new Error(`capture-cost: ${m} failed (exit ${r.status})`);
      const row = JSON.parse(r.stdout) as Row;
      rmSync(row.dir, { recursive: true, force: true });
      rows.get(m)!.push({ ...row, cmdWall });
    }
  const base = rows.get('none')!;
  const cpu0 = median(base.map((r) => r.cpu));
  const sim0 = median(base.map((r) => r.simCpu));
  const wall0 = median(base.map((r) => r.wall));
  const pcpu0 = median(base.map((r) => r.procCpu));
  // Paired by round (as ns-3's anchor ratio is): the median of each round's mode / none, which a load that
  // changes from round to round moves less than a ratio of medians.
  const paired = (rs: Row[], f: (r: Row) => number): number => median(rs.map((r, i) => f(r) / f(base[i]!)));
  process.stdout.write(
    '| mode | packets | file MB | cpu s (user+sys) | cpu × none | sim cpu s | sim cpu × none | wall s | wall × none | wall × none, paired | wall s, ns-3\'s window | × none, paired | command wall s | command wall × none, paired | command cpu s | command cpu × none |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const m of modes) {
    const rs = rows.get(m)!;
    const cpu = rs.map((r) => r.cpu);
    const sim = rs.map((r) => r.simCpu);
    const wall = rs.map((r) => r.wall);
    const cmd = rs.map((r) => r.cmdWall);
    const pcpu = rs.map((r) => r.procCpu);
    const n3 = rs.every((r) => r.wallNs3 !== null) && base.every((r) => r.wallNs3 !== null);
    const w3 = n3 ? rs.map((r) => r.wallNs3!) : [];
    process.stdout.write(
      `| ${m} | ${rs[0]!.packets.toLocaleString('en-US')} | ${(rs[0]!.bytes / 1e6).toFixed(1)} | ${median(cpu).toFixed(3)} (${span(cpu)}) | ${(median(cpu) / cpu0).toFixed(2)} | ${median(sim).toFixed(3)} (${span(sim)}) | ${(median(sim) / sim0).toFixed(2)} | ${median(wall).toFixed(3)} (${span(wall)}) | ${(median(wall) / wall0).toFixed(2)} | ${paired(rs, (r) => r.wall).toFixed(2)} | ${n3 ? `${median(w3).toFixed(3)} (${span(w3)})` : '—'} | ${n3 ? paired(rs, (r) => r.wallNs3!).toFixed(2) : '—'} | ${median(cmd).toFixed(3)} (${span(cmd)}) | ${paired(rs, (r) => r.cmdWall).toFixed(2)} | ${median(pcpu).toFixed(3)} | ${(median(pcpu) / pcpu0).toFixed(2)} |\n`,
    );
  }
  const ld = base.map((r) => r.loadMs);
  const su = base.map((r) => r.setupMs);
  process.stdout.write(
    `\nThe goal's figure (issue 13, capture ≤ ×1.3): async "wall × none" — Simulator.run() + close() (final flush, fsync, rename), setup excluded, as ns-3's anchor times Simulator::Run() (its files are closed after, untimed). ` +
      (rows.has('early') ? `"early": async with the writer thread booted before the world's build (podwire run's order) and the window started once it is up, its boot left out (median ${median(rows.get('early')!.map((r) => r.readyWaitMs)).toFixed(0)} ms waited for it after setup, outside the window; in the command columns). ` : '') +
      `"ns-3's window": the like-for-like figure — Simulator.run() until the writer thread's last write(2) returned (the backlog's expansion and writes at close() included; the final fsync, the file's close and the rename left out), from the child's own CLOCK_MONOTONIC stamps, paired by round as the goal's figure; ns-3's pcap bytes are all handed to write(2) (through ofstream) inside Simulator::Run() and its files closed after it, never fsynced. ` +
      `"command" columns: the whole child process (node's start, loading, setup, run, close; spawn to exit, capture file removed after), whose fixed part in none is ${median(ld).toFixed(0)} ms start + loading and ${median(su).toFixed(1)} ms setup (medians).\n`,
  );
}

main(process.argv.slice(2));
