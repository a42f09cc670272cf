// Established segments' NOP NOP TS lists: each segment owns its list (never shared with another
// segment), and a segment given back and taken again has its list rewritten in place (options.ts
// ownTsOptions, ownSynOptions); a clone copies the TS record so a rewrite never reaches it.
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import { releaseSegment } from '../../src/packet/packet.js';
import { tcpSegment, tsNow } from '../../src/transport/tcp/output.js';
import { establishedOptions, ownSynOptions, ownTsOptions, synOptions } from '../../src/transport/tcp/options.js';
import { encodeTcpOptions } from '../../src/wire/tcp.js';
import { TcpFlag, type TcpOption } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const CLIENT = ip('10.0.0.1');

/** The option bytes on the wire (padded). */
function wire(opts: TcpOption[]): number[] {
  const b = new Uint8Array(40);
  return [...b.subarray(0, encodeTcpOptions(opts, b, 0))];
}

/** A new segment whose options the caller writes (tcpSegment with null), as emit does. */
function segment(seq: number) {
  return tcpSegment(0x0a000001, 0x0a000002, 0, 1, 40000, 80, seq, 5, TcpFlag.ACK, 502, null, 0, null, 0);
}

describe('TCP timestamp options of established segments', () => {
  it('each segment has a list and a TS record of its own, with its own values', () => {
    const { sim, net, ta, tb } = tcpPair(1, { delayNs: 5 * MS });
    tb.listen(80, (s) => {
      s.onData = () => {
        s.send(3000); // three segments at one instant
      };
    });
    ta.connect(SERVER, 80, (s) => s.send(100)); // the handshake's ACK and the request at one instant
    sim.run({ until: 200 * MS });
    const segs = net.log.map((r) => r.pkt).filter((p) => !(p.tcp!.flags & TcpFlag.SYN));
    const fromClient = segs.filter((p) => p.ip!.src === CLIENT);
    const fromServer = segs.filter((p) => p.ip!.src === SERVER && p.payloadLength > 0);
    const [ack, req] = fromClient;
    expect(req!.payloadLength).toBe(100);
    expect(fromServer.length).toBeGreaterThanOrEqual(3);
    // (a burst's segments carry equal values in lists of their own)
    expect(ack!.tcp!.options).not.toBe(req!.tcp!.options);
    expect(ack!.tcp!.options).toEqual(req!.tcp!.options);
    expect(new Set(segs.map((p) => p.tcp!.options)).size).toBe(segs.length);
    expect(new Set(segs.map((p) => p.tcp!.options[2])).size).toBe(segs.length);
    for (const p of segs) {
      const ts = p.tcp!.options[2] as { kind: string; tsval: number; tsecr: number };
      expect(p.tcp!.options.map((o) => o.kind)).toEqual(['nop', 'nop', 'timestamps']);
      expect(ts.tsecr).toBeGreaterThan(0);
    }
    // TSecr is what the peer sent last: the client's request echoes the SYN-ACK's TSval
    const synAck = net.log.map((r) => r.pkt).find((p) => p.ip!.src === SERVER && p.tcp!.flags & TcpFlag.SYN)!;
    expect((req!.tcp!.options[2] as { tsecr: number }).tsecr).toBe((synAck.tcp!.options[2] as { tsval: number }).tsval);
  });

  it('a segment given back keeps its list: the next segment rewrites it in place, SYN or not', () => {
    const first = segment(100);
    const list = ownTsOptions(first.tcp!.options, 0xfedcba98, 7);
    first.tcp!.options = list;
    const rec = list[2];
    releaseSegment(first);
    const again = segment(200);
    expect(again).toBe(first);
    expect(again.tcp!.options).toBe(list); // (left for the caller to write)
    expect(ownTsOptions(again.tcp!.options, 11, 0x80000001)).toBe(list);
    expect(list[2]).toBe(rec);
    expect(wire(list)).toEqual(wire(establishedOptions(true, 11, 0x80000001, null)));
    // A SYN's list around the same record (a new array: an array's length is not changed in place), and back.
    const synList = ownSynOptions(list, 1410, 12, 13, 7);
    expect(synList[2]).toBe(rec);
    expect(wire(synList)).toEqual(wire(synOptions(1410, true, 12, 13, true, 7)));
    expect(ownSynOptions(synList, 1410, 16, 17, 7)).toBe(synList); // (SYN after SYN: the same array)
    expect(wire(synList)).toEqual(wire(synOptions(1410, true, 16, 17, true, 7)));
    const back = ownTsOptions(synList, 14, 15);
    expect(back[2]).toBe(rec);
    expect(wire(back)).toEqual(wire(establishedOptions(true, 14, 15, null)));
    expect(back.map((o) => o.kind)).toEqual(['nop', 'nop', 'timestamps']);
  });

  it('a list the segment does not own is never written: a new one is made', () => {
    const shared = establishedOptions(true, 1, 2, null);
    const before = wire(shared);
    const mine = ownTsOptions(shared, 3, 4);
    expect(mine).not.toBe(shared);
    expect(wire(shared)).toEqual(before);
    const syn = synOptions(1410, true, 1, 0, true, 7);
    const synBefore = wire(syn);
    expect(ownSynOptions(syn, 1410, 5, 6, 7)).not.toBe(syn);
    expect(wire(syn)).toEqual(synBefore);
    expect(wire(ownSynOptions([], 1410, 5, 6, 7))).toEqual(wire(synOptions(1410, true, 5, 6, true, 7)));
  });

  it('a clone keeps its values when the original segment is reused', () => {
    const orig = segment(100);
    orig.tcp!.options = ownTsOptions(orig.tcp!.options, 21, 22);
    const copy = orig.clone();
    releaseSegment(orig);
    const reused = segment(300);
    expect(reused).toBe(orig);
    reused.tcp!.options = ownTsOptions(reused.tcp!.options, 31, 32);
    expect(copy.tcp!.options[2]).toEqual({ kind: 'timestamps', tsval: 21, tsecr: 22 });
    expect(reused.tcp!.options[2]).toEqual({ kind: 'timestamps', tsval: 31, tsecr: 32 });
  });

  // The peer goes silent after the handshake: each RTO retransmission echoes the same TSecr and carries
  // a later TSval of its own.
  it('a retransmission after an RTO carries a later TSval and the same TSecr', () => {
    let silent = false;
    const { sim, net, ta, tb } = tcpPair(1, { delayNs: 5 * MS, loss: (p) => silent && p.ip!.src === SERVER });
    tb.listen(80, () => {});
    ta.connect(SERVER, 80, (s) => {
      silent = true;
      s.send(100);
    });
    sim.run({ until: 5 * SEC });
    const data = net.log.filter((r) => r.pkt.ip!.src === CLIENT && r.pkt.payloadLength > 0);
    expect(data.length).toBeGreaterThan(2);
    const ts = data.map((r) => r.pkt.tcp!.options[2] as { tsval: number; tsecr: number });
    for (const t of ts) expect(t.tsecr).toBe(ts[0]!.tsecr);
    for (let i = 1; i < ts.length; i++) expect((ts[i]!.tsval - ts[i - 1]!.tsval) | 0).toBeGreaterThan(0);
  });
  // tsNow is a signed 32-bit value (a small integer to V8; a uint32 past 2^31 was a heap number at each
  // call): the options hold TSval modulo 2^32 as an unsigned number, and RTT samples read it modulo 2^32.
  it('TSvals past 2^31 and across 2^32: tsNow signed, the options unsigned, RTT samples as for small ones', () => {
    const { sim, net, ta, tb } = tcpPair(1, { delayNs: 5 * MS });
    const CLIENT_OFF = 0x7ffffff0; // past 2^31 after 16 ms
    const SERVER_OFF = 0xfffffff8; // across 2^32 after 8 ms
    ta.tsOffsetFor = () => CLIENT_OFF;
    tb.tsOffsetFor = () => SERVER_OFF;
    let client: TcpSocket | null = null;
    tb.listen(80, (s) => {
      s.onData = () => s.send(500);
    });
    ta.connect(SERVER, 80, (s) => {
      client = s;
      s.send(100);
      sim.schedule(40 * MS, () => s.send(100));
      sim.schedule(80 * MS, () => s.send(100));
    });
    sim.run({ until: 30 * MS });
    expect(tsNow(client!)).toBe((30 + CLIENT_OFF) | 0);
    expect(tsNow(client!)).toBeLessThan(0);
    sim.run({ until: 300 * MS });
    let past = 0;
    for (const r of net.log) {
      const ts = r.pkt.tcp!.options.find((o) => o.kind === 'timestamps') as { tsval: number; tsecr: number };
      const off = r.pkt.ip!.src === CLIENT ? CLIENT_OFF : SERVER_OFF;
      expect(ts.tsval).toBe((Math.floor(r.t / MS) + off) >>> 0);
      expect(ts.tsval).toBeGreaterThanOrEqual(0);
      if (ts.tsval >= 0x80000000) past++;
    }
    expect(past).toBeGreaterThan(4);
    // (RTT 10 ms, in 1 ms TS ticks: the samples are 10 or 11 ms)
    expect(client!.srtt).toBeGreaterThanOrEqual(10 * MS);
    expect(client!.srtt).toBeLessThanOrEqual(11 * MS);
  });
});
