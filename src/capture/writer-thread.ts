// capture/writer-thread — what capture/async-sink's writer thread runs: its source text (a worker started
// with `eval`: no file next to the compiled module is needed) and the indices of the control words it
// shares with the simulation thread (async-sink.ts's file comment has their table), and the spare thread booted before a
// capture is open (prestartWriterThread). Layer: capture.
import { Worker } from 'node:worker_threads';
import { LAYOUT } from './epb-records.js';
import { FrameLayout } from './frame-layout.js';
import { RecordExpander } from './record-expander.js';
import { niceThisThread } from './thread-priority.js';

export const PRODUCED = 0;
export const CONSUMED = 1;
export const COMMAND = 2;
export const STATE = 3;
export const FRESH = 4;
export const FAULTED = 5;
export const LENGTHS = 6;
/**
 * Unused slots the writer thread keeps faulted in ahead of the simulation thread (session 32): a slot is
 * taken new only when none is free (capture/async-sink), so its pages would otherwise be faulted in by the
 * simulation thread's stores (5–10 ms a MiB on this VM).
 */
export const ASYNC_PREFAULT_AHEAD = 1;

/** Output bytes between two fdatasyncs once finish() is called (see the thread's source). */
const FINISH_SYNC_EVERY = 2 << 20;

/** Passes of a spare thread's warm-up over 64 KiB of records (~2,000 frames each), after its small chunks: 24 until session 42. */
const WARM_PASSES = 12;

/**
 * Then small chunks of records (session 42): WARM_SMALL_BYTES each, WARM_SMALL of them — chunk() called as often as a
 * run's chunks call it and each chunk's full records (one per interface) expanded, so their functions are compiled in
 * the warm-up (s41-cap: `chunk`, `plainUdp`, `frame`, `ipv4` were compiled inside capture-cost's run).
 */
const WARM_SMALL = 600;
const WARM_SMALL_BYTES = 1024;

/** An idle writer thread's first look for a chunk (ms); it doubles while none comes, up to POLL_MAX_MS. */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

