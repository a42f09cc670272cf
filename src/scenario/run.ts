// scenario/run — runs a built world and writes its outputs: capture.pcapng (or one .pcap per
// interface), stats.json, and per-flow .hgrm latency histograms. Layer: scenario.
// Outputs are written whole or not at all: each file goes to a temporary name, all are finished
// (fsync) before any is renamed into place, and a failed run removes its temporaries. Guards
// (--max-events, --max-sim-time, --max-capture; the CLI adds --max-memory and signals) stop a run
// cleanly: its outputs are whole and stats.json says what stopped it (`partial`).
import { join } from 'node:path';
import { prestartWriterThread } from '../capture/async-sink.js';
import { ensureDir, writeFileFinished, type AtomicFile } from '../capture/atomic.js';
import { compileCaptureFilter } from '../capture/filter.js';
import { LINK_NONE } from '../capture/frame-memo.js';
import { CaptureGate, PcapngWriter, PcapWriter, type CaptureWriter } from '../capture/pcapng.js';
import type { StopReason } from '../core/simulator.js';
import { formatTime, type TimeNs } from '../core/time.js';
import { NET_DROP_REASONS } from '../net/drop.js';
import { statsJsonText, type PartialReason, type StatsDocument } from '../stats/index.js';
import type { NetDevice } from '../link/device.js';
import { NicDevice } from '../link/nic.js';
import { VethDevice } from '../link/veth.js';
import type { World } from './build.js';

/** The resource guards of a run; each stops it cleanly with whole outputs marked partial. */
export interface RunLimits {
  /** Stop after this many events (--max-events). */
  maxEvents?: number;
  /** Stop at this simulated time even if the scenario runs longer (--max-sim-time). */
  maxSimTimeNs?: TimeNs;
  /** Stop capturing once the capture holds this many bytes; the run goes on (--max-capture). */
  maxCaptureBytes?: number;
}

/** How to run. */
export interface RunOptions extends RunLimits {
  outDir: string;
  /** Overrides the scenario's duration. */
  untilNs?: TimeNs | null;
  format: 'pcapng' | 'pcap';
  snaplen: number;
  /** A capture filter (capture/filter syntax): only matching packets are written. */
  filter?: string;
  /** Progress callback (the CLI draws a bar on a TTY). */
  onProgress?: (nowNs: TimeNs, events: number) => void;
}

/** Why a run's results are partial: which guard or signal stopped it, in words a user can act on. */
export interface PartialInfo {
  reason: PartialReason;
  message: string;
}

/** What a run produced. */
export interface RunResult {
  stop: StopReason;
  simTimeNs: TimeNs;
  events: number;
  packetsCaptured: number;
  files: { capture: string; stats: string; hgrm: string[] };
  /** The stats.json document, typed. */
  stats: StatsDocument;
  /** Its text, as written to stats.json. */
  statsJson: string;
}

/**
 * Called before the world is built when the run will capture into a pcapng file (`podwire run`): boots the
 * capture's writer thread (capture/async-sink prestartWriterThread) so that Node's worker start (~40–70 ms
 * of CPU) overlaps the build (5–340 ms on scenarios/) on the other core instead of the run's first chunks
 * (session 35). Opens no file: a build that fails leaves nothing behind; an unused thread keeps nothing alive.
 */
export function prestartCapture(format: 'pcapng' | 'pcap', interfaces: 'all' | 'none' | readonly string[]): void {
  if (format === 'pcapng' && interfaces !== 'none' && (interfaces === 'all' || interfaces.length > 0)) prestartWriterThread();
}

/** The device at the other end of `dev`'s wire (veth peer, Channel's other NIC), or null. */
export function wirePeer(dev: NetDevice): NetDevice | null {
  if (dev instanceof VethDevice) return dev.peer ?? null;
  if (dev instanceof NicDevice) {
    const ch = dev.link;
    if (ch === null) return null;
    return ch.a === dev ? ch.b : ch.a;
  }
  return null;
}

/**
 * A run in progress: the capture is open, events run in steps (so a caller can watch signals and
 * memory between them), and finish() writes every output file, or none.
 */
export class ScenarioRun {
  readonly capturePath: string;
  private readonly writer: CaptureWriter | null = null;
  private readonly until: TimeNs | null;
  private readonly maxEvents: number;
  private gate: CaptureGate | null = null;
  private done = false;

