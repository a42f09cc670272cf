// capture/async-sink — a bounded ring of chunk buffers written to disk by a worker thread. Layer: capture (node:fs,
// node:worker_threads only). The simulation thread fills one chunk at a time (the writers' records go straight into
// it); a full chunk is handed to the writer thread, which writes it with write(2) while the simulation goes on. Memory
// is bounded: `slots` chunks of `slotSize` bytes in one SharedArrayBuffer. Back-pressure: when every chunk is still
// waiting for the disk, the simulation thread blocks (Atomics.wait) until one is written — no event-loop turn is
// needed, so a run that never yields (one long Simulator.run) is throttled the same way as the CLI's steps. The thread
// starts at the 4th chunk's hand-over (the first 4 chunks are 8 KiB, to run the chunk-end paths early), so it boots
// (~50–70 ms of CPU on this VM) while the first full chunks fill and then keeps the ring's memory in use small (session
// 34); a capture of at most 32 KiB of records (3 small chunks and part of the 4th) is written by finish() on the
// simulation thread, without the cost of starting one. A spare thread booted before the capture was opened
// (prestartWriterThread, session 35: `podwire run` boots it while the world is built) is taken in the constructor
// instead.
//
// What the ring carries is not the file's bytes but records (capture/epb-records): the simulation thread copies a
// frame's header fields into a fixed record, the writer thread expands it into the EPB (headers, checksums, zero
// payload, padding) and copies an arrival's bytes from its departure. Bytes given through reserve()/buf/pos (SHB, IDB,
// frames serialized on the simulation thread) travel as VERBATIM records. The writer thread also calls fdatasync every
// `syncEvery` bytes (8 MiB), up to ASYNC_MAX_SYNCS of them out at once, so the fsync at finish() — which the simulation
// thread waits for — has little left to flush.
//
// The atomic-output rules of capture/atomic hold: bytes go to FILE.tmp-<pid>; finish() hands the last chunk over, waits
// until the writer thread has written everything, fsync'd the file, closes it and throws its error if any (ENOSPC and
// co., with the target's path, as AtomicFile does); publish() renames; abort() stops the writer thread and removes the
// temporary file.
//
// The writer thread runs capture/writer-thread's source. Control words (Int32Array over a SharedArrayBuffer):
// | index | written by | meaning                                                    |
// |-------|------------|------------------------------------------------------------|
// | 0     | main       | chunks produced (slot = n % slots)                         |
// | 1     | worker     | chunks written                                             |
// | 2     | main       | command: 0 run, 1 finish (fsync + close), 2 abort (close)  |
// | 3     | worker     | state: 0 running, 1 done, 2 failed (error on the port)     |
// | 4     | main       | slots taken so far (slots 0 … n−1 have been written to)    |
// | 5     | worker     | slots faulted in (0 … n−1), ahead of those taken           |
// | 6+q   | main       | chunk p's byte length, q = p % slots                       |
// | 6+slots+q | main   | chunk p's place in the ring, bytes / 8, q = p % slots      |
//
// Which slot a chunk fills (session 32): a slot the writer thread has written out, the one freed last first, and a slot
// never used only when none is free; so the ring's memory in use is the most chunks ever waiting at once (S1: ~7 MiB of
// 16 with 1 MiB slots, ~2 MiB with 256 KiB ones), not every slot. Fresh memory costs 5–10 ms a MiB to fault in on this VM (bench/cold-memory.mjs): the writer
// thread faults in one unused slot ahead of the simulation thread (ASYNC_PREFAULT_AHEAD), not the whole ring at its
// start. The first (small) chunks share slot 0 (session 35: chunk p of them at p × primeSize; until then one slot each,
// whose untouched rest the simulation thread faulted in when it took them again, ~750 of its minor faults in S1); slot
// 0 is free once the last of them is written, mostly untouched memory: taken after a slot faulted in ahead, before one
// that is not.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ensureDir, tempPathFor } from './atomic.js';
import { LAYOUT, MAX_COPY_CHUNK, R_VERBATIM } from './epb-records.js';
import { captureMode } from './frame-memo.js';
import { RecordExpander } from './record-expander.js';
import { ASYNC_PREFAULT_AHEAD, COMMAND, CONSUMED, FAULTED, FRESH, LENGTHS, PRODUCED, STATE, hasSpareWriterThread, takeSpareWriterThread, WORKER_SOURCE } from './writer-thread.js';