// Plain JS run by the writer thread (eval: a worker needs no file next to the compiled module); the
// expander is capture/record-expander's RecordExpander and its base FrameLayout, by their source texts (a transpiler's __name helper is
// stubbed in case it wraps the inner functions). The thread waits for chunks with Atomics.waitAsync so
// its event loop turns while idle: the periodic fdatasyncs run on libuv's thread pool (the expansion goes
// on meanwhile) and their completion, or error, is seen here. Up to maxSyncs at a time (async-sink.ts's ASYNC_MAX_SYNCS);
// finish calls the last fsync at once and then waits for those still out. A sync's error (EIO, ENOSPC at
// writeback) is the thread's error like a write's.
export const WORKER_SOURCE = `
const threads = require('node:worker_threads');
var __name = (f) => f;
const FrameLayout = ${withLayout(FrameLayout.toString())};
const RecordExpander = ${withLayout(RecordExpander.toString())};
// A spare thread (session 35, capture/async-sink prestartWriterThread) boots before any capture is open:
// it says so in its word and waits for its sink's workerData on the port; any other starts at once.
const start = (workerData) => {
const { writeSync, fsyncSync, fdatasync, readFileSync } = require('node:fs');
const { fd, ring, ctrlBuf, slots, slotSize, port, layout, syncEvery, maxSyncs, outSize, statBuf, nice, primeEnd, startAhead, slot0Later } = workerData;
const stat = new Float64Array(statBuf);
const schedstat = () => { try { return readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number); } catch { return [NaN, NaN]; } };
const threadCpu = () => schedstat()[0] / 1e6;
const cpu0 = threadCpu();
stat[7] = cpu0;
{
  // When writerNice > 0, below the simulation thread (capture/thread-priority): on a machine short of
  // cores the scheduler then runs the simulation first and this thread in the time it leaves. Its tid
  // last: "prologue done".
  const { readlinkSync } = require('node:fs');
  const { getPriority, setPriority } = require('node:os');
  const niceThisThread = ${niceThisThread.toString()};
  if (nice > 0) stat[12] = niceThisThread(nice, { readlinkSync, getPriority, setPriority });
  try { stat[11] = Number(readlinkSync('/proc/thread-self').split('/').pop()); } catch { stat[11] = NaN; }
}
const ctrl = new Int32Array(ctrlBuf);
const ringWords = new Int32Array(ring);
// The first fdatasync comes once 256 KiB are written (RecordExpander's early small writes), not 8 MiB:
// this callback's sync path has then run, and has type feedback, before TurboFan inlines the callback
// into the expander's functions (session 29: at 8 MiB it deoptimized them, compiled a second time).
// (syncEvery Infinity, capture-cost's onesync: no periodic sync, the first one included)
let unsynced = Number.isFinite(syncEvery) ? Math.max(0, syncEvery - (256 << 10)) : 0;
let poll = ${POLL_MIN_MS};
// Periodic fdatasyncs out (at most maxSyncs), and what waits for the last of them to end.
let syncs = 0;
let synced = null;
let syncError = null;
const allSynced = () => syncs === 0 ? null : new Promise((done) => { synced = done; });
// Once finish() asks (COMMAND 1), what is left is synced every ${FINISH_SYNC_EVERY >> 20} MiB, the first sync at once (session 38):
// the disk takes ~0.7 ms a MiB on this VM and little CPU, so the writeback of what the periodic syncs left and of the
// chunks still to expand goes on while they are expanded, and finish()'s last fsync has little left to wait for.
// stat[15]: those syncs (stat[2]: the others).
let every = syncEvery;
let finishing = false;
const startSync = () => {
  unsynced = 0;
  const ts = performance.now();
  stat[finishing ? 15 : 2]++;
  if (++syncs > stat[13]) stat[13] = syncs;
  fdatasync(fd, (e) => {
    stat[1] += performance.now() - ts;
    if (e && syncError === null) syncError = e;
    if (--syncs === 0 && synced !== null) {
      const done = synced;
      synced = null;
      done();
    }
  });
};
const ex = new RecordExpander(ring, layout, outSize, (b, n) => {
  let off = 0;
  const tw = performance.now();
  while (off < n) off += writeSync(fd, b, off, n - off);
  stat[0] += performance.now() - tw;
  unsynced += n;
  if (unsynced >= every && syncs < maxSyncs) startSync();
});
// Slots never used are new memory: fault in the next ${ASYNC_PREFAULT_AHEAD} of them here, ahead of the simulation thread (the kernel
// zeroes them on this thread's core, not in the simulation's stores), as it takes them (ctrl[FRESH]: slots
// 0 … n−1 taken). compareExchange(0, 0) never changes a word the simulation thread may already have written.
let faulted = 0;
const prefault = (ahead) => {
  const taken = Atomics.load(ctrl, ${FRESH});
  if (faulted < taken) faulted = taken;
  const want = Math.min(slots, taken + ahead);
  for (; faulted < want; faulted++)
    for (let i = (faulted * slotSize) / 4, end = i + slotSize / 4; i < end; i += 1024) Atomics.compareExchange(ringWords, i, 0, 0);
  // Slots 0 … faulted−1 are faulted in: the simulation thread takes such a new slot before a first chunk's (takeSlot).
  Atomics.store(ctrl, ${FAULTED}, faulted);
};
// Also the rest of slot 0 past the small first chunks (primeEnd: they share it; session 35), which the
// simulation thread takes again once they are written: at the start for a thread started with its sink
// (before the run), after its first chunk for one started at a hand-over (slot0Later, session 36: the
// chunks are waiting then, and ~1 MiB of fresh memory before the first of them made the simulation wake
// the thread 0–9 times a run instead of 0–1). stat[14]: chunks written before it (−1: not yet).
let slot0Pending = true;
stat[14] = -1;
const slot0Rest = () => {
  slot0Pending = false;
  stat[14] = ctrl[${CONSUMED}];
  for (let i = primeEnd / 4, end = slotSize / 4; i < end; i += 1024) Atomics.compareExchange(ringWords, i, 0, 0);
};
if (!slot0Later) slot0Rest();
// startAhead (more than ${ASYNC_PREFAULT_AHEAD} for a thread started with its sink, before the run: async-sink's ASYNC_START_AHEAD).
prefault(startAhead);
// A pending Atomics.waitAsync does not keep a thread's event loop alive: this timer does, until the end.
const keepAlive = setInterval(() => {}, 1 << 30);
// Should the thread end any other way, the simulation thread must not wait for it forever.
process.on('exit', () => {
  if (Atomics.load(ctrl, ${STATE}) !== 0) return;
  port.postMessage({ message: 'the capture writer thread stopped unexpectedly' });
  Atomics.store(ctrl, ${STATE}, 2);
  Atomics.notify(ctrl, ${STATE});
  Atomics.notify(ctrl, ${CONSUMED});
});
async function run() {
  for (;;) {
    if (syncError !== null) throw syncError;
    const cmd = Atomics.load(ctrl, ${COMMAND});
    if (cmd === 2) break;
    if (cmd === 1 && !finishing && Number.isFinite(syncEvery)) {
      finishing = true;
      every = Math.min(syncEvery, ${FINISH_SYNC_EVERY});
      if (unsynced > 0 && syncs < maxSyncs) startSync();
    }
    const produced = Atomics.load(ctrl, ${PRODUCED});
    const consumed = ctrl[${CONSUMED}];
    if (consumed === produced) {
      // The last chunk is handed over before the command is set: look once more before stopping.
      if (Atomics.load(ctrl, ${COMMAND}) !== 0) {
        if (Atomics.load(ctrl, ${PRODUCED}) === consumed) break;
        continue;
      }
      // An idle thread looks again after poll ms, doubling up to 100 while nothing comes: while chunks
      // come it takes each one a few ms after its hand-over (so at finish() few are left to expand),
      // without the simulation thread waking it (the simulation wakes it only at WAKE_BACKLOG).
      const ti = performance.now();
      const w = Atomics.waitAsync(ctrl, ${PRODUCED}, produced, poll);
      const r = w.async ? await w.value : w.value;
      if (r === 'timed-out') poll = Math.min(poll * 2, ${POLL_MAX_MS});
      stat[9]++;
      stat[3] += performance.now() - ti;
      continue;
    }
    poll = ${POLL_MIN_MS};
    const q = consumed % slots;
    const tc = performance.now();
    ex.chunk(ctrl[${LENGTHS} + slots + q] * 8, ctrl[${LENGTHS} + q]);
    stat[4] += performance.now() - tc;
    Atomics.store(ctrl, ${CONSUMED}, consumed + 1);
    Atomics.notify(ctrl, ${CONSUMED});
    prefault(${ASYNC_PREFAULT_AHEAD});
    if (slot0Pending) slot0Rest();
    // A busy thread never waits, so its event loop would not turn and a finished fdatasync's callback
    // would not run: no next sync starts once maxSyncs are out, and finish()'s fsync (which the simulation
    // waits for) is left with up to everything written since (session 22: runs with 2 syncs for 224 MB,
    // an 80–90 ms final fsync). One turn per chunk while a sync is out lets them end and the next start.
    if (syncs > 0) await new Promise((turned) => setImmediate(turned));
  }
  if (Atomics.load(ctrl, ${COMMAND}) === 1) {
    ex.flush();
    // stat[16]: when the last write(2) returned, in CLOCK_MONOTONIC ms (process.hrtime: the same clock on every
    // thread, unlike performance.now's per-thread origin): the end of bench/capture-cost's window like ns-3's,
    // whose pcap bytes are all handed to the kernel inside Simulator::Run() and whose files are closed after it.
    stat[16] = Number(process.hrtime.bigint()) / 1e6;
    if (syncError !== null) throw syncError;
    // The last fsync at once, not after the periodic syncs still out (session 31): it starts the writeback
    // of what none of them covers now, beside theirs, and waits for theirs too (the kernel waits for every
    // page of the file under writeback), so when it returns every byte written is on the disk. Their
    // errors are still the thread's: they are waited for after it.
    const tw = performance.now();
    fsyncSync(fd);
    const tf = performance.now();
    stat[5] += tf - tw;
    const out = allSynced();
    if (out !== null) await out;
    stat[8] = performance.now() - tf;
    if (syncError !== null) throw syncError;
  } else {
    const out = allSynced();
    if (out !== null) await out;
  }
}
run().then(
  () => { const ss = schedstat(); stat[6] = ss[0] / 1e6 - cpu0; stat[10] = ss[1] / 1e6; Atomics.store(ctrl, ${STATE}, 1); },
  (e) => {
    port.postMessage({ code: e && e.code, message: String(e && e.message), syscall: e && e.syscall, errno: e && e.errno });
    Atomics.store(ctrl, ${STATE}, 2);
  },
).then(() => {
  clearInterval(keepAlive);
  Atomics.notify(ctrl, ${STATE});
  Atomics.notify(ctrl, ${CONSUMED});
});
};
// A spare thread warms the expander up before it says it is up (session 36): first small chunks that each
// begin with a full record per interface (as a run's chunks do; session 42: the full-record and frame
// paths), then records of a UDP echo's kind (a departure as a full record then REPEATs, its peer's arrival
// a COPY of it, as S1 and most datagram traffic) expanded WARM_PASSES times, into buffers that are never
// written (capture/README.md has the details), so TurboFan compiles chunk,
// repeatInto, copyRepeat… (~15 ms each, plus chunk's OSR: ~60 ms of the V8 threads, --trace-opt) while the
// world is built, not in the run. The same class as the sink's expander: its feedback and code are shared.
const warmUp = () => {
  const size = 1 << 16;
  const ringW = new SharedArrayBuffer(size);
  const i32 = new Int32Array(ringW);
  const f64 = new Float64Array(ringW);
  // The records are laid out once per set of interfaces and copied back before each pass (the expander
  // overwrites their time words): a generator run every pass was itself compiled by TurboFan (OSR, ~60 ms).
  const lay = (base, end, ttl) => {
    i32.fill(0);
    let t = 1e9;
    // A VERBATIM block first (the SHB and IDBs of a capture), an EPB serialized on the simulation thread
    // (an ARP frame) and its arrival (COPY_RAW), then departures and their arrivals.
    i32[0] = ${LAYOUT.R_VERBATIM};
    i32[1] = 28;
    i32[10] = ${LAYOUT.R_VERBATIM};
    i32[11] = 76;
    i32[12] = 6;
    i32[13] = 76;
    i32[17] = 42;
    i32[18] = 42;
    i32[30] = 76;
    i32[32] = ${LAYOUT.R_COPY_RAW} | (76 << ${LAYOUT.C_SRC_SHIFT});
    i32[33] = base + 1;
    f64[17] = t;
    let p = 144;
    const tpl = [-1, -1, -1, -1];
    // Each departing interface's last REPEAT time (-1: none yet): most REPEATs after the first are DREPEATs, as a run's.
    const rt = [-1, -1, -1, -1];
    // Each departing interface's last long COPY time, the base of the SCOPYs after it (-1: none yet).
    const t0 = [-1, -1, -1, -1];
    for (let k = 0; p + 160 <= end; k++) {
      const d = k & 3;
      const w = p >> 2;
      if (tpl[d] < 0 || (k & 511) === d) {
        i32[w] = ${LAYOUT.R_UDP} | (64 << ${LAYOUT.PAYLEN_SHIFT});
        i32[w + ${LAYOUT.F_IF}] = base + d;
        f64[(w + ${LAYOUT.F_TIME}) >> 1] = t;
        f64[(w + ${LAYOUT.F_ETH_DST}) >> 1] = 0x020000000000 + d;
        f64[(w + ${LAYOUT.F_ETH_SRC}) >> 1] = 0x020000000100 + d;
        i32[w + ${LAYOUT.F_ETH_TOS_TTL}] = 0x0800 | (ttl << 24);
        // Ids over the whole 16 bits, and ports whose pseudo-header sum passes 0xffff on two interfaces: fold()'s
        // loop runs (a run's sums do), else it has no feedback and frame() and ipv4() deoptimize in the run (s41-cap).
        i32[w + ${LAYOUT.F_LEN_ID}] = 92 | (((k * 4099) & 0xffff) << 16);
        i32[w + ${LAYOUT.F_FF_PROTO}] = (2 << 13) | (17 << 16);
        i32[w + ${LAYOUT.F_SRC}] = 0x0a010101 + d;
        i32[w + ${LAYOUT.F_DST}] = 0x0a010202;
        i32[w + ${LAYOUT.F_PORTS}] = (40000 + d) | ((d & 1 ? 50000 : 9) << 16);
        i32[w + ${LAYOUT.F_W0}] = 72;
        tpl[d] = p;
        p += ${LAYOUT.SHORT_BYTES};
      } else if (rt[d] >= 0 && (k & 63) >= 8) {
        i32[w] = ${LAYOUT.R_DREPEAT} | ((p - tpl[d]) << ${LAYOUT.C_SRC_SHIFT});
        i32[w + 1] = (k & 0xffff) | ((t - rt[d]) << ${LAYOUT.D_DT_SHIFT});
        rt[d] = t;
        p += ${LAYOUT.DREPEAT_BYTES};
      } else {
        i32[w] = ${LAYOUT.R_REPEAT} | ((p - tpl[d]) << ${LAYOUT.C_SRC_SHIFT});
        i32[w + ${LAYOUT.P_ID}] = k & 0xffff;
        f64[(w + ${LAYOUT.F_TIME}) >> 1] = t;
        rt[d] = t;
        p += ${LAYOUT.REPEAT_BYTES};
      }
      // Its arrival: a COPY now and then (the base of the SCOPYs from this interface; of a REPEAT and of a DREPEAT: each
      // chunk of a run begins with such COPYs), else an SCOPY.
      const c = p >> 2;
      if (t0[d] < 0 || (k & 1023) === d || (k & 1023) === 16 + d) {
        i32[c] = ${LAYOUT.R_COPY} | ((w << 2) << ${LAYOUT.C_SRC_SHIFT});
        i32[c + ${LAYOUT.C_IF}] = base + (d ^ 1);
        f64[(c + ${LAYOUT.C_TIME}) >> 1] = t + 1000;
        t0[d] = t + 1000;
        p += ${LAYOUT.COPY_BYTES};
      } else {
        i32[c] = ${LAYOUT.R_SCOPY} | (((w << 2) + 2) << ${LAYOUT.C_SRC_SHIFT}); // + 2: the source is a fast record
        i32[c + ${LAYOUT.S_DT}] = t + 1000 - t0[d];
        p += ${LAYOUT.SCOPY_BYTES};
      }
      t += 5000;
    }
    // An arrival whose departure (the first full record) is no longer in the output buffer: laid out again.
    const c = p >> 2;
    i32[c] = ${LAYOUT.R_SCOPY} | ((144 + 2) << ${LAYOUT.C_SRC_SHIFT});
    i32[c + ${LAYOUT.S_DT}] = t - t0[0];
    return { words: i32.slice(0, (p + 64) >> 2), len: p + ${LAYOUT.SCOPY_BYTES} };
  };
  // The last pass on interfaces 16–19 (session 42: so that the per-interface tables grew again with type feedback;
  // since session 43 RecordExpander makes them for 64 interfaces at once, so they grow neither here nor in a run of
  // up to 64: a growth inside the run deoptimized chunk(), which had inlined arrival() without feedback for it).
  const sets = [lay(0, size, 64), lay(16, size, 64)];
  // Then small chunks (session 42), each begun with a full record per interface as each of a run's chunks is
  // (a REPEAT's template is in its own chunk): chunk() is called often enough to be compiled as a function, not
  // only on its loop (OSR), and the full-record path (plainUdp, repeatTemplate, frame, ipv4, fold) runs as often
  // as a run's first ~${WARM_SMALL} chunks make it, so TurboFan compiles those here, not inside the run. Eight sets taken
  // in turns of 8 passes: pairs whose full records differ in the TTL, so each expander's plainUdp finds its template
  // changed now and then (its frame() path, which a sink's first records take) and equal otherwise (each chunk's first
  // records in a run), on interfaces 0–3, 4–7, 8–11, 12–15, so the per-interface tables grow in the first round — with
  // type feedback for each path: a path run only before a function's feedback vector existed has none, and TurboFan's
  // code deoptimized there when a sink's expander took it (--trace-deopt, "insufficient type feedback").
  const smalls = [];
  for (let j = 0; j < 8; j++) smalls.push(lay(4 * (j >> 1), ${WARM_SMALL_BYTES}, j & 1 ? 63 : 64));
  // Two expanders with callbacks of their own: flush()'s call of its callback sees two targets and is
  // compiled as a generic call, not the warm-up's callback inlined (a third, the sink's, deoptimized chunk).
  const exs = [new RecordExpander(ringW, ${JSON.stringify(LAYOUT)}, 1 << 16, () => {}), new RecordExpander(ringW, ${JSON.stringify(LAYOUT)}, 1 << 16, (b, n) => n)];
  // The small chunks first: the functions they make hot are then compiled (on V8's threads) while the large passes run.
  for (let pass = 0; pass < ${WARM_SMALL}; pass++) {
    const small = smalls[(pass >> 3) & 7];
    i32.set(small.words);
    exs[pass & 1].chunk(0, small.len);
  }
  for (let pass = 0; pass < ${WARM_PASSES}; pass++) {
    const set = sets[pass === ${WARM_PASSES} - 1 ? 1 : 0];
    i32.set(set.words);
    exs[pass & 1].chunk(0, set.len);
  }
  exs[0].flush();
  exs[1].flush();
  return exs[0].written + exs[1].written;
};
if (threads.workerData.spare === undefined) start(threads.workerData);
else {
  const warmed = warmUp();
  // A turn of the event loop for the compile jobs to be installed.
  setTimeout(() => {
    const up = new Int32Array(threads.workerData.spare);
    // Word 1: the KiB of pcapng the warm-up expanded (and never wrote).
    up[1] = Math.round(warmed / 1024);
    Atomics.store(up, 0, 1);
    Atomics.notify(up, 0);
    threads.parentPort.once('message', start);
  }, 1);
}
`;

