// netfilter/nft/list — `nft list ruleset` for a namespace's nftables state: tables in creation order;
// in each, the sets and maps, then the chains, in creation order; base chains with their type, hook,
// priority (named as nft names it for the hook: `dstnat - 10`, `srcnat`, else a number) and policy.
// Layer: netfilter (imports wire and this folder).
// Elements of a hash set are listed by the kernel in its hash order, which depends on a per-boot
// seed; podwire lists them sorted by key (the differential test compares element sets).
import { keyText, SIZE_DEFAULT, type BaseSpec, type NftChain, type NftRuleset, type NftSet } from './ruleset.js';
import { ruleText } from './stmt.js';

/** Standard priorities of family ip and the hooks where nft prints them by name (nftables src/rule.c std_prios). */
const STD_PRIOS: { name: string; value: number; hooks: string[] | null }[] = [
  { name: 'raw', value: -300, hooks: null },
  { name: 'mangle', value: -150, hooks: null },
  { name: 'dstnat', value: -100, hooks: ['prerouting'] },
  { name: 'filter', value: 0, hooks: null },
  { name: 'security', value: 50, hooks: null },
  { name: 'srcnat', value: 100, hooks: ['postrouting'] },
];

/** A base chain's priority as nft prints it: a standard name, a name ± up to 10, or the number. */
export function priorityText(b: BaseSpec): string {
  for (const p of STD_PRIOS) {
    if (p.hooks !== null && !p.hooks.includes(b.hook)) continue;
    const d = b.priority - p.value;
    if (d === 0) return p.name;
    if (Math.abs(d) <= 10) return `${p.name} ${d < 0 ? '-' : '+'} ${Math.abs(d)}`;
  }
  return String(b.priority);
}

/** A duration in seconds as nft prints it (3h, 1m30s). */
function durationText(s: number): string {
  const parts: string[] = [];
  const units: [string, number][] = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  for (const [u, n] of units) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
  }
  return parts.join('') || '0s';
}

function setBlock(set: NftSet, now: number): string[] {
  const out = [`\t${set.map ? 'map' : 'set'} ${set.name} {`, `\t\ttype ${set.keyTypes.join(' . ')}${set.map ? ' : verdict' : ''}`];
  if (set.flags.includes('dynamic') || set.timeoutS > 0) out.push(`\t\tsize ${SIZE_DEFAULT}`);
  if (set.flags.length > 0) out.push(`\t\tflags ${set.flags.join(',')}`);
  if (set.timeoutS > 0) out.push(`\t\ttimeout ${durationText(set.timeoutS)}`);
  if (set.comment !== null) out.push(`\t\tcomment "${set.comment}"`);
  const live = [...set.elements.values()].filter((e) => e.expires > now).sort((a, b) => cmpKeys(a.key, b.key));
  if (live.length > 0) {
    const items = live.map((e) => {
      let s = keyText(set, e.key);
      if (e.expires !== Infinity) s += ` timeout ${durationText(set.timeoutS)} expires ${durationText(Math.max(0, Math.floor((e.expires - now) / 1e9)))}`;
      if (e.comment !== null) s += ` comment "${e.comment}"`;
      if (e.verdict) s += ` : ${e.verdict.v === 'jump' || e.verdict.v === 'goto' ? `${e.verdict.v} ${e.verdict.chain}` : e.verdict.v}`;
      return s;
    });
    out.push(`\t\telements = { ${joinElements(set, items)} }`);
  }
  out.push('\t}');
  return out;
}

/**
 * Elements joined as nft's set_expr_print does (calculate_delim): addresses two per line, protocols
 * and ports five per line, concatenations one per line.
 */
function joinElements(set: NftSet, items: string[]): string {
  const perLine = set.keyTypes.length > 1 ? 1 : set.keyTypes[0] === 'ipv4_addr' ? 2 : 5;
  let s = '';
  items.forEach((it, i) => {
    if (i > 0) s += i % perLine === 0 ? ',\n\t\t\t     ' : ', ';
    s += it;
  });
  return s;
}

function cmpKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function chainBlock(c: NftChain): string[] {
  const out = [`\tchain ${c.name} {`];
  if (c.base) out.push(`\t\ttype ${c.base.type} hook ${c.base.hook} priority ${priorityText(c.base)}; policy ${c.base.policy};`);
  if (c.comment !== null) out.push(`\t\tcomment "${c.comment}"`);
  for (const r of c.rules) out.push(`\t\t${ruleText(r)}`);
  out.push('\t}');
  return out;
}

/** The whole state as `nft list ruleset` prints it (`now`: for the expiry of dynamic elements). */
export function listRuleset(rs: NftRuleset, now = 0): string {
  const out: string[] = [];
  for (const t of rs.tables.values()) {
    out.push(`table ip ${t.name} {`);
    if (t.comment !== null) out.push(`\tcomment "${t.comment}"`);
    const blocks = [...[...t.sets.values()].map((s) => setBlock(s, now)), ...[...t.chains.values()].map(chainBlock)];
    blocks.forEach((b, i) => {
      if (i > 0) out.push('');
      out.push(...b);
    });
    out.push('}');
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