/** Output buffer of the expander (bytes handed to write(2) at a time). */
const OUT_SIZE = 1 << 20;
/**
 * Default bytes between two fdatasync calls of the writer thread: what the final fsync, which finish()
 * waits for, has left at most (session 26: 8 MiB; at the end of S4 under load 14, 4–17 ms against 16–66 ms with 32 MiB).
 */
export const ASYNC_SYNC_EVERY = 8 << 20;
/**
 * How much the writer thread lowers its priority by default, added to the nice value it inherits
 * (capture/thread-priority). A bench setting: `capture-cost` with CAPCOST_NICE passes `writerNice`; a scenario's
 * capture never does. 0: not at all (session 28: at load 8–10 a lowered thread fell behind — a full ring at finish(),
 * stalls — and on the quiet machine nice 19 was no faster than 0 once the rounds' order alternated; `capture-cost` with
 * CAPCOST_NICE measures it).
 */
export const WRITER_NICE = 0;
/**
 * Periodic fdatasyncs the writer thread may have out at once (session 31; one until then). A new one starts every
 * syncEvery bytes while fewer are out, so the file's pages go to the disk as they are written: one at a time, each sync
 * took all that was written while the one before ran (S4: 4 syncs of up to ~100 MB), and the one still out at finish()
 * was most of the simulation's wait (53–65 ms of ~80). Three leave one of libuv's four pool threads free.
 */
export const ASYNC_MAX_SYNCS = 3;
/**
 * Unused slots a writer thread started with its sink (startChunk 0, or a spare: before the run) faults in at
 * its start (session 35), not ASYNC_PREFAULT_AHEAD's one: while the run goes on, it faults a slot in only after
 * a chunk, slower (5–10 ms a MiB here) than S1 fills one, so the simulation thread took ~700 faults itself.
 */
const ASYNC_START_AHEAD = 5;
/** Chunks waiting before the simulation thread wakes an idle writer thread (a quarter of a smaller ring). */
const WAKE_BACKLOG = 4;

/**
 * Default ring: 64 chunks of 256 KiB (at most 16 MiB waiting for the writer thread: ~0.2 s of S1's
 * records, so the simulation does not wait while a loaded machine leaves the thread off a core for a
 * few scheduler slices; pages of chunks a small capture never reaches are never touched). 16 of 1 MiB
 * until session 41: since the 8-byte SCOPY (session 39) a MiB of S1's records is ~12 MB of pcapng, and
 * what finish() finds waiting (the partial last chunk, the one being expanded, one or two more) is what
 * it expands and the final fsync writes back after the run: ~30 MB then, ~4 times less with 256 KiB
 * chunks (capture-cost early: close() 67–85 → 22–49 ms median, final fsync 29–40 → 13–18 ms at load 6–7;
 * the simulation thread's JS Ir the same, callgrind). A chunk's fixed costs are small: a hand-over,
 * a new template record per interface (a REPEAT or COPY refers to a record in its own chunk).
 */
export const ASYNC_SLOTS = 64;
export const ASYNC_SLOT_SIZE = 256 << 10;
/** Bytes in the first chunk after which the writer thread starts (a smaller capture never starts it). */
export const ASYNC_START_AT = 256 << 10;
/**
 * The writer thread starts at this hand-over: the 4th, the last small first chunk's, ~32 KiB of records
 * and ~1 ms into S4 (session 34; 0 starts it in the constructor). Until session 33 it was the 7th (3 full
 * chunks later, session 30: its boot then came after TurboFan's early compiles), but every chunk filled
 * before the thread is up and freeing slots takes a slot never used, fresh memory the simulation thread
 * faults in itself (5–10 ms a MiB here): S1 used 12–16 of the 16 slots and the simulation thread took
 * ~2,500 more minor faults than without capture; started at the 4th, mostly 7–10 slots and ~1,000 (capture-cost
 * `simMinflt`, `slotsUsed`; 16 still when a loaded machine keeps the thread off a core). The boot (~50–70 ms of the thread's CPU) is the same either way. No capture
 * code deoptimized with the earlier start (`--trace-deopt`). The chunks before it wait in the ring.
 */
