// scenario/run — runs a built world and writes its outputs: capture.pcapng (or one .pcap per
// interface), stats.json, and per-flow .hgrm latency histograms. Layer: scenario.
// Outputs are written whole or not at all: each file goes to a temporary name and is renamed into
// place only after the run finished; a failed run removes its temporaries.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../capture/atomic.js';
import { PcapngWriter, PcapWriter, type CaptureWriter } from '../capture/pcapng.js';
import type { StopReason } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { NET_DROP_REASONS } from '../net/drop.js';
import { statsJsonText, type StatsDocument } from '../stats/index.js';
import type { World } from './build.js';

/** How to run. */
export interface RunOptions {
  outDir: string;
  /** Overrides the scenario's duration. */
  untilNs?: TimeNs | null;
  format: 'pcapng' | 'pcap';
  snaplen: number;
  /** Progress callback (the CLI draws a bar on a TTY). */
  onProgress?: (nowNs: TimeNs, events: number) => void;
  /** Hard stop after this many events (a guard against runaway scenarios). */
  maxEvents?: number;
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

/** Runs the world to completion and writes the output files. */
export function runWorld(world: World, opts: RunOptions): RunResult {
  mkdirSync(opts.outDir, { recursive: true });
  const capturePath = opts.format === 'pcapng' ? join(opts.outDir, 'capture.pcapng') : join(opts.outDir, 'pcap');
  let writer: CaptureWriter | null = null;
  if (world.captured.length > 0) {
    writer = opts.format === 'pcapng' ? new PcapngWriter(capturePath, { application: 'podwire' }) : new PcapWriter(capturePath);
    const w = writer;
    const sim = world.sim;
    for (const dev of world.captured) {
      const id = w.addInterface(dev.qualifiedName, { snaplen: opts.snaplen, description: `${dev.kind} ${dev.qualifiedName}` });
      dev.tap.connect((_d, pkt) => w.writePacketRecord(id, sim.now, pkt));
    }
  }
  let stop: StopReason;
  try {
    const until = opts.untilNs !== undefined ? opts.untilNs : world.until;
    stop = world.sim.run({
      ...(until !== null && until !== undefined ? { until } : {}),
      ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress, progressEvery: 50_000 } : {}),
    });
  } catch (e) {
    writer?.abort();
    throw e;
  }
  const stats = statsReport(world, stop);
  const statsJson = statsJsonText(stats);
  writer?.close();
  const statsPath = join(opts.outDir, 'stats.json');
  writeFileAtomic(statsPath, statsJson);
  const hgrm: string[] = [];
  for (const [name, text] of world.stats.hgrm()) {
    const p = join(opts.outDir, `${name}.hgrm`);
    writeFileAtomic(p, text);
    hgrm.push(p);
  }
  return {
    stop,
    simTimeNs: world.sim.now,
    events: world.sim.eventsExecuted,
    packetsCaptured: writer?.packetCount ?? 0,
    files: { capture: writer ? capturePath : '', stats: statsPath, hgrm },
    stats,
    statsJson,
  };
}

/**
 * Tells the stats registry what it cannot measure itself: each flow's kind, ends and probe counters,
 * and the counter groups of the world's layers — `drops/<host>` (per reason), `if/<host>/<dev>`
 * (packets, bytes, drops), `udp/<host>` and `tcp/<host>` (MIB counters, when any is non-zero) — then
 * builds the typed stats.json document.
 */
export function statsReport(world: World, stop: StopReason): StatsDocument {
  const stats = world.stats;
  for (const f of world.flows) stats.describeFlow(f.name, { type: f.type, from: f.from, to: f.to, counts: f.counts });
  for (const ns of world.namespaces.values()) {
    stats.addCounters(`drops/${ns.name}`, () => {
      const d: Record<string, number> = {};
      for (const r of NET_DROP_REASONS) if (ns.drops[r]) d[r] = ns.drops[r]!;
      return d;
    });
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
  return stats.report({ scenario: world.name, seed: world.seed, stop, events: world.sim.eventsExecuted, timeline: world.timeline });
}
