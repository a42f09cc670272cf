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
  const statsJson = statsDocument(world, stop);
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
    statsJson,
  };
}

/**
 * stats.json: the stats registry's report (schema podwire-stats/1), each flow extended with the probe
 * counters `sent` / `received` / `lost` and `latencyUs.min`, plus counter groups `drops/<host>`
 * (per reason), `if/<host>/<dev>` (packets, bytes, drops) and `sim` (events, stop reason).
 */
export function statsDocument(world: World, stop: StopReason): string {
  const rep = world.stats.report(world.seed);
  const byName = new Map(world.flows.map((f) => [f.name, f]));
  const flows = rep.flows.map((f) => {
    const wf = byName.get(f.name);
    const rec = world.stats.flow(f.name);
    const { name, ...rest } = f;
    return {
      name,
      type: wf?.type ?? 'unknown',
      from: wf?.from ?? '',
      to: wf?.to ?? '',
      sent: wf?.counts.sent ?? f.requests,
      received: wf?.counts.received ?? f.successes,
      lost: wf?.counts.lost ?? f.errorsByKind.timeout,
      ...rest,
      latencyUs: { min: Math.round(rec.latency.minValueNs) / 1000, ...f.latencyUs },
    };
  });
  const counters: Record<string, Record<string, number>> = { ...rep.counters };
  for (const ns of world.namespaces.values()) {
    const d: Record<string, number> = {};
    for (const r of NET_DROP_REASONS) if (ns.drops[r]) d[r] = ns.drops[r]!;
    counters[`drops/${ns.name}`] = d;
  }
  for (const dev of world.devices) {
    if (dev.kind === 'loopback' && dev.stats.txPackets === 0) continue;
    const s = dev.stats;
    const byReason: Record<string, number> = {};
    for (const [r, n] of Object.entries(dev.dropsByReason)) byReason[`drops.${r}`] = n;
    counters[`if/${dev.qualifiedName}`] = { drops: s.drops, ...byReason, rxBytes: s.rxBytes, rxPackets: s.rxPackets, txBytes: s.txBytes, txPackets: s.txPackets };
  }
  for (const [name, u] of world.udp) {
    const c = u.counters as unknown as Record<string, number>;
    if (Object.values(c).some((v) => v !== 0)) counters[`udp/${name}`] = Object.fromEntries(Object.keys(c).sort().map((k) => [k, c[k]!]));
  }
  for (const [name, t] of world.tcp) {
    const c = t.counters as unknown as Record<string, number>;
    if (Object.values(c).some((v) => v !== 0)) counters[`tcp/${name}`] = Object.fromEntries(Object.keys(c).sort().map((k) => [k, c[k]!]));
  }
  counters['sim'] = { events: world.sim.eventsExecuted };
  const sortedCounters: Record<string, Record<string, number>> = {};
  for (const k of Object.keys(counters).sort()) sortedCounters[k] = counters[k]!;
  const timeline = world.timeline.map((t) => ({ atUs: t.atNs / 1000, what: t.what }));
  const doc = { schema: rep.schema, scenario: world.name, seed: rep.seed, stop, simTimeUs: rep.simTimeUs, events: world.sim.eventsExecuted, flows, endpoints: rep.endpoints, timeline, counters: sortedCounters };
  return JSON.stringify(doc, null, 2) + '\n';
}
