// netfilter/ext/nat — `-j DNAT --to-destination` and `-j SNAT --to-source` (`ip[-ip][:port[-port]]`,
// --random, --random-fully, --persistent). Layer: netfilter (imports this folder). Mirrors
// iptables/extensions/libipt_DNAT.c / libipt_SNAT.c (range syntax, save form) and
// net/netfilter/xt_nat.c (xt_dnat_target_v0 / xt_snat_target_v0 → nf_nat_setup_info).
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import { NatManip as Manip, natFlags, type NatManip } from '../conntrack.js';
import type { Packet } from '../../packet/packet.js';
import { parseIpv4, type NatRange } from '../rules.js';
import { NfEvalError, TgCode, type TargetEnv, type TargetFn } from '../x-tables.js';
import { parsePortRange, portStr, type Cursor, type Token } from '../xtables.js';
import type { TargetExt } from './api.js';

/** The record of -j DNAT. */
export interface DnatTarget {
  kind: 'DNAT';
  to: NatRange | null;
  random: boolean;
  persistent: boolean;
}

/** The record of -j SNAT. */
export interface SnatTarget {
  kind: 'SNAT';
  to: NatRange | null;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

/** Throws when a NAT target runs outside its nat hook. */
export function needManip(env: TargetEnv, want: NatManip, name: string): void {
  if (env.natManip !== want) throw new NfEvalError(`${name} used outside its nat hook (${want === Manip.DST ? 'PREROUTING/OUTPUT' : 'POSTROUTING/INPUT'})`);
}

function parseNatRange(c: Cursor, t: Token, withIp: boolean): NatRange {
  const s = t.text;
  let ipPart = s;
  let portPart: string | null = null;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    ipPart = s.slice(0, colon);
    portPart = s.slice(colon + 1);
  }
  let minIp = 0;
  let maxIp = 0;
  if (ipPart !== '' || withIp) {
    const [a, b] = ipPart.split('-', 2) as [string, string | undefined];
    const lo = parseIpv4(a);
    const hi = b === undefined ? lo : parseIpv4(b);
    if (lo === null || hi === null || hi < lo) throw c.err(t, `invalid address range "${s}"`);
    minIp = lo;
    maxIp = hi;
  }
  return { minIp, maxIp, ports: portPart === null ? null : parsePortRange(c, { ...t, text: portPart }, '-') };
}

function natRangeStr(r: NatRange, withIp: boolean): string {
  let s = '';
  if (withIp || r.minIp !== 0 || r.maxIp !== 0) s = r.minIp === r.maxIp ? formatIpv4(r.minIp) : `${formatIpv4(r.minIp)}-${formatIpv4(r.maxIp)}`;
  if (r.ports) s += `:${portStr(r.ports, '-')}`;
  return s;
}

/**
 * A DNAT / SNAT rule's binding as numbers: Conntrack.setupNatRange's arguments but the entry. With an address in --to
 * (`withIp`) the addresses never change; without one they are the packet's own, taken per call. `pMin` / `pMax` -1: no
 * port range. compileNat's closure and the generated walks' written-out DNAT / SNAT (walk-gen.ts natSrc) both bind by it.
 */
export interface NatParams {
  readonly manip: NatManip;
  readonly kind: 'DNAT' | 'SNAT';
  readonly withIp: boolean;
  readonly minIp: number;
  readonly maxIp: number;
  readonly pMin: number;
  readonly pMax: number;
  readonly flags: number;
}

/** The NatParams of a DNAT / SNAT target record. */
export function natParams(t: DnatTarget | SnatTarget): NatParams {
  const { to } = t;
  const withIp = to !== null && (to.minIp !== 0 || to.maxIp !== 0);
  return {
    manip: t.kind === 'DNAT' ? Manip.DST : Manip.SRC,
    kind: t.kind,
    withIp,
    minIp: withIp ? to.minIp : 0,
    maxIp: withIp ? to.maxIp : 0,
    pMin: to !== null && to.ports !== null ? to.ports.min : -1,
    pMax: to !== null && to.ports !== null ? to.ports.max : -1,
    flags: natFlags(t.random, t.kind === 'SNAT' ? t.randomFully : false, t.persistent),
  };
}

