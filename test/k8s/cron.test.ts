// k8s/cron: the CronJob schedule parser (robfig/cron/v3's standard parser as the CronJob controller
// uses it) and the next activation. The controller's own test schedule (pkg/controller/cronjob
// cronjob_controller_test.go: onTheHour = "0 * * * ?" around 2016-05-19T10:00Z) and cases written
// from the cron(5) / robfig field rules and the CronJob docs (descriptors, names, steps, 7 = Sunday).
import { describe, expect, it } from 'vitest';
import { CRON_EPOCH_MS, nextActivation, parseCron } from '../../src/k8s/cron.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().slice(0, 16));

describe('parseCron + nextActivation', () => {
  // [schedule, after, the next three activations]
  const cases: [string, string, (string | null)[]][] = [
    ['0 * * * ?', '2016-05-19T09:59Z', ['2016-05-19T10:00', '2016-05-19T11:00', '2016-05-19T12:00']],
    ['0 * * * ?', '2016-05-19T10:00Z', ['2016-05-19T11:00', '2016-05-19T12:00', '2016-05-19T13:00']],
    ['0 * * * ?', '2016-05-19T10:01Z', ['2016-05-19T11:00', '2016-05-19T12:00', '2016-05-19T13:00']],
    ['* * * * *', '2025-01-01T00:00Z', ['2025-01-01T00:01', '2025-01-01T00:02', '2025-01-01T00:03']],
    ['*/1 * * * *', '2025-01-01T00:00:30Z', ['2025-01-01T00:01', '2025-01-01T00:02', '2025-01-01T00:03']],
    ['*/15 * * * *', '2025-01-01T00:07Z', ['2025-01-01T00:15', '2025-01-01T00:30', '2025-01-01T00:45']],
    ['0 * * * *', '2025-01-01T00:00Z', ['2025-01-01T01:00', '2025-01-01T02:00', '2025-01-01T03:00']],
    ['@hourly', '2025-01-01T00:00Z', ['2025-01-01T01:00', '2025-01-01T02:00', '2025-01-01T03:00']],
    ['5-10/2 9 * * *', '2025-01-01T00:00Z', ['2025-01-01T09:05', '2025-01-01T09:07', '2025-01-01T09:09']],
    ['30 2/12 * * *', '2025-01-01T00:00Z', ['2025-01-01T02:30', '2025-01-01T14:30', '2025-01-02T02:30']],
    ['0 0 * * mon', '2025-01-01T00:00Z', ['2025-01-06T00:00', '2025-01-13T00:00', '2025-01-20T00:00']],
    ['0 0 * * 7', '2025-01-01T00:00Z', ['2025-01-05T00:00', '2025-01-12T00:00', '2025-01-19T00:00']],
    ['0 12 * * MON-FRI', '2025-01-03T13:00Z', ['2025-01-06T12:00', '2025-01-07T12:00', '2025-01-08T12:00']],
    ['0 0 1,15 * *', '2025-01-01T00:00Z', ['2025-01-15T00:00', '2025-02-01T00:00', '2025-02-15T00:00']],
    // Both day fields restricted: either matches (the 13th, or a Friday).
    ['0 0 13 * fri', '2025-01-01T00:00Z', ['2025-01-03T00:00', '2025-01-10T00:00', '2025-01-13T00:00']],
    ['@monthly', '2025-01-01T00:00Z', ['2025-02-01T00:00', '2025-03-01T00:00', '2025-04-01T00:00']],
    ['@weekly', '2025-01-01T00:00Z', ['2025-01-05T00:00', '2025-01-12T00:00', '2025-01-19T00:00']],
    ['@yearly', '2025-01-01T00:00Z', ['2026-01-01T00:00', '2027-01-01T00:00', '2028-01-01T00:00']],
    ['@daily', '2025-01-01T00:00Z', ['2025-01-02T00:00', '2025-01-03T00:00', '2025-01-04T00:00']],
    ['0 0 29 feb *', '2025-01-01T00:00Z', ['2028-02-29T00:00', '2032-02-29T00:00', '2036-02-29T00:00']],
    ['59 23 31 2 *', '2025-01-01T00:00Z', [null, null, null]],
    ['0 0 ? jan-mar *', '2025-01-30T00:00Z', ['2025-01-31T00:00', '2025-02-01T00:00', '2025-02-02T00:00']],
  ];
  it.each(cases)('%s after %s', (spec, after, want) => {
    const s = parseCron(spec);
    const got: (string | null)[] = [];
    let t: number | null = at(after);
    for (let i = 0; i < 3; i++) {
      t = t === null ? null : nextActivation(s, t);
      got.push(iso(t));
    }
    expect(got).toEqual(want);
  });

  const bad: [string, RegExp][] = [
    ['* * * *', /expected exactly 5 fields, found 4/],
    ['60 * * * *', /60 is out of range 0-59 in the minute field/],
    ['* 24 * * *', /24 is out of range 0-23 in the hour field/],
    ['* * 0 * *', /0 is out of range 1-31 in the day of month field/],
    ['* * * 13 *', /13 is out of range 1-12/],
    ['* * * * 8', /8 is out of range 0-7/],
    ['*/0 * * * *', /step "0" must be a positive number/],
    ['5-1 * * * *', /beginning of range \(5\) beyond end of range \(1\)/],
    ['* * * foo *', /"foo" is not a number or a name in the month field/],
    ['@every 5m', /unrecognized descriptor/],
    ['TZ=Europe/Paris 0 * * * *', /time zones/],
  ];
  it.each(bad)('refuses %s', (spec, msg) => {
    expect(() => parseCron(spec)).toThrow(msg);
  });

  it('simulated time 0 is 2025-01-01T00:00Z', () => {
    expect(new Date(CRON_EPOCH_MS).toISOString()).toBe('2025-01-01T00:00:00.000Z');
  });
});
