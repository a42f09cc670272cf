// A socket's write queue of one acknowledged write is given back when the socket is done with it (its
// TIME_WAIT record takes over, or it closes) and the next socket's first write takes it (segment.ts
// releaseWrites / takeWrites): its pair rewritten, the old bytes let go before it is given back, and a
// queue with bytes not yet acknowledged is never given back.
import { describe, expect, it } from 'vitest';
import { MS } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { NO_WRITES } from '../../src/transport/tcp/segment.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** One request and response on a new connection, the client closing first; the two sockets' queues while open. */
function exchange(p: ReturnType<typeof tcpPair>, req: Uint8Array, resp: Uint8Array, port = 80) {
  const got: { server: number[]; client: number[] } = { server: [], client: [] };
  const qs: { client: unknown[] | null; server: unknown[] | null } = { client: null, server: null };
  let srv: TcpSocket | null = null;
  if (!p.tb.sockets().some((s) => s.localPort === port)) {
    p.tb.listen(port, (s) => {
      srv = s;
      s.onData = (d) => {
        got.server.push(...d!);
        s.send(resp);
        qs.server = s.q;
      };
      s.onEnd = () => s.close();
    });
  }
  const c = p.ta.connect(SERVER, port, (s) => {
    s.send(req);
    qs.client = s.q;
  });
  c.onData = (d) => {
    got.client.push(...d!);
    c.orphan();
  };
  return { c, got, qs, server: () => srv };
}

describe('TCP write queues given back', () => {
  it("a connection's two write queues go to the next connection's first writes, bytes intact", () => {
    const p = tcpPair();
    const req1 = Uint8Array.from({ length: 120 }, (_, i) => i);
    const resp1 = Uint8Array.from({ length: 700 }, (_, i) => (i * 3) & 0xff);
    const a = exchange(p, req1, resp1, 80);
    p.sim.run({ until: 100 * MS });
    expect(a.got.server).toEqual([...req1]);
    expect(a.got.client).toEqual([...resp1]);
    const q1 = [a.qs.client!, a.qs.server!];
    expect(q1[0]).not.toBe(q1[1]);
    // Both done (the client in TIME_WAIT, the server closed): their queues given back, their bytes let go.
    expect(a.c.q).toBe(NO_WRITES);
    expect(a.server()!.q).toBe(NO_WRITES);
    for (const q of q1) expect(q[1]).toBeNull();
    const req2 = Uint8Array.from({ length: 90 }, (_, i) => 255 - i);
    const resp2 = Uint8Array.from({ length: 500 }, (_, i) => (i * 5) & 0xff);
    const b = exchange(p, req2, resp2, 8080);
    p.sim.run({ until: 200 * MS });
    expect(b.got.server).toEqual([...req2]);
    expect(b.got.client).toEqual([...resp2]);
    expect(q1).toContain(b.qs.client);
    expect(q1).toContain(b.qs.server);
    expect(b.qs.client).not.toBe(b.qs.server);
  });

  it('a queue whose bytes are not all acknowledged is not given back', () => {
    const p = tcpPair(1, { delayNs: 5 * MS });
    p.tb.listen(80, () => {});
    const c = p.ta.connect(SERVER, 80, (s) => s.send(Uint8Array.from({ length: 100 }, (_, i) => i)));
    p.sim.run({ until: 12 * MS }); // the request sent, its ACK not back yet
    const q = c.q;
    expect(q.length).toBe(2);
    expect(q[1]).not.toBeNull();
    c.abort();
    expect(c.q).toBe(q); // kept: not given back
    const d = p.ta.connect(SERVER, 80, (s) => s.send(10));
    p.sim.run({ until: 100 * MS });
    expect(d.q).not.toBe(q);
  });
});
