// Established segments' NOP NOP TS lists: one list for the segments a socket sends with the same TSval
// and TSecr (output.ts tsOptions), a new one when either changes; the values stay each segment's own.
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const CLIENT = ip('10.0.0.1');

describe('TCP timestamp options of established segments', () => {
  it('share one list within a burst and take a new one when TSval or TSecr moves', () => {
    const { sim, net, ta, tb } = tcpPair(1, { delayNs: 5 * MS }); // 20 ms RTT: every flight a later TSval
    tb.listen(80, (s) => {
      s.onData = () => {
        s.send(3000); // three segments at one instant
      };
    });
    ta.connect(SERVER, 80, (s) => s.send(100)); // the handshake's ACK and the request at one instant
    sim.run({ until: 200 * MS });
    const fromClient = net.log.map((r) => r.pkt).filter((p) => p.ip!.src === CLIENT && !(p.tcp!.flags & TcpFlag.SYN));
    const fromServer = net.log.map((r) => r.pkt).filter((p) => p.ip!.src === SERVER && p.payloadLength > 0);
    const [ack, req] = fromClient;
    expect(req!.payloadLength).toBe(100);
    expect(ack!.tcp!.options).toBe(req!.tcp!.options);
    expect(fromServer.length).toBeGreaterThanOrEqual(3);
    expect(fromServer[1]!.tcp!.options).toBe(fromServer[0]!.tcp!.options);
    // the client's ACKs of the response carry the server's TSval as TSecr: a different list
    const later = fromClient.slice(2);
    expect(later.length).toBeGreaterThan(0);
    expect(later[0]!.tcp!.options).not.toBe(req!.tcp!.options);
    for (const p of [...fromClient, ...fromServer]) {
      const ts = p.tcp!.options[2] as { kind: string; tsval: number; tsecr: number };
      expect(p.tcp!.options.map((o) => o.kind)).toEqual(['nop', 'nop', 'timestamps']);
      expect(ts.tsecr).toBeGreaterThan(0);
    }
    // TSecr is what the peer sent last: the client's request echoes the SYN-ACK's TSval
    const synAck = net.log.map((r) => r.pkt).find((p) => p.ip!.src === SERVER && p.tcp!.flags & TcpFlag.SYN)!;
    expect((req!.tcp!.options[2] as { tsecr: number }).tsecr).toBe((synAck.tcp!.options[2] as { tsval: number }).tsval);
  });

  // The peer goes silent after the handshake: each RTO retransmission echoes the same TSecr and carries
  // a later TSval of its own (a list reused on TSecr alone would resend the first TSval).
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
});
