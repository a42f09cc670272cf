// netfilter/ext/physdev — `-m physdev --physdev-in/--physdev-out/--physdev-is-in/-is-out/-is-bridged`.
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_physdev.c and
// net/netfilter/xt_physdev.c. Not modelled: packets carry no bridge-port information, so every test
// sees "not bridged" (a test matches only when negated).
import type { Neg } from '../rules.js';
import { negs, optNeg } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m physdev. */
export interface PhysdevMatch {
  kind: 'physdev';
  physdevIn: Neg<string> | null;
  physdevOut: Neg<string> | null;
  isIn: Neg<true> | null;
  isOut: Neg<true> | null;
  isBridged: Neg<true> | null;
}

const flag = (n: Neg<true> | null, name: string): string => (n ? ` ${negs(n.neg)}${name}` : '');

/** -m physdev. */
export const physdev: MatchExt<PhysdevMatch> = {
  name: 'physdev',
  init: () => ({ kind: 'physdev', physdevIn: null, physdevOut: null, isIn: null, isOut: null, isBridged: null }),
  parse(m, opt, neg, c) {
    switch (opt.text) {
      case '--physdev-in':
        return (m.physdevIn = { neg, value: c.arg(opt).text }), true;
      case '--physdev-out':
        return (m.physdevOut = { neg, value: c.arg(opt).text }), true;
      case '--physdev-is-in':
        return (m.isIn = { neg, value: true }), true;
      case '--physdev-is-out':
        return (m.isOut = { neg, value: true }), true;
      case '--physdev-is-bridged':
        return (m.isBridged = { neg, value: true }), true;
      default:
        return false;
    }
  },
  render: (m) =>
    ' -m physdev' +
    flag(m.isIn, '--physdev-is-in') +
    optNeg(m.physdevIn, '--physdev-in', (v) => v) +
    flag(m.isOut, '--physdev-is-out') +
    optNeg(m.physdevOut, '--physdev-out', (v) => v) +
    flag(m.isBridged, '--physdev-is-bridged'),
  compile(m) {
    const conds = [m.physdevIn, m.physdevOut, m.isIn, m.isOut, m.isBridged].filter((x): x is Neg<string> | Neg<true> => x !== null);
    const result = conds.every((n) => n.neg);
    return () => result;
  },
};
