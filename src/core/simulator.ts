// core/simulator — one simulation instance (no singleton). Layer: core.
// ns-3's Simulator: a clock, a future event list, and run() that pops events in (time, seq) order.
import { RngFactory } from './rng.js';
import { Scheduler, type EventFn, type SimEvent } from './scheduler.js';
import { TIME_ZERO, type TimeNs } from './time.js';

export interface RunLimits {
  /** Stop before executing any event later than this time (the clock is left at `until`). */
  until?: TimeNs;
  /** Stop after executing this many events. */
  maxEvents?: number;
  /** Called every `progressEvery` events with the current time (for a TTY progress bar). */
  onProgress?: (now: TimeNs, events: number) => void;
  progressEvery?: number;
}

export type StopReason = 'idle' | 'until' | 'max-events' | 'stopped';

/** The clock and event loop of one run. */
export class Simulator {
  private readonly sched = new Scheduler();
  private _now: TimeNs = TIME_ZERO;
  private _events = 0;
  private stopRequested = false;
  /** 1 while a background event runs, else 0 (a small integer: see SimEvent.bgBit). */
  private bg = 0;
  /** True while a background event runs: what it schedules is background too (set per event by run, and false again when run returns; between two events it still holds the last one's flag, e.g. in onProgress). */
  private get background(): boolean {
    return this.bg !== 0;
  }
  private set background(v: boolean) {
    this.bg = v ? 1 : 0;
  }
  readonly rng: RngFactory;

  constructor(seed = 1) {
    this.rng = new RngFactory(seed);
  }

  /** Current simulated time in ns. */
  get now(): TimeNs {
    return this._now + 0; // TIME_ZERO (-0) reads as 0
  }
  /** Events executed so far (cancelled events are not counted). */
  get eventsExecuted(): number {
    return this._events;
  }
  /** Events waiting, with cancelled ones not yet dropped (a timer in a wheel slot not yet opened leaves at cancel). A queue that keeps many expiries behind one event (TCP TIME_WAIT) counts as that one event. */
  get pending(): number {
    return this.sched.size;
  }

