// netfilter/noflush-counters — which counters survive `iptables-restore --noflush` (Netfilter.loadNoflush).
// Layer: netfilter. The kernel side: iptables-legacy's libiptc maps every rule of a chain the input does
// not name to its old counter (TC_COMMIT's counter map, COUNTER_MAP_NORMAL_MAP), flushing a chain zeroes
// its rules (COUNTER_MAP_ZEROED) and a built-in chain's policy line sets its policy counters
// (set_policy: COUNTER_MAP_SET); iptables-nft leaves the rules of the chains it does not touch in place.
// Here counters are kept per namespace by compiled rule / chain id (netfilter.ts): after a load, the
// counted ids are rekeyed to the chains loaded now.
import { chainAt, type CChain, type CompiledTable, type CRule } from './compiled.js';
import { renderRule } from './iptables-save.js';
import type { Counters, Rule, Ruleset, Table, TableName } from './rules.js';

/** One loaded table, as carryCounts reads it. */
export interface CountedTable {
  readonly name: TableName;
  readonly chains: CompiledTable;
}

/**
 * loadNoflush: `saved` (counts by the ids of the chains loaded before) rekeyed for the chains loaded
 * now. Only the counted ids are looked at (a few per namespace, where its tables hold tens of thousands
 * of chains): each is found in its old chain, whose namesake in the new table (both tables canonical:
 * built-in chains first, then user chains by name) takes it when it has the same rules — under the same
 * id when it is the same compiled chain, else under its own — and was not written; a written built-in
 * chain keeps the counts of its kept rules, not its policy counter's. Anything else loses its counts.
 */
export function carryCounts(saved: Map<number, Counters>, before: readonly CountedTable[], after: readonly CountedTable[], input: Ruleset | null): Map<number, Counters> {
  const out = new Map<number, Counters>();
  const verdicts = new Map<CChain, CChain | null>();
  const located = before.map((o) => ({ o, patch: o.chains.patch === null ? null : idsOfChains(o.chains.patch) }));
  for (const [id, k] of saved) {
    // The old chain (index in its table) and the rule (-1: the chain's policy counter) the id counts for.
    let o: CountedTable | null = null;
    let at = -1;
    for (const l of located) {
      const v = l.patch?.get(id) ?? baseIds(l.o.chains.base).get(id);
      if (v === undefined) continue;
      const i = Math.floor(v / RULE_SLOTS);
      // An id of a base chain the table patched over is not one of its live chains.
      if (l.patch !== null && l.patch.get(id) === undefined && l.o.chains.patch!.has(i)) continue;
      o = l.o;
      at = v;
      break;
    }
    if (o === null) continue;
    const a = chainAt(o.chains, Math.floor(at / RULE_SLOTS));
    const r = (at % RULE_SLOTS) - 1;
    const t = after.find((x) => x.name === o.name);
    const b = t === undefined ? null : chainNamed(t.chains, a.name);
    if (b === null) continue;
    const writtenIn = input?.tables.find((x) => x.name === o.name);
    const rewritten = writtenIn !== undefined && chainNamesOf(writtenIn).has(a.name);
    if (rewritten && (!a.builtin || r < 0)) continue; // flushed and refilled; a built-in chain's policy counter is the line's
    let to: CRule | CChain | null = null;
    if (rewritten) {
      // A written built-in chain: its old rules first (kept), the input's appended after.
      let same = 0;
      while (same <= r && same < b.rules.length && sameRule(b.name, a.rules[same]!.rule, b.rules[same]!.rule)) same++;
      if (same > r) to = b.rules[r]!;
    } else {
      let v = verdicts.get(a);
      if (v === undefined) verdicts.set(a, (v = a === b || sameRules(a, b) ? b : null));
      if (v !== null) to = r < 0 ? v : v.rules[r]!;
    }
    if (to === null) continue;
    const fromBase = r < 0 ? a.model.counters : a.rules[r]!.rule.counters;
    const toBase = r < 0 ? (to as CChain).model.counters : (to as CRule).rule.counters;
    const packets = fromBase.packets + k.packets - toBase.packets;
    const bytes = fromBase.bytes + k.bytes - toBase.bytes;
    if (packets !== 0 || bytes !== 0) out.set(to.id, { packets, bytes });
  }
  return out;
}

