import { describe, expect, it } from 'vitest';
import {
  decodeDns, decodeDnsName, dnsMessageLength, dnsQuery, dnsRcode, DnsClass, DnsFlag, DnsRcode, DnsType, encodeDns, encodeDnsMessage,
  nameToLabels, type DnsMessage,
} from '../../src/wire/dns.js';
import { WireError } from '../../src/wire/error.js';
import { garbage } from '../helpers/garbage.js';
import { hex, toHex } from '../helpers/vectors.js';

// dig example.com A (RD set), as on the wire.
const QUERY = hex('1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001');
// The answer a server sends: question echoed, answer owner compressed to a pointer at offset 12 (c00c).
const RESPONSE = hex(
  '1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 0001 0001' +
    'c00c 0001 0001 00000e10 0004 5db8d822',
);

const IN = DnsClass.IN;
const SVC = 'web.default.svc.cluster.local';

function coreDnsSrv(): DnsMessage {
  return {
    id: 0xbeef,
    flags: DnsFlag.QR | DnsFlag.AA | DnsFlag.RD,
    questions: [{ name: `_http._tcp.${SVC}`, type: DnsType.SRV, class: IN }],
    answers: [{ name: `_http._tcp.${SVC}`, type: DnsType.SRV, class: IN, ttl: 30, data: { kind: 'SRV', priority: 0, weight: 100, port: 80, target: SVC } }],
    authority: [],
    additional: [{ name: SVC, type: DnsType.A, class: IN, ttl: 30, data: { kind: 'A', address: 0x0a60000a } }],
  };
}

function everyType(): DnsMessage {
  return {
    id: 7,
    flags: DnsFlag.QR | DnsFlag.RD | DnsFlag.RA | DnsRcode.NXDOMAIN,
    questions: [{ name: 'www.example.com', type: DnsType.ANY, class: IN }],
    answers: [
      { name: 'www.example.com', type: DnsType.CNAME, class: IN, ttl: 60, data: { kind: 'CNAME', target: 'web.example.com' } },
      { name: 'web.example.com', type: DnsType.A, class: IN, ttl: 60, data: { kind: 'A', address: 0x5db8d822 } },
      { name: 'web.example.com', type: DnsType.AAAA, class: IN, ttl: 60, data: { kind: 'AAAA', address: hex('20010db8000000000000000000000001') } },
      { name: '34.216.184.93.in-addr.arpa', type: DnsType.PTR, class: IN, ttl: 60, data: { kind: 'PTR', target: 'web.example.com' } },
      { name: 'example.com', type: DnsType.TXT, class: IN, ttl: 60, data: { kind: 'TXT', strings: ['v=spf1 -all', '', 'a\u00ffb'] } },
      { name: 'example.com', type: 99, class: IN, ttl: 60, data: { kind: 'unknown', data: hex('deadbeef') } },
    ],
    authority: [
      { name: 'example.com', type: DnsType.NS, class: IN, ttl: 3600, data: { kind: 'NS', target: 'a.iana-servers.net' } },
      {
        name: 'example.com', type: DnsType.SOA, class: IN, ttl: 3600,
        data: { kind: 'SOA', mname: 'ns.icann.org', rname: 'noc.dns.icann.org', serial: 2024081300, refresh: 7200, retry: 3600, expire: 1209600, minimum: 3600 },
      },
    ],
    // EDNS0 OPT: root owner, class = UDP payload size 1232.
    additional: [{ name: '', type: DnsType.OPT, class: 1232, ttl: 0, data: { kind: 'unknown', data: new Uint8Array(0) } }],
  };
}

