// netfilter/matches — compiles a rule's ipt_ip part and its match extensions into closures, once per
// ruleset load. Layer: netfilter (imports core, wire, packet and this folder).
// Mirrors net/ipv4/netfilter/ip_tables.c (ip_packet_match) and the match modules in net/netfilter/:
// xt_tcpudp.c, xt_sctp.c, xt_comment.c, xt_addrtype.c, xt_mark.c, xt_connmark.c, xt_statistic.c,
// xt_conntrack.c, xt_state.c, xt_recent.c, xt_multiport.c, xt_nfacct.c, xt_physdev.c, xt_set.c, xt_limit.c.
//
// Not modelled: -m limit always matches (no token bucket: rate limiting of LOG/ACCEPT rules would
// need timers podwire does not need); -m physdev sees every packet as not bridged (no bridge port
// info on the packet); -m recent --rttl is ignored; addrtype knows LOCAL (from the host), BROADCAST
// (255.255.255.255), MULTICAST (224/4), UNSPEC (0.0.0.0) and UNICAST (the rest), and treats
// --limit-iface-in/out as the whole namespace; fragments are never seen (-f never matches).
import type { Packet } from '../packet/packet.js';
import type { Ipv4Header } from '../wire/types.js';
import { CtStatus, isIcmpError, type Conntrack } from './conntrack.js';
import { cidrContains, type AddrTypeName, type CtStateName, type Match, type Neg, type PortRange, type Rule } from './rules.js';

/** What a compiled match sees: the packet and where it is (reused, one per Netfilter). */
export interface EvalCtx {
  pkt: Packet;
  ip: Ipv4Header;
  /** Input device name, "" when none (OUTPUT / locally generated). */
  inIf: string;
  /** Output device name, "" when not yet known (PREROUTING, INPUT). */
  outIf: string;
  now: number;
}

/** A compiled test. */
export type MatchFn = (c: EvalCtx) => boolean;

/** An error while evaluating a rule (e.g. -m set naming a set that does not exist); the packet is dropped. */
export class NfEvalError extends Error {}

/** One `-m recent` list: address -> hit timestamps (ns), oldest first. */
export type RecentList = Map<number, number[]>;

/** What matches need from their Netfilter. */
export interface MatchEnv {
  isLocalAddress(ip: number): boolean;
  conntrack: Conntrack;
  /** The statistic decision: true with probability p/2^31 (xt_statistic: (random & 0x7fffffff) < p). */
  random(p: number): boolean;
  recent: Map<string, RecentList>;
  ipsetTest?: (name: string, flags: readonly string[], pkt: Packet) => boolean | undefined;
}

/** xt_recent's default ip_list_tot: entries kept per list. */
const RECENT_LIST_MAX = 100;
/** xt_recent's default ip_pkt_list_tot: timestamps kept per entry. */
const RECENT_PKT_MAX = 20;

const CT_BIT: Record<CtStateName, number> = { INVALID: 1, NEW: 2, RELATED: 4, ESTABLISHED: 8, UNTRACKED: 16, SNAT: 32, DNAT: 64 };

function ifaceMatcher(n: Neg<string>, get: (c: EvalCtx) => string): MatchFn {
  const name = n.value;
  const neg = n.neg;
  if (name.endsWith('+')) {
    const prefix = name.slice(0, -1);
    return (c) => get(c).startsWith(prefix) !== neg;
  }
  return (c) => (get(c) === name) !== neg;
}

const inRange = (r: PortRange, p: number): boolean => p >= r.min && p <= r.max;

function srcPort(pkt: Packet): number | undefined {
  return pkt.tcp ? pkt.tcp.srcPort : pkt.udp ? pkt.udp.srcPort : undefined;
}
function dstPort(pkt: Packet): number | undefined {
  return pkt.tcp ? pkt.tcp.dstPort : pkt.udp ? pkt.udp.dstPort : undefined;
}

/** The conntrack state bits of the packet as xt_conntrack computes them. */
export function ctStateBits(c: EvalCtx, ctt: Conntrack): number {
  const pkt = c.pkt;
  if (pkt.ct === ctt.untracked) return CT_BIT.UNTRACKED;
  const ct = ctt.ctOf(pkt);
  if (!ct) return CT_BIT.INVALID;
  let bits = isIcmpError(pkt) ? CT_BIT.RELATED : pkt.ctDir === 0 && !(ct.status & CtStatus.SEEN_REPLY) ? CT_BIT.NEW : CT_BIT.ESTABLISHED;
  if (ct.status & CtStatus.SRC_NAT) bits |= CT_BIT.SNAT;
  if (ct.status & CtStatus.DST_NAT) bits |= CT_BIT.DNAT;
  return bits;
}

