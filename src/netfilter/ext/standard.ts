// netfilter/ext/standard — the standard targets: ACCEPT, DROP, RETURN, a jump to a user chain
// (`-j CHAIN`) and a goto (`-g CHAIN`). Layer: netfilter (imports this folder). Mirrors
// iptables/extensions/libxt_standard.c and the verdict part of net/ipv4/netfilter/ip_tables.c
// (ipt_do_table: the traversal acts on the code these return).
import { TgCode } from '../x-tables.js';
import { noOptions, type TargetExt } from './api.js';

/** -j CHAIN (a user chain). */
export interface JumpTarget { kind: 'jump'; chain: string }
/** -g CHAIN. */
export interface GotoTarget { kind: 'goto'; chain: string }

function verdict<K extends 'ACCEPT' | 'DROP' | 'RETURN'>(name: K, code: TgCode): TargetExt<{ kind: K }> {
  return { name, table: null, init: () => ({ kind: name }), parse: noOptions, render: () => ` -j ${name}`, compile: () => () => code };
}

/** -j ACCEPT. */
export const ACCEPT = verdict('ACCEPT', TgCode.ACCEPT);
/** -j DROP. */
export const DROP = verdict('DROP', TgCode.DROP);
/** -j RETURN. */
export const RETURN = verdict('RETURN', TgCode.RETURN);

/** -j CHAIN: not looked up by name (any name that is not a target is a chain). */
export const jump: TargetExt<JumpTarget> = {
  name: 'jump',
  table: null,
  init: () => ({ kind: 'jump', chain: '' }),
  parse: noOptions,
  render: (t) => ` -j ${t.chain}`,
  compile: () => () => TgCode.JUMP,
};

/** -g CHAIN. */
export const goto: TargetExt<GotoTarget> = {
  name: 'goto',
  table: null,
  init: () => ({ kind: 'goto', chain: '' }),
  parse: noOptions,
  render: (t) => ` -g ${t.chain}`,
  compile: () => () => TgCode.GOTO,
};
