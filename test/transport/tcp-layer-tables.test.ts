// A TCP layer's rarely written tables (listeners, per-peer timestamp offsets, per-destination port
// searches, passive ports) start as one shared empty table that refuses writes (no-entries.ts); the
// first write gives the layer its own, so a layer that never uses TCP costs none of them, and one
// layer's first listen or connect reaches no other layer.
import { describe, expect, it } from 'vitest';
import { MS } from '../../src/core/time.js';
import { NO_ENTRIES, NO_MEMBERS } from '../../src/net/no-entries.js';
import { TcpLayer, type TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** The layer's tables, by name (private fields). */
function tables(t: TcpLayer): { listeners: Map<number, unknown>; tsOffsets: Map<number, number>; searches: Map<number, unknown>; passivePorts: Set<number> } {
  return t as unknown as ReturnType<typeof tables>;
}

describe('a TCP layer’s shared empty tables', () => {
  it('refuse writes', () => {
    const m = NO_ENTRIES as Map<number, number>;
    expect(() => m.set(1, 2)).toThrow(/shared empty table/);
    expect(() => (NO_MEMBERS as Set<number>).add(1)).toThrow(/shared empty set/);
    expect(m.size).toBe(0);
    expect(NO_MEMBERS.size).toBe(0);
  });

  it('a layer that never used TCP holds only the shared ones', () => {
    const { ta } = tcpPair(1);
    const t = tables(ta);
    expect(t.listeners).toBe(NO_ENTRIES);
    expect(t.tsOffsets).toBe(NO_ENTRIES);
    expect(t.searches).toBe(NO_ENTRIES);
    expect(t.passivePorts).toBe(NO_MEMBERS);
  });

  it('the first listen and connect give each layer its own, and the connection works', () => {
    const { sim, ta, tb } = tcpPair(1, { delayNs: 1 * MS });
    let got = 0;
    tb.listen(80, (s) => {
      s.onData = (_d, n) => (got += n);
    });
    expect(tables(tb).listeners).not.toBe(NO_ENTRIES);
    expect(tables(tb).passivePorts).not.toBe(NO_MEMBERS);
    expect(tables(tb).listeners.has(80)).toBe(true);
    expect(tables(ta).listeners).toBe(NO_ENTRIES); // (the other layer's are untouched)
    ta.listen(80, () => {}); // the same port on the other layer: no EADDRINUSE from a shared table
    ta.connect(SERVER, 80, (s) => s.send(500));
    sim.run({ until: 100 * MS });
    expect(got).toBe(500);
    expect(tables(ta).searches.size).toBe(1);
    expect(tables(ta).tsOffsets.size).toBe(1);
    expect(tables(tb).tsOffsets.size).toBe(1); // (the accepted side's offset for its peer)
    expect(tables(tb).searches).toBe(NO_ENTRIES);
    expect(NO_ENTRIES.size).toBe(0);
    expect(NO_MEMBERS.size).toBe(0);
  });
});

describe('a closed socket’s retransmission queue', () => {
  it('goes, all acknowledged, to the next socket’s first segment, rewritten whole', () => {
    const { sim, ta, tb } = tcpPair(1, { delayNs: 1 * MS });
    const queues: unknown[] = [];
    tb.listen(80, (s) => {
      s.onData = () => {
        queues.push(s.rtx);
        s.send(200);
        s.close();
      };
    });
    const first = ta.connect(SERVER, 80, (s) => s.send(100));
    first.onData = () => {
      queues.push(first.rtx);
      first.close();
    };
    sim.run({ until: 50 * MS });
    // The server closed through LAST_ACK (destroy), the client is in TIME_WAIT: both dropped their queue.
    expect(first.rtx.length).toBe(0);
    const second = ta.connect(SERVER, 80);
    const seg = second.rtx[0]!;
    expect(second.rtx.length).toBe(1);
    expect(queues).toHaveLength(2);
    expect(queues).toContain(second.rtx);
    // (its SYN, as a new segment would be)
    expect({ ...seg }).toEqual({ sacked: false, lost: false, inRetrans: false, everRetrans: false, start: 0, end: 1, syn: true, fin: false, sentAt: sim.now });
    let got = 0;
    tb.listen(81, (s) => {
      s.onData = (_d, n) => (got += n);
    });
    ta.connect(SERVER, 81, (s) => s.send(300));
    sim.run({ until: 100 * MS });
    expect(got).toBe(300);
  });
});

describe('a TCP layer’s last listener (receive looks there before the listeners map)', () => {
  it('a closed listener’s port answers RST, and a new listener on it takes the next connections', () => {
    const { sim, ta, tb } = tcpPair(1, { delayNs: 1 * MS });
    const got: string[] = [];
    const first = tb.listen(80, () => got.push('first'));
    tb.listen(81, () => got.push('other'));
    ta.connect(SERVER, 80);
    ta.connect(SERVER, 81);
    ta.connect(SERVER, 80);
    sim.run({ until: 100 * MS });
    expect(got).toEqual(['first', 'other', 'first']);
    first.close();
    const refused = ta.connect(SERVER, 80);
    let err = '';
    refused.onError = (k) => (err = k);
    sim.run({ until: 200 * MS });
    expect(err).toBe('refused');
    tb.listen(80, () => got.push('second'));
    ta.connect(SERVER, 80);
    sim.run({ until: 300 * MS });
    expect(got).toEqual(['first', 'other', 'first', 'second']);
  });

  it('a listener is its children’s options: each child has the options listen() was given (or the defaults), as a connecting socket has its own', () => {
    const { sim, ta, tb } = tcpPair(1, { delayNs: 1 * MS });
    const got: { port: number; noDelay: boolean; flowId: number; cc: string }[] = [];
    const note = (s: TcpSocket): void => void got.push({ port: s.localPort, noDelay: s.noDelay, flowId: s.flowId, cc: s.cc.name });
    const opts = { noDelay: true, flowId: 7, congestion: 'reno' as const };
    const l = tb.listen(80, note, opts);
    expect(l.options).toBe(opts);
    tb.listen(81, note);
    ta.connect(SERVER, 80);
    ta.connect(SERVER, 81);
    const own = ta.connect(SERVER, 80, undefined, { noDelay: true, flowId: 9 });
    sim.run({ until: 100 * MS });
    expect(got).toEqual([
      { port: 80, noDelay: true, flowId: 7, cc: 'reno' },
      { port: 81, noDelay: false, flowId: 0, cc: tb.config.congestion },
      { port: 80, noDelay: true, flowId: 7, cc: 'reno' },
    ]);
    expect([own.noDelay, own.flowId]).toEqual([true, 9]);
  });
});