/**
 * A writer thread booted before its capture is open (session 35): Node's worker start (~40–70 ms of the
 * thread's CPU) then overlaps whatever the caller does meanwhile (the CLI: the world's build, 5–340 ms on
 * scenarios/) instead of the run's first chunks. It opens nothing (no file, no ring) until a sink takes it.
 */
let spare: { worker: Worker; up: Int32Array } | null = null;

/**
 * Boots a spare writer thread (at most one) for the next AsyncChunkSink: that sink starts it in its constructor (unless
 * given `startChunk`/`startAt`) with a message instead of `new Worker`. An unused spare keeps nothing alive and opens
 * nothing.
 */
export function prestartWriterThread(): void {
  if (spare !== null) return;
  const up = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { spare: up.buffer }, stdout: true, stderr: true });
  worker.unref();
  spare = { worker, up };
}

/** Waits up to `timeoutMs` for the spare writer thread to be booted; false when there is none or it is not up yet (bench/capture-cost). */
export function spareWriterThreadUp(timeoutMs: number): boolean {
  if (spare === null) return false;
  if (Atomics.load(spare.up, 0) === 0) Atomics.wait(spare.up, 0, 0, timeoutMs);
  return Atomics.load(spare.up, 0) === 1;
}

/**
 * KiB of pcapng the spare thread's warm-up expanded before it said it was up (capture/writer-thread: records of a UDP
 * echo expanded into a buffer never written, so TurboFan compiles the expander before the run); 0 while it is not up,
 * −1 when there is no spare.
 */
export function spareWarmUpKiB(): number {
  return spare === null ? -1 : Atomics.load(spare.up, 0) === 1 ? spare.up[1]! : 0;
}

/** Ends an unused spare writer thread (tests). */
export async function dropSpareWriterThread(): Promise<void> {
  const s = spare;
  spare = null;
  if (s !== null) await s.worker.terminate();
}

/** Whether a spare thread waits for a sink. */
export function hasSpareWriterThread(): boolean {
  return spare !== null;
}

/** The spare thread for a sink (capture/async-sink's startWorker), which then owns it; null when there is none. */
export function takeSpareWriterThread(): Worker | null {
  const s = spare;
  spare = null;
  return s === null ? null : s.worker;
}

/**
 * The expander's source with its layout reads (`L.F_SRC`…) replaced by their values: a property load and
 * map check less per field in the thread's hot loop. Names not in LAYOUT are left as they are (still correct).
 */
function withLayout(src: string): string {
  const l = LAYOUT as Record<string, number>;
  return src.replace(/\bL\.([A-Z][A-Z0-9_]*)\b/g, (m, k: string) => (typeof l[k] === 'number' ? `(${l[k]})` : m));
}
