// netfilter/chain-intern — equal small chains loaded on many nodes compiled once: flanneld appends the
// same FORWARD rule and FLANNEL-FWD chain on every node, each parsed into arrays of its own, and
// compiled chains are shared by array identity (compiled.ts). Interning an equal chain (or its rule
// array) before compiling makes the thousand copies one compiled chain, its generated scans and walks
// shared and hot together; counters stay per namespace. Layer: netfilter.
import type { Chain, Rule, Table, TableName } from './rules.js';

/** The same chain as loaded: one object, or the same rule array, name, policy and loaded counters. */
export function sameChain(a: Chain, b: Chain): boolean {
  return a === b || (a.rules === b.rules && a.name === b.name && a.policy === b.policy && a.counters.packets === b.counters.packets && a.counters.bytes === b.counters.bytes);
}

/**
 * Small chains by table and chain name, the few seen last: a chain whose rules equal one's (the same
 * data, as parsed again: flanneld's FORWARD and FLANNEL-FWD, appended on every node) is compiled as
 * that chain (or, if its policy or loaded counters differ, as its rule array), once, its scans and
 * walks shared and made hot together, instead of as a variant of its own per node. Rules are plain
 * data; a rule whose compiled code has a state of its own (`-m statistic --mode nth`: a counter per
 * rule) is never shared this way.
 */
const interned = new Map<string, Chain[]>();
const INTERN_MAX_RULES = 32;
const INTERN_KEEP = 8;
/** Chain names remembered at most (the oldest forgotten first): endpoint churn keeps bringing new KUBE-SEP-* names. */
const INTERN_MAX_KEYS = 4096;

/** Forgets the interned chains: later loads compile equal small chains afresh (tests comparing JIT settings on the same rules). */
export function forgetInternedChains(): void {
  interned.clear();
}

/** `t` with its small chains interned (the same object when none changed). */
export function internTable(t: Table): Table {
  let chains: Chain[] | null = null;
  for (let i = 0; i < t.chains.length; i++) {
    const c = t.chains[i]!;
    const c2 = internChain(t.name, c, null);
    if (c2 !== c) (chains ??= t.chains.slice())[i] = c2;
  }
  return chains === null ? t : { ...t, chains };
}

/** `c`, or an equal chain seen before (`hint`, the template's chain of that name, first), or a copy of `c` holding an equal rule array seen before. */
export function internChain(table: TableName, c: Chain, hint: Chain | null): Chain {
  const rules = c.rules;
  if (rules.length === 0 || rules.length > INTERN_MAX_RULES) return c;
  const key = `${table} ${c.name}`;
  let list = interned.get(key);
  if (list !== undefined) for (let k = 0; k < list.length; k++) if (list[k] === c) return c;
  if (!rules.every(shareable)) return c;
  if (list === undefined) {
    if (interned.size >= INTERN_MAX_KEYS) interned.delete(interned.keys().next().value!);
    interned.set(key, (list = []));
  }
  const same = (h: Chain): Chain | null => {
    if (h.name !== c.name || h.rules.length !== rules.length || !(h.rules === rules || h.rules.every((r, j) => sameData(r, rules[j])))) return null;
    return sameChain(h, c) || (h.policy === c.policy && sameData(h.counters, c.counters)) ? h : { name: c.name, policy: c.policy, counters: c.counters, rules: h.rules };
  };
  let found = hint === null ? null : same(hint);
  for (let k = list.length - 1; found === null && k >= 0; k--) found = same(list[k]!);
  if (found !== null) return found;
  list.push(c);
  if (list.length > INTERN_KEEP) list.shift();
  return c;
}

/** A rule whose compiled tests and target keep no state of their own (so equal rules may share them). */
function shareable(r: Rule): boolean {
  for (const m of r.matches) if (m.kind === 'statistic' && m.mode === 'nth') return false;
  return true;
}

/** Structural equality of plain data (objects with Object's or a null prototype, arrays, primitives); any other object only by identity. */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  const pa = Object.getPrototypeOf(a) as unknown;
  const pb = Object.getPrototypeOf(b) as unknown;
  if ((pa !== Object.prototype && pa !== null) || pa !== pb) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