  constructor(
    readonly world: World,
    private readonly opts: RunOptions,
  ) {
    ensureDir(opts.outDir);
    this.capturePath = opts.format === 'pcapng' ? join(opts.outDir, 'capture.pcapng') : join(opts.outDir, 'pcap');
    const scenarioUntil = opts.untilNs !== undefined ? opts.untilNs : world.until;
    const cap = opts.maxSimTimeNs;
    this.until = cap !== undefined && (scenarioUntil === null || cap < scenarioUntil) ? cap : scenarioUntil;
    this.maxEvents = opts.maxEvents ?? Infinity;
    if (world.captured.length > 0) this.writer = this.openCapture(opts.maxCaptureBytes ?? Infinity);
  }

  private openCapture(maxBytes: number): CaptureWriter {
    const w = this.opts.format === 'pcapng' ? new PcapngWriter(this.capturePath, { application: 'podwire' }) : new PcapWriter(this.capturePath);
    const sim = this.world.sim;
    const keep = this.opts.filter !== undefined ? compileCaptureFilter(this.opts.filter) : null;
    const captured = this.world.captured;
    const ids = new Map<NetDevice, number>();
    for (const dev of captured) ids.set(dev, w.addInterface(dev.qualifiedName, { snaplen: this.opts.snaplen, description: `${dev.kind} ${dev.qualifiedName}` }));
    // The filter and --max-capture, for every interface; none when neither is set.
    const gate = keep !== null || maxBytes < Infinity ? new CaptureGate(w, keep, maxBytes) : null;
    this.gate = gate;
    for (const dev of captured) {
      // A frame leaving `dev` arrives at its wire peer unchanged: when both are captured, the arrival
      // copies the departure's bytes (capture/frame-memo).
      const peer = wirePeer(dev);
      const peerId = peer !== null ? (ids.get(peer) ?? LINK_NONE) : LINK_NONE;
      dev.capture = w.point(ids.get(dev)!, sim, peerId, gate);
    }
    return w;
  }

  /** Events executed so far. */
  get events(): number {
    return this.world.sim.eventsExecuted;
  }

