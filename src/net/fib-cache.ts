// net/fib-cache — a namespace's cache of route lookups (Namespace.fibLookup, outputSource, isLocal).
// Layer: net. Moved out of net/namespace.ts whole (it only needs Route); the namespace makes one on
// its first lookup, so a namespace that never routes a packet has none.
import type { Ipv4 } from '../wire/types.js';
import type { Route } from './fib.js';

/** Slots of a namespace's route lookup cache when it is made (direct-mapped by a hash of the destination). */
const FIB_CACHE_SLOTS = 16;
/** The most slots a cache grows to (a node that talks to thousands of destinations: ~150 KB). */
const FIB_CACHE_MAX_SLOTS = 4096;
/** Lookups between two reviews of a cache's conflict rate. */
const FIB_CACHE_REVIEW = 4096;

/**
 * The answers of recent route lookups (the kernel caches the result of a lookup in the socket's
 * and the skb's dst; here a direct-mapped table by destination), valid while no routing table
 * changed and no device went up or down (`epoch`). A namespace starts with FIB_CACHE_SLOTS slots;
 * one whose route and source lookups keep evicting each other (more than 1 in 16 of FIB_CACHE_REVIEW
 * lookups a conflict: the node of a client talking to hundreds of Services and pods) gets four times
 * as many, up to FIB_CACHE_MAX_SLOTS; isLocal's slots grow with them. The answers do not depend on the size, only how often they are computed.
 */
export class FibCache {
  epoch = -1;
  /** 32 - log2(slots): the slot of an address is the top bits of its Fibonacci hash. */
  shift: number;
  /**
   * Route answers: slot i holds its destination at 2i, as a signed 32-bit integer (a small integer
   * to V8, stored in the array itself; 0 when empty, so the key compare sees small integers only and
   * is inlined: 0.0.0.0 is never cached), and the route (or null: none) at 2i + 1, so a lookup reads
   * one array and one line of it, not a key array and a value array: what a node one of a thousand
   * pays per packet when its cache has gone cold.
   */
  routes: (number | Route | null)[];
  /** The local routes as output sees them (dev lo), by route. */
  loRoutes: Map<Route, Route> | null = null;
  /** The source address chosen for a destination (outputSource), likewise: destination at 2i (0 empty), source at 2i + 1 (both signed 32-bit). */
  srcs: number[];
  /**
   * isLocal's answers by address, in slots of their own (ARP asks about every neighbour): slot i holds the address
   * at 2i (NaN: empty) and 1 (local) or 0 at 2i + 1, in one array of unboxed doubles (emptyLocals). Two typed
   * arrays were four objects' lines a cold lookup (each header 80 bytes, its data pointer past the map's line,
   * then each one's data: ~3 LL misses a request in the scale window's -m addrtype); this is the array's header
   * and one line of its elements.
   */
  locals: number[];
  /** Lookups and conflict misses (the slot held another address) since the last review. */
  lookups = 0;
  conflicts: number;

  constructor() {
    // Declared, then set here (stored twice): grow() replaces these mid-run, and a field V8 still took
    // for a constant would take with it the optimized code of every function that inlined a lookup.
    this.shift = 32 - Math.log2(FIB_CACHE_SLOTS);
    this.routes = emptySlots(FIB_CACHE_SLOTS);
    this.srcs = Array.from({ length: 2 * FIB_CACHE_SLOTS }, () => 0);
    this.locals = emptyLocals(FIB_CACHE_SLOTS);
    this.conflicts = 0;
  }

  /**
   * Counts a lookup; every FIB_CACHE_REVIEW lookups the conflict count starts again. Without a branch:
   * a call only the 4096th lookup makes has no type feedback when the hot path is optimized, and
   * reaching it would discard that code.
   */
  count(): void {
    const n = (this.lookups + 1) & (FIB_CACHE_REVIEW - 1);
    this.lookups = n;
    this.conflicts = n === 0 ? 0 : this.conflicts;
  }

  /** The slot of an address. */
  slot(addr: Ipv4): number {
    return Math.imul(addr, 0x9e3779b1) >>> this.shift;
  }

  /** Empties the cache when the tables or the devices changed since it was filled. */
  check(epoch: number): void {
    if (this.epoch === epoch) return;
    clearSlots(this.routes);
    for (let i = 0; i < this.locals.length; i += 2) this.locals[i] = NaN;
    this.srcs.fill(0);
    this.loRoutes = null;
    this.epoch = epoch;
  }

  /** Counts a lookup that missed; one whose slot held another address (`key` not 0) is a conflict. */
  missed(key: number): void {
    if (key !== 0 && ++this.conflicts * 16 > FIB_CACHE_REVIEW && this.locals.length < 2 * FIB_CACHE_MAX_SLOTS) this.grow();
  }

  /** Every FIB_CACHE_REVIEW lookups: the conflict count starts again. */
  review(): void {
    this.lookups = 0;
    this.conflicts = 0;
  }

  /** Four times the slots, the entries moved to their new slots. */
  private grow(): void {
    const slots = this.locals.length / 2;
    const n = slots * 4;
    const { routes, srcs, locals } = this;
    this.shift -= 2;
    this.routes = emptySlots(n);
    this.srcs = Array.from({ length: 2 * n }, () => 0);
    this.locals = emptyLocals(n);
    for (let i = 0; i < slots; i++) {
      const k = routes[2 * i] as number;
      if (k !== 0) {
        const j = 2 * this.slot(k);
        this.routes[j] = k;
        this.routes[j + 1] = routes[2 * i + 1]!;
      }
      const s = srcs[2 * i]!;
      if (s !== 0) {
        const j = 2 * this.slot(s);
        this.srcs[j] = s;
        this.srcs[j + 1] = srcs[2 * i + 1]!;
      }
      const l = locals[2 * i]!;
      if (l === l) {
        const j = 2 * this.slot(l);
        this.locals[j] = l;
        this.locals[j + 1] = locals[2 * i + 1]!;
      }
    }
    this.review();
  }
}

/** `n` empty route cache slots: key 0 and no route in each. */
function emptySlots(n: number): (number | Route | null)[] {
  const a: (number | Route | null)[] = [];
  for (let i = 0; i < n; i++) a.push(0, null); // (packed, not holey)
  return a;
}

/** `n` empty isLocal slots (address NaN, answer 0): doubles from the literal's first element on, packed. */
function emptyLocals(n: number): number[] {
  const a = [NaN, 0];
  for (let i = 1; i < n; i++) a.push(NaN, 0);
  return a;
}

/** Empties route cache slots in place. */
function clearSlots(a: (number | Route | null)[]): void {
  for (let i = 0; i < a.length; i += 2) {
    a[i] = 0;
    a[i + 1] = null;
  }
}
