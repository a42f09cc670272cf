// netfilter/ext/api — the shape of one iptables extension: a match (`-m NAME`) or a target
// (`-j NAME`) in one module, userspace and kernel halves together. Layer: netfilter (imports this
// folder only). Mirrors include/xtables.h (struct xtables_match / xtables_target: .name, .init,
// .parse, .final_check, .save) and include/linux/netfilter/x_tables.h (struct xt_match / xt_target:
// .match / .target, .table). Every member but `check` is required, so a new extension that forgets
// its parser, printer or evaluator does not type-check.
import type { TableName } from '../rules.js';
import type { MatchEnv, MatchFn, TargetFn } from '../x-tables.js';
import type { Cursor, Token } from '../xtables.js';

/** A match extension over its record type `M` (whose `kind` is the module name). */
export interface MatchExt<M extends { kind: string }> {
  /** The name after -m (and the record's `kind`). */
  readonly name: M['kind'];
  /** The only tables the match is valid in (xt_match.table / checkentry), when it is restricted. */
  readonly tables?: readonly TableName[];
  /** The only hooks (built-in chains) a rule using it may be reached from (xt_match.hooks), when restricted. */
  readonly hooks?: readonly string[];
  /** A record with the module's defaults, as `-m NAME` creates it (xtables_match.init). */
  init(): M;
  /**
   * Applies option `opt` (its argument, if any, read from `c`) when the module owns it; false when
   * it does not (xtables_match.parse). `neg` is a preceding "!".
   */
  parse(m: M, opt: Token, neg: boolean, c: Cursor): boolean;
  /** Checks the finished record; throws an IptablesParseError (xtables_match.final_check). */
  check?(m: M, c: Cursor): void;
  /** " -m NAME opts" exactly as iptables-save prints it (xtables_match.save). */
  render(m: M): string;
  /**
   * The kernel's match function (xt_match.match), or null when it always matches (comment, nfacct, limit).
   * `env` is late-bound: a compiled rule is shared by every namespace that loads the same rule, so read
   * env's fields when the returned function runs (env.conntrack, env.ipsets), never at compile time.
   */
  compile(m: M, env: MatchEnv): MatchFn | null;
}

/** A target extension over its record type `T` (whose `kind` is the target name). */
export interface TargetExt<T extends { kind: string }> {
  /** The name after -j (and the record's `kind`). */
  readonly name: T['kind'];
  /** The only table the target is valid in (xt_target.table), or null for any. */
  readonly table: TableName | null;
  /** The IP protocol the rule must name with `-p` (xt_target.proto), when the target needs one. */
  readonly proto?: number;
  /** A record with the target's defaults (xtables_target.init). */
  init(): T;
  /** Applies option `opt` when the target owns it; false when it does not (xtables_target.parse). */
  parse(t: T, opt: Token, c: Cursor): boolean;
  /** Checks the finished record (xtables_target.final_check). */
  check?(t: T, c: Cursor): void;
  /** " -j NAME opts" (or " -g CHAIN") exactly as iptables-save prints it (xtables_target.save). */
  render(t: T): string;
  /** The kernel's target function (xt_target.target). */
  compile(t: T): TargetFn;
}

/** The record type of a match extension. */
export type MatchOf<E> = E extends MatchExt<infer M> ? M : never;
/** The record type of a target extension. */
export type TargetOf<E> = E extends TargetExt<infer T> ? T : never;

/** An option parser for extensions without options. */
export const noOptions = (): boolean => false;
