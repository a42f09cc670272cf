// netfilter/targets — compiles a rule's target into a closure returning an xtables verdict code; each
// target's code lives in ext/<name>.ts and is found through the registry. Layer: netfilter (imports
// core, wire, packet and this folder). Mirrors the target call of ipt_do_table (t->u.kernel.target->target).
import { targetExt } from './ext/index.js';
import type { Target } from './rules.js';
import { TgCode, type TargetFn } from './x-tables.js';

export { TgCode, type TargetDropReason, type TargetEnv, type TargetFn } from './x-tables.js';

const CONTINUE: TargetFn = () => TgCode.CONTINUE;

/** Compiles a target; null (a rule without -j) only counts. jump/goto/ACCEPT/DROP/RETURN/REJECT return their code for the traversal. */
export function compileTarget(t: Target | null): TargetFn {
  return t ? targetExt(t).compile(t) : CONTINUE;
}
