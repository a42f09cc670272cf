// net/neighbour-recent — a neighbour table's recent-entry cache (NeighbourTable.find), one flat array. Layer: net.
// Split from net/neighbour.ts.
import type { NetDevice } from '../link/device.js';
import type { Ipv4 } from '../wire/types.js';
import { type NeighEntry, type RecentSlots, untilOf } from './neighbour-entry.js';

/** Slots of a neighbour table's recent-entry cache when it is made (direct-mapped by device and address). */
const RECENT_SLOTS = 4;
/** The most slots it grows to (a node sending to the flannel gateways of hundreds of nodes). */
const RECENT_MAX_SLOTS = 1024;
/** Lookups between two reviews of the cache's conflict rate. */
const RECENT_REVIEW = 4096;
/** Words before the first slot (shift, lookups, conflicts) and a slot's words. */
const HEAD = 3;
const STRIDE = 6;

/*
 * Entries a table found lately, by (device, address), in one array of small integers and pointers:
 * [0] 32 - log2(slots), [1] lookups since the last review (modulo RECENT_REVIEW), [2] conflict misses since
 * then; slot i at HEAD + STRIDE * i: the entry (null: empty), its key (`ip | 0`), its device's ifindex
 * (-1: empty), and the device copy of it (NetDevice.neighUntil, neighMacHi, neighMacLo: what
 * copyToDevice would write). A lookup that finds its entry here copies the slot to the device and reads
 * no line of the entry (two or three lines, 88 bytes from its map to its MAC, cold in a big cluster: a
 * node's flannel.1 sends to one of ~300 VTEPs, its eth0 to as many nodes) nor of a cache object. The
 * slot's copy is kept as the device's is (NeighEntry.publish writes both; the entry knows its slot,
 * NeighEntry.recentIn/recentAt): never later than the entry's deadline, behind it after TCP's
 * confirmations until a send finds it expired (readyEntry, which publishes again). A cache whose lookups
 * keep evicting each other (more than 1 in 16 of RECENT_REVIEW lookups a conflict) gets four times the
 * slots, up to RECENT_MAX_SLOTS; it holds only entries of the table (dropped whenever one leaves), so
 * its size changes no answer.
 */

/** A new cache of `n` empty slots (n a power of two): built by push, elements of one kind from the start. */
export function newRecent(n = RECENT_SLOTS): RecentSlots {
  const c: RecentSlots = [32 - Math.log2(n), 0, 0];
  for (let i = 0; i < n; i++) c.push(null, 0, -1, 0, 0, 0);
  return c;
}

/** The number of slots of `c`. */
export function recentSlotCount(c: RecentSlots): number {
  return (c.length - HEAD) / STRIDE;
}

/** Where the slot of (dev, ip) starts in `c`. */
export function recentAt(c: RecentSlots, dev: NetDevice, ip: Ipv4): number {
  return HEAD + STRIDE * (Math.imul(ip ^ dev.ifindex, 0x9e3779b1) >>> (c[0] as number));
}

/**
 * Counts a lookup; every RECENT_REVIEW lookups the conflict count starts again. Without a branch:
 * a store only the 4096th lookup makes would have no type feedback when the hot path is
 * optimized, and reaching it would discard that code.
 */
export function recentCount(c: RecentSlots): void {
  const n = ((c[1] as number) + 1) & (RECENT_REVIEW - 1);
  c[1] = n;
  c[2] = n === 0 ? 0 : c[2]!;
}

/** The entry of (dev, ip) at slot `at` (recentAt), copied to `dev` as its last entry for table `owner`; null when the slot holds another. */
export function recentHit(c: RecentSlots, at: number, dev: NetDevice, ip: Ipv4, owner: number): NeighEntry | null {
  if (c[at + 1] !== (ip | 0) || c[at + 2] !== dev.ifindex) return null;
  const r = c[at] as NeighEntry;
  // On change only: a pointer stored into an old object is a write barrier (two page headers read).
  if (dev.neighLast !== r) {
    dev.neighLast = r;
    dev.neighKey = ip | 0;
    dev.neighOwner = owner;
    dev.neighUntil = c[at + 3] as number;
    dev.neighMacHi = c[at + 4] as number;
    dev.neighMacLo = c[at + 5] as number;
  }
  return r;
}

/** Keeps `e` in its slot; returns the cache, a new one of four times the slots when too many lookups found another entry there. */
export function recentPut(c: RecentSlots, e: NeighEntry): RecentSlots {
  let at = recentAt(c, e.dev, e.ip);
  if (c[at] !== null) {
    const k = (c[2] as number) + 1;
    c[2] = k;
    if (k * 16 > RECENT_REVIEW && recentSlotCount(c) < RECENT_MAX_SLOTS) {
      c = grow(c);
      at = recentAt(c, e.dev, e.ip);
    }
  }
  writeSlot(c, at, e);
  return c;
}

/** Four times the slots of `c`, its entries in their new slots (counts from zero). */
function grow(c: RecentSlots): RecentSlots {
  const g = newRecent(recentSlotCount(c) * 4);
  for (let at = HEAD; at < c.length; at += STRIDE) {
    const e = c[at] as NeighEntry | null;
    if (e !== null) writeSlot(g, recentAt(g, e.dev, e.ip), e);
  }
  return g;
}

function writeSlot(c: RecentSlots, at: number, e: NeighEntry): void {
  c[at] = e;
  c[at + 1] = e.key;
  c[at + 2] = e.dev.ifindex;
  c[at + 3] = untilOf(e);
  c[at + 4] = e.macHi;
  c[at + 5] = e.macLo;
  e.recentIn = c;
  e.recentAt = at;
}
