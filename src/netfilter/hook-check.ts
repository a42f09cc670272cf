// netfilter/hook-check — a table's rules whose match the kernel allows only from some hooks (xt_match.hooks:
// -m rpfilter from PREROUTING), checked as the kernel checks them: through every chain a built-in chain
// reaches (x_tables' mark_source_chains gives each user chain the hooks it is reached from, nf_tables'
// validation follows the jumps; an unreached chain has none and passes). Layer: netfilter (imports nothing).
// A restriction a module makes only in its checkentry (TCPMSS --clamp-mss-to-pmtu) is not one of these:
// nft_compat checks it in base chains alone, so iptables-nft takes it in a user chain PREROUTING reaches
// (iptables-legacy does not), and the parser checks it at the rule's built-in chain only.
//
// iptables-nft-restore validates each rule as it is appended to a chain a hook reaches, so the table is
// refused at the later of the rule and the jump that makes it reachable (checked in network namespaces:
// `-A OUTPUT -j x` after `-A x -m rpfilter …` → "line 6: RULE_APPEND failed (Invalid argument): rule in chain
// OUTPUT"); iptables-legacy-restore names the COMMIT line. This reports iptables-nft's line.

/** A jump (-j / -g to a user chain) of the table and where it is written. */
export interface HookJump {
  from: string;
  to: string;
  line: number;
  col: number;
}

/** A rule using a hook-limited match: what, in which chain, where, and the hooks it allows. */
export interface HookLimited {
  what: string;
  chain: string;
  line: number;
  col: number;
  hooks: readonly string[];
}

/** The first rule reached from a hook it does not allow: where to report it and why; null when none is. */
export function firstHookViolation(builtins: readonly string[], jumps: readonly HookJump[], limited: readonly HookLimited[]): { line: number; col: number; message: string } | null {
  let worst: { line: number; col: number; message: string } | null = null;
  for (const hook of builtins) {
    if (!limited.some((l) => !l.hooks.includes(hook))) continue;
    const reach = reachedFrom(hook, jumps);
    for (const l of limited) {
      const r = reach.get(l.chain);
      if (r === undefined || l.hooks.includes(hook)) continue;
      const atRule = l.line >= r.line;
      const line = atRule ? l.line : r.line;
      if (worst !== null && worst.line <= line) continue;
      const route = r.path.length > 1 ? ` (${r.path.join(' -> ')})` : '';
      const allowed = l.hooks.length === 1 ? l.hooks[0] : `${l.hooks.slice(0, -1).join(', ')} and ${l.hooks[l.hooks.length - 1]}`;
      const message = atRule
        ? `${l.what} is only valid in ${allowed}, ${l.chain === hook ? `not ${hook}` : `and chain ${l.chain} is reached from ${hook}${route}`}: the kernel refuses the rule (EINVAL)`
        : `this jump reaches a rule with ${l.what} (line ${l.line}) from ${hook}${route}, and it is only valid in ${allowed}: the kernel refuses it (EINVAL)`;
      worst = { line, col: atRule ? l.col : r.col, message };
    }
  }
  return worst;
}

/**
 * Every chain `hook` reaches, each with the path whose latest jump is earliest in the dump (the line at
 * which iptables-nft-restore would first see it reached) and that jump's position.
 */
function reachedFrom(hook: string, jumps: readonly HookJump[]): Map<string, { line: number; col: number; path: string[] }> {
  const best = new Map<string, { line: number; col: number; path: string[] }>([[hook, { line: 0, col: 0, path: [hook] }]]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const j of jumps) {
      const from = best.get(j.from);
      if (from === undefined || from.path.includes(j.to)) continue;
      const cand = j.line >= from.line ? { line: j.line, col: j.col } : { line: from.line, col: from.col };
      const cur = best.get(j.to);
      if (cur !== undefined && cur.line <= cand.line) continue;
      best.set(j.to, { ...cand, path: [...from.path, j.to] });
      changed = true;
    }
  }
  return best;
}
