// core/key-fifo: an emptied ring starts again at index 0, whatever capacity a burst gave it, so a few
// events in flight after a burst stay in the first cache lines of its arrays; order is unchanged.
import { describe, expect, it } from 'vitest';
import { KeyFifo } from '../../src/core/key-fifo.js';
import { SimEvent, type Live } from '../../src/core/event.js';

const live: Live = { foreground: 0, cancelled: 0, unwheel: () => {}, spares: { keep: () => {} } };
const noop = (): void => {};
const ev = (t: number, q: number): SimEvent => new SimEvent(t, q, noop, q, undefined, false, live);

describe('KeyFifo', () => {
  it('after a burst that grew it, each emptying brings the head back to 0 and events keep their order', () => {
    const f = new KeyFifo(4);
    let q = 0;
    for (let i = 0; i < 1000; i++) f.push(ev(i, q++)); // a flood: grows to 1024 slots
    expect(f.mask + 1).toBe(1024);
    const out: number[] = [];
    while (f.n > 0) out.push(f.pop().seq);
    expect(f.head).toBe(0);
    // Then a trickle of one or two events in flight at a time, as between floods.
    for (let round = 0; round < 300; round++) {
      f.push(ev(1000 + round, q++));
      if (round % 3 === 0) f.push(ev(1000 + round, q++));
      out.push(f.pop().seq);
      expect(f.head).toBeLessThan(2);
      if (f.n > 0) out.push(f.pop().seq);
      expect(f.head).toBe(0);
    }
    expect(out).toEqual([...Array(q).keys()]);
  });

  it('a ring that does not empty wraps round as before (head moves on, order kept)', () => {
    const f = new KeyFifo(8);
    let q = 0;
    let next = 0;
    f.push(ev(0, q++));
    for (let i = 1; i < 50; i++) {
      f.push(ev(i, q++));
      expect(f.pop().seq).toBe(next++);
      expect(f.n).toBe(1);
    }
    expect(f.mask + 1).toBe(8);
    expect(f.head).toBe(49 & 7);
  });
});
