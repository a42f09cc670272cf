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
/**
 * inet_select_addr(dev, dst, RT_SCOPE_UNIVERSE), the source MASQUERADE takes: host-scope addresses (127.0.0.0/8,
 * on lo) never qualify, so a packet masqueraded out of lo (a node's own connection DNATed to one of its own
 * addresses) takes lo's first other address, else the first of another device ("not loopback addresses on
 * loopback should be preferred"), as the kernel does; 0 when there is none.
 */
export function selectUniverseAddr(addrs: readonly { addr: Ipv4; prefix: number; dev: NetDevice }[], dev: NetDevice, dst: Ipv4, lo: NetDevice): Ipv4 {
  let first = 0;
  for (const a of addrs) {
    if (a.dev !== dev || a.addr >>> 24 === 127) continue;
    if (((a.addr ^ dst) & maskFromPrefix(a.prefix)) === 0) return a.addr;
    if (first === 0) first = a.addr;
  }
  if (first !== 0) return first;
  for (const a of addrs) if (a.dev === lo && a.addr >>> 24 !== 127) return a.addr;
  for (const a of addrs) if (a.addr >>> 24 !== 127) return a.addr;
  return 0;
}
/** A route as -m rpfilter reads it (netfilter's ReverseRoute): unicast, local or another type, and its device's name. */
export function reverseRouteOf(rt: Route | null): { type: 'unicast' | 'local' | 'other'; dev: string } | null {
  if (rt === null) return null;
  return { type: rt.type === 'unicast' || rt.type === 'local' ? rt.type : 'other', dev: rt.dev?.name ?? '' };
}
/** Who installed the route (`proto kernel` for connected routes). */
export type RouteProto = 'kernel' | 'boot' | 'static';

/** One route. `gateway` 0 means directly connected (scope link). */
/**
 * A route. Made by `newRoute` (the namespace's and a shared set's routes), whose literal puts what a
 * packet's path reads (dev, gateway, type: ip_finish_output2, ip_forward, ip_route_output, ipRcvFinish's
 * forward test) first, beside the object's map: in the old order (table, type, dst, prefix, gateway, dev)
 * the device was the ninth word, always on a second line of the object, which in a big cluster is cold at
 * a forward or a SYN-ACK's MTU lookup (session 45: s45-ip).
 */
export interface Route {
  dev: NetDevice | null;
  gateway: Ipv4;
  type: RouteType;
  table: 'local' | 'main';
  dst: Ipv4;
  prefix: number;
  /** Preferred source (`src` in `ip route`), 0 for none. */
  prefsrc: Ipv4;
  scope: 'host' | 'link' | 'global';
  onlink: boolean;
  metric: number;
  proto: RouteProto;
}

/** A route, its fields in the order of the Route interface (the hot ones first: see there); every route of the datapath is made here. */
export function newRoute(
  table: Route['table'],
  type: RouteType,
  dst: Ipv4,
  prefix: number,
  gateway: Ipv4,
  dev: NetDevice | null,
  prefsrc: Ipv4,
  scope: Route['scope'],
  onlink: boolean,
  metric: number,
  proto: RouteProto,
): Route {
  return { dev, gateway, type, table, dst, prefix, prefsrc, scope, onlink, metric, proto };
}

/**
 * Bumped by every change to any routing table or shared route set (add, remove, bind): a cache of
 * lookups (Namespace.fibLookup) is valid while this and NetDevice.upEpoch stand still.
 */
let epoch = 0;
/** The routing tables' change counter (see `epoch`). */
export function routeEpoch(): number {
  return epoch;
}

/** The index of a table that has none yet (a small one): never read, never written (frozen). */
const NOT_INDEXED = Object.freeze([]) as never[];
const NOT_INDEXED_LENS = Object.freeze([]) as never[];

/** One entry of a SharedRoutes set: `dst/prefix via gateway`. */
export interface SharedRoute {
  readonly dst: Ipv4;
  readonly prefix: number;
  readonly gateway: Ipv4;
}

/**
 * Routes many namespaces hold alike, built once (flanneld's route to every node's pod subnet: `DST/P
 * via GW dev flannel.1 onlink` on every node but the subnet's own). A table bound to the set
 * (`RouteTable.bindShared`) answers lookups and listings as if it held a route for each entry, on its
 * own device and without the entry it excludes (its node's own subnet); a route object is made for an
 * entry only when a lookup first reaches it, so N nodes cost N entries, not N².
 */
