// test/theory/bulk — one bulk TCP transfer of scenarios/faults/lossy-link.yaml (10 MB from pod bulk on
// node2 to the client on node1, RTT ≈ 40.3 ms, netem random loss p on node2's egress), with a chosen
// congestion control and seed; returns the throughput and Mathis's constant C it implies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import type { CongestionAlgorithm } from '../../src/transport/tcp/cc.js';
import { ROOT } from '../integration/run-scenario.js';

export const LOSSY_LINK = join(ROOT, 'scenarios/faults/lossy-link.yaml');
/** MSS on the wire: 1500 − 20 (IP) − 20 (TCP) − 12 (timestamps). */
export const MSS = 1448;
/** Base RTT: 4 × 10 ms propagation + two 1514-byte serializations at 100 Mbit/s + veth hops. */
export const RTT = 0.0403;
export const BYTES = 10_000_000;

/** Mathis et al. 1997: MSS/RTT · C/√p, bits per second. */
export const mathis = (p: number, c: number): number => ((MSS * 8) / RTT) * (c / Math.sqrt(p));

export interface BulkResult {
  /** Achieved throughput (bits/s): the response bytes over the request's latency. */
  bps: number;
  /** The C that makes Mathis's formula give this throughput. */
  c: number;
  retrans: number;
  outSegs: number;
  timeouts: number;
}

export function runBulk(p: number, cc: CongestionAlgorithm, seed: number): BulkResult {
  const text = readFileSync(LOSSY_LINK, 'utf8').replace('loss: "1%"', `loss: ${p}`);
  const w = buildWorld(loadScenarioText(text, LOSSY_LINK), seed);
  for (const t of w.tcp.values()) t.configure({ congestion: cc });
  w.sim.run();
  const f = w.stats.flow('bulk');
  if (f.successes !== 1) throw new Error(`the transfer did not complete (${f.errorCount} errors)`);
  const secs = f.latency.percentileNs(50) / 1e9;
  const bps = (BYTES * 8) / secs;
  const t = w.tcp.get('bulk')!.counters;
  return { bps, c: (bps * RTT * Math.sqrt(p)) / (MSS * 8), retrans: t.RetransSegs, outSegs: t.OutSegs, timeouts: t.TCPTimeouts };
}
