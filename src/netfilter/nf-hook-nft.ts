// netfilter/nf-hook-nft — a hook of a namespace that has nft tables: their base chains run among the iptables
// tables by priority (netfilter.ts's hook entry points call it; without nft tables they run the tables alone).
// Layer: netfilter.
import type { Packet } from '../packet/packet.js';
import type { Ipv4Header } from '../wire/types.js';
import { NatManip, type Conntrack } from './conntrack.js';
import { NfHook, type NfVerdict } from './nf-types.js';
import { ACCEPT, ACCEPT_REROUTE, drop } from './nf-verdict.js';
import type { NftHookName } from './nft/ruleset.js';

/** Hook priorities of the iptables tables (NF_IP_PRI_*), where nft base chains slot in between. */
const PRI = { MIN: -Infinity, CONNTRACK: -200, MANGLE: -150, NAT_DST: -100, FILTER: 0, NAT_SRC: 100, MAX: Infinity } as const;
/** The (table, built-in chain) pairs the hooks run, by slot: each namespace keeps their compiled chains in an array (no Map lookups per packet). */
export const SLOT = { RAW_PRE: 0, RAW_OUT: 1, MANGLE_PRE: 2, MANGLE_IN: 3, MANGLE_FWD: 4, MANGLE_OUT: 5, MANGLE_POST: 6, FILTER_IN: 7, FILTER_FWD: 8, FILTER_OUT: 9, NAT_PRE: 10, NAT_IN: 11, NAT_OUT: 12, NAT_POST: 13 } as const;
/** The table and built-in chain of each SLOT, by its name (`MANGLE_PRE`: mangle PREROUTING). */
export const SLOT_TABLE = Object.keys(SLOT).map((k) => k.slice(0, k.indexOf('_')).toLowerCase() as 'raw' | 'mangle' | 'filter' | 'nat');
export const SLOT_CHAIN = Object.keys(SLOT).map((k) => ({ PRE: 'PREROUTING', IN: 'INPUT', FWD: 'FORWARD', OUT: 'OUTPUT', POST: 'POSTROUTING' })[k.slice(k.indexOf('_') + 1)]!);
if (Object.values(SLOT).some((s, i) => s !== i)) throw new Error('nf-hook-nft: SLOT is numbered in its order');

/** What runHookNft uses of a namespace's netfilter (Netfilter's own steps). */
export interface NftHooks {
  readonly conntrack: Conntrack;
  table(slot: number): NfVerdict | null;
  nftAt(hook: NftHookName, lo: number, hi: number): NfVerdict | null;
  nat(manip: NatManip, slot: number): NfVerdict | null;
  confirm(pkt: Packet): NfVerdict;
}

/** A hook with nft tables: their base chains slot in among the iptables tables by priority (the entry point wrote the hook's time to CT_CLOCK). */
export function runHookNft(nf: NftHooks, hook: NfHook, pkt: Packet, ip: Ipv4Header): NfVerdict {
  switch (hook) {
    case NfHook.PREROUTING: {
      let v = nf.table(SLOT.RAW_PRE) ?? nf.nftAt('prerouting', PRI.MIN, PRI.CONNTRACK);
      if (v) return v;
      const r = nf.conntrack.inAt(pkt);
      if (!r.ok) return drop(r.reason, null, null, -1);
      v = nf.nftAt('prerouting', PRI.CONNTRACK, PRI.MANGLE) ?? nf.table(SLOT.MANGLE_PRE) ?? nf.nftAt('prerouting', PRI.MANGLE, PRI.NAT_DST) ?? nf.nat(NatManip.DST, SLOT.NAT_PRE) ?? nf.nftAt('prerouting', PRI.NAT_DST, PRI.MAX);
      return v ?? ACCEPT;
    }
    case NfHook.INPUT: {
      const v = nf.nftAt('input', PRI.MIN, PRI.MANGLE) ?? nf.table(SLOT.MANGLE_IN) ?? nf.nftAt('input', PRI.MANGLE, PRI.FILTER) ?? nf.table(SLOT.FILTER_IN) ?? nf.nftAt('input', PRI.FILTER, PRI.NAT_SRC) ?? nf.nat(NatManip.SRC, SLOT.NAT_IN);
      return v ?? nf.confirm(pkt);
    }
    case NfHook.FORWARD:
      return nf.nftAt('forward', PRI.MIN, PRI.MANGLE) ?? nf.table(SLOT.MANGLE_FWD) ?? nf.nftAt('forward', PRI.MANGLE, PRI.FILTER) ?? nf.table(SLOT.FILTER_FWD) ?? nf.nftAt('forward', PRI.FILTER, PRI.MAX) ?? ACCEPT;
    case NfHook.OUTPUT: {
      const dst0 = ip.dst;
      const mark0 = pkt.mark;
      let v = nf.table(SLOT.RAW_OUT) ?? nf.nftAt('output', PRI.MIN, PRI.CONNTRACK);
      if (v) return v;
      const r = nf.conntrack.inAt(pkt);
      if (!r.ok) return drop(r.reason, null, null, -1);
      v =
        nf.nftAt('output', PRI.CONNTRACK, PRI.MANGLE) ??
        nf.table(SLOT.MANGLE_OUT) ??
        nf.nftAt('output', PRI.MANGLE, PRI.NAT_DST) ??
        nf.nat(NatManip.DST, SLOT.NAT_OUT) ??
        nf.nftAt('output', PRI.NAT_DST, PRI.FILTER) ??
        nf.table(SLOT.FILTER_OUT) ??
        nf.nftAt('output', PRI.FILTER, PRI.MAX);
      if (v) return v;
      return ip.dst !== dst0 || pkt.mark !== mark0 ? ACCEPT_REROUTE : ACCEPT;
    }
    case NfHook.POSTROUTING: {
      const v = nf.nftAt('postrouting', PRI.MIN, PRI.MANGLE) ?? nf.table(SLOT.MANGLE_POST) ?? nf.nftAt('postrouting', PRI.MANGLE, PRI.NAT_SRC) ?? nf.nat(NatManip.SRC, SLOT.NAT_POST) ?? nf.nftAt('postrouting', PRI.NAT_SRC, PRI.MAX);
      return v ?? nf.confirm(pkt);
    }
    default: {
      const never: never = hook;
      throw new Error(`hook ${String(never)}`);
    }
  }
}
