// netfilter/ext/statistic — `-m statistic --mode random --probability P` and `--mode nth --every N
// --packet P`. Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_statistic.c
// (probability stored as the kernel's u32 lround(p * 2^31), printed %.11f; final_check) and
// net/netfilter/xt_statistic.c (statistic_mt: (prandom_u32() & 0x7fffffff) < probability; nth: a
// per-rule counter). The random draw is the Netfilter's `statistic` stream, one draw per evaluation.
import type { MatchFn } from '../x-tables.js';
import { negs, parseNumber } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m statistic. */
export type StatisticMatch =
  | { kind: 'statistic'; mode: 'random'; neg: boolean; /** kernel value: lround(p * 2^31) */ probability: number }
  | { kind: 'statistic'; mode: 'nth'; neg: boolean; /** every N-th packet (N as written, >= 1) */ every: number; packet: number; /** parse-time only: --packet seen */ packetGiven?: boolean };

/** Formats a probability as libxt_statistic prints it: %.11f of the kernel's u32 over 2^31. */
export function formatProbability(kernelValue: number): string {
  return (kernelValue / 0x80000000).toFixed(11);
}

/** The kernel's u32 for a --probability argument (libxt_statistic: lround(0x80000000 * p)). */
export function probabilityToKernel(p: number): number {
  return Math.round(0x80000000 * p);
}

/** -m statistic. */
export const statistic: MatchExt<StatisticMatch> = {
  name: 'statistic',
  init: () => ({ kind: 'statistic', mode: 'random', neg: false, probability: -1 }),
  parse(m, opt, neg, c) {
    const o = opt.text;
    if (o === '--mode') {
      const t = c.arg(opt);
      if (t.text === 'random') return true;
      if (t.text === 'nth') {
        Object.assign(m, { mode: 'nth', every: 0, packet: 0 });
        delete (m as { probability?: number }).probability;
        return true;
      }
      throw c.err(t, `unknown statistic mode "${t.text}"`);
    }
    if (o === '--probability' && m.mode === 'random') {
      const t = c.arg(opt);
      const p = Number(t.text);
      if (!/^[0-9.eE+-]+$/.test(t.text) || !(p >= 0 && p <= 1)) throw c.err(t, `invalid probability "${t.text}"`);
      m.neg = neg;
      m.probability = probabilityToKernel(p);
      return true;
    }
    if (o === '--every' && m.mode === 'nth') {
      const t = c.arg(opt);
      const v = parseNumber(c, t);
      if (v < 1) throw c.err(t, `--every must be at least 1`);
      m.neg = neg;
      m.every = v;
      return true;
    }
    if (o === '--packet' && m.mode === 'nth') return (m.packet = parseNumber(c, c.arg(opt))), (m.packetGiven = true), true;
    return false;
  },
  check(m, c) {
    if (m.mode === 'random') {
      if (m.probability < 0) throw c.errAtEnd('statistic --mode random needs --probability');
      return;
    }
    if (m.every === 0) throw c.errAtEnd('statistic --mode nth needs --every');
    if (m.packet >= m.every) throw c.errAtEnd('statistic --packet must be less than --every');
    if (!m.packetGiven) throw c.errAtEnd('statistic: option "--every" also requires "--packet"');
    delete m.packetGiven;
  },
  render: (m) =>
    m.mode === 'random'
      ? ` -m statistic --mode random ${negs(m.neg)}--probability ${formatProbability(m.probability)}`
      : ` -m statistic --mode nth ${negs(m.neg)}--every ${m.every} --packet ${m.packet}`,
  compile(m, env): MatchFn {
    if (m.mode === 'random') {
      const { probability, neg } = m;
      return () => env.random(probability) !== neg;
    }
    // xt_statistic nth: a shared counter per rule; the rule matches when it equals --packet.
    const every = m.every - 1;
    const { packet, neg } = m;
    let count = 0;
    return () => {
      count = count === every ? 0 : count + 1;
      return (count === packet) !== neg;
    };
  },
};
