// netfilter/ext/conntrack — `-m conntrack` (ctstate incl. SNAT/DNAT, ctproto, ctorig/repl src/dst and
// ports, ctstatus, ctdir). Layer: netfilter (imports this folder). Mirrors
// iptables/extensions/libxt_conntrack.c (revision 3 save order) and net/netfilter/xt_conntrack.c
// (conntrack_mt: a test on a field of an untracked packet fails unless negated).
import {
  CT_STATE_NAMES, CT_STATUS_NAMES, cidrContains, formatCidr,
  type Cidr, type CtStateName, type CtStatusName, type Neg, type PortRange,
} from '../rules.js';
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import { CtStatus } from '../conntrack.js';
import { CT_BIT, ctStateBits, inRange, type EvalCtx, type MatchFn } from '../x-tables.js';
import { optNeg, parseCidr, parseNameList, parsePortRange, parseProto, portStr } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m conntrack. */
export interface ConntrackMatch {
  kind: 'conntrack';
  ctstate: Neg<CtStateName[]> | null;
  ctproto: Neg<number> | null;
  ctorigsrc: Neg<Cidr> | null;
  ctorigdst: Neg<Cidr> | null;
  ctreplsrc: Neg<Cidr> | null;
  ctrepldst: Neg<Cidr> | null;
  ctorigsrcport: Neg<PortRange> | null;
  ctorigdstport: Neg<PortRange> | null;
  ctreplsrcport: Neg<PortRange> | null;
  ctrepldstport: Neg<PortRange> | null;
  ctstatus: Neg<CtStatusName[]> | null;
  ctdir: 'ORIGINAL' | 'REPLY' | null;
}

const ctAddr = (c: Cidr): string => (c.prefix === 32 ? formatIpv4(c.addr) : formatCidr(c));
const STATUS_BITS: Record<string, number> = { EXPECTED: 1, SEEN_REPLY: CtStatus.SEEN_REPLY, ASSURED: CtStatus.ASSURED, CONFIRMED: CtStatus.CONFIRMED, NONE: 0 };

/** True when the record tests nothing but --ctstate (scan-gen.ts writes that test out). */
export function onlyCtstate(m: ConntrackMatch): boolean {
  return (
    m.ctproto === null && m.ctorigsrc === null && m.ctorigdst === null && m.ctreplsrc === null && m.ctrepldst === null &&
    m.ctorigsrcport === null && m.ctorigdstport === null && m.ctreplsrcport === null && m.ctrepldstport === null && m.ctstatus === null && m.ctdir === null
  );
}