export class SharedRoutes {
  /** Per prefix length: network address → entry. */
  readonly byLen: (Map<number, SharedRoute> | undefined)[] = new Array(33);
  readonly lens: number[] = [];
  size = 0;

  constructor(readonly onlink: boolean) {}

  /** Adds `dst/prefix via gateway`; false (nothing added) when that destination is already in the set. */
  add(dst: Ipv4, prefix: number, gateway: Ipv4): boolean {
    const key = (dst & maskFromPrefix(prefix)) >>> 0;
    let m = this.byLen[prefix];
    if (m === undefined) {
      m = new Map();
      this.byLen[prefix] = m;
      this.lens.push(prefix);
    }
    if (m.has(key)) return false;
    m.set(key, { dst: key, prefix, gateway });
    this.size++;
    epoch++;
    return true;
  }

  get(dst: Ipv4, prefix: number): SharedRoute | undefined {
    return this.byLen[prefix]?.get((dst & maskFromPrefix(prefix)) >>> 0);
  }
}

/**
 * Routes a table keeps as one ordered list before it is indexed by prefix length: a pod's tables hold
 * four or five routes (lo's two, its address, its subnet or default route), and a 33-slot index with
 * a Map per length present was ~1 KB each, two per pod; a scan of a few routes is as quick as the
 * probes it replaces, and runs only when a namespace's route cache misses.
 */
export const SMALL_TABLE_MAX = 16;

/** One routing table. */
export class RouteTable {
  /**
   * A small table's routes, longest prefix first, then by metric, then as added: the first one that
   * covers a destination over a device that is up is the answer. Replaced (never grown in place: an
   * array grown by push keeps room for 17) on every change; null once the table is indexed.
   */
  private list: Route[] | null = [];
  /** An indexed table's routes, per prefix length: network address → routes (metric order). */
  private byLen: (Map<number, Route[]> | undefined)[] = NOT_INDEXED;
  /** Prefix lengths present, longest first (indexed tables). */
  private lens: number[] = NOT_INDEXED_LENS;
  private count = 0;
  /** The shared set this table is bound to, the device its routes leave by and the entry it excludes. */
  private shared: SharedRoutes | null = null;
  private sharedDev: NetDevice | null = null;
  private sharedSelf: SharedRoute | undefined = undefined;

  /** True once the table is indexed by prefix length (more than SMALL_TABLE_MAX routes, or bound to a shared set). */
  get indexed(): boolean {
    return this.list === null;
  }

  /** Moves a small table's routes into the index by prefix length, in their order; for good. */
  private index(): void {
    const list = this.list;
    if (list === null) return;
    this.list = null;
    this.byLen = new Array(33);
    this.lens = [];
    for (const r of list) this.place(r);
  }

  /**
   * Binds the table to `shared`: from now on it holds, as if added at this point in this order, a
   * route `DST/P via GW dev DEV [onlink]` (proto boot, metric 0) for every entry but `self`. False
   * (nothing bound) when the table is bound already.
   */
  bindShared(shared: SharedRoutes, dev: NetDevice, self: SharedRoute | undefined): boolean {
    if (this.shared !== null) return false;
    epoch++;
    this.index();
    this.shared = shared;
    this.sharedDev = dev;
    this.sharedSelf = self;
    for (const len of shared.lens) {
      if (this.byLen[len] === undefined) {
        this.byLen[len] = new Map();
        this.lens = [...this.lens, len].sort((a, b) => b - a);
      }
    }
    this.count += shared.size - (self !== undefined ? 1 : 0);
    // An entry whose destination the table already holds is made now, behind the routes already there.
    for (const len of shared.lens) {
      const own = this.byLen[len]!;
      if (own.size === 0) continue;
      for (const [key, e] of shared.byLen[len]!) if (e !== self && own.has(key)) this.place(this.materialise(e));
    }
    return true;
  }

  /**
   * The route a shared entry stands for in this table. Its addresses pass through `>>> 0`, which gives
   * V8's small integer for an address below 2^31: an entry's field may hold it boxed as a double (a
   * field of that shape held a larger address once), and a boxed value stored into a route turns every
   * route's `dst` into a double mid-run, after which each route built before is re-shaped (a runtime
   * call) when first touched: ~4 per namespace, tens of thousands in a thousand-node cluster. An
   * address at or above 2^31 (172.16/12, 192.168/16) is a double whatever is done, so a cluster on such
   * addresses still re-shapes its routes once; this keeps flannel's 10/8 defaults small.
   */
  private materialise(e: SharedRoute): Route {
    return newRoute('main', 'unicast', e.dst >>> 0, e.prefix, e.gateway >>> 0, this.sharedDev, 0, e.gateway !== 0 ? 'global' : 'link', this.shared!.onlink, 0, 'boot');
  }

