// netem's random models against their closed forms, over many frames on one NIC (sch_netem.c's
// algorithms as link/netem.ts implements them; tolerances are ≈ 4 standard errors of each estimate).
//
//   a ══ channel (1 Gb/s) ══ b        netem on a; 200 000 frames, 10 µs apart (or 1 ms for delays)
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { Channel } from '../../src/link/channel.js';
import { netemDistTable, NETEM_DIST_SCALE, type NetemDistName } from '../../src/link/netem-dist.js';
import { setNetemOn, type NetemConfig } from '../../src/link/netem.js';
import { NicDevice } from '../../src/link/nic.js';
import { udpEthFrame } from '../link/frames.js';

const A = 0x020000000001;
const B = 0x020000000002;

/** Sends n frames through netem on a; returns which arrived and each one's time in netem (ns). */
function through(cfg: NetemConfig, n: number, gapNs: number, seed = 1): { arrived: Uint8Array; held: Float64Array } {
  const sim = new Simulator(seed);
  const a = new NicDevice(sim, 'a', A);
  const b = new NicDevice(sim, 'b', B);
  a.qualifiedName = 'ha/eth0';
  new Channel(sim, a, b, { rateBps: 1e9, delayNs: 0, queueLimit: 1_000_000 });
  setNetemOn(a, cfg, sim);
  const arrived = new Uint8Array(n);
  const held = new Float64Array(n);
  let i = 0;
  a.tap.connect((_d, pkt) => {
    const k = pkt.flowId;
    arrived[k] = 1;
    held[k] = sim.now - k * gapNs;
  });
  const sendNext = (): void => {
    const p = udpEthFrame(A, B, 64, 1);
    p.flowId = i;
    a.xmit(p);
    if (++i < n) sim.schedule(gapNs, sendNext);
  };
  sim.scheduleAt(0, sendNext);
  sim.run();
  return { arrived, held };
}

/** Loss rate and mean length of runs of consecutive losses. */
function lossStats(arrived: Uint8Array): { rate: number; meanBurst: number } {
  let lost = 0;
  let bursts = 0;
  for (let i = 0; i < arrived.length; i++) {
    if (arrived[i] === 0) {
      lost++;
      if (i === 0 || arrived[i - 1] === 1) bursts++;
    }
  }
  return { rate: lost / arrived.length, meanBurst: lost / bursts };
}

const N = 200_000;

describe('Gilbert-Elliott (loss gemodel p r 1-h 1-k)', () => {
  it('simple Gilbert (1-h = 100%, 1-k = 0): loss rate π_B = p/(p+r), mean burst 1/r', () => {
    const p = 0.01;
    const r = 0.1;
    const s = lossStats(through({ loss: 0, delayNs: 0, jitterNs: 0, lossModel: { kind: 'gemodel', p, r, lossBad: 1, lossGood: 0 } }, N, 10_000).arrived);
    // π_B = 0.0909; ≈ 1650 bursts → SE of the rate ≈ 0.0909·√(1/1650 · (1 + CV²)) ≈ 3%: ±10% is > 3 SE.
    expect(s.rate / (p / (p + r))).toBeGreaterThan(0.9);
    expect(s.rate / (p / (p + r))).toBeLessThan(1.1);
    // Burst lengths are geometric with mean 1/r = 10, SD ≈ 9.5: SE over ≈ 1650 bursts ≈ 0.23 (2.3%).
    expect(s.meanBurst).toBeGreaterThan(10 * 0.92);
    expect(s.meanBurst).toBeLessThan(10 * 1.08);
  });

  it('Gilbert-Elliott with 1-h = 50% and 1-k = 1%: rate π_G·(1−k) + π_B·(1−h)', () => {
    const p = 0.02;
    const r = 0.2;
    const piB = p / (p + r);
    const expected = (1 - piB) * 0.01 + piB * 0.5;
    const s = lossStats(through({ loss: 0, delayNs: 0, jitterNs: 0, lossModel: { kind: 'gemodel', p, r, lossBad: 0.5, lossGood: 0.01 } }, N, 10_000).arrived);
    expect(s.rate / expected).toBeGreaterThan(0.93);
    expect(s.rate / expected).toBeLessThan(1.07);
  });

  it('4-state model (loss state p13 p31 p32 p23 p14): loss rate π₃ + π₄ of its Markov chain', () => {
    const m = { kind: 'state' as const, p13: 0.02, p31: 0.3, p32: 0.2, p23: 0.1, p14: 0.01 };
    // Transition matrix over 1 (tx in gap), 2 (tx in burst), 3 (lost in burst), 4 (lost in gap);
    // a frame is lost when the chain moves into 3 or 4, so the loss rate is π₃ + π₄.
    const P = [
      [1 - m.p13 - m.p14, 0, m.p13, m.p14],
      [0, 1 - m.p23, m.p23, 0],
      [m.p31, m.p32, 1 - m.p31 - m.p32, 0],
      [1, 0, 0, 0],
    ];
    let pi = [1, 0, 0, 0];
    for (let k = 0; k < 10_000; k++) pi = [0, 1, 2, 3].map((j) => pi.reduce((acc, x, i) => acc + x * P[i]![j]!, 0));
    const expected = pi[2]! + pi[3]!;
    const s = lossStats(through({ loss: 0, delayNs: 0, jitterNs: 0, lossModel: m }, N, 10_000).arrived);
    expect(s.rate / expected).toBeGreaterThan(0.9);
    expect(s.rate / expected).toBeLessThan(1.1);
  });

  it('random loss 2%: rate 0.02, bursts geometric with mean 1/(1−p)', () => {
    const s = lossStats(through({ loss: 0.02, delayNs: 0, jitterNs: 0 }, N, 10_000).arrived);
    expect(s.rate).toBeGreaterThan(0.02 * 0.93);
    expect(s.rate).toBeLessThan(0.02 * 1.07);
    expect(s.meanBurst).toBeGreaterThan(1 / 0.98 - 0.02);
    expect(s.meanBurst).toBeLessThan(1 / 0.98 + 0.02);
  });
});

describe('netem delay distributions (delay 100ms jitter 10ms distribution X) against the tables', () => {
  const moments = (xs: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i]!;
    const m = s / xs.length;
    let v = 0;
    for (let i = 0; i < xs.length; i++) v += (xs[i]! - m) ** 2;
    return { mean: m, sd: Math.sqrt(v / xs.length) };
  };
  for (const dist of ['normal', 'pareto', 'paretonormal'] as NetemDistName[]) {
    it(`${dist}: mean μ + σ·E[table]/8192, σ·SD[table]/8192`, () => {
      const n = 50_000;
      const { held } = through({ loss: 0, delayNs: 100e6, jitterNs: 10e6, distribution: dist }, n, 1e6);
      const got = moments(held);
      const t = moments(netemDistTable(dist));
      const wantMean = 100e6 + (10e6 * t.mean) / NETEM_DIST_SCALE;
      const wantSd = (10e6 * t.sd) / NETEM_DIST_SCALE;
      // SE of the mean: σ/√n ≈ 0.05 ms (pareto's heavier tail: ≈ 0.06 ms); 0.3 ms is > 5 SE. SD within 4%.
      expect(Math.abs(got.mean - wantMean)).toBeLessThan(0.3e6);
      expect(got.sd / wantSd).toBeGreaterThan(0.96);
      expect(got.sd / wantSd).toBeLessThan(1.04);
      if (dist === 'normal') expect(got.sd / 10e6).toBeCloseTo(1, 1); // the normal table's σ is one unit
    });
  }
});
