// TLS 1.3 sessions over the fake network (modelled records, not cryptography):
//
//   client 10.0.0.1 ──(50 µs, 1 Gbps)── server 10.0.0.2 : 443
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { TlsServer, TlsServerContext, TlsSocket } from '../../src/app/tls.js';
import { certificateChain, FAKE_CERTIFICATE, selectCertificateBySni, type TlsCertificateChain } from '../../src/app/tls-certs.js';
import { HttpClient, type HttpResult } from '../../src/app/http-client.js';
import { HttpServer } from '../../src/app/http-server.js';
import { SEC } from '../../src/core/time.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeNet, ip } from '../transport/fake-net.js';
import { concat } from '../transport/tcp-helpers.js';

/** Record lengths of a byte stream (5-byte headers walked). */
function recordLengths(stream: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p + 5 <= stream.length; ) {
    const len = (stream[p + 3]! << 8) | stream[p + 4]!;
    out.push(len);
    p += 5 + len;
  }
  return out;
}

function world(chain: TlsCertificateChain = certificateChain('rsa2048', 2), seed = 1) {
  const sim = new Simulator(seed);
  const net = new FakeNet(sim, { delayNs: 50_000 });
  const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
  const ts = new TcpLayer(net.addHost('server', '10.0.0.2'));
  const ctx = new TlsServerContext(sim.rng.stream('server/tls'), () => chain);
  const served: TlsSocket[] = [];
  const got: string[] = [];
  new TlsServer(ts, 443, ctx, (s) => {
    served.push(s);
    s.onData = (d) => {
      got.push(new TextDecoder().decode(d!));
      s.send(new TextEncoder().encode('x'.repeat(70)));
    };
    s.onEnd = () => s.close();
  });
  return { sim, net, tc, ctx, served, got };
}

