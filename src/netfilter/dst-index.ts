// netfilter/dst-index — the destination index of a big chain (kube-proxy's KUBE-SERVICES, 10,000 rules in
// a big cluster): the rules a packet's (destination, protocol, destination port) could match, found by
// one probe of a flat open-addressing table, merged in order with the rules the index cannot key.
// Layer: netfilter. Mirrors nothing in the kernel (ipt_do_table walks the chain linearly; the walked
// count of the cost model still says so).
import type { Rule } from './rules.js';
import type { EvalCtx, MatchFn } from './x-tables.js';
import type { CChain } from './compiled.js';

/**
 * Index of a big chain (KUBE-SERVICES) by destination, protocol and destination port; matched-rule order
 * is preserved. The /32 destinations are one flat open-addressing table (`dstTab`, 4 words a slot: a
 * lookup reads one line of it, where a Map of Maps of arrays read five or six objects, each cold in a
 * thousand-node world between two new connections of a flow).
 */
export interface ChainIndex {
  /** Rules that cannot be keyed, ascending. */
  wild: number[];
  /**
   * Slots of (dst, proto << 16 | dport): dst (as int32), key, then the bucket: a single rule's index
   * itself, or an offset into `lists` (rule indices, ascending); then the bucket's length (0: empty
   * slot) with DIX_KEYED set when each of its rules passes whenever its key matches (see fullyKeyed).
   */
  dstTab: Int32Array;
  /** Slots of dstTab minus one (a power of two minus one). */
  dstMask: number;
  /** Buckets of more than one rule, each ascending. */
  lists: Int32Array;
  /** (proto << 16 | dport) -> indices of rules keyed by protocol and port but no /32 destination (KUBE-NODEPORTS), ascending. */
  byPort: Map<number, number[]>;
  /** The least and greatest keyed destinations (lo > hi: none): packets to pods or nodes skip the table. */
  dstLo: number;
  dstHi: number;
}

/** In a dstTab slot's length word: every rule of the bucket is fully keyed. */
const DIX_KEYED = 1 << 30;
const DIX_LEN = DIX_KEYED - 1;

/** The home slot of (dst, key) in a dstTab of mask `mask`. */
function dixHash(dst: number, key: number, mask: number): number {
  let h = Math.imul(dst ^ Math.imul(key, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 13)) & mask;
}

/** True when every test passes (the interpreter's megamorphic call site). */
export function passes(tests: MatchFn[], c: EvalCtx): boolean {
  for (let k = 0; k < tests.length; k++) if (!tests[k]!(c)) return false;
  return true;
}

/**
 * An indexed chain's scan: the rules from i on that the packet's (destination, protocol, port) could
 * match, in order: the wild rules, the destination's bucket and the port's bucket are ascending and
 * disjoint (every rule is in one), merged here; the index is looked up once per scan. A rule the
 * index leaves out cannot match, so the result is a linear scan's.
 */
export function indexedScan(chain: CChain, ix: ChainIndex, i: number, c: EvalCtx): number {
  const rules = chain.rules;
  // Resuming after the last rule (a return from KUBE-NODEPORTS, KUBE-SERVICES' last rule): nothing left.
  if (i >= rules.length) return -1;
  const pkt = c.pkt;
  const tcp = pkt.tcp;
  const udp = pkt.udp;
  const p = tcp ? tcp.dstPort : udp ? udp.dstPort : -1;
  // The /32 bucket: rules lists[bs .. bs + bn), or the one rule bs when bn is 1.
  let bs = 0;
  let bn = 0;
  let keyed = false;
  let pbucket = EMPTY;
  if (p >= 0) {
    const proto = c.ip.protocol;
    const key = (proto << 16) | p;
    const dst = c.ip.dst;
    if (dst >= ix.dstLo && dst <= ix.dstHi) {
      const tab = ix.dstTab;
      const mask = ix.dstMask;
      const d = dst | 0;
      for (let s = dixHash(d, key, mask); ; s = (s + 1) & mask) {
        const n = tab[4 * s + 3]!;
        if (n === 0) break;
        if (tab[4 * s]! === d && tab[4 * s + 1]! === key) {
          bs = tab[4 * s + 2]!;
          bn = n & DIX_LEN;
          // A fully keyed rule's tests are its key's (fullyKeyed), given the header its match reads:
          // TCP's record for -p tcp, the UDP one (no TCP record) for -p udp.
          keyed = (n & DIX_KEYED) !== 0 && (proto === 6 ? tcp !== null : tcp === null && udp !== null);
          break;
        }
      }
    }
    if (ix.byPort.size !== 0) pbucket = ix.byPort.get(key) ?? EMPTY;
  }
  const wild = ix.wild;
  const lists = ix.lists;
  let a = lowerBound(wild, i);
  let b = bn === 0 ? 0 : bn === 1 ? (bs < i ? 1 : 0) : lowerBoundIn(lists, bs, bn, i);
  let d = pbucket.length === 0 ? 0 : lowerBound(pbucket, i);
  for (;;) {
    const wa = a < wild.length ? wild[a]! : Infinity;
    const wb = b < bn ? (bn === 1 ? bs : lists[bs + b]!) : Infinity;
    const wd = d < pbucket.length ? pbucket[d]! : Infinity;
    if (wa < wb && wa < wd) {
      if (passesHere(rules[wa]!.tests, c)) return wa;
      a++;
    } else if (wb < wd) {
      if (keyed || passesHere(rules[wb]!.tests, c)) return wb;
      b++;
    } else {
      if (wd === Infinity) return -1;
      if (passesHere(rules[wd]!.tests, c)) return wd;
      d++;
    }
  }
}

