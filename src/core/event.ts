// core/event — one scheduled event (core/scheduler's record). Layer: core.
import { TIME_ZERO, type TimeNs } from './time.js';

/** A callback taking up to two arguments, so hot paths pass data without allocating closures. */
export type EventFn = (a: any, b: any) => void;

/**
 * Pending foreground events of one scheduler (not cancelled, not yet run), cancelled events still
 * queued, and the removal of a cancelled event from the timing wheel (the scheduler itself).
 */
export interface Live {
  foreground: number;
  cancelled: number;
  unwheel(ev: SimEvent): void;
  readonly spares: { keep(ev: SimEvent): void };
}

/** SimEvent.pix of a dropped event still queued (lazily cancelled): the scheduler's take() keeps it as a spare when it pops it. */
export const DROPPED_PIX = -2;

/**
 * One scheduled event. `cancel()` marks it: an event in the timing wheel leaves the queue at once,
 * one elsewhere is skipped when popped (lazy cancel). A background event (periodic housekeeping such
 * as the kubelet's probes, and what it causes) does not keep a run without a duration alive: see
 * Simulator.run.
 */
export class SimEvent {
  // Every field starts with a value of its kind (a double, a small integer, a function, a boolean):
  // a field whose first value is undefined (a bare declaration, as constructor parameter properties
  // compile to) is a generic one, whose every read is checked and converted (background took a full
  // ToBoolean, seq a number check, at each place and pop).
  // Field order: what Simulator.run reads and writes of an event it runs (the map, then cancelled, bg, fn,
  // a, b, pix, nextFree; take() writes popped) comes first, in as few cache lines as the object allows: a
  // posted event is old and cold by the time it runs in a big world.
  cancelled = false;
  /**
   * `background` as 0/1: a boolean is a pointer (the true/false objects), and storing one into an event
   * (each post) and from it into the simulator (each event run) is a write barrier, two page headers
   * read; a small integer is stored plain.
   */
  private bg = 0;
  fn: EventFn = noopHere;
  a: unknown = undefined;
  b: unknown = undefined;
  /**
   * Posted (Scheduler.post) events are pooled: nobody outside the scheduler holds one, so after it runs
   * the simulator hands it back (Scheduler.release) and a later post reuses the object. `pix`: its index
   * in the scheduler's pool (-1: not pooled); `nextFree`: while it is free, the next free one's (-1: none).
   * Indices, not pointers: a small integer is stored without a write barrier.
   */
  pix = -1;
  nextFree = -1;
  /** Taken off the queue to run (a later cancel() changes nothing). */
  popped = false;
  /**
   * When it runs (initialised with TIME_ZERO so the field is a double from the first event on). A double
   * field is a box of its own (a second object, a line of its own once promoted): Simulator.run takes
   * the time from the scheduler's key arrays instead (Scheduler.takenT).
   */
  time: TimeNs = TIME_ZERO;
  seq = 0;
  /** Posted, and so reused once it has run (see `pix`). */
  get pooled(): boolean {
    return this.pix >= 0;
  }
  get background(): boolean {
    return this.bg !== 0;
  }
  set background(v: boolean) {
    this.bg = v ? 1 : 0;
  }
  /** The background flag as 0/1 (Simulator.run copies it without a barrier). */
  get bgBit(): number {
    return this.bg;
  }
  /** The wheel slot holding the event (-1: not in the wheel) and its index in that slot's array. */
  slot = -1;
  idx = 0;
  private readonly live: Live;
  constructor(time: TimeNs, seq: number, fn: EventFn, a: unknown, b: unknown, background: boolean, live: Live) {
    this.time = time;
    this.seq = seq;
    this.fn = fn;
    this.a = a;
    this.b = b;
    this.background = background;
    this.live = live;
  }
  /**
   * What the constructor sets, again, for an event that ran (taken off the queue, not pooled) and that only its caller holds:
   * Scheduler.insertSeqStaged places it as the new event it stands for (a TIME_WAIT queue's next head, transport/tcp/tw-queue).
   */
  renew(time: TimeNs, seq: number, fn: EventFn, a: unknown, b: unknown, background: boolean): this {
    this.popped = this.cancelled = false;
    this.time = time;
    this.seq = seq;
    this.fn = fn;
    this.a = a;
    this.b = b;
    this.background = background;
    return this;
  }
  /**
   * The pending event runs fn(a) instead of what it was scheduled with, at the same time and the same
   * place in the queue (a TIME_WAIT record taking over its socket's timer: transport/tcp/timewait.ts).
   */
  retarget<A>(fn: (a: A) => void, a: A): void {
    this.fn = fn;
    this.a = a;
  }
  /**
   * The holder lets go of this event for good (it keeps no reference to it, and no one else but the
   * scheduler holds one): cancelled if still pending, and the object is placed again by a later schedule
   * instead of a new one (core/spare-events). Not for an event someone else may still cancel or read.
   */
  drop(): void {
    if (this.pix !== -1) return; // (posted, or dropped before)
    if (this.popped) return this.live.spares.keep(this);
    if (this.cancelled) return; // (cancelled earlier: it may still be queued, and nothing says where)
    const wheeled = this.slot >= 0;
    this.cancel(); // (a wheel slot lets go of it now; elsewhere it waits to be popped)
    if (wheeled) this.live.spares.keep(this);
    else this.pix = DROPPED_PIX;
  }
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.popped) return;
    // What it would have run goes now, so a cancelled timer (TCP's, a request's timeout) that stays
    // queued until its time (lazy cancel, outside the wheel) keeps no socket or request alive meanwhile.
    this.fn = noopHere;
    this.a = undefined;
    this.b = undefined;
    if (!this.background) this.live.foreground--;
    if (this.slot >= 0) this.live.unwheel(this);
    else this.live.cancelled++;
  }
}

export function noop(): void {}
/** noop through a module constant (an export is read from its cell at each use, a constant is folded: session 38). */
const noopHere = noop;

