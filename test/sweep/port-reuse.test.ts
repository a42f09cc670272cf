// Five simulated minutes of random (kube-proxy iptables) against round robin (IPVS) with a new
// connection per request: the client's ephemeral ports come round again while the old connection's
// conntrack entry (TIME_WAIT, 120 s) and IPVS connection are still there. A reused port must get a
// fresh endpoint choice — the same endpoint as the port's previous connection about 1 time in 3 with
// three endpoints — not its old endpoint every time (what reopening the entry in place gave), and
// each endpoint's share of connections must stay in its binomial band.
//
//   client (node1) ──new connection per request, 40/s Poisson, 300 s──▶ svc/web:80 ──▶ 3 web pods (node1, node2)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../src/wire/types.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { ROOT } from '../scenario/dist.js';

const RATE = 40;
const SECONDS = 300;
const TEXT = readFileSync(join(ROOT, 'experiments/random-vs-rr.yaml'), 'utf8')
  .replace('rate: 60\n', `rate: ${RATE}\n`)
  .replace('count: 90', `count: ${RATE * SECONDS}`);

interface Reuse {
  connections: number;
  reused: number;
  sameAsBefore: number;
  perEndpoint: number[];
}

/** Runs one mode and follows every SYN a web pod receives: client port → pod, in order. */
function run(mode: 'iptables' | 'ipvs', seed: number): Reuse {
  const w = buildWorld(loadScenarioText(TEXT.replace('mode: iptables', `mode: ${mode}`), 'random-vs-rr.yaml'), seed);
  const pods = [...w.namespaces.keys()].filter((n) => n.startsWith('web-')).sort();
  expect(pods).toHaveLength(3);
  const last = new Map<number, number>();
  const r: Reuse = { connections: 0, reused: 0, sameAsBefore: 0, perEndpoint: [0, 0, 0] };
  pods.forEach((name, i) => {
    w.namespaces.get(name)!.hops.connect((_ns, pkt, ev) => {
      if (ev.kind !== 'deliver' || pkt.tcp === null || (pkt.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) return;
      const port = pkt.tcp.srcPort;
      r.connections++;
      r.perEndpoint[i]!++;
      const before = last.get(port);
      if (before !== undefined) {
        r.reused++;
        if (before === i) r.sameAsBefore++;
      }
      last.set(port, i);
    });
  });
  w.sim.run();
  return r;
}

/** |x − n·p| within 4.5 standard deviations of Binomial(n, p). */
function inBand(x: number, n: number, p: number): boolean {
  return Math.abs(x - n * p) <= 4.5 * Math.sqrt(n * p * (1 - p));
}

describe('port reuse over 5 simulated minutes: random vs round robin', () => {
  for (const mode of ['iptables', 'ipvs'] as const) {
    it(`${mode}: a reused client port gets a fresh endpoint (same as before ≈ 1/3), shares in the binomial band`, () => {
      const r = run(mode, 1);
      expect(r.connections).toBe(RATE * SECONDS);
      // Ports come round: each client port is used again after its 60 s TIME_WAIT, within conntrack's 120 s.
      console.log(mode, JSON.stringify(r));
      expect(r.reused).toBeGreaterThan(r.connections / 4);
      expect(inBand(r.sameAsBefore, r.reused, 1 / 3)).toBe(true);
      // Connection shares: random draws Binomial(n, 1/3) per endpoint; round robin is exact to ±1.
      for (const k of r.perEndpoint) {
        if (mode === 'ipvs') expect(Math.abs(k - r.connections / 3)).toBeLessThanOrEqual(1);
        else expect(inBand(k, r.connections, 1 / 3)).toBe(true);
      }
    }, 120_000);
  }
});
