// core/wheel-slot — the timing wheel's slot storage helpers (core/scheduler's wheel). Layer: core.
// A wheel slot's events sit in one flat array shared by every slot, SLOT_INLINE a slot, and the rest of a
// slot in an overflow array of its own (kept once made, entries past the count undefined); an opened slot's
// events are sorted by (time, seq) where they are. One flat array, not an array per slot: a timer's insert,
// cancel and its slot's opening read the count's line and the events' own line, where a slot's array was
// two more lines (the array object and its backing store's header, each cold by the time a slot 4 s of
// timers away is touched again), and every store of an event was a write barrier reading the slot array's
// page header (one page for the flat array).
import type { SimEvent } from './event.js';

/**
 * Events a wheel slot holds in the flat array, its later ones in its overflow array. bench/scale's
 * workload (100 HTTP flows at 10 requests a second) opens slots of 3.6 events on average, 8 or fewer in
 * 98.6 % of them.
 */
export const SLOT_INLINE = 8;

/** Slots up to this many events are insertion-sorted when opened; larger ones (a burst of timers within one slot) by Array.prototype.sort. */
const SORT_INSERTION_MAX = 32;

/** (time, seq) order: a total order, so any sort gives the same result. */
function byTimeSeq(x: SimEvent, y: SimEvent): number {
  return x.time - y.time || x.seq - y.seq;
}

/** Stores event j + SLOT_INLINE of slot k in the slot's overflow array (made on first use; j at most one past its end). */
export function overflowPut(over: (SimEvent[] | undefined)[], k: number, j: number, ev: SimEvent): void {
  let arr = over[k];
  if (arr === undefined) arr = over[k] = [];
  if (j < arr.length) arr[j] = ev;
  else arr.push(ev);
}

/**
 * The m (> SLOT_INLINE) events of slot k, taken out of the flat array `wv` (at `base`) and the slot's
 * overflow array (both left undefined there) into an array of their own, sorted by (time, seq) when
 * there are more than insertion sorts (sortSlot leaves those to the caller's sortSlot).
 */
export function gatherSlot(wv: (SimEvent | undefined)[], over: SimEvent[], base: number, m: number): SimEvent[] {
  const all = new Array<SimEvent>(m);
  for (let i = 0; i < m; i++) {
    let ev: SimEvent;
    if (i < SLOT_INLINE) {
      ev = wv[base + i]!;
      wv[base + i] = undefined;
    } else {
      ev = over[i - SLOT_INLINE]!;
      over[i - SLOT_INLINE] = undefined as unknown as SimEvent;
    }
    ev.slot = -1;
    all[i] = ev;
  }
  return m > SORT_INSERTION_MAX ? all.sort(byTimeSeq) : all;
}

/** Sorts arr[base .. base + m) by (time, seq) in place when m is small enough for an insertion sort (gatherSlot sorted a larger one). */
export function sortSlot(arr: (SimEvent | undefined)[], base: number, m: number): void {
  if (m > SORT_INSERTION_MAX) return;
  // Insertion sort: a slot mostly holds a few events, often in order already.
  for (let i = 1; i < m; i++) {
    const ev = arr[base + i]!;
    const t = ev.time;
    const q = ev.seq;
    let j = i - 1;
    for (; j >= 0; j--) {
      const o = arr[base + j]!;
      if (o.time < t || (o.time === t && o.seq < q)) break;
      arr[base + j + 1] = o;
    }
    arr[base + j + 1] = ev;
  }
}
