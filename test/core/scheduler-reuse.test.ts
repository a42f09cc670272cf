// Scheduler.insertSeqStaged's `reuse` (SimEvent.renew): an inserted event that ran is placed again as the
// new event it stands for (same key, same order among the others, counted as foreground or background
// alike), and only such an event: a queued one, a pooled one or none gives a new object.
import { describe, expect, it } from 'vitest';
import { Scheduler, type SimEvent } from '../../src/core/scheduler.js';

const noop = (): void => {};

function order(s: Scheduler): unknown[] {
  const out: unknown[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push(ev.a);
  return out;
}

/** Inserts at (time, reserved seq) through insertSeqStaged, reusing `reuse` when given. */
function insertSeq(s: Scheduler, time: number, seq: number, a: unknown, background: boolean, reuse: SimEvent | null): SimEvent {
  s.at[0] = time;
  return s.insertSeqStaged(seq, noop, a, undefined, background, reuse);
}

describe('Scheduler.insertSeqStaged reuse', () => {
  it('places an event that ran again, with its new key, in the order a new event would run', () => {
    for (const time of [3, 5_000_000, 20_000_000_000]) {
      // (near structures, the wheel, beyond the horizon)
      const a = new Scheduler();
      const b = new Scheduler();
      const seqA = a.reserveSeq();
      const seqB = b.reserveSeq();
      for (const s of [a, b]) {
        s.insert(1, noop, 'first');
        for (let i = 0; i < 5; i++) s.insert(time + (i % 2), noop, `x${i}`);
      }
      const ranA = a.insert(0, noop, 'old', undefined, true);
      b.insert(0, noop, 'old', undefined, true);
      expect(a.pop()).toBe(ranA);
      expect(b.pop()!.a).toBe('old');
      const fg = a.foreground;
      const again = insertSeq(a, time, seqA, 'reserved', false, ranA);
      const fresh = insertSeq(b, time, seqB, 'reserved', false, null);
      expect(again).toBe(ranA);
      expect(again.popped).toBe(false);
      expect(again.background).toBe(false);
      expect(a.foreground).toBe(fg + 1);
      expect([again.time, again.seq, again.a]).toEqual([fresh.time, fresh.seq, fresh.a]);
      expect(order(a)).toEqual(order(b));
    }
  });

  it('a reused event can be cancelled as a new one (leaves the queue, counts come back)', () => {
    const s = new Scheduler();
    const seq = s.reserveSeq();
    const ran = s.insert(0, noop, 'old');
    s.pop();
    const ev = insertSeq(s, 10_000_000, seq, 'again', false, ran);
    expect(s.foreground).toBe(1);
    ev.cancel();
    expect(s.foreground).toBe(0);
    expect(order(s)).toEqual([]);
  });

  it('never reuses a queued or a pooled event', () => {
    const s = new Scheduler();
    const queued = s.insert(50, noop, 'queued');
    const seq = s.reserveSeq();
    const other = insertSeq(s, 60, seq, 'new', false, queued);
    expect(other).not.toBe(queued);
    s.post(1, noop, 'posted', undefined, false);
    const posted = s.pop()!;
    expect(posted.pooled).toBe(true);
    const seq2 = s.reserveSeq();
    expect(insertSeq(s, 70, seq2, 'new2', false, posted)).not.toBe(posted);
    s.release(posted);
    expect(order(s)).toEqual(['queued', 'new', 'new2']);
  });
});
