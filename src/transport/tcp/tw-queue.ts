// transport/tcp/tw-queue — a layer's TIME_WAIT bookkeeping beside its table (timewait.ts holds the
// records): the expiry queues (TwQueue: FIFO lanes as rings and a heap, one scheduled event for the
// earliest record) and the free list of records that went, for reuse (TwState). Layer: transport
// (imports core and sibling tcp/ files). Mirrors inet_timewait_sock.c's timer wheel
// (inet_twsk_schedule) and the tw slab.
import type { SimEvent } from '../../core/scheduler.js';
import type { TimeNs } from '../../core/time.js';
import type { TcpLayer } from './layer.js';
import { twTimer as twTimerImported, type TimeWaitSock } from './timewait.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const twTimer = twTimerImported;
const stateOfHere = stateOf;

/**
 * The TIME_WAIT expiries of one layer (foreground or background ones): records keyed by the (time, seq)
 * their own timer event would have had, and one scheduled event for the earliest. A minute of
 * connections in TIME_WAIT costs no SimEvent each (inet_twsk_schedule's timer wheel in Linux); each
 * expiry still runs exactly where its own event would have run (same time, same sequence number:
 * Simulator.reserveSeq), and counts as one executed event. Foreground and background records queue
 * apart, so a run without a duration ends when it did (only foreground events keep it).
 *
 * Records mostly join in key order (each joins when its inherited event fires, about an RTO after the
 * segment that started its minute; RTOs differ a little, so neighbours swap), so a record goes to the
 * FIFO lane whose last key is the latest before its own: joining and expiring cost no sift and touch no
 * other record (a heap's sift-down wrote the index of ~log2(n) cold records per expiry). A record no
 * lane takes goes to a binary heap; the head is the least of the lanes' fronts and the heap's top. A
 * record leaving a lane early leaves an empty slot there, passed when it reaches the front.
 */
export class TwQueue {
  private readonly lanes: TwLane[] = Array.from({ length: TW_LANES }, (_, k) => new TwLane(k));
  // The heap of records that fit no lane.
  private t = new Float64Array(16);
  private s = new Float64Array(16);
  private readonly recs: TimeWaitSock[] = [];
  /** The event scheduled for the head (its time and seq are the head's key), or null when empty. */
  private headEv: SimEvent | null = null;
  /** While `fire` runs: the head event that fired, which the next head event reuses (no new event an expiry). */
  private spentEv: SimEvent | null = null;
  /** The lane whose front is the head (-1: the heap's top); set by syncHead. */
  private headLane = -1;
  /** The lane the last record joined (null: the heap took it, or none yet). */
  private lastLane: TwLane | null = null;

  constructor(
    private readonly layer: TcpLayer,
    private readonly background: boolean,
  ) {}

  push(tw: TimeWaitSock, time: TimeNs, seq: number): void {
    // Records mostly join in key order: the lane the last one joined takes this one when its key is
    // later than that lane's last (any lane ending before the key keeps its order; which one only
    // decides where the record waits, never when it expires). Such a record is never the new head:
    // every operation ends with syncHead, which passes a lane's emptied front slots, so a lane with
    // slots left has a live front, at or after the head and before this key. Only while `fire` runs
    // an owner's timer (no head event then) is the head looked for again.
    const last = this.lastLane;
    if (last !== null) {
      if (last.tail > last.head) {
        const i = (last.tail - 1) & last.mask;
        const lt = last.t[i]!;
        if (time > lt || (time === lt && seq > last.s[i]!)) {
          tw.queued = 16 * last.append(tw, time, seq) + 4 * last.index + LANE + (this.background ? 1 : 0);
          if (this.headEv === null) this.syncHead();
          return;
        }
      }
    }
    // The lane whose last key is the latest one before this key (the scheduler's lanes do the same):
    // an empty lane only when none fits.
    let best: TwLane | null = null;
    let bestT = 0;
    let bestS = 0;
    let empty: TwLane | null = null;
    for (let k = 0; k < TW_LANES; k++) {
      const l = this.lanes[k]!;
      if (l.tail === l.head) {
        empty ??= l;
        continue;
      }
      const i = (l.tail - 1) & l.mask;
      const lt = l.t[i]!;
      const ls = l.s[i]!;
      if (time > lt || (time === lt && seq > ls)) {
        if (best === null || lt > bestT || (lt === bestT && ls > bestS)) {
          best = l;
          bestT = lt;
          bestS = ls;
        }
      }
    }
    const lane = best ?? empty;
    this.lastLane = lane;
    if (lane !== null) tw.queued = 16 * lane.append(tw, time, seq) + 4 * lane.index + LANE + (this.background ? 1 : 0);
    else this.heapPush(tw, time, seq);
    this.syncHead();
  }

