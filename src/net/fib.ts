// net/fib — routing tables with longest-prefix match (net/ipv4/fib_trie.c, fib_frontend.c). Layer: net.
// Two tables as in Linux: `local` (the namespace's own addresses, looked up first) and `main`.
// Lookup is an exact-match Map per prefix length, tried from /32 down over the lengths present, so a
// node with thousands of pod-subnet routes pays a handful of Map probes per packet. Among routes with
// the same prefix the lowest metric wins (insertion order breaks ties, as `ip route` lists them).
import type { NetDevice } from '../link/device.js';
import type { Ipv4 } from '../wire/types.js';
import { formatIpv4, maskFromPrefix } from '../wire/ipv4-addr.js';

/** Route types of `ip route` (rtm_type). */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit';
/** Who installed the route (`proto kernel` for connected routes). */
export type RouteProto = 'kernel' | 'boot' | 'static';

/** One route. `gateway` 0 means directly connected (scope link). */
export interface Route {
  table: 'local' | 'main';
  type: RouteType;
  dst: Ipv4;
  prefix: number;
  gateway: Ipv4;
  dev: NetDevice | null;
  /** Preferred source (`src` in `ip route`), 0 for none. */
  prefsrc: Ipv4;
  scope: 'host' | 'link' | 'global';
  onlink: boolean;
  metric: number;
  proto: RouteProto;
}

/** One routing table. */
export class RouteTable {
  private readonly byLen: (Map<number, Route[]> | undefined)[] = new Array(33);
  /** Prefix lengths present, longest first. */
  private lens: number[] = [];
  private count = 0;

  add(r: Route): void {
    const key = (r.dst & maskFromPrefix(r.prefix)) >>> 0;
    r.dst = key;
    let m = this.byLen[r.prefix];
    if (m === undefined) {
      m = new Map();
      this.byLen[r.prefix] = m;
      this.lens = [...this.lens, r.prefix].sort((a, b) => b - a);
    }
    const list = m.get(key);
    if (list === undefined) m.set(key, [r]);
    else {
      list.push(r);
      list.sort((a, b) => a.metric - b.metric);
    }
    this.count++;
  }

  /** Removes routes matching the predicate; returns how many. */
  remove(pred: (r: Route) => boolean): number {
    let n = 0;
    for (let len = 0; len <= 32; len++) {
      const m = this.byLen[len];
      if (m === undefined) continue;
      for (const [k, list] of m) {
        const keep = list.filter((r) => !pred(r));
        n += list.length - keep.length;
        if (keep.length === 0) m.delete(k);
        else m.set(k, keep);
      }
      if (m.size === 0) {
        this.byLen[len] = undefined;
        this.lens = this.lens.filter((l) => l !== len);
      }
    }
    this.count -= n;
    return n;
  }

  /** Longest-prefix match; null when nothing covers `dst`. Skips routes whose device is down. */
  lookup(dst: Ipv4): Route | null {
    const lens = this.lens;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const list = this.byLen[len]!.get((dst & maskFromPrefix(len)) >>> 0);
      if (list === undefined) continue;
      for (let j = 0; j < list.length; j++) {
        const r = list[j]!;
        if (r.dev === null || r.dev.up) return r;
      }
    }
    return null;
  }

  /** All routes, longest prefix first then by address, as `ip route show` would list them. */
  all(): Route[] {
    const out: Route[] = [];
    for (let len = 32; len >= 0; len--) {
      const m = this.byLen[len];
      if (m === undefined) continue;
      for (const list of m.values()) for (const r of list) out.push(r);
    }
    return out.sort((a, b) => a.dst - b.dst || b.prefix - a.prefix || a.metric - b.metric);
  }

  get size(): number {
    return this.count;
  }
}

/** A route as `ip route show` prints it. */
export function formatRoute(r: Route): string {
  const dst = r.prefix === 0 ? 'default' : r.prefix === 32 ? formatIpv4(r.dst) : `${formatIpv4(r.dst)}/${r.prefix}`;
  const parts = [r.type === 'unicast' ? dst : `${r.type} ${dst}`];
  if (r.gateway !== 0) parts.push(`via ${formatIpv4(r.gateway)}`);
  if (r.dev) parts.push(`dev ${r.dev.name}`);
  if (r.proto !== 'boot') parts.push(`proto ${r.proto}`);
  if (r.scope !== 'global') parts.push(`scope ${r.scope}`);
  if (r.prefsrc !== 0) parts.push(`src ${formatIpv4(r.prefsrc)}`);
  if (r.metric !== 0) parts.push(`metric ${r.metric}`);
  if (r.onlink) parts.push('onlink');
  return parts.join(' ');
}