export const ASYNC_START_CHUNK = 4;
/**
 * The first chunks are closed at this many bytes (session 30): their hand-overs run the chunk-end paths
 * (recordHere's and record()'s overflow, an arrival's ringOut fallback, the writer's copy of a full record)
 * while the capture code still runs in the interpreter, so TurboFan compiles them with feedback for those
 * paths ("insufficient type feedback" deopts at the first full chunk's end until then).
 */
export const ASYNC_PRIME_CHUNKS = 4;
export const ASYNC_PRIME_SIZE = 8 << 10;

// The spare writer thread (prestartWriterThread…, session 35) lives in capture/writer-thread; re-exported here.
export { dropSpareWriterThread, prestartWriterThread, spareWarmUpKiB, spareWriterThreadUp } from './writer-thread.js';

/** An append buffer like ChunkSink's, whose full chunks a writer thread writes (see the file comment). */
export class AsyncChunkSink {
  // Fields the constructor sets start with a value of their kind (session 44), not bare: a bare declaration compiles
  // to a field whose first value is undefined, a generic one, whose every read TurboFan checks (the typed arrays'
  // maps at each departure and arrival of a capture point).
  /** The current chunk (bytes of the open VERBATIM record are written here, from reserve()'s offset). */
  buf: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Bytes used in the current chunk. */
  pos = 0;
  readonly path: string;
  readonly tempPath: string;
  /** The whole ring, for records (word index = (slotBase + offset) >> 2). */
  readonly u8: Uint8Array = new Uint8Array(0);
  readonly i32: Int32Array = new Int32Array(0);
  readonly f64: Float64Array = new Float64Array(0);
  /** Byte offset of the current chunk in the ring. */
  slotBase = 0;
  /** Position of the current chunk's start in the stream of chunks (chunks produced × slotSize). */
  chunkStart = 0;
  /** The memo position (capture/frame-memo: 2 × word + 1) of a fast record at the current chunk's start: chunkStart / 2 + 1 (RingPoint's marks, session 45). */
  markBase = 1;
  /** File bytes of every record but the open VERBATIM one (a fast record's writer adds its EPB's size). */
  outBytes = 0;
  /** Offset in the current chunk of the open VERBATIM record, −1 when none is open. */
  private vStart = -1;
  /**
   * The last offset at which a capture point's 16-byte record (REPEAT, COPY) fits: `limit` − 16 while no
   * VERBATIM record is open (pos is then 8-aligned: closeVerbatim aligns it), −1 while one is and in verify
   * mode (capture/frame-memo; a change of it is seen from the next chunk or VERBATIM record on). Session 38:
   * the fast paths compare pos with it, no alignment, no call, no verify check (see fitHere16, RingPoint.arrived).
   */
  fastMax = 0;
  private readonly ring: SharedArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly slots: number;
  private readonly wakeAt: number;
  readonly slotSize: number = 0;
  private readonly syncEvery: number;
  private readonly maxSyncs: number;
  private readonly outSize: number;
  private readonly writerNice: number;
  /** Records fit in the chunk up to here: slotSize, but primeSize in the first chunks and `startAt` before a thread started by bytes (see grow). */
  private limit = 0;
  /** The thread starts once the first chunk holds `startAt` bytes (an option, for tests), not at a hand-over. */
  private readonly startByBytes: boolean;
  /** Hand-over number (1 = the first chunk's) at which the thread starts (less than slots: no wait without it). */
  private readonly startChunk: number;
  private readonly primeChunks: number;
  private readonly primeSize: number;
  /** The small first chunks share slot 0, chunk p at p × primeSize (they fit in it). */
  private readonly primeShared: boolean;
  /** Record bytes of the chunks handed over (finish() expands a capture of at most ASYNC_START_AT itself). */
  private handedBytes = 0;
  /** Started at the `startChunk`th hand-over (or by finish() for a capture past ASYNC_START_AT): a smaller capture is written at finish() without a thread. */
  private worker: Worker | null = null;
  /** The temporary file, opened here (errors are synchronous), written by the thread, closed here once it stops. */
  private readonly fd: number;
  private fdOpen = true;
  private port: MessagePort | null = null;
  /** Chunks produced so far (mirror of ctrl[PRODUCED]). */
  private produced = 0;
  /** Slots taken so far (ctrl[FRESH]): slots 0 … fresh−1 have been filled at least once. */
  private fresh = 1;
  /** Slots the writer thread has written out, the last freed on top (see the file comment). */
  private readonly freeSlots: number[] = [];
  /** Free slots of the first (small) chunks: all but their first primeSize bytes never touched. */
  private readonly coldSlots: number[] = [];
  /** Chunks whose slot is back in freeSlots (or in use again): those before it. */
  private reclaimed = 0;
  private finished = false;
  private done = false;
  /** Times the simulation thread waited for the disk (back-pressure), for tests and profiles. */
  stalls = 0;
  /** Milliseconds the simulation thread spent waiting: for a free slot (back-pressure), and in finish(). */
  stallMs = 0;
  /** Chunk hand-overs that woke (notified) the writer thread. */
  wakes = 0;
  finishMs = 0;
  /**
   * Written by the writer thread (ms): 0 in write(2), 1 fdatasync (wall, on libuv's pool), 2 fdatasync calls, 3 idle
   * (waiting for a chunk), 4 expanding + writing chunks, 5 the final fsync, 6 its CPU time (from its first line to the
   * end), 7 its CPU time before its first line (the thread's start), 8 at finish, the wait for periodic fdatasyncs
   * still out once the final fsync returned, 9 waits for a chunk (polls and wake-ups), 10 its run-queue wait over its
   * life (runnable, waiting for a core), 11 its thread id (Linux; NaN elsewhere), 12 its nice value once lowered (NaN:
   * not lowered), 13 the most periodic fdatasyncs out at once (1 sums the wall time of syncs that overlap), 14 the
   * chunks it had written when it faulted in slot 0's rest (−1: not yet; 0 at its start, 1 for a thread started at a
   * hand-over), 15 fdatasyncs after finish() was called, before the final fsync (2 counts those before it), 16 when
   * the last write(2) before the final fsync returned, CLOCK_MONOTONIC ms (`process.hrtime`; 0 until then; also set by
   * finish() when it expands a small capture itself).
   */
  readonly threadStats = new Float64Array(new SharedArrayBuffer(17 * 8));
  /** Chunks handed over but not yet written when finish() was called (the last one included). */
  finishBacklog = 0;

