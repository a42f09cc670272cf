// core/scheduler's wheel slots keep their arrays: an emptied slot or a consumed run keeps its backing
// store (the slot's count is kept apart from the array's length), so a slot may be served by an array
// longer than what it holds, its tail undefined. The order must not see that tail: opening such a
// slot (insertion sort up to 32 events, Array.prototype.sort above) and cancelling from it.
import { describe, expect, it } from 'vitest';
import { Scheduler, type EventFn, type SimEvent } from '../../src/core/scheduler.js';

const noop: EventFn = () => {};

function drain(s: Scheduler): { t: number; a: unknown }[] {
  const out: { t: number; a: unknown }[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push({ t: ev.time, a: ev.a });
  return out;
}

describe('Scheduler wheel slot arrays reused', () => {
  for (const m of [35, 12]) {
    it(`a slot served by a longer recycled array (${m} events in an array of 40) opens in (time, seq) order`, () => {
      // 8 slots of 16 ns: slot index 2 holds times [32, 48), and again [160, 176) one turn later.
      const s = new Scheduler(4, 3);
      for (let i = 0; i < 40; i++) s.insert(20 + (i % 7), noop, `x${i}`); // slot 1, 40 events
      s.insert(40, noop, 'y'); // slot 2
      const first = drain(s);
      expect(first).toHaveLength(41);
      // Slot 2 was opened after slot 1's run (40 long) was consumed: it now holds that array, emptied.
      // Move the clock to slot 5 so that slot 10 (index 2 again) is within the wheel's 8 slots.
      s.insert(90, noop, 'w');
      expect(drain(s)).toEqual([{ t: 90, a: 'w' }]);
      const want: { t: number; a: unknown }[] = [];
      const evs: SimEvent[] = [];
      for (let i = 0; i < m; i++) {
        const t = 160 + ((i * 5) % 16);
        evs.push(s.insert(t, noop, `z${i}`));
      }
      // Cancel two (one from the middle, one the last inserted): swap-removes within the counted part.
      evs[3]!.cancel();
      evs[m - 1]!.cancel();
      for (let i = 0; i < m; i++) if (i !== 3 && i !== m - 1) want.push({ t: evs[i]!.time, a: `z${i}` });
      want.sort((p, q) => p.t - q.t || Number(String(p.a).slice(1)) - Number(String(q.a).slice(1)));
      expect(drain(s)).toEqual(want);
      expect(s.size).toBe(0);
    });
  }

  it('keeps order over many turns of a small wheel whose slots are refilled, cancelled from and opened', () => {
    const s = new Scheduler(2, 2); // 4 slots of 4 ns: every slot index is reused every 16 ns
    const out: number[] = [];
    let tag = 0;
    const want: number[] = [];
    let now = 0;
    for (let round = 0; round < 200; round++) {
      const live: { ev: SimEvent; t: number; tag: number }[] = [];
      for (let i = 0; i < 1 + ((round * 7) % 40); i++) {
        const t = now + 4 + ((i * 13 + round) % 12);
        live.push({ ev: s.insert(t, noop, tag), t, tag });
        tag++;
      }
      for (let i = 0; i < live.length; i += 3) live[i]!.ev.cancel();
      const kept = live.filter((_, i) => i % 3 !== 0).sort((p, q) => p.t - q.t || p.tag - q.tag);
      want.push(...kept.map((k) => k.tag));
      for (let ev = s.pop(); ev !== undefined; ev = s.pop()) {
        if (!ev.cancelled) out.push(ev.a as number);
        now = ev.time;
      }
    }
    expect(out).toEqual(want);
  });
});
