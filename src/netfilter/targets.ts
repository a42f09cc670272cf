// netfilter/targets — compiles rule targets into closures returning an xtables verdict code.
// Layer: netfilter (imports core, wire, packet and this folder). Mirrors net/netfilter/xt_MARK.c,
// xt_CONNMARK.c, xt_nat.c (DNAT/SNAT), xt_MASQUERADE.c + nf_nat_masquerade.c, xt_CT.c / xt_NOTRACK,
// xt_LOG.c (a no-op here: no kernel log), xt_TRACE.c (a no-op: podwire's own trace callback covers it),
// net/ipv4/netfilter/ipt_REJECT.c (the verdict carries what to send; the net layer emits it).
import type { Conntrack, NatManip } from './conntrack.js';
import { NatManip as Manip } from './conntrack.js';
import type { EvalCtx } from './matches.js';
import { NfEvalError } from './matches.js';
import type { Target } from './rules.js';

/** Verdict codes a compiled target returns (XT_CONTINUE, NF_ACCEPT, NF_DROP, ..., XT_RETURN). */
export const TgCode = { CONTINUE: 0, ACCEPT: 1, DROP: 2, REJECT: 3, RETURN: 4, JUMP: 5, GOTO: 6 } as const;
/** One of TgCode. */
export type TgCode = (typeof TgCode)[keyof typeof TgCode];

/** Why a NAT target dropped the packet. */
export type TargetDropReason = 'nat-no-unique-tuple' | 'masquerade-no-address';

/** What targets need from their Netfilter. */
export interface TargetEnv {
  conntrack: Conntrack;
  masqueradeAddress(outIf: string, dst: number): number | null;
  /** The manip of the nat hook being traversed, or null outside the nat table. */
  natManip: NatManip | null;
  /** Set by a target that returns DROP for a reason other than -j DROP. */
  dropReason: TargetDropReason | null;
}

/** A compiled target. */
export type TargetFn = (c: EvalCtx, env: TargetEnv) => TgCode;

function needManip(env: TargetEnv, want: NatManip, name: string): void {
  if (env.natManip !== want) throw new NfEvalError(`${name} used outside its nat hook (${want === Manip.DST ? 'PREROUTING/OUTPUT' : 'POSTROUTING/INPUT'})`);
}

/** Compiles a target; jump/goto/ACCEPT/DROP/RETURN/REJECT are handled by the traversal and only return their code. */
export function compileTarget(t: Target | null): TargetFn {
  if (!t) return () => TgCode.CONTINUE;
  switch (t.kind) {
    case 'ACCEPT':
      return () => TgCode.ACCEPT;
    case 'DROP':
      return () => TgCode.DROP;
    case 'RETURN':
      return () => TgCode.RETURN;
    case 'REJECT':
      return () => TgCode.REJECT;
    case 'jump':
      return () => TgCode.JUMP;
    case 'goto':
      return () => TgCode.GOTO;
    case 'LOG':
    case 'TRACE':
      return () => TgCode.CONTINUE;
    case 'NOTRACK':
    case 'CT':
      return (c, env) => {
        c.pkt.ct = env.conntrack.untracked;
        return TgCode.CONTINUE;
      };
    case 'MARK': {
      const { value, mask } = t;
      return (c) => {
        c.pkt.mark = ((c.pkt.mark & ~mask) ^ value) >>> 0;
        return TgCode.CONTINUE;
      };
    }
    case 'CONNMARK': {
      if (t.mode === 'set') {
        const { value, mask } = t;
        return (c, env) => {
          const ct = env.conntrack.ctOf(c.pkt);
          if (ct) ct.mark = ((ct.mark & ~mask) ^ value) >>> 0;
          return TgCode.CONTINUE;
        };
      }
      const { nfmask, ctmask } = t;
      const save = t.mode === 'save';
      return (c, env) => {
        const ct = env.conntrack.ctOf(c.pkt);
        if (!ct) return TgCode.CONTINUE;
        if (save) ct.mark = ((ct.mark & ~ctmask) ^ (c.pkt.mark & nfmask)) >>> 0;
        else c.pkt.mark = ((c.pkt.mark & ~nfmask) ^ (ct.mark & ctmask)) >>> 0;
        return TgCode.CONTINUE;
      };
    }
    case 'DNAT':
    case 'SNAT': {
      const manip = t.kind === 'DNAT' ? Manip.DST : Manip.SRC;
      const to = t.to;
      const random = t.random;
      const randomFully = t.kind === 'SNAT' ? t.randomFully : false;
      const persistent = t.persistent;
      return (c, env) => {
        needManip(env, manip, t.kind);
        const ct = env.conntrack.ctOf(c.pkt);
        if (!ct) return TgCode.ACCEPT;
        const cur = manip === Manip.DST ? c.ip.dst : c.ip.src;
        const r = {
          minIp: to && (to.minIp || to.maxIp) ? to.minIp : cur,
          maxIp: to && (to.minIp || to.maxIp) ? to.maxIp : cur,
          ports: to ? to.ports : null,
          random,
          randomFully,
          persistent,
        };
        if (!env.conntrack.setupNat(ct, manip, r, c.now)) {
          env.dropReason = 'nat-no-unique-tuple';
          return TgCode.DROP;
        }
        return TgCode.ACCEPT;
      };
    }
    case 'MASQUERADE': {
      const { ports, random, randomFully } = t;
      return (c, env) => {
        needManip(env, Manip.SRC, 'MASQUERADE');
        const ct = env.conntrack.ctOf(c.pkt);
        if (!ct) return TgCode.ACCEPT;
        const addr = env.masqueradeAddress(c.outIf, c.ip.dst);
        if (addr === null) {
          env.dropReason = 'masquerade-no-address';
          return TgCode.DROP;
        }
        if (!env.conntrack.setupNat(ct, Manip.SRC, { minIp: addr, maxIp: addr, ports, random, randomFully, persistent: false }, c.now)) {
          env.dropReason = 'nat-no-unique-tuple';
          return TgCode.DROP;
        }
        return TgCode.ACCEPT;
      };
    }
    default: {
      const never: never = t;
      throw new Error(`compileTarget: ${(never as Target).kind}`);
    }
  }
}