  /** Takes `tw` out (it goes before its time: RST, reuse, reopen, abort). */
  remove(tw: TimeWaitSock): void {
    const q = tw.queued;
    tw.queued = -1;
    if ((q & LANE) === 0) this.take(q >> 2);
    else this.lanes[(q >> 2) & 3]!.clear(Math.floor(q / 16));
    this.syncHead();
  }

  /** The head's event ran: its record's timer runs (twTimer: it goes, or queues again), then the next head is scheduled. */
  static fire(q: TwQueue): void {
    q.spentEv = q.headEv;
    q.headEv = null;
    let tw: TimeWaitSock;
    if (q.headLane >= 0) {
      tw = q.lanes[q.headLane]!.shift();
      tw.queued = -1;
    } else {
      tw = q.recs[0]!;
      q.take(0);
    }
    // The next head is scheduled even when an owner's callback throws: with one event per record the
    // other records would still expire when the run is resumed.
    try {
      twTimer(tw);
    } finally {
      q.syncHead();
      q.spentEv = null;
    }
  }

  private heapPush(tw: TimeWaitSock, time: TimeNs, seq: number): void {
    const i = this.recs.length;
    if (i === this.t.length) {
      this.t = doubled(this.t);
      this.s = doubled(this.s);
    }
    this.recs.push(tw);
    this.put(i, tw, time, seq);
    this.up(i);
  }

  private take(i: number): void {
    this.recs[i]!.queued = -1;
    const last = this.recs.pop()!;
    const n = this.recs.length;
    if (i < n) {
      this.put(i, last, this.t[n]!, this.s[n]!);
      this.up(i);
      this.down(i);
    }
  }

  private put(i: number, tw: TimeWaitSock, time: TimeNs, seq: number): void {
    this.recs[i] = tw;
    this.t[i] = time;
    this.s[i] = seq;
    tw.queued = 4 * i + (this.background ? 1 : 0);
  }

  private less(i: number, j: number): boolean {
    const ti = this.t[i]!;
    const tj = this.t[j]!;
    return ti < tj || (ti === tj && this.s[i]! < this.s[j]!);
  }

  private swap(i: number, j: number): void {
    const ri = this.recs[i]!;
    const ti = this.t[i]!;
    const si = this.s[i]!;
    this.put(i, this.recs[j]!, this.t[j]!, this.s[j]!);
    this.put(j, ri, ti, si);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.recs.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) return;
      if (c + 1 < n && this.less(c + 1, c)) c++;
      if (!this.less(c, i)) return;
      this.swap(i, c);
      i = c;
    }
  }

  /** Keeps one event scheduled at the head's key (a new head, or none when empty). */
  private syncHead(): void {
    // The least of the lanes' fronts and the heap's top.
    let head = -1;
    let t = Infinity;
    let s = 0;
    if (this.recs.length > 0) {
      t = this.t[0]!;
      s = this.s[0]!;
    }
    for (let k = 0; k < TW_LANES; k++) {
      const l = this.lanes[k]!;
      if (!l.live()) continue;
      const i = l.head & l.mask;
      const lt = l.t[i]!;
      if (lt < t || (lt === t && l.s[i]! < s)) {
        t = lt;
        s = l.s[i]!;
        head = k;
      }
    }
    this.headLane = head;
    const ev = this.headEv;
    if (t === Infinity) {
      ev?.cancel();
      this.headEv = null;
      return;
    }
    if (ev !== null && ev.time === t && ev.seq === s) return;
    ev?.cancel();
    const spent = this.spentEv;
    this.spentEv = null;
    this.headEv = this.layer.stack.sim.scheduleReserved(t, s, this.background, TwQueue.fire, this, undefined, spent);
  }
}

/** Lanes per queue (records joining out of key order by up to a few RTOs spread over them; the rest go to the heap). At most 4 (TimeWaitSock.queued's 2 bits). */
const TW_LANES = 4;

/**
 * A FIFO of records in key order, a ring: a record is at a fixed absolute position (`head` ≤ it <
 * `tail`, at slot position & mask) while it waits; one gone early leaves its slot empty, skipped at the
 * front (without reading the record: the front of each lane is looked at on every push and expiry, and
 * a record is cold by then). The ring only grows (doubling, each waiting record moved once): a lane
 * that shrank and grew again would make a new slot array each time, which lives as long as its records.
 */
