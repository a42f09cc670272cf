// TLS 1.3 sessions over the fake network (modelled records, not cryptography):
//
//   client 10.0.0.1 ──(50 µs, 1 Gbps)── server 10.0.0.2 : 443
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { TlsServer, TlsServerContext, TlsSocket } from '../../src/app/tls.js';
import { certificateChain, FAKE_CERTIFICATE, selectCertificateBySni, type TlsCertificateChain } from '../../src/app/tls-certs.js';
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
