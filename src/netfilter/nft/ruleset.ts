// netfilter/nft/ruleset — one namespace's nftables state (tables of family ip with their chains,
// named sets and verdict maps) and the commands of an `nft -f` script applied to it as one
// transaction: add/create/flush/delete of tables, chains, sets, maps, rules and elements, the
// commands kube-proxy's nftables mode sends through knftables. Layer: netfilter (imports core, wire,
// this folder).
// Mirrors nftables' command semantics: `add` of an existing object is a no-op (its elements stay),
// `flush` empties a chain or a set, `delete` of a missing object is an error; a failing script leaves
// the state as it was (the kernel's transaction is atomic).
import { formatIpv4, parseIpv4 } from '../../wire/ipv4-addr.js';
import { NftSyntaxError, parseRule, PROTO_NAME, PROTO_NUM, tokenize, Tokens, type NftRule, type Verdict } from './stmt.js';

/** The hooks a base chain can attach to (family ip). */
export type NftHookName = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** A base chain's attachment. */
export interface BaseSpec {
  type: 'filter' | 'nat' | 'route';
  hook: NftHookName;
  priority: number;
  policy: 'accept' | 'drop';
}

export interface NftChain {
  name: string;
  base: BaseSpec | null;
  comment: string | null;
  rules: NftRule[];
}

/** The key types of a set or map. */
export type KeyType = 'ipv4_addr' | 'inet_proto' | 'inet_service';

/** One element: its key text parts, an optional verdict, comment and expiry. */
export interface NftElement {
  key: number[];
  verdict: Verdict | null;
  comment: string | null;
  /** Simulated time (ns) the element expires (dynamic sets with a timeout), or Infinity. */
  expires: number;
}

export interface NftSet {
  name: string;
  map: boolean;
  keyTypes: KeyType[];
  comment: string | null;
  flags: string[];
  /** Default element timeout, seconds (0: none). */
  timeoutS: number;
  elements: Map<string, NftElement>;
}

export interface NftTable {
  name: string;
  comment: string | null;
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

/** Joins a numeric key into the map key. */
export const keyOf = (parts: readonly number[]): string => parts.join('|');

const SIZE_DEFAULT = 65535;

/** The nftables state of one namespace (family ip only). */
export class NftRuleset {
  tables = new Map<string, NftTable>();
  /** Bumped on every applied transaction (the evaluator recompiles then). */
  generation = 0;

  /** `onApply` is called after every applied transaction (Netfilter keeps whether there are tables). */
  constructor(private readonly onApply: (() => void) | null = null) {}

  /** Applies an `nft -f` script as one transaction; throws NftSyntaxError (state unchanged) on error. */
  apply(script: string, file = 'nft', now = 0): void {
    const next = cloneTables(this.tables);
    script.split('\n').forEach((raw, i) => {
      const line = raw.replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) return;
      const t = new Tokens(tokenize(line, `${file}:${i + 1}`), `${file}:${i + 1}`);
      command(next, t, now);
    });
    checkReferences(next);
    this.tables = next;
    this.generation++;
    if (this.onApply !== null) this.onApply();
  }

  table(name: string): NftTable | undefined {
    return this.tables.get(name);
  }
}

function cloneTables(tables: Map<string, NftTable>): Map<string, NftTable> {
  const out = new Map<string, NftTable>();
  for (const [n, t] of tables) {
    const sets = new Map<string, NftSet>();
    for (const [sn, s] of t.sets) sets.set(sn, { ...s, flags: [...s.flags], elements: new Map(s.elements) });
    const chains = new Map<string, NftChain>();
    for (const [cn, c] of t.chains) chains.set(cn, { ...c, rules: [...c.rules] });
    out.set(n, { ...t, sets, chains });
  }
  return out;
}

function command(tables: Map<string, NftTable>, t: Tokens, now: number): void {
  const verb = t.next('a command');
  if (!['add', 'create', 'flush', 'delete', 'insert'].includes(verb)) throw t.err(`unknown command "${verb}"`);
  const obj = t.next('an object');
  const family = t.next('a family');
  if (family !== 'ip') throw t.err(`family "${family}" is not modelled (only ip)`);
  const tname = t.next('a table name');
  if (obj === 'table') return tableCommand(tables, verb, tname, t);
  const table = tables.get(tname);
  if (!table) throw t.err(`table ip ${tname} does not exist`);
  const name = t.next('a name');
  switch (obj) {
    case 'chain':
      return chainCommand(table, verb, name, t);
    case 'set':
    case 'map':
      return setCommand(table, verb, obj === 'map', name, t);
    case 'rule': {
      const c = table.chains.get(name);
      if (!c) throw t.err(`chain ${name} does not exist`);
      if (verb !== 'add' && verb !== 'insert') throw t.err(`${verb} rule is not modelled`);
      const r = parseRule(t);
      checkRuleRefs(table, r, t);
      if (verb === 'add') c.rules.push(r);
      else c.rules.unshift(r);
      return;
    }
    case 'element':
      return elementCommand(table, verb, name, t, now);
    default:
      throw t.err(`unknown object "${obj}"`);
  }
}

