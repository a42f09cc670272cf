// The option lists a segment owns carry a marker (wire/tcp TCP_LAYOUT_NOP) from which readers take
// their layout without reading each record: the header length, the TS record, the SYN's options and
// "no SACK" must be what reading every record gives, and a list changed around the marker (TCPMSS
// puts an MSS first) must be read record by record again.
import { describe, expect, it } from 'vitest';
import { ownSynOptions, ownTsOptions, parseSynOptions, establishedOptions, synOptions, type SynOptions } from '../../src/transport/tcp/options.js';
import { findTs } from '../../src/transport/tcp/segment.js';
import { tcpHeaderLength, tcpLayoutOf } from '../../src/wire/tcp.js';
import type { TcpHeader, TcpOption } from '../../src/wire/types.js';
import { Packet } from '../../src/packet/packet.js';
import { ipTotalLength, localOutLength } from '../../src/packet/length.js';
import { ipv4Header } from '../../src/wire/ipv4.js';

const hdr = (options: TcpOption[]): TcpHeader => ({ srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: 0, window: 0, checksum: null, urgent: 0, options });
/** Reads every record: the same list as a copy of plain records (no marker). */
const plain = (opts: TcpOption[]): TcpOption[] => opts.map((o) => ({ ...o }));
const syn = (): SynOptions => ({ mss: null, wscale: null, sackPermitted: false, ts: false, tsval: 0, tsecr: 0 });

describe('marked option layouts', () => {
  it('an established list: layout 3, 32-byte header, its TS record found', () => {
    const own = ownTsOptions([], 0xfedcba98, 0x80000001);
    expect(tcpLayoutOf(own)).toBe(3);
    expect(tcpLayoutOf(plain(own))).toBe(0);
    expect(tcpHeaderLength(hdr(own))).toBe(tcpHeaderLength(hdr(plain(own))));
    expect(tcpHeaderLength(hdr(own))).toBe(32);
    expect(tcpHeaderLength(hdr(establishedOptions(true, 1, 2, null)))).toBe(32);
    expect(findTs(hdr(own))).toBe(own[2]);
    expect(findTs(hdr(own))).toEqual(findTs(hdr(plain(own))));
  });

  it('a SYN list: layout 5, 40-byte header, parsed as reading every record parses it', () => {
    const own = ownSynOptions([], 1410, 0xfedcba98, 7, 7);
    expect(tcpLayoutOf(own)).toBe(5);
    expect(tcpHeaderLength(hdr(own))).toBe(40);
    expect(tcpHeaderLength(hdr(plain(own)))).toBe(40);
    expect(parseSynOptions(own, syn())).toEqual(parseSynOptions(plain(own), syn()));
    expect(parseSynOptions(own, syn())).toEqual({ mss: 1410, wscale: 7, sackPermitted: true, ts: true, tsval: 0xfedcba98, tsecr: 7 });
    expect(parseSynOptions(own, syn())).toEqual(parseSynOptions(synOptions(1410, true, 0xfedcba98, 7, true, 7), syn()));
  });

  it('a list with a record put in front of the marked ones is read record by record', () => {
    const est = [{ kind: 'mss', value: 536 } as TcpOption, ...ownTsOptions([], 5, 6)];
    expect(tcpLayoutOf(est)).toBe(0);
    expect(tcpHeaderLength(hdr(est))).toBe(20 + 16);
    const two = [{ kind: 'nop' } as TcpOption, { kind: 'nop' } as TcpOption, ...ownTsOptions([], 5, 6)];
    expect(tcpLayoutOf(two)).toBe(0); // (the marker fourth of five, but no SACK_PERM second: not a SYN's)
    expect(tcpHeaderLength(hdr(two))).toBe(20 + 16);
    const swapped = ownTsOptions([], 5, 6).slice();
    swapped[0] = { kind: 'mss', value: 536 };
    expect(tcpLayoutOf(swapped)).toBe(0); // (the marker second of three, but no NOP first)
    expect(tcpHeaderLength(hdr(swapped))).toBe(20 + 16);
    const synPlus = [{ kind: 'mss', value: 536 } as TcpOption, ...ownSynOptions([], 1410, 1, 2, 7)];
    expect(tcpLayoutOf(synPlus)).toBe(0);
    expect(tcpHeaderLength(hdr(synPlus))).toBe(20 + 24);
    expect(parseSynOptions(synPlus, syn()).mss).toBe(1410); // (the last MSS read wins, record by record)
  });

  it("ip_local_out's length of a segment: the layout's, the same as reading every record", () => {
    const lists: TcpOption[][] = [ownTsOptions([], 1, 2), ownSynOptions([], 1410, 1, 2, 7), [{ kind: 'mss', value: 536 }, ...ownTsOptions([], 1, 2)], [{ kind: 'nop' }, { kind: 'nop' }, ...ownTsOptions([], 1, 2)], [], establishedOptions(true, 1, 2, null)];
    const want = [52 + 100, 60 + 100, 56 + 100, 56 + 100, 40 + 100, 52 + 100];
    lists.forEach((options, i) => {
      const pkt = new Packet();
      pkt.ip = ipv4Header(6, 1, 2);
      pkt.tcp = hdr(options);
      pkt.payloadLength = 100;
      expect(localOutLength(pkt)).toBe(want[i]);
      expect(ipTotalLength(pkt)).toBe(want[i]);
    });
  });
});