  /**
   * Schedules fn(a, b) after `delay` ns (integer, >= 0). An event scheduled while a background event
   * runs (or inside inBackground) is background too: what housekeeping causes is housekeeping.
   */
  schedule(delay: TimeNs, fn: EventFn, a?: unknown, b?: unknown): SimEvent {
    if (!(delay >= 0)) throw new RangeError(`negative or NaN delay ${delay}`);
    const sched = this.sched;
    sched.at[0] = this._now + Math.round(delay); // (not an argument: see Scheduler.postStaged)
    return sched.insertStaged(fn, a, b, this.background);
  }
  /** Schedules fn(a, b) at absolute time `at` (not before now). */
  scheduleAt(at: TimeNs, fn: EventFn, a?: unknown, b?: unknown): SimEvent {
    if (!(at >= this._now)) throw new RangeError(`cannot schedule in the past: ${at} < ${this._now}`);
    const sched = this.sched;
    sched.at[0] = Math.round(at);
    return sched.insertStaged(fn, a, b, this.background);
  }
  /**
   * scheduleAt for a timer that replaces its pending event `ev` (null: none): the same as
   * `ev?.cancel()` then scheduleAt(at, fn, a, b) — same order, same counts — but the pending event
   * object is moved and returned when it can be (Scheduler.move), so re-arming allocates nothing.
   * The caller keeps the returned event and no other reference to `ev`.
   */
  rescheduleAt(ev: SimEvent | null, at: TimeNs, fn: EventFn, a?: unknown, b?: unknown): SimEvent {
    if (!(at >= this._now)) throw new RangeError(`cannot schedule in the past: ${at} < ${this._now}`);
    const sched = this.sched;
    sched.at[0] = Math.round(at);
    if (ev === null) return sched.insertStaged(fn, a, b, this.background);
    return sched.moveStaged(ev, fn, a, b, this.background);
  }
  /**
   * Schedules fn(a, b) after `delay` ns as schedule does, for an event the caller never cancels nor
   * keeps (a frame in flight): no handle is returned, and the event object is reused once it has run.
   */
  post(delay: TimeNs, fn: EventFn, a?: unknown, b?: unknown): void {
    if (!(delay >= 0)) throw new RangeError(`negative or NaN delay ${delay}`);
    const sched = this.sched;
    sched.at[0] = this._now + Math.round(delay); // (not an argument: see Scheduler.postStaged)
    sched.postStaged(fn, a, b, this.background);
  }
  /** post at absolute time `at` (not before now), as scheduleAt. */
  postAt(at: TimeNs, fn: EventFn, a?: unknown, b?: unknown): void {
    if (!(at >= this._now)) throw new RangeError(`cannot schedule in the past: ${at} < ${this._now}`);
    const sched = this.sched;
    sched.at[0] = Math.round(at);
    sched.postStaged(fn, a, b, this.background);
  }
  /**
   * postAt at the time the caller wrote to `postTime[0]` just before (no other call between): a time
   * handed to a call V8 does not inline is a new heap number (NIC transmitters' queued frames).
   */
  postAtStaged(fn: EventFn, a?: unknown, b?: unknown): void {
    const sched = this.sched;
    const at = sched.at[0]!;
    if (!(at >= this._now)) throw new RangeError(`cannot schedule in the past: ${at} < ${this._now}`);
    sched.at[0] = Math.round(at);
    sched.postStaged(fn, a, b, this.background);
  }
  /** Where postAtStaged reads its time (the scheduler's staging cell). */
  get postTime(): Float64Array {
    return this.sched.at;
  }
  /**
   * The sequence number an event scheduled now would get, taken now (see scheduleReserved). For a caller that queues many timers itself and schedules only
   * the earliest (TCP's TIME_WAIT expiries): each still runs where its own event would have.
   */
  reserveSeq(): number {
    return this.sched.reserveSeq();
  }
  /** True while a background event runs (what it schedules now is background). */
  get backgroundNow(): boolean {
    return this.background;
  }
  /** scheduleAt with a sequence number from reserveSeq and the background flag of that moment; `reuse`: an event of the caller's that ran, placed anew instead of a new one (Scheduler.insertSeqStaged). */
  scheduleReserved(at: TimeNs, seq: number, background: boolean, fn: EventFn, a?: unknown, b?: unknown, reuse: SimEvent | null = null): SimEvent {
    if (!(at >= this._now)) throw new RangeError(`cannot schedule in the past: ${at} < ${this._now}`);
    const sched = this.sched;
    sched.at[0] = Math.round(at);
    return sched.insertSeqStaged(seq, fn, a, b, background, reuse);
  }
  /** Schedules a background event: periodic housekeeping that does not keep a run without a duration going. */
  scheduleBackground(delay: TimeNs, fn: EventFn, a?: unknown, b?: unknown): SimEvent {
    if (!(delay >= 0)) throw new RangeError(`negative or NaN delay ${delay}`);
    const sched = this.sched;
    sched.at[0] = this._now + Math.round(delay);
    return sched.insertStaged(fn, a, b, true);
  }
  /** Runs fn now with everything it schedules marked background. */
  inBackground(fn: () => void): void {
    const was = this.background;
    this.background = true;
    try {
      fn();
    } finally {
      this.background = was;
    }
  }
  /** Asks run() to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs until no events remain, `until` is reached, or `maxEvents` have run. Without `until`, a run
   * whose remaining events are all background (probes and what they cause) is idle: it stops after
   * the last foreground event, as it would without them.
   */
  run(limits: RunLimits = {}): StopReason {
    const why = this.loop(limits);
    this.background = false; // (each event sets it for its own run: not reset after every one)
    return why;
  }

  private loop(limits: RunLimits): StopReason {
    const until = limits.until ?? Infinity;
    const maxEvents = limits.maxEvents ?? Infinity;
    const every = limits.progressEvery ?? 100_000;
    const onProgress = limits.onProgress;
    const sched = this.sched;
    this.stopRequested = false;
    let ran = 0;
    for (;;) {
      if (ran >= maxEvents) return this.stopAt(until);
      if (until === Infinity && sched.foreground === 0) return 'idle';
      // The earliest event, taken off the queue unless it is after `until`.
      const ev = sched.take(until);
      if (ev === undefined) {
        if (sched.size === 0) return 'idle';
        if (until > this._now) this._now = until; // never move the clock backwards
        return 'until';
      }
      if (ev.cancelled) continue;
      this._now = sched.takenT; // (ev.time, from the key that found it: see Scheduler.takenT)
      this.bg = ev.bgBit;
      ev.fn(ev.a, ev.b);
      if (ev.pix >= 0) sched.release(ev);
      ran++;
      this._events++;
      if (onProgress !== undefined && this._events % every === 0) onProgress(this._now, this._events);
      if (this.stopRequested) return 'stopped';
    }
  }

  /** Why a run that has executed maxEvents stops: idle, until (the clock moved to it) or max-events, in that order. */
  private stopAt(until: TimeNs): StopReason {
    const ev = this.sched.peek();
    if (ev === undefined) return 'idle';
    if (until === Infinity && this.sched.foreground === 0) return 'idle';
    if (ev.time > until) {
      if (until > this._now) this._now = until;
      return 'until';
    }
    return 'max-events';
  }
}