class TwLane {
  t = new Float64Array(16);
  s = new Float64Array(16);
  recs: (TimeWaitSock | null)[] = emptySlots(16);
  mask = 15;
  /** The absolute position of the front slot (empty ones are passed by `live`). */
  head = 0;
  /** One past the absolute position of the last slot. */
  tail = 0;

  constructor(readonly index: number) {}

  /** Appends a record; returns its absolute position. */
  append(tw: TimeWaitSock, time: TimeNs, seq: number): number {
    const at = this.tail;
    if (at - this.head > this.mask) this.grow();
    const i = at & this.mask;
    this.recs[i] = tw;
    this.t[i] = time;
    this.s[i] = seq;
    this.tail = at + 1;
    return at;
  }

  /** Empties the slot at absolute position `at` (its record went early). */
  clear(at: number): void {
    this.recs[at & this.mask] = null;
  }

  /** True when a record is waiting (empty slots at the front are passed first). */
  live(): boolean {
    const recs = this.recs;
    const mask = this.mask;
    while (this.head < this.tail && recs[this.head & mask] === null) this.head++;
    return this.head < this.tail;
  }

  /** Takes the front record. */
  shift(): TimeWaitSock {
    const i = this.head & this.mask;
    const tw = this.recs[i]!;
    this.recs[i] = null;
    this.head++;
    return tw;
  }

  /** Doubles the ring: each slot from head to tail moves to its place under the new mask. */
  private grow(): void {
    const n = 2 * (this.mask + 1);
    const mask = n - 1;
    const t = new Float64Array(n);
    const s = new Float64Array(n);
    const recs = emptySlots(n);
    for (let p = this.head; p < this.tail; p++) {
      const from = p & this.mask;
      const to = p & mask;
      t[to] = this.t[from]!;
      s[to] = this.s[from]!;
      recs[to] = this.recs[from]!;
    }
    this.t = t;
    this.s = s;
    this.recs = recs;
    this.mask = mask;
  }
}

/** `n` empty slots (an array of that length, every element null). */
function emptySlots(n: number): (TimeWaitSock | null)[] {
  const a: (TimeWaitSock | null)[] = [];
  for (let i = 0; i < n; i++) a.push(null);
  return a;
}

/**
 * TimeWaitSock.queued of a record in a lane: 16 × its absolute position + 4 × the lane + LANE (+ 1 in
 * the background queue); a heap record's is 4 × its index (+ 1).
 */
const LANE = 2;

/**
 * A layer's TIME_WAIT state beside its table (TcpLayer.twState, made on its first record): the two
 * expiry queues (foreground, background) and the records that went, for reuse: a ring from `head` (the
 * first to go) to `tail` (one past the last), each record's `expiry` the time it went. The ring only
 * grows, so giving a record back and taking one allocate nothing.
 */
export class TwState {
  readonly fg: TwQueue;
  readonly bg: TwQueue;
  private free: (TimeWaitSock | null)[] = emptySlots(16);
  private mask = 15;
  private head = 0;
  private tail = 0;

  constructor(layer: TcpLayer) {
    this.fg = new TwQueue(layer, false);
    this.bg = new TwQueue(layer, true);
  }

  /** Records free for reuse. */
  get freeCount(): number {
    return this.tail - this.head;
  }

  /** A record that went (its expiry set to now). */
  giveBack(tw: TimeWaitSock): void {
    const n = this.tail - this.head;
    if (n > this.mask) {
      const free = emptySlots(2 * n);
      for (let i = 0; i < n; i++) free[i] = this.free[(this.head + i) & this.mask]!;
      this.free = free;
      this.mask = 2 * n - 1;
      this.head = 0;
      this.tail = n;
    }
    this.free[this.tail++ & this.mask] = tw;
  }

  /** The last record to go if it went before `now`, else the first if it did; null when neither. */
  takeFree(now: TimeNs): TimeWaitSock | null {
    if (this.tail === this.head) return null;
    let i = (this.tail - 1) & this.mask;
    let tw = this.free[i]!;
    if (tw.expiry < now) this.tail--;
    else {
      i = this.head & this.mask;
      tw = this.free[i]!;
      if (tw.expiry >= now) return null;
      this.head++;
    }
    this.free[i] = null;
    return tw;
  }
}

export function stateOf(layer: TcpLayer): TwState {
  return (layer.twState ??= new TwState(layer));
}

export function queueOf(layer: TcpLayer, background: boolean): TwQueue {
  const st = stateOfHere(layer);
  return background ? st.bg : st.fg;
}

/** A copy of `a` in an array twice its length (the queues' time and sequence columns grow so). */
function doubled(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(2 * a.length);
  b.set(a);
  return b;
}