export const ZERO_COUNTS: Counters = Object.freeze({ packets: 0, bytes: 0 });

/** Per compiled-chain array: the ids of its rules and chains loaded with counters other than zero. */
const baseCountedCache = new WeakMap<readonly CChain[], Array<{ id: number; at: number }>>();

/** The ids of a compiled table's live rules and chains loaded with counters other than zero (none, in kube-proxy's tables). */
export function loadedWithCounts(ct: CompiledTable): number[] {
  let list = baseCountedCache.get(ct.base);
  if (list === undefined) {
    list = [];
    for (let i = 0; i < ct.base.length; i++) pushCounted(list, ct.base[i]!, i);
    baseCountedCache.set(ct.base, list);
  }
  const out: number[] = [];
  for (const e of list) if (ct.patch === null || !ct.patch.has(e.at)) out.push(e.id);
  if (ct.patch !== null) {
    const more: Array<{ id: number; at: number }> = [];
    for (const [i, cc] of ct.patch) pushCounted(more, cc, i);
    for (const e of more) out.push(e.id);
  }
  return out;
}

function pushCounted(list: Array<{ id: number; at: number }>, cc: CChain, at: number): void {
  const c = cc.model.counters;
  if (c.packets !== 0 || c.bytes !== 0) list.push({ id: cc.id, at });
  for (const r of cc.rules) if (r.rule.counters.packets !== 0 || r.rule.counters.bytes !== 0) list.push({ id: r.id, at });
}

/** A chain's rules and ids are encoded as chainIndex · RULE_SLOTS + ruleIndex + 1 (0: the chain's own id). */
const RULE_SLOTS = 2 ** 21;

/** Per compiled-chain array (shared by every namespace whose table uses it as its base): id → position. */
const baseIdsCache = new WeakMap<readonly CChain[], Map<number, number>>();
function baseIds(base: readonly CChain[]): Map<number, number> {
  let m = baseIdsCache.get(base);
  if (m === undefined) {
    m = new Map();
    for (let i = 0; i < base.length; i++) addIds(m, base[i]!, i);
    baseIdsCache.set(base, m);
  }
  return m;
}

function idsOfChains(patch: ReadonlyMap<number, CChain>): Map<number, number> {
  const m = new Map<number, number>();
  for (const [i, cc] of patch) addIds(m, cc, i);
  return m;
}

function addIds(m: Map<number, number>, cc: CChain, i: number): void {
  m.set(cc.id, i * RULE_SLOTS);
  for (let r = 0; r < cc.rules.length; r++) m.set(cc.rules[r]!.id, i * RULE_SLOTS + r + 1);
}

/** The chain `name` of a canonical compiled table (built-in chains first, then user chains by name), or null. */
function chainNamed(ct: CompiledTable, name: string): CChain | null {
  const n = ct.base.length;
  let lo = 0;
  while (lo < n) {
    const c = chainAt(ct, lo);
    if (!c.builtin) break;
    if (c.name === name) return c;
    lo++;
  }
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = chainAt(ct, mid);
    if (c.name === name) return c;
    if (c.name < name) lo = mid + 1;
    else hi = mid;
  }
  return null;
}

/** Two chains with the same rules in the same order. */
function sameRules(a: CChain, b: CChain): boolean {
  if (a.rules.length !== b.rules.length) return false;
  for (let r = 0; r < a.rules.length; r++) if (!sameRule(b.name, a.rules[r]!.rule, b.rules[r]!.rule)) return false;
  return true;
}

/** The same rule: one object, or the same text (a ruleset parsed again). For loadNoflush. */
function sameRule(chain: string, a: Rule, b: Rule): boolean {
  return a === b || renderRule(chain, a) === renderRule(chain, b);
}

/** The chain names a restore input's table declares (computed once per table: kube-proxy's input is shared by nodes). For loadNoflush. */
const namesCache = new WeakMap<Table, Set<string>>();
function chainNamesOf(t: Table): Set<string> {
  let s = namesCache.get(t);
  if (s === undefined) {
    s = new Set(t.chains.map((c) => c.name));
    for (const d of t.deletedChains ?? []) s.add(d);
    namesCache.set(t, s);
  }
  return s;
}
