// parseSynOptions reads the shared option records (by identity) and decoded ones (by kind) alike.
import { describe, expect, it } from 'vitest';
import { parseSynOptions, synOptions, type SynOptions } from '../../src/transport/tcp/options.js';
import { decodeTcpOptions, encodeTcpOptions, tcpOptionsRawLength } from '../../src/wire/tcp.js';
import type { TcpOption } from '../../src/wire/types.js';

const fresh = (): SynOptions => ({ mss: null, wscale: null, sackPermitted: false, ts: false, tsval: 0, tsecr: 0 });

/** The same options as new records, through the wire encoding (none of them is a shared record). */
function roundTrip(opts: TcpOption[]): TcpOption[] {
  const buf = new Uint8Array(40);
  const n = encodeTcpOptions(opts, buf, 0);
  expect(n).toBe(tcpOptionsRawLength(opts));
  return decodeTcpOptions(buf, 0, n);
}

describe('parseSynOptions', () => {
  const cases: [string, TcpOption[], Partial<SynOptions>][] = [
    ['every feature, large tsval', synOptions(1460, true, 0xfedc_ba98, 0x8000_0001, true, 7), { mss: 1460, wscale: 7, sackPermitted: true, ts: true, tsval: 0xfedc_ba98, tsecr: 0x8000_0001 }],
    ['no SACK', synOptions(1410, true, 5, 0, false, 7), { mss: 1410, wscale: 7, sackPermitted: false, ts: true, tsval: 5, tsecr: 0 }],
    ['no timestamps', synOptions(1460, false, 99, 99, true, null), { mss: 1460, wscale: null, sackPermitted: true, ts: false, tsval: 0, tsecr: 0 }],
    ['MSS only', synOptions(536, false, 0, 0, false, null), { mss: 536, wscale: null, sackPermitted: false, ts: false }],
  ];
  for (const [name, opts, want] of cases) {
    it(`${name}: shared and decoded records parse the same`, () => {
      expect(parseSynOptions(opts, fresh())).toMatchObject(want);
      const decoded = roundTrip(opts);
      expect(decoded).not.toContain(opts[0]);
      expect(parseSynOptions(decoded, fresh())).toEqual(parseSynOptions(opts, fresh()));
    });
  }

  it('writes every field: a record reused after a SYN with timestamps reads none on one without', () => {
    const r = parseSynOptions(synOptions(1460, true, 1234, 1, true, 7), fresh());
    expect(r.ts).toBe(true);
    parseSynOptions(synOptions(1400, false, 0, 0, false, null), r);
    expect(r).toEqual({ mss: 1400, wscale: null, sackPermitted: false, ts: false, tsval: 0, tsecr: 0 });
  });

  it('a shift above 14 is read as 14 (RFC 7323 2.3)', () => {
    expect(parseSynOptions([{ kind: 'wscale', shift: 20 }], fresh()).wscale).toBe(14);
  });
});
