// core/trace: a source without subscribers shares one empty sink list; `connected` follows connect and
// unsubscribe, and each source keeps its own subscribers.
import { describe, expect, it } from 'vitest';
import { TraceSource } from '../../src/core/trace.js';

describe('TraceSource', () => {
  it('is connected while it has a subscriber, and only its own subscribers are called', () => {
    const a = new TraceSource<[number]>();
    const b = new TraceSource<[number]>();
    const got: string[] = [];
    expect(a.connected).toBe(false);
    a.fire(0);
    const offX = a.connect((n) => got.push(`x${n}`));
    expect(a.connected).toBe(true);
    expect(b.connected).toBe(false);
    const offY = a.connect((n) => got.push(`y${n}`));
    a.fire(1);
    b.fire(2);
    offX();
    expect(a.connected).toBe(true);
    a.fire(3);
    offY();
    expect(a.connected).toBe(false);
    a.fire(4);
    const offB = b.connect((n) => got.push(`b${n}`));
    expect(a.connected).toBe(false);
    b.fire(5);
    a.connect((n) => got.push(`z${n}`));
    a.fire(6);
    offB();
    expect(b.connected).toBe(false);
    expect(a.connected).toBe(true);
    expect(got).toEqual(['x1', 'y1', 'y3', 'b5', 'z6']);
  });
});