function tableCommand(tables: Map<string, NftTable>, verb: string, name: string, t: Tokens): void {
  const exists = tables.get(name);
  if (verb === 'delete') {
    if (!exists) throw t.err(`table ip ${name} does not exist`);
    tables.delete(name);
    return;
  }
  if (verb === 'flush') {
    if (!exists) throw t.err(`table ip ${name} does not exist`);
    for (const c of exists.chains.values()) c.rules = [];
    for (const s of exists.sets.values()) s.elements = new Map();
    return;
  }
  const props = readProps(t);
  if (exists) {
    if (verb === 'create') throw t.err(`table ip ${name} exists`);
    if (props.comment !== undefined) exists.comment = props.comment;
    return;
  }
  tables.set(name, { name, comment: props.comment ?? null, sets: new Map(), chains: new Map() });
}

/** `{ type filter hook prerouting priority -110 ; comment "x" ; flags a,b ; timeout 10s ; }`. */
function readProps(t: Tokens): Record<string, string | undefined> & { comment?: string } {
  const p: Record<string, string> = {};
  if (t.done()) return p;
  t.expect('{');
  while (!t.done()) {
    const w = t.next('a property');
    if (w === '}') break;
    if (w === ';') continue;
    if (w === 'type' || w === 'comment' || w === 'flags' || w === 'timeout' || w === 'policy' || w === 'size') {
      let v = '';
      while (!t.done() && t.peek() !== ';' && t.peek() !== '}') {
        const x = t.next('a value');
        v += v === '' || x === ',' || v.endsWith(',') ? x : ` ${x}`;
      }
      p[w] = w === 'comment' ? v.replace(/^"|"$/g, '') : v;
    } else throw t.err(`unknown property "${w}"`);
  }
  return p;
}