describe('TlsSocket', () => {
  it('runs the OpenSSL handshake with the measured flight sizes and carries data both ways', () => {
    const { sim, net, tc, served, got } = world();
    const client = TlsSocket.connect(tc.connect(ip('10.0.0.2'), 443), { rng: sim.rng.stream('client/tls'), serverName: 'foo.bar.com' });
    const answers: number[] = [];
    client.onSecureConnect = () => client.send(new TextEncoder().encode('G'.repeat(75)));
    client.onData = (_d, n) => {
      answers.push(n);
      client.close();
    };
    sim.run();
    expect(got).toEqual(['G'.repeat(75)]);
    expect(answers).toEqual([70]);
    expect(served[0]!.serverName).toBe('foo.bar.com');
    expect(served[0]!.alpnProtocol).toBe('http/1.1');
    expect(client.alpnProtocol).toBe('http/1.1');
    const seg = (from: string) => net.log.filter((r) => r.from === from && r.pkt.payloadLength > 0).map((r) => r.pkt.payloadLength);
    // Client: ClientHello 517; CCS + Finished 80; request record 92 (75 + 17) in 97; close_notify 24.
    expect(seg('client')).toEqual([517, 80, 97, 24]);
    // Server: 2373-byte flight in two segments, tickets 574, response 92 (70 + 17 + 5).
    const s = seg('server');
    expect(s[0]! + s[1]!).toBe(5 + 122 + 6 + 5 + 38 + 5 + 1838 + 5 + 281 + 5 + 69);
    const bytes = (from: string) => concat(net.log.filter((r) => r.from === from && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    expect(recordLengths(bytes('client'))).toEqual([512, 1, 69, 92, 19]);
    expect(recordLengths(bytes('server'))).toEqual([122, 1, 38, 1838, 281, 69, 282, 282, 87, 19]);
    expect(net.log.filter((r) => r.pkt.tcp!.flags & TcpFlag.RST)).toEqual([]);
  });
});

describe('TlsSocket: costs, framing, failures', () => {
  it('the handshake costs one round trip after TCP: the client is secure one RTT after its connect, the server half an RTT later', () => {
    const { sim, tc, served } = world();
    const tcp = tc.connect(ip('10.0.0.2'), 443);
    const client = TlsSocket.connect(tcp, { rng: sim.rng.stream('client/tls'), serverName: 'foo.bar.com' });
    sim.run();
    const rtt = tcp.establishedAt - tcp.connectStartedAt;
    expect(rtt).toBeGreaterThan(90_000);
    const tlsTime = client.secureAt - tcp.establishedAt;
    expect(tlsTime).toBeGreaterThanOrEqual(rtt);
    expect(tlsTime).toBeLessThan(1.5 * rtt);
    expect(served[0]!.secureAt - client.secureAt).toBeGreaterThanOrEqual(rtt / 2);
  });

  it('application data goes in records of at most 16 KiB of plaintext', () => {
    const { sim, net, tc } = world();
    const client = TlsSocket.connect(tc.connect(ip('10.0.0.2'), 443), { rng: sim.rng.stream('client/tls'), serverName: null });
    client.onSecureConnect = () => client.send(40_000);
    sim.run();
    const bytes = concat(net.log.filter((r) => r.from === 'client' && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    expect(recordLengths(bytes)).toEqual([512, 1, 69, 16384 + 17, 16384 + 17, 40_000 - 2 * 16384 + 17]);
  });

  it('SNI picks the chain through the server context: exact, one-label wildcard, else the fake certificate', () => {
    const chains = new Map([['foo.bar.com', certificateChain('p256', 1)], ['*.bar.com', certificateChain('rsa2048', 3)]]);
    const certRecord = (sni: string | null): number => {
      const sim = new Simulator(1);
      const net = new FakeNet(sim, { delayNs: 50_000 });
      const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
      const ctx = new TlsServerContext(sim.rng.stream('s'), (name) => selectCertificateBySni(name, (h) => chains.get(h), FAKE_CERTIFICATE));
      new TlsServer(new TcpLayer(net.addHost('server', '10.0.0.2')), 443, ctx, () => {});
      TlsSocket.connect(tc.connect(ip('10.0.0.2'), 443), { rng: sim.rng.stream('c'), serverName: sni });
      sim.run();
      return recordLengths(concat(net.log.filter((r) => r.from === 'server' && r.pkt.payload !== null).map((r) => r.pkt.payload!)))[3]!;
    };
    expect(certRecord('FOO.bar.com')).toBe(4 + 1 + 3 + 3 + 501 + 2 + 17);
    expect(certRecord('x.bar.com')).toBe(4 + 1 + 3 + 3 * (3 + 2) + 899 + 2 * 904 + 17);
    expect(certRecord('x.y.bar.com')).toBe(983);
    expect(certRecord(null)).toBe(983);
  });

  it('no common ALPN protocol: the server answers with a plaintext no_application_protocol alert and both ends fail', () => {
    const { sim, net, tc, served } = world();
    const client = TlsSocket.connect(tc.connect(ip('10.0.0.2'), 443), { rng: sim.rng.stream('client/tls'), serverName: 'foo.bar.com', alpn: ['h2'] });
    const errors: string[] = [];
    client.onError = (k) => errors.push(k);
    sim.run();
    const server = concat(net.log.filter((r) => r.from === 'server' && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    expect(Array.from(server)).toEqual([21, 3, 3, 0, 2, 2, 120]);
    expect(served[0]!.failure).toBe('no_application_protocol');
    expect(client.failure).toBe('peer sent alert 120');
    expect(errors).toEqual(['reset']);
  });

  it('a flipped byte in a protected record fails its tag: bad_record_mac, an encrypted alert, no data delivered', () => {
    const sim = new Simulator(1);
    let flipped = false;
    const net = new FakeNet(sim, {
      delayNs: 50_000,
      loss: (pkt) => {
        // The second segment of the server's flight carries Certificate/CertificateVerify/Finished.
        if (!flipped && pkt.payload !== null && pkt.payloadLength > 500 && pkt.payloadLength < 1000 && pkt.tcp!.srcPort === 443) {
          pkt.payload = pkt.payload.slice();
          pkt.payload[100]! ^= 0x40;
          flipped = true;
        }
        return false;
      },
    });
    const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
    const ctx = new TlsServerContext(sim.rng.stream('s'), () => certificateChain('rsa2048'));
    new TlsServer(new TcpLayer(net.addHost('server', '10.0.0.2')), 443, ctx, () => {});
    const client = TlsSocket.connect(tc.connect(ip('10.0.0.2'), 443), { rng: sim.rng.stream('c'), serverName: 'foo.bar.com' });
    let secure = false;
    client.onSecureConnect = () => (secure = true);
    sim.run();
    expect(flipped).toBe(true);
    expect(secure).toBe(false);
    expect(client.failure).toBe('bad_record_mac');
    const fromClient = concat(net.log.filter((r) => r.from === 'client' && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    expect(recordLengths(fromClient)).toEqual([512, 2 + 17]);
  });
});

describe('HTTP over TLS (https targets, HttpServer with a TLS context)', () => {
  function https(keepAlive: boolean) {
    const sim = new Simulator(3);
    const net = new FakeNet(sim, { delayNs: 50_000 });
    const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
    const ts = new TcpLayer(net.addHost('web-0', '10.0.0.2'));
    const ctx = new TlsServerContext(sim.rng.stream('web-0/tls-server/443'), () => certificateChain('rsa2048'));
    const server = new HttpServer(ts, { port: 443, identity: 'web-0', responseSize: { kind: 'constant', value: 3000 }, tls: ctx });
    const client = new HttpClient(tc, { keepAlive });
    const results: HttpResult[] = [];
    for (let i = 0; i < 3; i++) sim.schedule(i * 10_000_000, () => client.request({ addr: ip('10.0.0.2'), port: 443, host: 'web.example', path: '/', tls: true }, 1 * SEC, (r) => results.push(r)));
    sim.run();
    const hellos = net.log.filter((r) => r.from === 'client' && r.pkt.payload !== null && r.pkt.payload[0] === 22).length;
    return { results, server, hellos, client };
  }

  it('a new connection per request: one handshake each; connect and tls phases reported; the body arrives whole', () => {
    const { results, server, hellos } = https(false);
    expect(results.map((r) => `${r.ok} ${r.status} ${r.bytes} ${r.servedBy}`)).toEqual(Array(3).fill('true 200 3000 web-0'));
    expect(new TextDecoder().decode(results[0]!.response!.body.subarray(0, 16))).toBe('served-by web-0\n');
    expect(hellos).toBe(3);
    expect(server.counters.responses).toBe(3);
    for (const r of results) {
      expect(r.connect).toBeGreaterThan(0);
      expect(r.tls).toBeGreaterThanOrEqual(r.connect!);
      expect(r.latency).toBeGreaterThan(r.connect! + r.tls!);
    }
  });

  it('keep-alive: one TLS session carries every request; later requests report no connect or tls phase', () => {
    const { results, hellos, client } = https(true);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(hellos).toBe(1);
    expect(client.connectionsOpened).toBe(1);
    expect(results.map((r) => r.tls === null)).toEqual([false, true, true]);
  });
});

describe('selectCertificateBySni', () => {
  const certs = new Map<string, string>([['foo.bar.com', 'foo'], ['*.bar.com', 'wild']]);
  const pick = (sni: string | null) => selectCertificateBySni(sni, (h) => certs.get(h), 'fake');
  it('exact host, then one-label wildcard, else the default; lowercase and trailing dot ignored', () => {
    expect(pick('foo.bar.com')).toBe('foo');
    expect(pick('FOO.Bar.com.')).toBe('foo');
    expect(pick('baz.bar.com')).toBe('wild');
    expect(pick('a.baz.bar.com')).toBe('fake');
    expect(pick('bar.com')).toBe('fake');
    expect(pick(null)).toBe('fake');
    expect(FAKE_CERTIFICATE.commonName).toBe('Kubernetes Ingress Controller Fake Certificate');
  });
});
