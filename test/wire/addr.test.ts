import { describe, expect, it } from 'vitest';
import { readMac, writeMac, formatMac, parseMac, isMulticastMac, macFromParts, macHigh16, macLow32 } from '../../src/wire/mac.js';
import {
  broadcastOf, formatCidr, formatIpv4, inSubnet, maskFromPrefix, networkOf, parseCidr, parseIpv4, prefixFromMask,
} from '../../src/wire/ipv4-addr.js';
import { BROADCAST_MAC } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';

describe('mac', () => {
  it('decode: parses and formats docker-style MACs', () => {
    const m = parseMac('02:42:ac:11:00:02')!;
    expect(m).toBe(0x0242ac110002);
    expect(formatMac(m)).toBe('02:42:ac:11:00:02');
    expect(formatMac(BROADCAST_MAC)).toBe('ff:ff:ff:ff:ff:ff');
    expect(parseMac('02-42-AC-11-00-02')).toBe(m);
  });
  it('encode: writes 6 bytes at an offset into garbage', () => {
    const b = garbage(10);
    writeMac(b, 2, 0xfe0102030405);
    expect([...b]).toEqual([0xa5, 0xa5, 0xfe, 1, 2, 3, 4, 5, 0xa5, 0xa5]);
    expect(readMac(b, 2)).toBe(0xfe0102030405);
  });
  it('round trip: parts and group bit', () => {
    const m = 0xffeeddccbbaa;
    expect(macFromParts(macHigh16(m), macLow32(m))).toBe(m);
    expect(isMulticastMac(BROADCAST_MAC)).toBe(true);
    expect(isMulticastMac(0x01005e000001)).toBe(true);
    expect(isMulticastMac(0x0242ac110002)).toBe(false);
  });
  it('rejects truncated input', () => {
    expect(parseMac('02:42:ac:11:00')).toBeNull();
    expect(parseMac('02:42:ac:11:00:zz')).toBeNull();
  });
});

describe('ipv4-addr', () => {
  it('decode: dotted quad and CIDR', () => {
    expect(parseIpv4('10.244.1.2')).toBe(0x0af40102);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseCidr('10.244.0.0/16')).toEqual({ addr: 0x0af40000, prefix: 16 });
    expect(parseCidr('10.0.0.1')).toEqual({ addr: 0x0a000001, prefix: 32 });
  });
  it('encode: formats', () => {
    expect(formatIpv4(0xc0a80001)).toBe('192.168.0.1');
    expect(formatCidr(0x0a600000, 12)).toBe('10.96.0.0/12');
  });
  it('masks, networks and membership', () => {
    expect(maskFromPrefix(0)).toBe(0);
    expect(maskFromPrefix(24)).toBe(0xffffff00);
    expect(maskFromPrefix(32)).toBe(0xffffffff);
    expect(prefixFromMask(0xffff0000)).toBe(16);
    expect(prefixFromMask(0xff00ff00)).toBe(-1);
    expect(networkOf(0x0af40105, 24)).toBe(0x0af40100);
    expect(broadcastOf(0x0af40105, 24)).toBe(0x0af401ff);
    expect(inSubnet(0x0af40105, 0x0af40000, 16)).toBe(true);
    expect(inSubnet(0x0af50105, 0x0af40000, 16)).toBe(false);
    expect(inSubnet(0xc0a80001, 0, 0)).toBe(true);
  });
  it('round trip', () => {
    for (const s of ['0.0.0.0', '10.96.0.10', '172.17.0.2', '255.255.255.255']) expect(formatIpv4(parseIpv4(s)!)).toBe(s);
  });
  it('rejects truncated input', () => {
    for (const s of ['10.0.0', '10.0.0.256', '01.2.3.4', '1.2.3.4.5', '']) expect(parseIpv4(s)).toBeNull();
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0/')).toBeNull();
  });
});
