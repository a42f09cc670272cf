// app/http-client: a request attempt (Pending) keeps its phase stamps as offsets from its start while
// every offset is exact (issue 13: no heap number a stamp). The start reads back bit for bit (past
// 2^32 ns, near 2^52, fractions); a phase (a stamp's difference) from
// offsets equals the absolute times' difference; an offset that would round makes the stamps absolute,
// the ones kept before included, each its exact time.
import { describe, expect, it } from 'vitest';
import { Pending, type HttpTarget } from '../../src/app/http-client.js';

const TARGET: HttpTarget = { addr: 1, port: 80, host: 'x' };
const cb = (): void => {};
const stamps = (p: Pending): (number | null)[] => [p.resolvedAt, p.connectedAt, p.tlsAt, p.sentAt, p.firstByteAt];
/** A stamp's absolute time (what the phases' differences are taken of). */
const abs = (p: Pending, v: number | null): number | null => (v === null ? null : p.rel ? p.started + v : v);

describe('http-client Pending times', () => {
  it('keeps its start bit for bit', () => {
    for (const t of [0, 1, 0.25, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 32 + 0.5, 2 ** 52 - 1, 2 ** 52, 2 ** 52 + 2, 2 ** 53 - 1, 987_654_321_098.125]) {
      const p = new Pending(TARGET, t, cb);
      expect(Object.is(p.started, t), String(t)).toBe(true);
      expect(p.rel).toBe(true);
    }
  });

  it('stamps offsets that are small integers, and phases equal to the absolute times’ differences', () => {
    const starts = [0, 1_000, 2 ** 32 + 7, 2 ** 32 + 0.75, 2 ** 40 + 0.125, 2 ** 52 - 1_000, 2 ** 52 + 4];
    const gaps = [0, 1, 5_000, 123_456, 0.5, 1_000_000.25, 2 ** 31 - 1];
    for (const s of starts) {
      for (const g1 of gaps) {
        for (const g2 of gaps) {
          const a = s + g1;
          const b = a + g2;
          const p = new Pending(TARGET, s, cb);
          p.sentAt = p.stampOf(a);
          p.firstByteAt = p.stampOf(b);
          expect(p.rel, `${s} ${a} ${b}`).toBe(true);
          expect(Object.is(p.firstByteAt - p.sentAt, b - a), `${s} ${a} ${b}`).toBe(true);
          expect(Object.is(p.sentAt, a - s)).toBe(true);
          if (Number.isInteger(s) && Number.isInteger(a) && a - s < 2 ** 31) expect(p.sentAt).toBe(p.sentAt | 0);
        }
      }
    }
  });

  it('turns absolute when an offset would round, keeping the earlier stamps’ exact times', () => {
    const s = 0.1; // a start with low fraction bits: an offset to a time near 2^40 cannot hold them
    const p = new Pending(TARGET, s, cb);
    p.resolvedAt = p.stampOf(0.15); // (within twice the start: exact offsets, Sterbenz)
    p.connectedAt = p.stampOf(0.2);
    expect(p.rel).toBe(true);
    expect([abs(p, p.resolvedAt), abs(p, p.connectedAt)]).toEqual([0.15, 0.2]);
    const late = 2 ** 40 + 0.5;
    expect((late - s) + s === late && late - (late - s) === s).toBe(false); // (the offset would round)
    p.sentAt = p.stampOf(late);
    expect(p.rel).toBe(false);
    expect(stamps(p)).toEqual([0.15, 0.2, null, late, null]);
    p.firstByteAt = p.stampOf(late + 3);
    expect(p.firstByteAt).toBe(late + 3);
    expect(p.firstByteAt - p.sentAt).toBe(3);
    expect(Object.is(p.started, s)).toBe(true);
  });
});