  /**
   * Blocks until the writer thread has made its first look for a chunk (threadStats[9]: it is up and has
   * its workerData), for at most `timeoutMs`; true when it is up. Benchmarks start their timed window here
   * (bench/run S4, capture-cost's `early`), as `podwire run` has the thread up by the end of the build.
   */
  waitThreadUp(timeoutMs: number): boolean {
    const nap = new Int32Array(new SharedArrayBuffer(4));
    const t0 = performance.now();
    while (this.threadStats[9] === 0 && performance.now() - t0 < timeoutMs) Atomics.wait(nap, 0, 0, 1);
    return this.threadStats[9] !== 0;
  }

  /**
   * `outSize`: the expander's output buffer (1 MiB; smaller in tests, to write out between a frame and its copy).
   * `startChunk`: the hand-over at which the writer thread starts (ASYNC_START_CHUNK; 0: in the constructor; at most
   * slots − 1); `startAt`: instead, the bytes in the first chunk after which it starts (tests). `primeChunks` ×
   * `primeSize`: the small first chunks (ASYNC_PRIME_*; not with startAt).
   */
  constructor(path: string, opts: { slots?: number; slotSize?: number; syncEvery?: number; maxSyncs?: number; outSize?: number; startAt?: number; startChunk?: number; primeChunks?: number; primeSize?: number; writerNice?: number } = {}) {
    this.path = path;
    this.tempPath = tempPathFor(path);
    this.slots = opts.slots ?? ASYNC_SLOTS;
    this.wakeAt = Math.max(1, Math.min(WAKE_BACKLOG, this.slots >> 2));
    this.slotSize = opts.slotSize ?? ASYNC_SLOT_SIZE;
    this.syncEvery = opts.syncEvery ?? ASYNC_SYNC_EVERY;
    this.maxSyncs = Math.max(1, opts.maxSyncs ?? ASYNC_MAX_SYNCS);
    this.outSize = opts.outSize ?? OUT_SIZE;
    this.writerNice = opts.writerNice ?? WRITER_NICE;
    // Not known until the thread runs (a capture written at finish() without a thread never knows them).
    this.threadStats[10] = this.threadStats[11] = this.threadStats[12] = NaN;
    this.startByBytes = opts.startAt !== undefined;
    // A spare thread (prestartWriterThread) is taken at once: it is booted, and up from the first chunk it
    // frees slots before the simulation thread must take new ones.
    this.startChunk = Math.max(0, Math.min(this.slots - 1, opts.startChunk ?? (hasSpareWriterThread() ? 0 : ASYNC_START_CHUNK)));
    this.primeChunks = this.startByBytes ? 0 : Math.min(this.slots - 2, opts.primeChunks ?? ASYNC_PRIME_CHUNKS);
    this.primeSize = Math.min(this.slotSize, opts.primeSize ?? ASYNC_PRIME_SIZE);
    this.limit = this.startByBytes ? Math.min(this.slotSize, opts.startAt!) : this.primeChunks > 0 ? this.primeSize : this.slotSize;
    this.primeShared = this.primeChunks > 0 && this.primeChunks * this.primeSize <= this.slotSize && this.primeSize % 8 === 0;
    // A COPY record's source offset in its chunk shares a word with the record type (capture/epb-records).
    if (this.slots < 2 || this.slotSize < 1024 || this.slotSize % 8 !== 0 || this.slotSize > MAX_COPY_CHUNK)
      throw new Error('AsyncChunkSink: at least 2 slots of 1 KiB to 128 MiB, a multiple of 8 bytes');
    ensureDir(dirname(path));
    const fd = openSync(this.tempPath, 'w');
    this.fd = fd;
    this.ring = new SharedArrayBuffer(this.slots * this.slotSize);
    this.ctrl = new Int32Array(new SharedArrayBuffer((LENGTHS + 2 * this.slots) * 4));
    this.ctrl[FRESH] = 1; // the first chunk fills slot 0
    this.buf = new Uint8Array(this.ring, 0, this.slotSize);
    this.view = new DataView(this.ring, 0, this.slotSize);
    this.u8 = new Uint8Array(this.ring);
    this.i32 = new Int32Array(this.ring);
    this.f64 = new Float64Array(this.ring);
    // The fields the first hand-over (flush) and the thread's start (startWorker) change are written a
    // second time here, with another value, then restored. V8 treats a field stored only once as a
    // constant and builds it into the optimized code that reads it; the first hand-over's store then threw
    // that code away (session 29, --trace-deopt: writePlainUdp, writeCopy, departed, markRecord and their
    // callers, compiled anew: ~40–80 ms of TurboFan on the other core, the simulation on slower code meanwhile).
    this.slotBase = -1;
    this.slotBase = 0;
    this.chunkStart = -1;
    this.chunkStart = 0;
    this.markBase = -1;
    this.markBase = 1;
    this.produced = -1;
    this.produced = 0;
    const limit = this.limit;
    this.limit = -1;
    this.limit = limit;
    this.fastMax = -2;
    this.fastMax = this.fastLimit();
    const buf = this.buf;
    this.buf = this.u8;
    this.buf = buf;
    const view = this.view;
    this.view = new DataView(this.ring, 0, 8);
    this.view = view;
    // Counters a hand-over or a stall changes; the times are doubles from the start (a field going from a
    // small integer to a double changes the object's map: every function that checked the old one deopts).
    this.wakes = -1;
    this.wakes = 0;
    this.stalls = -1;
    this.stalls = 0;
    this.stallMs = 0.5;
    this.stallMs = 0;
    if (!this.startByBytes && this.startChunk === 0) this.startWorker();
  }

