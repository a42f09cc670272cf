// netfilter/ext/physdev — `-m physdev --physdev-in/--physdev-out/--physdev-is-in/-is-out/-is-bridged`.
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_physdev.c and
// net/netfilter/xt_physdev.c. A packet has bridge-port information (skb->nf_bridge) while
// net/br-netfilter runs the hooks of a frame entering a bridge port: PREROUTING (the port it came in
// by), and FORWARD / POSTROUTING of a frame bridged to another port (both ports: --physdev-is-bridged;
// for bridged DNAT the port toward the new destination's resolved neighbour, looked up when a rule asks).
// Not modelled: the information staying with a frame that goes up to the bridge and is routed (its
// FORWARD sees no physdev), a bridged-DNAT frame whose neighbour is not resolved yet (no out port);
// every other packet is "not bridged" (a test matches only when negated).
import type { Neg } from '../rules.js';
import { negs, optNeg } from '../xtables.js';
import { HookCtx } from '../x-tables.js';
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
    // xt_physdev.c physdev_mt.
    const { physdevIn: pin, physdevOut: pout, isIn, isOut, isBridged } = m;
    const noInfo = [isBridged, isIn, isOut, pin, pout].every((n) => n === null || n.neg);
    const name = (n: Neg<string>, dev: string): boolean => (n.value.endsWith('+') ? dev.startsWith(n.value.slice(0, -1)) : dev === n.value);
    return () => {
      const inId = HookCtx.physIn;
      // Not a bridged IP packet (no nf_bridge info): a match only when every option given is negated.
      if (inId === 0) return noInfo;
      const outId = HookCtx.physOut === -1 ? HookCtx.physOutLazy() : HookCtx.physOut;
      if (isBridged !== null && (outId !== 0) === isBridged.neg) return false;
      if (isIn !== null && isIn.neg) return false; // the frame came in by a port
      if (isOut !== null && (outId !== 0) === isOut.neg) return false;
      if (pin !== null && name(pin, HookCtx.nameOf(inId)) === pin.neg) return false;
      if (pout === null || outId === 0) return true;
      return name(pout, HookCtx.nameOf(outId)) !== pout.neg;
    };
  },
};