  /**
   * Runs at most `budget` more events. Returns the stop reason when the run is over (the scenario ended,
   * or the event guard was reached: see partial()), null when it can go on.
   */
  step(budget: number = Infinity): StopReason | null {
    const sim = this.world.sim;
    const left = this.maxEvents - sim.eventsExecuted;
    if (left <= 0) return 'max-events';
    const n = Math.min(budget, left);
    try {
      const stop = sim.run({
        ...(this.until !== null ? { until: this.until } : {}),
        maxEvents: n,
        ...(this.opts.onProgress ? { onProgress: this.opts.onProgress, progressEvery: 50_000 } : {}),
      });
      if (stop === 'max-events' && n < left) return null;
      return stop;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** What stopped a run early, or null when the scenario ran to its end. */
  partial(stop: StopReason, signal?: 'SIGINT' | 'SIGTERM' | 'max-memory', memory?: string): PartialInfo | null {
    const covers = `results cover 0–${formatTime(this.world.sim.now)}`;
    if (signal === 'max-memory') return { reason: 'max-memory', message: `stopped: memory limit reached: ${memory ?? '--max-memory'}; ${covers}` };
    if (signal !== undefined) return { reason: signal, message: `stopped by ${signal}; ${covers}` };
    if (stop === 'max-events') return { reason: 'max-events', message: `stopped: ${this.maxEvents.toLocaleString('en-US')} events reached (--max-events); ${covers}` };
    const scenarioUntil = this.opts.untilNs !== undefined ? this.opts.untilNs : this.world.until;
    if (stop === 'until' && this.until !== scenarioUntil) return { reason: 'max-sim-time', message: `stopped: simulated time limit ${formatTime(this.until!)} reached (--max-sim-time); ${covers}` };
    return null;
  }

  /**
   * Writes capture, .hgrm files and stats.json: every file is finished under its temporary name
   * first (all that can fail for lack of space fails then, and everything is removed), then all are
   * renamed into place, stats.json last.
   */
  finish(stop: StopReason, partial: PartialInfo | null = null): RunResult {
    const world = this.world;
    const stopped = this.gate?.stoppedAt ?? -1;
    const captureNote = stopped >= 0 ? `capture stopped at ${stopped.toLocaleString('en-US')} bytes (--max-capture); the run went on` : null;
    const stats = statsReport(world, stop, partial, captureNote);
    const statsJson = statsJsonText(stats);
    const files: AtomicFile[] = [];
    try {
      this.writer?.finish();
      const hgrm: string[] = [];
      for (const [name, text] of world.stats.hgrm()) {
        const p = join(this.opts.outDir, `${name}.hgrm`);
        files.push(writeFileFinished(p, text));
        hgrm.push(p);
      }
      const statsPath = join(this.opts.outDir, 'stats.json');
      files.push(writeFileFinished(statsPath, statsJson));
      this.writer?.publish();
      for (const f of files) f.publish();
      this.done = true;
      return {
        stop,
        simTimeNs: world.sim.now,
        events: world.sim.eventsExecuted,
        packetsCaptured: this.writer?.packetCount ?? 0,
        files: { capture: this.writer ? this.capturePath : '', stats: statsPath, hgrm },
        stats,
        statsJson,
      };
    } catch (e) {
      for (const f of files) f.abort();
      this.abort();
      throw e;
    }
  }

  /** Removes every temporary file; no output appears. Safe to call more than once. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.writer?.abort();
  }
}

/** Runs the world to completion (or to a guard) and writes the output files. */
export function runWorld(world: World, opts: RunOptions): RunResult {
  const run = new ScenarioRun(world, opts);
  const stop = run.step();
  return run.finish(stop!, run.partial(stop!));
}

/**
 * Tells the stats registry what it cannot measure itself: each flow's kind, ends and probe counters,
 * and the counter groups of the world's layers — `drops/<host>` (per reason), `if/<host>/<dev>`
 * (packets, bytes, drops), `udp/<host>` and `tcp/<host>` (MIB counters, when any is non-zero) — then
 * builds the typed stats.json document.
 */
export function statsReport(world: World, stop: StopReason, partial: PartialInfo | null = null, captureNote: string | null = null): StatsDocument {
  const stats = world.stats;
  for (const f of world.flows) stats.describeFlow(f.name, { type: f.type, from: f.from, to: f.to, counts: f.counts });
  for (const ns of world.namespaces.values()) {
    stats.addCounters(`drops/${ns.name}`, () => {
      const d: Record<string, number> = {};
      for (const r of NET_DROP_REASONS) if (ns.drops[r]) d[r] = ns.drops[r]!;
      return d;
    });
  }
  for (const ns of world.namespaces.values()) {
    const ct = ns.nf?.conntrack;
    // conntrack -S: present only when a counter is not 0 (a full table, a confirm clash), as a fault or a race makes it.
    if (ct) stats.addCounters(`conntrack/${ns.name}`, () => (ct.stats.drop + ct.stats.early_drop + ct.stats.insert_failed + ct.stats.clash_resolve > 0 ? { ...ct.stats } : null));
  }
  for (const dev of world.devices) {
    stats.addCounters(`if/${dev.qualifiedName}`, () => {
      if (dev.kind === 'loopback' && dev.stats.txPackets === 0) return null;
      const s = dev.stats;
      const byReason: Record<string, number> = {};
      for (const [r, n] of Object.entries(dev.dropsByReason)) byReason[`drops.${r}`] = n;
      return { drops: s.drops, ...byReason, rxBytes: s.rxBytes, rxPackets: s.rxPackets, txBytes: s.txBytes, txPackets: s.txPackets };
    });
  }
  const mib = (c: object): Record<string, number> | null => {
    const r = c as Record<string, number>;
    return Object.values(r).some((v) => v !== 0) ? r : null;
  };
  for (const [name, u] of world.udp) stats.addCounters(`udp/${name}`, () => mib(u.counters));
  for (const [name, t] of world.tcp) stats.addCounters(`tcp/${name}`, () => mib(t.counters));
  stats.addCounters('sim', () => ({ events: world.sim.eventsExecuted }));
  return stats.report({ scenario: world.name, seed: world.seed, stop, events: world.sim.eventsExecuted, timeline: world.timeline, partial, captureNote });
}