/** -m conntrack. */
export const conntrack: MatchExt<ConntrackMatch> = {
  name: 'conntrack',
  init: () => ({
    kind: 'conntrack', ctstate: null, ctproto: null, ctorigsrc: null, ctorigdst: null, ctreplsrc: null, ctrepldst: null,
    ctorigsrcport: null, ctorigdstport: null, ctreplsrcport: null, ctrepldstport: null, ctstatus: null, ctdir: null,
  }),
  parse(m, opt, neg, c) {
    const o = opt.text;
    switch (o) {
      case '--ctstate':
        m.ctstate = { neg, value: parseNameList<CtStateName>(c, c.arg(opt), CT_STATE_NAMES, 'conntrack state') };
        return true;
      case '--ctproto':
        m.ctproto = { neg, value: parseProto(c, c.arg(opt)) ?? 0 };
        return true;
      case '--ctorigsrc':
      case '--ctorigdst':
      case '--ctreplsrc':
      case '--ctrepldst':
        m[o.slice(2) as 'ctorigsrc'] = { neg, value: parseCidr(c, c.arg(opt)) };
        return true;
      case '--ctorigsrcport':
      case '--ctorigdstport':
      case '--ctreplsrcport':
      case '--ctrepldstport':
        m[o.slice(2) as 'ctorigsrcport'] = { neg, value: parsePortRange(c, c.arg(opt)) };
        return true;
      case '--ctstatus':
        m.ctstatus = { neg, value: parseNameList<CtStatusName>(c, c.arg(opt), CT_STATUS_NAMES, 'conntrack status') };
        return true;
      case '--ctdir': {
        const t = c.arg(opt);
        if (t.text !== 'ORIGINAL' && t.text !== 'REPLY') throw c.err(t, `invalid --ctdir "${t.text}"`);
        m.ctdir = t.text;
        return true;
      }
      default:
        return false;
    }
  },
  render: (m) =>
    ' -m conntrack' +
    optNeg(m.ctstate, '--ctstate', (v) => v.join(',')) +
    optNeg(m.ctproto, '--ctproto', (v) => `${v}`) +
    optNeg(m.ctorigsrc, '--ctorigsrc', ctAddr) +
    optNeg(m.ctorigdst, '--ctorigdst', ctAddr) +
    optNeg(m.ctreplsrc, '--ctreplsrc', ctAddr) +
    optNeg(m.ctrepldst, '--ctrepldst', ctAddr) +
    optNeg(m.ctorigsrcport, '--ctorigsrcport', (p) => portStr(p)) +
    optNeg(m.ctorigdstport, '--ctorigdstport', (p) => portStr(p)) +
    optNeg(m.ctreplsrcport, '--ctreplsrcport', (p) => portStr(p)) +
    optNeg(m.ctrepldstport, '--ctrepldstport', (p) => portStr(p)) +
    optNeg(m.ctstatus, '--ctstatus', (v) => v.join(',')) +
    (m.ctdir ? ` --ctdir ${m.ctdir}` : ''),
  compile(m, env) {
    // env is late-bound (compiled rules are shared between namespaces): read env.conntrack per packet.
    const checks: MatchFn[] = [];
    if (m.ctstate) {
      let want = 0;
      for (const s of m.ctstate.value) want |= CT_BIT[s];
      const neg = m.ctstate.neg;
      const stateCheck: MatchFn = neg ? (c) => (ctStateBits(c, env.conntrack) & want) === 0 : (c) => (ctStateBits(c, env.conntrack) & want) !== 0;
      // `--ctstate` alone (kube-proxy's and flannel's every use): the test itself, no loop over checks.
      if (onlyCtstate(m)) return stateCheck;
      checks.push(stateCheck);
    }
    const tupleCheck = (n: Neg<unknown> | null, f: (c: EvalCtx) => boolean | null): void => {
      if (!n) return;
      const neg = n.neg;
      checks.push((c) => {
        const r = f(c);
        return r === null ? neg : r !== neg;
      });
    };
    const ctOf = (c: EvalCtx) => env.conntrack.ctOf(c.pkt);
    tupleCheck(m.ctproto, (c) => (ctOf(c) ? ctOf(c)!.proto === m.ctproto!.value : null));
    tupleCheck(m.ctorigsrc, (c) => (ctOf(c) ? cidrContains(m.ctorigsrc!.value, ctOf(c)!.oSrc >>> 0) : null));
    tupleCheck(m.ctorigdst, (c) => (ctOf(c) ? cidrContains(m.ctorigdst!.value, ctOf(c)!.oDst >>> 0) : null));
    tupleCheck(m.ctreplsrc, (c) => (ctOf(c) ? cidrContains(m.ctreplsrc!.value, ctOf(c)!.rSrc >>> 0) : null));
    tupleCheck(m.ctrepldst, (c) => (ctOf(c) ? cidrContains(m.ctrepldst!.value, ctOf(c)!.rDst >>> 0) : null));
    tupleCheck(m.ctorigsrcport, (c) => (ctOf(c) ? inRange(m.ctorigsrcport!.value, ctOf(c)!.oSport) : null));
    tupleCheck(m.ctorigdstport, (c) => (ctOf(c) ? inRange(m.ctorigdstport!.value, ctOf(c)!.oDport) : null));
    tupleCheck(m.ctreplsrcport, (c) => (ctOf(c) ? inRange(m.ctreplsrcport!.value, ctOf(c)!.rSport) : null));
    tupleCheck(m.ctrepldstport, (c) => (ctOf(c) ? inRange(m.ctrepldstport!.value, ctOf(c)!.rDport) : null));
    if (m.ctstatus) {
      const list = m.ctstatus.value;
      tupleCheck(m.ctstatus, (c) => {
        const ct = ctOf(c);
        if (!ct) return null;
        return list.some((s) => (s === 'NONE' ? (ct.status & 0xf) === 0 : (ct.status & STATUS_BITS[s]!) !== 0));
      });
    }
    if (m.ctdir) {
      const want = m.ctdir === 'ORIGINAL' ? 0 : 1;
      checks.push((c) => ctOf(c) !== null && c.pkt.ctDir === want);
    }
    return (c) => {
      for (let i = 0; i < checks.length; i++) if (!checks[i]!(c)) return false;
      return true;
    };
  },
};