  private startWorker(): void {
    if (this.startByBytes) {
      this.limit = this.slotSize;
      this.fastMax = this.fastLimit();
    }
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData = { fd: this.fd, ring: this.ring, ctrlBuf: this.ctrl.buffer, slots: this.slots, slotSize: this.slotSize, port: port2, layout: LAYOUT, syncEvery: this.syncEvery, maxSyncs: this.maxSyncs, outSize: this.outSize, statBuf: this.threadStats.buffer, nice: this.writerNice, primeEnd: this.primeShared ? this.primeChunks * this.primeSize : this.slotSize, startAhead: this.produced === 0 ? ASYNC_START_AHEAD : ASYNC_PREFAULT_AHEAD, slot0Later: this.produced > 0 };
    const spare = takeSpareWriterThread();
    if (spare !== null) {
      // The spare thread takes this sink's workerData as its first message (capture/writer-thread).
      this.worker = spare;
      this.usedSpare = true;
      this.worker.postMessage(workerData, [port2]);
      this.port.unref();
      return;
    }
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData,
      transferList: [port2],
      // The thread prints nothing (its errors come on the port): its stdout and stderr are not piped into
      // this process's, whose first use would set those streams up on the simulation thread inside the run
      // (~4 ms of the ~9.6 ms of CPU this constructor took; bench/README.md "Session 34: s34-cap").
      stdout: true,
      stderr: true,
    });
    // The thread never keeps the process alive: finish/abort wait on the shared words, not on events.
    this.worker.unref();
    this.port.unref();
  }

  /**
   * Makes room for n bytes at this.pos in the open VERBATIM record (opening one, or handing the chunk
   * over when full); returns this.pos. The caller writes its bytes there and advances pos.
   */
  reserve(n: number): number {
    if (this.vStart >= 0) {
      if (this.pos + n <= this.limit || this.grow(this.pos + n)) return this.pos;
      this.flush();
    }
    let at = (this.pos + 7) & ~7;
    if (at + 8 + n > this.limit && !this.grow(at + 8 + n)) {
      if (8 + n > this.slotSize) throw new Error(`${this.path}: a record of ${n} bytes exceeds the capture chunk (${this.slotSize})`);
      this.flush();
      at = 0;
    }
    this.i32[(this.slotBase + at) >> 2] = R_VERBATIM;
    this.vStart = at;
    this.fastMax = -1;
    this.pos = at + 8;
    return this.pos;
  }

  /**
   * Offset in the current chunk (8-aligned) where a record of n bytes fits, handing the chunk over when
   * it does not. The caller fills it (from word (slotBase + offset) >> 2), then sets pos past it and adds
   * its EPB's size to outBytes.
   */
  record(n: number): number {
    if (this.vStart >= 0) this.closeVerbatim();
    const at = (this.pos + 7) & ~7;
    if (at + n <= this.limit || this.grow(at + n)) return at;
    if (n > this.slotSize) throw new Error(`${this.path}: a record of ${n} bytes exceeds the capture chunk (${this.slotSize})`);
    this.flush();
    return 0;
  }

  /**
   * As record(), but −1 instead of handing the chunk over when n bytes do not fit in it: a COPY record must be in its
   * source's chunk. fitHere: the same without calls, −1 also while a VERBATIM record is open (then recordHere), for the
   * capture points' fast paths (session 37: a call there, even one not taken, makes TurboFan check maps again after it).
   */
  recordHere(n: number): number {
    if (this.vStart >= 0) this.closeVerbatim();
    const at = (this.pos + 7) & ~7;
    return at + n <= this.limit || this.grow(at + n) ? at : -1;
  }
  fitHere16(): number {
    const at = this.pos;
    return at <= this.fastMax ? at : -1;
  }

  /**
   * With `startAt`: a record ending at `end` passes `limit` before the thread runs: the capture is no longer
   * small, so the thread starts now and the record goes on in this chunk if it fits. False when the chunk
   * is full (always by default: the thread starts at a hand-over, see flush).
   */
  private grow(end: number): boolean {
    if (!this.startByBytes || this.worker !== null || end > this.slotSize) return false;
    this.startWorker();
    return true;
  }

  /** Ends the open VERBATIM record: its byte length goes in its second word. */
  private closeVerbatim(): void {
    const n = this.pos - this.vStart - 8;
    this.i32[((this.slotBase + this.vStart) >> 2) + 1] = n;
    this.outBytes += n;
    this.vStart = -1;
    // The records after it start 8-aligned (the expander skips the padding too): pos is aligned whenever no
    // VERBATIM record is open, so the fast paths place a record at pos (fastMax).
    this.pos = (this.pos + 7) & ~7;
    this.fastMax = this.fastLimit();
  }

  /** fastMax's value (vStart, limit or the verify mode changed). */
  private fastLimit(): number {
    return this.vStart >= 0 || captureMode.verify ? -1 : this.limit - 16;
  }

  /** Hands the current chunk (even empty) to the writer thread and moves to the next free one. */
  private handOver(): void {
    if (this.vStart >= 0) this.closeVerbatim();
    const ctrl = this.ctrl;
    const p = this.produced;
    ctrl[LENGTHS + (p % this.slots)] = this.pos;
    ctrl[LENGTHS + this.slots + (p % this.slots)] = this.slotBase / 8;
    this.handedBytes += this.pos;
    this.produced = p + 1;
    Atomics.store(ctrl, PRODUCED, p + 1);
    // Waking an idle writer thread costs the simulation thread its core on a busy machine (session 21:
    // 62 wake-ups took 268 ms of wall): wake it only once WAKE_BACKLOG chunks wait. A thread that is busy
    // sees PRODUCED itself; takeSlot and finish wake it before they wait; an idle one also looks
    // after 5–100 ms (its waitAsync's timeout, doubling while it finds nothing).
    if (p + 1 - Atomics.load(ctrl, CONSUMED) >= this.wakeAt && this.worker !== null) {
      Atomics.notify(ctrl, PRODUCED);
      this.wakes++;
    }
    this.pos = 0;
  }

  /**
   * The slot the next chunk fills: the one freed last of those the writer thread has written out; else one
   * never used that the thread has faulted in; else a small first chunk's (mostly fresh memory); else one
   * never used. When every slot waits for the disk, waits until one is written (back-pressure).
   */
  private takeSlot(): number {
    const ctrl = this.ctrl;
    const free = this.freeSlots;
    const cold = this.coldSlots;
    const map = LENGTHS + this.slots;
    for (;;) {
      const c = Atomics.load(ctrl, CONSUMED);
      for (; this.reclaimed < c; this.reclaimed++) {
        const slot = Math.floor((ctrl[map + (this.reclaimed % this.slots)]! * 8) / this.slotSize);
        // The small first chunks' slot 0 is free once the last of them is written (the others are in it).
        if (this.reclaimed >= this.primeChunks) free.push(slot);
        else if (!this.primeShared || this.reclaimed === this.primeChunks - 1) cold.push(slot);
      }
      // The next chunk's control words (index produced % slots) must be those of a chunk written: with the
      // small first chunks in one slot, more chunks than slots could wait otherwise.
      if (this.produced - c < this.slots) {
        if (free.length > 0) return free.pop()!;
        if (this.fresh < this.slots && (cold.length === 0 || Atomics.load(ctrl, FAULTED) > this.fresh)) {
          Atomics.store(ctrl, FRESH, this.fresh + 1);
          return this.fresh++;
        }
        if (cold.length > 0) return cold.pop()!;
      }
      this.throwIfFailed();
      this.stalls++;
      Atomics.notify(ctrl, PRODUCED);
      const t = performance.now();
      Atomics.wait(ctrl, CONSUMED, c, 1000);
      this.stallMs += performance.now() - t;
    }
  }

  flush(): void {
    if (this.vStart >= 0) this.closeVerbatim();
    if (this.pos === 0) return;
    this.throwIfFailed();
    this.handOver();
    // After the hand-over: a thread started now finds the chunks waiting without being woken.
    if (this.worker === null && (this.startByBytes || this.produced >= this.startChunk)) this.startWorker();
    // A small first chunk goes after the one before it in slot 0 (primeShared), any other into a slot.
    const base = this.primeShared && this.produced < this.primeChunks ? this.produced * this.primeSize : this.takeSlot() * this.slotSize;
    if (!this.startByBytes) this.limit = this.produced < this.primeChunks ? this.primeSize : this.slotSize;
    this.fastMax = this.fastLimit();
    this.slotBase = base;
    this.chunkStart = this.produced * this.slotSize;
    this.markBase = this.chunkStart / 2 + 1;
    this.buf = new Uint8Array(this.ring, base, this.slotSize);
    this.view = new DataView(this.ring, base, this.slotSize);
  }

  private throwIfFailed(): void {
    if (Atomics.load(this.ctrl, STATE) !== 2) return;
    const m = receiveMessageOnPort(this.port!)?.message as { code?: string; message: string; syscall?: string; errno?: number } | undefined;
    const err = Object.assign(new Error(m?.message ?? `${this.path}: capture writer failed`), { code: m?.code, syscall: m?.syscall, errno: m?.errno, path: this.path });
    this.waitDone();
    this.done = true;
    rmSync(this.tempPath, { force: true });
    throw err;
  }

  /** Slots filled at least once: the ring's memory in use (at most `slots`). */
  get slotsUsed(): number {
    return this.fresh;
  }

  /** Whether the writer thread is a spare booted before this sink (prestartWriterThread). */
  usedSpare = false;

  /** Whether the writer thread was started (at the startChunk-th hand-over, or by finish()). */
  get threadStarted(): boolean {
    return this.worker !== null;
  }

  /** File bytes so far (what the records expand to). */
  get bytes(): number {
    return this.vStart >= 0 ? this.outBytes + this.pos - this.vStart - 8 : this.outBytes;
  }

  commit(): void {
    this.finish();
    this.publish();
  }

  /** Hands the last chunk over, waits for the writer thread to write, fsync and close; throws its error. */
  finish(): void {
    if (this.finished) return;
    if (this.done) throw new Error(`${this.path}: finish after abort`);
    this.finished = true;
    if (this.worker === null) {
      // Chunks before the thread's start wait in the ring: a small capture is expanded here, a larger one
      // by a thread started now.
      if (this.handedBytes + this.pos <= ASYNC_START_AT) return this.finishInline();
      this.startWorker();
    }
    this.handOver();
    this.finishBacklog = this.produced - Atomics.load(this.ctrl, CONSUMED);
    Atomics.store(this.ctrl, COMMAND, 1);
    Atomics.notify(this.ctrl, PRODUCED);
    const t = performance.now();
    this.waitDone();
    this.finishMs = performance.now() - t;
    this.throwIfFailed();
  }

  /** No thread was needed: expands and writes the chunks in order, fsyncs and closes here (errors carry the target's path). */
  private finishInline(): void {
    if (this.vStart >= 0) this.closeVerbatim();
    const fd = this.fd;
    try {
      const ex = new RecordExpander(this.ring, LAYOUT, this.outSize, (b, n) => {
        let off = 0;
        while (off < n) off += writeSync(fd, b, off, n - off);
      });
      // No thread: no chunk was written, so the ring never wrapped (produced < slots).
      for (let p = 0; p < this.produced; p++) ex.chunk(this.ctrl[LENGTHS + this.slots + p]! * 8, this.ctrl[LENGTHS + p]!);
      ex.chunk(this.slotBase, this.pos);
      ex.flush();
      this.threadStats[16] = Number(process.hrtime.bigint()) / 1e6;
      this.pos = 0;
      fsyncSync(fd);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (typeof err?.code === 'string' && err.path === undefined) err.path = this.path;
      throw e;
    } finally {
      this.fdOpen = false;
      closeSync(this.fd);
    }
  }

  /** Waits until the writer thread (if any) has stopped, then closes the file. */
  private waitDone(): void {
    if (this.worker !== null) while (Atomics.load(this.ctrl, STATE) === 0) Atomics.wait(this.ctrl, STATE, 0, 1000);
    if (this.fdOpen) {
      this.fdOpen = false;
      closeSync(this.fd);
    }
  }

  publish(): void {
    if (this.done) return;
    this.finish();
    this.done = true;
    renameSync(this.tempPath, this.path);
  }

  /** Stops the writer thread (it closes the file) and removes the temporary file. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (!this.finished) {
      Atomics.store(this.ctrl, COMMAND, 2);
      Atomics.notify(this.ctrl, PRODUCED);
      this.waitDone();
    }
    rmSync(this.tempPath, { force: true });
  }
}