function addrTypes(ip: number, env: MatchEnv): AddrTypeName {
  if (ip === 0) return 'UNSPEC';
  if (env.isLocalAddress(ip)) return 'LOCAL';
  if (ip === 0xffffffff) return 'BROADCAST';
  if (ip >>> 28 === 14) return 'MULTICAST';
  return 'UNICAST';
}

/** Compiles one match extension. */
export function compileMatch(m: Match, env: MatchEnv): MatchFn {
  switch (m.kind) {
    case 'tcp':
    case 'udp':
    case 'sctp': {
      const { sport, dport, tcpFlags } = m;
      const kind = m.kind;
      return (c) => {
        const pkt = c.pkt;
        // Packets have no SCTP header record: an SCTP packet carries its ports in a UDP-shaped record
        // with IP protocol 132 (trace-dump builds them so); -p/-m then tell the two apart.
        if (kind === 'tcp' ? !pkt.tcp : !pkt.udp || c.ip.protocol !== (kind === 'udp' ? 17 : 132)) return false;
        if (sport && inRange(sport.value, srcPort(pkt)!) === sport.neg) return false;
        if (dport && inRange(dport.value, dstPort(pkt)!) === dport.neg) return false;
        if (tcpFlags && ((pkt.tcp!.flags & tcpFlags.value.mask) === tcpFlags.value.comp) === tcpFlags.neg) return false;
        return true;
      };
    }
    case 'icmp': {
      const t = m.type;
      return (c) => {
        const icmp = c.pkt.icmp;
        if (!icmp) return false;
        if (!t) return true;
        const hit = t.value.type === 255 || (icmp.type === t.value.type && (t.value.code === null || icmp.code === t.value.code));
        return hit !== t.neg;
      };
    }
    case 'comment':
    case 'nfacct':
      return () => true;
    case 'limit':
      return () => true; // documented: no token bucket
    case 'addrtype': {
      const { srcType, dstType } = m;
      return (c) => {
        if (srcType && srcType.value.includes(addrTypes(c.ip.src, env)) === srcType.neg) return false;
        if (dstType && dstType.value.includes(addrTypes(c.ip.dst, env)) === dstType.neg) return false;
        return true;
      };
    }
    case 'mark': {
      const { value, mask, neg } = m;
      return (c) => ((c.pkt.mark & mask) >>> 0 === value) !== neg;
    }
    case 'connmark': {
      const { value, mask, neg } = m;
      return (c) => {
        const ct = env.conntrack.ctOf(c.pkt);
        return (((ct ? ct.mark : 0) & mask) >>> 0 === value) !== neg;
      };
    }
    case 'statistic': {
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
    }
    case 'conntrack': {
      const ctt = env.conntrack;
      const checks: MatchFn[] = [];
      if (m.ctstate) {
        let want = 0;
        for (const s of m.ctstate.value) want |= CT_BIT[s];
        const neg = m.ctstate.neg;
        checks.push((c) => ((ctStateBits(c, ctt) & want) !== 0) !== neg);
      }
      const tupleCheck = (n: Neg<unknown> | null, f: (c: EvalCtx) => boolean | null): void => {
        if (!n) return;
        const neg = n.neg;
        checks.push((c) => {
          const r = f(c);
          return r === null ? neg : r !== neg;
        });
      };
      const ctOf = (c: EvalCtx) => ctt.ctOf(c.pkt);
      tupleCheck(m.ctproto, (c) => (ctOf(c) ? ctOf(c)!.tuple[0].proto === m.ctproto!.value : null));
      tupleCheck(m.ctorigsrc, (c) => (ctOf(c) ? cidrContains(m.ctorigsrc!.value, ctOf(c)!.tuple[0].src) : null));
      tupleCheck(m.ctorigdst, (c) => (ctOf(c) ? cidrContains(m.ctorigdst!.value, ctOf(c)!.tuple[0].dst) : null));
      tupleCheck(m.ctreplsrc, (c) => (ctOf(c) ? cidrContains(m.ctreplsrc!.value, ctOf(c)!.tuple[1].src) : null));
      tupleCheck(m.ctrepldst, (c) => (ctOf(c) ? cidrContains(m.ctrepldst!.value, ctOf(c)!.tuple[1].dst) : null));
      tupleCheck(m.ctorigsrcport, (c) => (ctOf(c) ? inRange(m.ctorigsrcport!.value, ctOf(c)!.tuple[0].sport) : null));
      tupleCheck(m.ctorigdstport, (c) => (ctOf(c) ? inRange(m.ctorigdstport!.value, ctOf(c)!.tuple[0].dport) : null));
      tupleCheck(m.ctreplsrcport, (c) => (ctOf(c) ? inRange(m.ctreplsrcport!.value, ctOf(c)!.tuple[1].sport) : null));
      tupleCheck(m.ctrepldstport, (c) => (ctOf(c) ? inRange(m.ctrepldstport!.value, ctOf(c)!.tuple[1].dport) : null));
      if (m.ctstatus) {
        const bitsOf: Record<string, number> = { EXPECTED: 1, SEEN_REPLY: CtStatus.SEEN_REPLY, ASSURED: CtStatus.ASSURED, CONFIRMED: CtStatus.CONFIRMED, NONE: 0 };
        const list = m.ctstatus.value;
        tupleCheck(m.ctstatus, (c) => {
          const ct = ctOf(c);
          if (!ct) return null;
          return list.some((s) => (s === 'NONE' ? (ct.status & 0xf) === 0 : (ct.status & bitsOf[s]!) !== 0));
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
    }
    case 'state': {
      let want = 0;
      for (const s of m.states) want |= CT_BIT[s];
      const neg = m.neg;
      return (c) => ((ctStateBits(c, env.conntrack) & want & 31) !== 0) !== neg;
    }
    case 'recent': {
      const { command, seconds, reap, hitcount, name, mask, side, neg } = m;
      const window = seconds === null ? null : seconds * 1e9;
      return (c) => {
        const addr = ((side === 'rsource' ? c.ip.src : c.ip.dst) & mask) >>> 0;
        let list = env.recent.get(name);
        if (!list) {
          list = new Map();
          env.recent.set(name, list);
        }
        const stamp = (): void => {
          let ts = list!.get(addr);
          if (!ts) {
            if (list!.size >= RECENT_LIST_MAX) list!.delete(list!.keys().next().value as number);
            ts = [];
            list!.set(addr, ts);
          }
          ts.push(c.now);
          if (ts.length > RECENT_PKT_MAX) ts.shift();
        };
        let hit: boolean;
        switch (command) {
          case 'set':
            stamp();
            hit = true;
            break;
          case 'remove':
            hit = list.delete(addr);
            break;
          case 'rcheck':
          case 'update': {
            const ts = list.get(addr);
            if (!ts) {
              hit = false;
              break;
            }
            if (reap && window !== null) {
              while (ts.length && ts[0]! < c.now - window) ts.shift();
              if (!ts.length) {
                list.delete(addr);
                hit = false;
                break;
              }
            }
            const inWin = window === null ? ts.length : ts.filter((t) => t >= c.now - window).length;
            hit = hitcount !== null ? inWin >= hitcount : window === null ? true : inWin > 0;
            if (hit && command === 'update') stamp();
            break;
          }
          default: {
            const never: never = command;
            throw new Error(`recent: ${String(never)}`);
          }
        }
        return hit !== neg;
      };
    }
    case 'multiport': {
      const { option, ports, neg } = m;
      return (c) => {
        const s = srcPort(c.pkt);
        const d = dstPort(c.pkt);
        if (s === undefined || d === undefined) return false;
        const hit = ports.some((r) => (option === 'sports' ? inRange(r, s) : option === 'dports' ? inRange(r, d) : inRange(r, s) || inRange(r, d)));
        return hit !== neg;
      };
    }
    case 'physdev': {
      // Packets carry no bridge-port information: every test sees "not bridged".
      const conds = [m.physdevIn, m.physdevOut, m.isIn, m.isOut, m.isBridged].filter((x): x is Neg<string> | Neg<true> => x !== null);
      const result = conds.every((n) => n.neg);
      return () => result;
    }
    case 'set': {
      const { name, flags, neg } = m;
      return (c) => {
        const r = env.ipsetTest?.(name, flags, c.pkt);
        if (r === undefined) throw new NfEvalError(`-m set: unknown set "${name}"`);
        return r !== neg;
      };
    }
    default: {
      const never: never = m;
      throw new Error(`compileMatch: ${(never as Match).kind}`);
    }
  }
}

/** Compiles the ipt_ip part of a rule and its matches into one array of tests (all must pass). */
export function compileRuleTests(r: Rule, env: MatchEnv): MatchFn[] {
  const tests: MatchFn[] = [];
  if (r.src) {
    const { value, neg } = r.src;
    tests.push((c) => cidrContains(value, c.ip.src) !== neg);
  }
  if (r.dst) {
    const { value, neg } = r.dst;
    tests.push((c) => cidrContains(value, c.ip.dst) !== neg);
  }
  if (r.inIface) tests.push(ifaceMatcher(r.inIface, (c) => c.inIf));
  if (r.outIface) tests.push(ifaceMatcher(r.outIface, (c) => c.outIf));
  if (r.proto) {
    const { value, neg } = r.proto;
    tests.push(value === 0 ? () => !neg : (c) => (c.ip.protocol === value) !== neg);
  }
  if (r.fragment) {
    const neg = r.fragment.neg;
    tests.push((c) => (c.ip.fragOffset !== 0) !== neg);
  }
  for (const m of r.matches) if (m.kind !== 'comment' && m.kind !== 'nfacct' && m.kind !== 'limit') tests.push(compileMatch(m, env));
  return tests;
}