/**
 * xt_dnat_target / xt_snat_target with an address in --to: binds `pkt`'s entry to the range (nf_nat_setup_info), ACCEPT
 * (also for an untracked packet), or DROP when no unique tuple is left. One function for every rule (its arguments
 * the rule's NatParams): the generated walks call it with the rule's numbers among their own constants (walk-gen.ts),
 * where a rule's closure and its context were two more cold lines at each new connection's KUBE-SEP DNAT (issue 13).
 */
export function natBind(env: TargetEnv, pkt: Packet, manip: NatManip, minIp: number, maxIp: number, pMin: number, pMax: number, flags: number): TgCode {
  if (env.natManip !== manip) needManip(env, manip, manip === Manip.DST ? 'DNAT' : 'SNAT');
  const ct = env.conntrack.ctOf(pkt);
  if (!ct) return TgCode.ACCEPT;
  // (at the hook's time, which netfilter's hook wrote to CT_CLOCK: a time handed in is a heap number a call)
  if (!env.conntrack.setupNatRange(ct, manip, minIp, maxIp, pMin, pMax, flags)) {
    env.dropReason = 'nat-no-unique-tuple';
    return TgCode.DROP;
  }
  return TgCode.ACCEPT;
}

/** xt_dnat_target / xt_snat_target: bind the connection's first packet (nf_nat_setup_info). */
function compileNat(t: DnatTarget | SnatTarget): TargetFn {
  // The range as numbers of the closure's own (Conntrack.setupNatRange), read with the closure's context that the call
  // reads anyway: a per-rule range object (and its ports object) were two more cold objects at each new connection's
  // DNAT in a big cluster (KUBE-SEP-*'s, once a request; issue 13). The name for needManip's message is a string of the
  // closure's own: `t.kind`, an argument evaluated on every call, read the target record (cold).
  const { manip, kind, withIp, minIp, maxIp, pMin, pMax, flags } = natParams(t);
  if (withIp) return (c, env) => natBind(env, c.pkt, manip, minIp, maxIp, pMin, pMax, flags);
  return (c, env) => {
    needManip(env, manip, kind);
    const ct = env.conntrack.ctOf(c.pkt);
    if (!ct) return TgCode.ACCEPT;
    const lo = withIp ? minIp : manip === Manip.DST ? c.ip.dst : c.ip.src;
    // (at the hook's time, which netfilter's hook wrote to CT_CLOCK: a time handed in is a heap number a call)
    if (!env.conntrack.setupNatRange(ct, manip, lo, withIp ? maxIp : lo, pMin, pMax, flags)) {
      env.dropReason = 'nat-no-unique-tuple';
      return TgCode.DROP;
    }
    return TgCode.ACCEPT;
  };
}

/** -j DNAT (nat table). */
export const DNAT: TargetExt<DnatTarget> = {
  name: 'DNAT',
  table: 'nat',
  init: () => ({ kind: 'DNAT', to: null, random: false, persistent: false }),
  parse(tg, opt, c) {
    const o = opt.text;
    if (o === '--to-destination' || o === '--to') return (tg.to = parseNatRange(c, c.arg(opt), false)), true;
    if (o === '--random') return (tg.random = true), true;
    if (o === '--persistent') return (tg.persistent = true), true;
    return false;
  },
  render: (t) => ` -j DNAT${t.to ? ` --to-destination ${natRangeStr(t.to, false)}` : ''}${t.random ? ' --random' : ''}${t.persistent ? ' --persistent' : ''}`,
  compile: compileNat,
};

/** -j SNAT (nat table). */
export const SNAT: TargetExt<SnatTarget> = {
  name: 'SNAT',
  table: 'nat',
  init: () => ({ kind: 'SNAT', to: null, random: false, randomFully: false, persistent: false }),
  parse(tg, opt, c) {
    const o = opt.text;
    if (o === '--to-source' || o === '--to') return (tg.to = parseNatRange(c, c.arg(opt), true)), true;
    if (o === '--random') return (tg.random = true), true;
    if (o === '--random-fully') return (tg.randomFully = true), true;
    if (o === '--persistent') return (tg.persistent = true), true;
    return false;
  },
  render: (t) =>
    ` -j SNAT${t.to ? ` --to-source ${natRangeStr(t.to, true)}` : ''}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}${t.persistent ? ' --persistent' : ''}`,
  compile: compileNat,
};
