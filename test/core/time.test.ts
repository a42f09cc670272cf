// core/time: durations and rates as users write them in scenario files, to integer ns and bits/s.
import { describe, expect, it } from 'vitest';
import { formatTime, MS, parseDuration, parseRate, SEC, US } from '../../src/core/time.js';

describe('parseDuration', () => {
  it.each([
    ['250ns', 250],
    ['10us', 10 * US],
    ['10µs', 10 * US],
    ['1.5ms', 1.5 * MS],
    ['2s', 2 * SEC],
    ['2', 2 * SEC],
    ['0', 0],
    ['1m', 60 * SEC],
    ['1min', 60 * SEC],
    ['1h', 3600 * SEC],
    [' 3 ms ', 3 * MS],
    ['10MS', 10 * MS],
    ['1e3ns', 1000],
  ] as const)('%j → %d ns', (text, ns) => {
    expect(parseDuration(text)).toBe(ns);
  });

  it('rounds to integer nanoseconds', () => {
    expect(parseDuration('1.0004ns')).toBe(1);
    expect(parseDuration('0.0000000015s')).toBe(2);
  });

  it('takes a bare number as seconds', () => {
    expect(parseDuration(0.5)).toBe(500 * MS);
    expect(parseDuration(0)).toBe(0);
  });

  it.each(['', 'abc', '10 parsecs', '-1s', '1.2.3s', 's', '10 s s'])('rejects %j with null', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('rejects negative and non-finite numbers', () => {
    expect(parseDuration(-1)).toBeNull();
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeNull();
    expect(parseDuration(Number.NaN)).toBeNull();
  });
});

describe('parseRate', () => {
  it.each([
    ['1Gbps', 1e9],
    ['1gbps', 1e9],
    ['100Mbit', 100e6],
    ['10kbps', 10e3],
    ['2.5Gbit/s', 2.5e9],
    ['1Tbps', 1e12],
    ['9600', 9600],
    ['64b/s', 64],
  ] as const)('%j → %d bit/s', (text, bps) => {
    expect(parseRate(text)).toBe(bps);
  });

  it('takes a bare positive number as bits/s', () => {
    expect(parseRate(1e6)).toBe(1e6);
  });

  it.each(['', 'fast', '0bps', '-1Gbps', '1 Xbps', '1GBps/s'])('rejects %j with null', (text) => {
    expect(parseRate(text)).toBeNull();
  });

  it('rejects zero, negative and non-finite numbers', () => {
    expect(parseRate(0)).toBeNull();
    expect(parseRate(-5)).toBeNull();
    expect(parseRate(Number.NaN)).toBeNull();
  });
});

describe('formatTime', () => {
  it.each([
    [0, '0ns'],
    [999, '999ns'],
    [1500, '1.500us'],
    [1_500_000, '1.500ms'],
    [2 * SEC, '2.000000s'],
  ] as const)('%d ns → %j', (ns, text) => {
    expect(formatTime(ns)).toBe(text);
  });
});
