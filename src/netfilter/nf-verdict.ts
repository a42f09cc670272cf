// netfilter/nf-verdict — the verdicts a hook returns and the small tests of netfilter's NAT step (netfilter.ts's
// hooks), kept apart so that file keeps room for its per-hook entry points. Layer: netfilter.
import type { CRule } from './compiled.js';
import { NatManip } from './conntrack.js';
import { CtStatus } from './ct-entry.js';
import type { NfDropReason, NfVerdict } from './nf-types.js';
import type { TableName } from './rules.js';
import type { NftOutcome } from './nft/eval.js';

/** A hook's verdict when the packet goes on (one frozen object: no allocation per packet). */
export const ACCEPT: NfVerdict = Object.freeze({ kind: 'accept', reroute: false });
/** OUTPUT's verdict when its tables changed the packet's destination or mark (ip_route_me_harder). */
export const ACCEPT_REROUTE: NfVerdict = Object.freeze({ kind: 'accept', reroute: true });

// natIdle and mapsNothing as shifts of numbers (NatManip SRC 0 / DST 1, ctDir 0 / 1; CtStatus SRC_NAT 16, DST_NAT
// 32, SRC_NAT_DONE 0x80, DST_NAT_DONE 0x100, checked below): V8 always inlines a function of at most 27 bytes of
// bytecode, and a module constant is a load and a hole check at each use (both were calls: ~32 a request in the
// scale workload).
if (NatManip.SRC !== 0 || NatManip.DST !== 1 || CtStatus.SRC_NAT !== 16 || CtStatus.DST_NAT !== 32 || CtStatus.SRC_NAT_DONE !== 0x80 || CtStatus.DST_NAT_DONE !== 0x100) throw new Error('netfilter: NAT status bits changed');

/** natOf has nothing to do: the manip is bound (status `st`) and maps nothing for a packet of direction `dir` (most packets; no call). */
export function natIdle(st: number, manip: NatManip, dir: number): boolean {
  return (st & (0x80 << manip)) !== 0 && (st & (16 << (manip ^ dir))) === 0;
}

/**
 * natPacket's test: an entry of status `st` has no mapping for `manip` on a packet of direction `dir`: SRC_NAT
 * for SRC in the ORIGINAL direction and DST in the REPLY one, else DST_NAT.
 */
export function mapsNothing(st: number, manip: NatManip, dir: number): boolean {
  return (st & (16 << (manip ^ dir))) === 0;
}

/** The verdict of a rule whose target rejected (REJECT --reject-with, icmp-port-unreachable by default). */
export function reject(cr: CRule, table: TableName): NfVerdict {
  const t = cr.rule.target;
  return { kind: 'reject', with: t && t.kind === 'REJECT' ? t.with : 'icmp-port-unreachable', table, chain: cr.chainName, rule: cr.index };
}

export function drop(reason: NfDropReason, table: TableName | null, chain: string | null, rule: number): NfVerdict {
  return { kind: 'drop', reason, table, chain, rule };
}

/** An nft chain's outcome as a hook's verdict (null: it accepted or did not decide). */
export function nftVerdict(o: NftOutcome): NfVerdict | null {
  if (o === null) return null;
  const chain = `nft:${o.chain}`;
  if (o.kind === 'reject') return { kind: 'reject', with: 'icmp-port-unreachable', table: null, chain, rule: o.rule };
  return { kind: 'drop', reason: o.reason, table: null, chain, rule: o.rule };
}

/** A hook called inside another (hooks never nest: their state is shared, netfilter.ts). */
export function nested(): never {
  throw new Error('netfilter: a hook ran inside another');
}
