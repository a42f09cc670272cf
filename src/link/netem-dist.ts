// link/netem-dist — netem's delay distribution tables, as `tc qdisc … netem delay D J distribution
// normal|pareto|paretonormal` loads them from /usr/lib/tc/NAME.dist, and the kernel's tabledist().
// Layer: link (imports jstat for erf). The tables are built here the way iproute2's generators
// (netem/normal.c, pareto.c, paretonormal.c, from NISTnet) build them: 4096 signed 16-bit entries,
// a scaled inverse CDF with unit σ = NETEM_DIST_SCALE (8192); tc sends them to the kernel as they are.
// - normal: x stepped from −10 by 5e-5; table[rint(16384·Φ(x))] = x (the last x that rounds to that
//   slot), then every fourth slot, ×8192, clamped to int16.
// - pareto: a = 3; for i = 65536, 65520, … 16: (i/65536)^(−1/a) − 1.5, ×(4/3)·8192, clamped at 32767
//   (a Pareto with shape 3 and scale 1 has mean 1.5 and σ √3/2 ≈ 0.866; the table is centred on the
//   mean and scaled by 4/3, so its σ is ≈ 1.155 σ-units and its mean ≈ 0 before the clamp).
// - paretonormal: (normal + 3·pareto)/4 per slot, pareto read at 65536 − 4i.
// test/link/netem-dist.test.ts compares these with the installed tables when iproute2's are present.
import jStat from 'jstat';

/** NETEM_DIST_SCALE (include/uapi/linux/pkt_sched.h): the table's unit. */
export const NETEM_DIST_SCALE = 8192;
const TABLESIZE = 16384;
const A = 3.0;

export type NetemDistName = 'normal' | 'pareto' | 'paretonormal';

const clamp16 = (v: number): number => (v < -32768 ? -32768 : v > 32767 ? 32767 : v);
/** C's rint (round half to even). */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function normalSlots(): Float64Array {
  const erf = (jStat as unknown as { erf(x: number): number }).erf;
  const table = new Float64Array(TABLESIZE + 1);
  for (let x = -10.0; x < 10.05; x += 0.00005) {
    const i = rint(TABLESIZE * (0.5 + 0.5 * erf(x / Math.sqrt(2.0))));
    table[i] = x;
  }
  return table;
}

function paretoValue(i: number): number {
  let d = i / 65536;
  d = 1.0 / Math.pow(d, 1.0 / A);
  d -= 1.5;
  d *= (4.0 / 3.0) * NETEM_DIST_SCALE;
  if (d > 32767) d = 32767;
  return rint(d);
}

function build(name: NetemDistName): Int16Array {
  const out = new Int16Array(TABLESIZE / 4);
  if (name === 'pareto') {
    let n = 0;
    for (let i = 65536; i > 0; i -= 16) out[n++] = paretoValue(i);
    return out;
  }
  const normal = normalSlots();
  for (let i = 0, n = 0; i < TABLESIZE; i += 4, n++) {
    const nv = Math.trunc(rint(normal[i]! * NETEM_DIST_SCALE));
    out[n] = clamp16(name === 'normal' ? nv : Math.trunc((nv + 3 * paretoValue(65536 - 4 * i)) / 4));
  }
  return out;
}

const cache = new Map<NetemDistName, Int16Array>();

/** The table of a named distribution (built once per process). */
export function netemDistTable(name: NetemDistName): Int16Array {
  let t = cache.get(name);
  if (t === undefined) {
    t = build(name);
    cache.set(name, t);
  }
  return t;
}

/**
 * tabledist (sch_netem.c): mu + sigma · table[rnd % size] / NETEM_DIST_SCALE, computed in integers
 * as the kernel does (rounding the σ-remainder product half away from zero); uniform in
 * [mu − sigma, mu + sigma) without a table. `rnd` is a 32-bit unsigned draw.
 */
export function tabledist(mu: number, sigma: number, rnd: number, table: Int16Array | null): number {
  if (sigma === 0) return mu;
  if (table === null) return (rnd % (2 * sigma)) + mu - sigma;
  const t = table[rnd % table.length]!;
  let x = (sigma % NETEM_DIST_SCALE) * t;
  x += x >= 0 ? NETEM_DIST_SCALE / 2 : -NETEM_DIST_SCALE / 2;
  return Math.trunc(x / NETEM_DIST_SCALE) + Math.trunc(sigma / NETEM_DIST_SCALE) * t + mu;
}