describe('dns', () => {
  it('decode: a query and a compressed response', () => {
    const q = decodeDns(QUERY, 0);
    expect(q.bytesRead).toBe(QUERY.length);
    expect(q.msg).toEqual(dnsQuery(0x1234, 'example.com', DnsType.A));
    const r = decodeDns(RESPONSE, 0).msg;
    expect(r.answers).toEqual([{ name: 'example.com', type: 1, class: 1, ttl: 3600, data: { kind: 'A', address: 0x5db8d822 } }]);
    expect(dnsRcode(r)).toBe(0);
  });
  it('encode: compresses as a server does, at an offset into garbage', () => {
    const msg = decodeDns(RESPONSE, 0).msg;
    const b = garbage(RESPONSE.length + 8);
    expect(encodeDns(msg, b, 4)).toBe(RESPONSE.length);
    expect(toHex(b.subarray(4, 4 + RESPONSE.length))).toBe(toHex(RESPONSE));
    expect(b[3]).toBe(0xa5);
    expect(b[4 + RESPONSE.length]).toBe(0xa5);
    expect(toHex(encodeDnsMessage(dnsQuery(0x1234, 'example.com', DnsType.A)))).toBe(toHex(QUERY));
  });
  it('encode: SRV target is not compressed (RFC 2782), owner names are', () => {
    const bytes = encodeDnsMessage(coreDnsSrv());
    const text = Buffer.from(bytes).toString('latin1');
    // The SRV target is written out in full once, right after priority/weight/port.
    expect(text.split('\u0003web\u0007default').length - 1).toBe(2);
    expect(decodeDns(bytes, 0).msg).toEqual(coreDnsSrv());
    expect(dnsMessageLength(coreDnsSrv())).toBe(bytes.length);
  });
  it('round trip: every record type; compression is case-insensitive', () => {
    const m = everyType();
    const bytes = encodeDnsMessage(m);
    const back = decodeDns(bytes, 0).msg;
    expect(back).toEqual(m);
    expect(toHex(encodeDnsMessage(back))).toBe(toHex(bytes));
    // Case-insensitive: 'WWW.example.COM' compresses onto the question; the pointer carries its spelling.
    const q = dnsQuery(1, 'www.example.com', DnsType.A);
    q.answers.push({ name: 'WWW.example.COM', type: DnsType.A, class: IN, ttl: 1, data: { kind: 'A', address: 1 } });
    const qb = encodeDnsMessage(q);
    expect(qb.length).toBe(12 + 17 + 4 + 2 + 10 + 4);
    expect(decodeDns(qb, 0).msg.answers[0]!.name).toBe('www.example.com');
  });
  it('names: escapes round-trip', () => {
    const labels = nameToLabels('a\\.b.c\\\\d.\\255x.');
    expect(labels.map((l) => [...l])).toEqual([[0x61, 0x2e, 0x62], [0x63, 0x5c, 0x64], [255, 0x78]]);
    const m = dnsQuery(1, 'a\\.b.c\\\\d.\\255x', DnsType.A);
    expect(decodeDns(encodeDnsMessage(m), 0).msg.questions[0]!.name).toBe('a\\.b.c\\\\d.\\255x');
  });
  it('rejects truncated input', () => {
    for (let n = 0; n < RESPONSE.length; n++) expect(() => decodeDns(RESPONSE.subarray(0, n), 0), `cut at ${n}`).toThrow(WireError);
    expect(() => encodeDns(decodeDns(RESPONSE, 0).msg, new Uint8Array(20), 0)).toThrow(/truncated/);
  });
  it('rejects compression loops and forward pointers', () => {
    // Name at 12 is a pointer to itself.
    const self = hex('0000 0000 0001 0000 0000 0000 c00c 0001 0001');
    expect(() => decodeDns(self, 0)).toThrow(/loop/);
    // Two names pointing at each other.
    const loop = hex('0000 0000 0002 0000 0000 0000 01 61 c012 0001 0001 01 62 c00c 0001 0001');
    expect(() => decodeDns(loop, 0)).toThrow(/loop/);
    expect(() => decodeDnsName(hex('40'), 0)).toThrow(/label type/);
    expect(() => encodeDnsMessage(dnsQuery(1, 'x'.repeat(64) + '.com', 1))).toThrow(/max 63/);
    expect(() => encodeDnsMessage(dnsQuery(1, Array(130).fill('ab').join('.'), 1))).toThrow(/longer than 255/);
  });
});
