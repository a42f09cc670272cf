// netfilter/ext/recent — `-m recent --set/--rcheck/--update/--remove` with --seconds, --reap,
// --hitcount, --name, --mask, --rsource/--rdest. Layer: netfilter (imports this folder). Mirrors
// iptables/extensions/libxt_recent.c and net/netfilter/xt_recent.c (recent_mt; ip_list_tot 100,
// ip_pkt_list_tot 20). Lists live in the Netfilter (MatchEnv.recent), per namespace.
// Not modelled: --rttl is parsed and ignored.
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import { parseIpv4 } from '../rules.js';
import { negs, parseNumber } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m recent. */
export interface RecentMatch {
  kind: 'recent';
  neg: boolean;
  command: 'set' | 'rcheck' | 'update' | 'remove';
  seconds: number | null;
  reap: boolean;
  hitcount: number | null;
  rttl: boolean;
  name: string;
  mask: number;
  side: 'rsource' | 'rdest';
}

/** xt_recent's default ip_list_tot: entries kept per list. */
const RECENT_LIST_MAX = 100;
/** xt_recent's default ip_pkt_list_tot: timestamps kept per entry. */
const RECENT_PKT_MAX = 20;

/** -m recent. */
export const recent: MatchExt<RecentMatch> = {
  name: 'recent',
  init: () => ({ kind: 'recent', neg: false, command: 'set', seconds: null, reap: false, hitcount: null, rttl: false, name: 'DEFAULT', mask: 0xffffffff, side: 'rsource' }),
  parse(m, opt, neg, c) {
    const o = opt.text;
    switch (o) {
      case '--set':
      case '--rcheck':
      case '--update':
      case '--remove':
        m.command = o.slice(2) as 'set';
        m.neg = neg;
        return true;
      case '--seconds':
        m.seconds = parseNumber(c, c.arg(opt));
        return true;
      case '--reap':
        m.reap = true;
        return true;
      case '--hitcount':
        m.hitcount = parseNumber(c, c.arg(opt));
        return true;
      case '--rttl':
        m.rttl = true;
        return true;
      case '--name':
        m.name = c.arg(opt).text;
        return true;
      case '--mask': {
        const t = c.arg(opt);
        const v = parseIpv4(t.text);
        if (v === null) throw c.err(t, `invalid mask "${t.text}"`);
        m.mask = v;
        return true;
      }
      case '--rsource':
      case '--rdest':
        m.side = o.slice(2) as 'rsource';
        return true;
      default:
        return false;
    }
  },
  render: (m) =>
    ` -m recent ${negs(m.neg)}--${m.command}` +
    (m.seconds !== null ? ` --seconds ${m.seconds}` : '') +
    (m.reap ? ' --reap' : '') +
    (m.hitcount !== null ? ` --hitcount ${m.hitcount}` : '') +
    (m.rttl ? ' --rttl' : '') +
    ` --name ${m.name} --mask ${formatIpv4(m.mask)} --${m.side}`,
  compile(m, env) {
    const { command, seconds, reap, hitcount, name, mask, side, neg } = m;
    const window = seconds === null ? null : seconds * 1e9;
    return (c) => {
      const addr = ((side === 'rsource' ? c.ip.src : c.ip.dst) & mask) >>> 0;
      let list = env.recent.get(name);
      if (!list) {
        list = new Map();
        env.recent.set(name, list);
      }
      const stamp = (): void => {
        let ts = list!.get(addr);
        if (!ts) {
          if (list!.size >= RECENT_LIST_MAX) list!.delete(list!.keys().next().value as number);
          ts = [];
          list!.set(addr, ts);
        }
        ts.push(c.now);
        if (ts.length > RECENT_PKT_MAX) ts.shift();
      };
      let hit: boolean;
      switch (command) {
        case 'set':
          stamp();
          hit = true;
          break;
        case 'remove':
          hit = list.delete(addr);
          break;
        case 'rcheck':
        case 'update': {
          const ts = list.get(addr);
          if (!ts) {
            hit = false;
            break;
          }
          if (reap && window !== null) {
            while (ts.length && ts[0]! < c.now - window) ts.shift();
            if (!ts.length) {
              list.delete(addr);
              hit = false;
              break;
            }
          }
          const inWin = window === null ? ts.length : ts.filter((t) => t >= c.now - window).length;
          hit = hitcount !== null ? inWin >= hitcount : window === null ? true : inWin > 0;
          if (hit && command === 'update') stamp();
          break;
        }
        default: {
          const never: never = command;
          throw new Error(`recent: ${String(never)}`);
        }
      }
      return hit !== neg;
    };
  },
};