  /** The shared entry for `key` at `len` this table holds virtually (not excluded, not made yet), or undefined. */
  private virtual(len: number, key: number): SharedRoute | undefined {
    const e = this.shared!.byLen[len]?.get(key);
    return e === undefined || e === this.sharedSelf || this.byLen[len]?.has(key) ? undefined : e;
  }

  add(r: Route): void {
    epoch++;
    const key = (r.dst & maskFromPrefix(r.prefix)) >>> 0;
    r.dst = key;
    const list = this.list;
    if (list !== null) {
      // Behind every longer prefix and every route of the same prefix with a metric not above its own.
      let at = 0;
      while (at < list.length && (list[at]!.prefix > r.prefix || (list[at]!.prefix === r.prefix && list[at]!.metric <= r.metric))) at++;
      this.list = list.slice(0, at).concat([r], list.slice(at));
      if (++this.count > SMALL_TABLE_MAX) this.index();
      return;
    }
    if (this.shared !== null) {
      // A route to a destination the shared set covers goes behind the shared entry, added before it.
      const e = this.virtual(r.prefix, key);
      if (e !== undefined) this.place(this.materialise(e));
    }
    this.place(r);
    this.count++;
  }

  /** Puts `r` (its dst already masked) into its list of an indexed table, ordered by metric then insertion. */
  private place(r: Route): void {
    const key = r.dst;
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
  }

  /** Removes routes matching the predicate; returns how many. */
  remove(pred: (r: Route) => boolean): number {
    epoch++;
    const list = this.list;
    if (list !== null) {
      const keep = list.filter((r) => !pred(r));
      this.list = keep;
      this.count = keep.length;
      return list.length - keep.length;
    }
    if (this.shared !== null) {
      // Every shared entry becomes a route of this table first, then the table forgets the set.
      const shared = this.shared;
      for (const len of shared.lens) {
        for (const [key, e] of shared.byLen[len]!) if (this.virtual(len, key) !== undefined) this.place(this.materialise(e));
      }
      this.shared = null;
      this.sharedDev = null;
      this.sharedSelf = undefined;
    }
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
    const list = this.list;
    if (list !== null) {
      for (let i = 0; i < list.length; i++) {
        const r = list[i]!;
        if (((dst & maskFromPrefix(r.prefix)) >>> 0) === r.dst && (r.dev === null || r.dev.up)) return r;
      }
      return null;
    }
    const lens = this.lens;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const key = (dst & maskFromPrefix(len)) >>> 0;
      const m = this.byLen[len]!;
      let list = m.get(key);
      if (list === undefined) {
        if (this.shared === null) continue;
        const e = this.shared.byLen[len]?.get(key);
        if (e === undefined || e === this.sharedSelf) continue;
        // First lookup to reach a shared entry: its route is made and kept.
        const r = this.materialise(e);
        list = [r];
        m.set(key, list);
      }
      for (let j = 0; j < list.length; j++) {
        const r = list[j]!;
        if (r.dev === null || r.dev.up) return r;
      }
    }
    return null;
  }

  /**
   * All routes in no particular order: a small table's own list (not to be changed), else all(). For
   * a reader the order does not matter to (isLocal's summary, made once per namespace: a sort there
   * was most of it, its comparator reading routes of several shapes).
   */
  unordered(): readonly Route[] {
    return this.list ?? this.all();
  }

  /** All routes, longest prefix first then by address, as `ip route show` would list them. */
  all(): Route[] {
    if (this.list !== null) return this.list.slice().sort((a, b) => a.dst - b.dst || b.prefix - a.prefix || a.metric - b.metric);
    const out: Route[] = [];
    for (let len = 32; len >= 0; len--) {
      const m = this.byLen[len];
      if (m === undefined) continue;
      for (const list of m.values()) for (const r of list) out.push(r);
    }
    const shared = this.shared;
    if (shared !== null) {
      for (const len of shared.lens) {
        for (const [key, e] of shared.byLen[len]!) if (this.virtual(len, key) !== undefined) out.push(this.materialise(e));
      }
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