export function buildIndex(rules: Rule[], min: number): ChainIndex | null {
  if (rules.length < min) return null;
  const wild: number[] = [];
  const byDst = new Map<number, Map<number, number[]>>();
  const byPort = new Map<number, number[]>();
  let dstLo = Infinity;
  let dstHi = -Infinity;
  const add = (m: Map<number, number[]>, key: number, i: number): void => {
    const list = m.get(key);
    if (list) list.push(i);
    else m.set(key, [i]);
  };
  let buckets = 0;
  rules.forEach((r, i) => {
    let port: number | null = null;
    for (const m of r.matches) {
      if ((m.kind === 'tcp' || m.kind === 'udp') && m.dport && !m.dport.neg && m.dport.value.min === m.dport.value.max) port = m.dport.value.min;
    }
    // A rule that names one protocol and one destination port can match no packet of another (proto, port).
    if (!r.proto || r.proto.neg || r.proto.value === 0 || port === null) {
      wild.push(i);
      return;
    }
    const key = (r.proto.value << 16) | port;
    if (r.dst && !r.dst.neg && r.dst.value.prefix === 32) {
      const a = r.dst.value.addr;
      let inner = byDst.get(a);
      if (!inner) byDst.set(a, (inner = new Map()));
      dstLo = Math.min(dstLo, a);
      dstHi = Math.max(dstHi, a);
      if (!inner.has(key)) buckets++;
      add(inner, key, i);
    } else add(byPort, key, i);
  });
  // The /32 buckets flattened: at most half the slots used, so a probe run is short.
  let slots = 8;
  while (slots < 2 * buckets) slots *= 2;
  const dstTab = new Int32Array(4 * slots);
  const dstMask = slots - 1;
  const more: number[] = [];
  for (const [dst, inner] of byDst) {
    for (const [key, list] of inner) {
      let s = dixHash(dst | 0, key, dstMask);
      while (dstTab[4 * s + 3] !== 0) s = (s + 1) & dstMask;
      dstTab[4 * s] = dst | 0;
      dstTab[4 * s + 1] = key;
      if (list.length === 1) dstTab[4 * s + 2] = list[0]!;
      else {
        dstTab[4 * s + 2] = more.length;
        for (const ri of list) more.push(ri);
      }
      dstTab[4 * s + 3] = list.length | (list.every((ri) => fullyKeyed(rules[ri]!)) ? DIX_KEYED : 0);
    }
  }
  // The bounds as the addresses themselves (small integers below 2^31; Math.min/max may box them) and an
  // empty range as 1 > 0, not ±Infinity: a double field is a heap number read per scan.
  const lo = buckets === 0 ? 1 : dstLo >>> 0;
  const hi = buckets === 0 ? 0 : dstHi >>> 0;
  return { wild, dstTab, dstMask, lists: Int32Array.from(more), byPort, dstLo: lo, dstHi: hi };
}

/**
 * True when a /32-keyed rule's tests are exactly its key: `-d A/32 -p P` and one -m tcp / udp
 * (matching P; buildIndex keys no other port match) with a single destination port and nothing else to test (comments only): then a packet
 * with that (dst, proto, dport) and the header the match reads passes it, so the index need not call its
 * tests (their closures, each a cold object in a big table).
 */
function fullyKeyed(r: Rule): boolean {
  if (r.src || r.inIface || r.outIface || r.fragment || !r.dst || r.dst.neg || r.dst.value.prefix !== 32) return false;
  if (!r.proto || r.proto.neg) return false;
  const want = r.proto.value === 6 ? 'tcp' : r.proto.value === 17 ? 'udp' : null;
  if (want === null) return false;
  let ports = 0;
  for (const m of r.matches) {
    if (m.kind === 'comment') continue;
    if (m.kind !== want || m.sport || !m.dport || m.dport.neg || m.dport.value.min !== m.dport.value.max) return false;
    if (m.kind === 'tcp' && m.tcpFlags) return false;
    ports++;
  }
  return ports === 1;
}

const EMPTY: number[] = [];
/** passes as a module constant (this module's own export is a Cell load and check at each use in optimized code). */
const passesHere = passes;

/** The first k < n with lists[start + k] >= x (n when none). */
function lowerBoundIn(lists: Int32Array, start: number, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lists[start + mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
