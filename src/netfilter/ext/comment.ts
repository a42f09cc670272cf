// netfilter/ext/comment — `-m comment --comment TEXT`: always matches. Layer: netfilter (imports this
// folder). Mirrors iptables/extensions/libxt_comment.c and net/netfilter/xt_comment.c.
import { saveString } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m comment. */
export interface CommentMatch {
  kind: 'comment';
  comment: string;
}

/** -m comment. */
export const comment: MatchExt<CommentMatch> = {
  name: 'comment',
  init: () => ({ kind: 'comment', comment: '' }),
  parse: (m, opt, _neg, c) => (opt.text === '--comment' ? ((m.comment = c.arg(opt).text), true) : false),
  render: (m) => ` -m comment --comment ${saveString(m.comment)}`,
  compile: () => null,
};