const HOOKS: NftHookName[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
const NAMED_PRIO: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

function parseBase(type: string, t: Tokens, policy: string | undefined): BaseSpec {
  const m = /^(filter|nat|route) hook (\w+) priority (.+)$/.exec(type);
  if (!m || !HOOKS.includes(m[2] as NftHookName)) throw t.err(`bad base chain spec "${type}"`);
  const pr = m[3]!.replace(/\s+/g, '');
  const pm = /^([a-z]+)?([+-]?\d+)?$/.exec(pr);
  if (!pm || (pm[1] !== undefined && NAMED_PRIO[pm[1]] === undefined)) throw t.err(`bad priority "${m[3]}"`);
  const priority = (pm[1] ? NAMED_PRIO[pm[1]]! : 0) + (pm[2] ? Number(pm[2]) : 0);
  return { type: m[1] as BaseSpec['type'], hook: m[2] as NftHookName, priority, policy: policy === 'drop' ? 'drop' : 'accept' };
}

function chainCommand(table: NftTable, verb: string, name: string, t: Tokens): void {
  const exists = table.chains.get(name);
  if (verb === 'flush') {
    if (!exists) throw t.err(`chain ${name} does not exist`);
    exists.rules = [];
    return;
  }
  if (verb === 'delete') {
    if (!exists) throw t.err(`chain ${name} does not exist`);
    if (exists.rules.length > 0) throw t.err(`chain ${name} is not empty (Device or resource busy)`);
    table.chains.delete(name);
    return;
  }
  const p = readProps(t);
  const base = p.type !== undefined ? parseBase(p.type, t, p.policy) : null;
  if (exists) {
    if (verb === 'create') throw t.err(`chain ${name} exists`);
    if (base && exists.base && (base.hook !== exists.base.hook || base.priority !== exists.base.priority)) throw t.err(`chain ${name}: cannot change its hook or priority`);
    if (base && !exists.base) exists.base = base;
    if (p.comment !== undefined) exists.comment = p.comment;
    return;
  }
  table.chains.set(name, { name, base, comment: p.comment ?? null, rules: [] });
}

function setCommand(table: NftTable, verb: string, map: boolean, name: string, t: Tokens): void {
  const exists = table.sets.get(name);
  if (verb === 'flush' || verb === 'delete') {
    if (!exists) throw t.err(`${map ? 'map' : 'set'} ${name} does not exist`);
    if (verb === 'flush') exists.elements = new Map();
    else table.sets.delete(name);
    return;
  }
  const p = readProps(t);
  if (exists) {
    if (verb === 'create') throw t.err(`${map ? 'map' : 'set'} ${name} exists`);
    return;
  }
  const type = p.type ?? '';
  const [keyText, valueText] = type.split(' : ');
  const keyTypes = keyText!.split(' . ').map((k) => k.trim());
  if (!keyTypes.every((k) => k === 'ipv4_addr' || k === 'inet_proto' || k === 'inet_service')) throw t.err(`set type "${type}" is not modelled`);
  if (map && valueText?.trim() !== 'verdict') throw t.err('only verdict maps are modelled');
  const timeoutS = p.timeout ? parseTimeout(p.timeout, t) : 0;
  table.sets.set(name, { name, map, keyTypes: keyTypes as KeyType[], comment: p.comment ?? null, flags: p.flags ? p.flags.split(',') : [], timeoutS, elements: new Map() });
}

function parseTimeout(s: string, t: Tokens): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s);
  if (!m || s === '') throw t.err(`bad timeout "${s}"`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

function keyPart(type: KeyType, s: string, t: Tokens): number {
  if (type === 'ipv4_addr') {
    const a = parseIpv4(s);
    if (a === null) throw t.err(`"${s}" is not an IPv4 address`);
    return a;
  }
  if (type === 'inet_proto') {
    const p = PROTO_NUM[s] ?? Number(s);
    if (!Number.isInteger(p)) throw t.err(`"${s}" is not a protocol`);
    return p;
  }
  const port = Number(s);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw t.err(`"${s}" is not a port`);
  return port;
}

function elementCommand(table: NftTable, verb: string, name: string, t: Tokens, now: number): void {
  const set = table.sets.get(name);
  if (!set) throw t.err(`set ${name} does not exist`);
  t.expect('{');
  while (!t.done()) {
    if (t.peek() === '}') break;
    if (t.peek() === ',') {
      t.i++;
      continue;
    }
    const key: number[] = [];
    set.keyTypes.forEach((kt, i) => {
      if (i > 0) t.expect('.');
      key.push(keyPart(kt, t.next('a key'), t));
    });
    let comment: string | null = null;
    if (t.peek() === 'comment') {
      t.i++;
      comment = t.next('a comment').replace(/^"|"$/g, '');
    }
    let verdict: Verdict | null = null;
    if (set.map) {
      t.expect(':');
      const w = t.next('a verdict');
      verdict = w === 'jump' || w === 'goto' ? { v: w, chain: t.next('a chain') } : ({ v: w } as Verdict);
    }
    if (verdict && (verdict.v === 'jump' || verdict.v === 'goto') && !table.chains.has(verdict.chain)) throw t.err(`Could not process rule: No such file or directory (chain ${verdict.chain})`);
    const k = keyOf(key);
    if (verb === 'delete') {
      if (!set.elements.delete(k)) throw t.err(`element does not exist in ${name}`);
    } else if (!set.elements.has(k) || verb === 'add') {
      if (verb === 'create' && set.elements.has(k)) throw t.err(`element exists in ${name}`);
      set.elements.set(k, { key, verdict, comment, expires: set.timeoutS > 0 ? now + set.timeoutS * 1e9 : Infinity });
    }
  }
}

/** A rule's jump/goto targets and sets must exist when it is added (nft: "Could not process rule: No such file or directory"). */
function checkRuleRefs(table: NftTable, r: NftRule, t: Tokens): void {
  const missing = (v: Verdict): boolean => (v.v === 'jump' || v.v === 'goto') && !table.chains.has(v.chain);
  for (const s of r.stmts) {
    const bad = s.k === 'verdict' ? (missing(s.verdict) ? s.verdict : null) : s.k === 'numgen' ? (s.arms.find(missing) ?? null) : null;
    if (bad && (bad.v === 'jump' || bad.v === 'goto')) throw t.err(`Could not process rule: No such file or directory (chain ${bad.chain})`);
    const setName = s.k === 'cmp-set' || s.k === 'lookup' || s.k === 'update' ? s.set : s.k === 'vmap' ? s.map : null;
    if (setName !== null && !table.sets.has(setName)) throw t.err(`Could not process rule: No such file or directory (set ${setName})`);
  }
}

/** Every jump/goto target and @set a rule or map names must still exist at the end (the kernel refuses the transaction). */
function checkReferences(tables: Map<string, NftTable>): void {
  for (const table of tables.values()) {
    const chainOk = (v: Verdict | null, where: string): void => {
      if (v && (v.v === 'jump' || v.v === 'goto') && !table.chains.has(v.chain)) throw new NftSyntaxError(`${where}: jump to unknown chain ${v.chain}`);
    };
    for (const c of table.chains.values()) {
      for (const r of c.rules) {
        for (const s of r.stmts) {
          if (s.k === 'verdict') chainOk(s.verdict, `chain ${c.name}`);
          if (s.k === 'numgen') s.arms.forEach((v) => chainOk(v, `chain ${c.name}`));
          const setName = s.k === 'cmp-set' || s.k === 'lookup' || s.k === 'update' ? s.set : s.k === 'vmap' ? s.map : null;
          if (setName !== null && !table.sets.has(setName)) throw new NftSyntaxError(`chain ${c.name}: no set or map named ${setName}`);
        }
      }
    }
    for (const s of table.sets.values()) for (const e of s.elements.values()) chainOk(e.verdict, `map ${s.name}`);
  }
}

/** An element key as nft prints it. */
export function keyText(set: NftSet, key: readonly number[]): string {
  return key.map((v, i) => (set.keyTypes[i] === 'ipv4_addr' ? formatIpv4(v) : set.keyTypes[i] === 'inet_proto' ? (PROTO_NAME[v] ?? String(v)) : String(v))).join(' . ');
}

export { SIZE_DEFAULT };
