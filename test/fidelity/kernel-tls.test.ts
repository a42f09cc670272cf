// TLS 1.3 handshake against the real thing: curl (OpenSSL 3.0) to a Node 20 `tls` server in two network
// namespaces, captured with tcpdump, versus podwire's TlsSocket over a veth pair with the same
// certificate chain shape (DER sizes read from the certificates openssl made for this run) and the same
// request/response sizes. Compared: the record lengths each side sends, and the TCP payload sizes of
// its data segments (MTU 1500: MSS 1448 with timestamps). An RSA-2048 chain (leaf + intermediate) and
// a P-256 one (an ECDSA signature is 70..72 bytes: that one record may differ by up to 2).
//
//   c: eth0 10.7.0.1/24 (curl --http1.1 https://foo.bar.com/) ══ veth ══ s: eth0 10.7.0.2/24 (node tls :443)
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetDevice } from '../../src/link/device.js';
import { parseFrame } from '../../src/packet/parse.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { TlsServer, TlsServerContext, TlsSocket } from '../../src/app/tls.js';
import { TcpFlag } from '../../src/wire/types.js';
import type { TlsCertificateChain, TlsKeyType } from '../../src/app/tls-certs.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSpawn, readPcap, run, sleep, startTcpdump, stopChild } from '../helpers/netns.js';

const CURL = findProgram('curl');
const OPENSSL = findProgram('openssl');
const skip = netnsSkipReason() ?? (CURL === null ? 'curl is not installed' : OPENSSL === null ? 'openssl is not installed' : null);

const SERVER = `
import tls from 'node:tls'; import fs from 'node:fs';
const [key, cert] = process.argv.slice(2);
const srv = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), ALPNProtocols: ['http/1.1'] }, (s) => {
  let buf = '';
  s.on('data', (d) => { buf += d; if (buf.includes('\\r\\n\\r\\n')) s.write('HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n'); });
  s.on('end', () => s.end());
  s.on('error', () => {});
});
srv.listen(443, '0.0.0.0', () => console.log('listening'));
setTimeout(() => process.exit(0), 15000);`;

/** What one side of a connection sent: TCP payload sizes of its data segments and its record lengths. */
interface Side {
  segments: number[];
  records: number[];
  /** This side sent a RST. */
  reset: boolean;
}

/** Splits the frames of one connection by direction (port 443 = server) and walks the record headers. */
function sides(frames: Uint8Array[]): { client: Side; server: Side } {
  const out = { client: { segments: [], records: [], reset: false } as Side, server: { segments: [], records: [], reset: false } as Side };
  const streams = { client: [] as number[], server: [] as number[] };
  for (const b of frames) {
    const p = parseFrame(b);
    if (p.tcp === null) continue;
    const who = p.tcp.srcPort === 443 ? 'server' : 'client';
    if (p.tcp.flags & TcpFlag.RST) out[who].reset = true;
    if (p.payloadLength === 0 || p.payload === null) continue;
    out[who].segments.push(p.payloadLength);
    streams[who].push(...p.payload);
  }
  for (const who of ['client', 'server'] as const) {
    const s = streams[who];
    for (let o = 0; o + 5 <= s.length; o += 5 + ((s[o + 3]! << 8) | s[o + 4]!)) out[who].records.push((s[o + 3]! << 8) | s[o + 4]!);
  }
  return out;
}

/** Makes root → intermediate → leaf (CN foo.bar.com) with `key` keys; returns the files and the DER sizes sent. */
function makeChain(dir: string, key: TlsKeyType): { keyFile: string; certFile: string; derSizes: number[] } {
  const newkey = key === 'rsa2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const o = (args: string[]) => run(OPENSSL!, args, { timeoutMs: 20_000 });
  const f = (n: string) => join(dir, `${key}-${n}`);
  writeFileSync(f('ca.ext'), 'basicConstraints=CA:TRUE\n');
  writeFileSync(f('leaf.ext'), 'subjectAltName=DNS:foo.bar.com\n');
  o(['req', '-x509', ...newkey, '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=podwire test root', '-days', '2']);
  o(['req', ...newkey, '-nodes', '-keyout', f('int.key'), '-out', f('int.csr'), '-subj', '/CN=podwire test intermediate']);
  o(['x509', '-req', '-in', f('int.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('int.crt'), '-days', '2', '-extfile', f('ca.ext')]);
  o(['req', ...newkey, '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=foo.bar.com']);
  o(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.crt'), '-CAkey', f('int.key'), '-CAcreateserial', '-out', f('leaf.crt'), '-days', '2', '-extfile', f('leaf.ext')]);
  const derSizes = ['leaf', 'int'].map((n) => {
    o(['x509', '-in', f(`${n}.crt`), '-outform', 'DER', '-out', f(`${n}.der`)]);
    return statSync(f(`${n}.der`)).size;
  });
  writeFileSync(f('chain.pem'), readFileSync(f('leaf.crt'), 'utf8') + readFileSync(f('int.crt'), 'utf8'));
  return { keyFile: f('leaf.key'), certFile: f('chain.pem'), derSizes };
}

describe.skipIf(skip !== null)(`TLS 1.3 handshake: curl + Node vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwt');
  const dir = mkdtempSync(join(tmpdir(), 'pwt-'));
  afterAll(async () => {
    await killAll();
    set.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kernel(key: TlsKeyType, files: { keyFile: string; certFile: string }): Promise<Uint8Array[]> {
    const c = set.create(`c${key}`);
    const s = set.create(`s${key}`);
    const peer = `pwt${key === 'rsa2048' ? 'r' : 'e'}${process.pid % 10000}`;
    ip('link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s);
    ip('link', 'set', peer, 'netns', c, 'name', 'eth0');
    ip('-n', c, 'addr', 'add', '10.7.0.1/24', 'dev', 'eth0');
    ip('-n', s, 'addr', 'add', '10.7.0.2/24', 'dev', 'eth0');
    ip('-n', c, 'link', 'set', 'eth0', 'up');
    ip('-n', s, 'link', 'set', 'eth0', 'up');
    const ethtool = findProgram('ethtool');
    if (ethtool) for (const ns of [c, s]) nsExec(ns, ethtool, ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off'], { allowFail: true });
    const script = join(dir, 'server.mjs');
    writeFileSync(script, SERVER);
    const srv = nsSpawn(s, process.execPath, [script, files.keyFile, files.certFile]);
    const file = join(dir, `${key}.pcap`);
    const td = await startTcpdump(c, 'eth0', file);
    for (let i = 0; i < 100 && !srv.stdout().includes('listening'); i++) await sleep(50);
    const ca = files.certFile.replace('chain.pem', 'ca.crt');
    const code = nsExec(c, CURL!, ['-s', '--http1.1', '--resolve', 'foo.bar.com:443:10.7.0.2', '--cacert', ca, '-o', '/dev/null', '-w', '%{http_code}', 'https://foo.bar.com/'], { timeoutMs: 10_000 });
    expect(code).toBe('200');
    await sleep(300);
    await stopChild(td.child);
    await stopChild(srv);
    return readPcap(file, 'eth0').map((f) => f.bytes);
  }

  function podwire(chain: TlsCertificateChain, requestLen: number, responseLen: number): Uint8Array[] {
    const lab = new Lab();
    const [a, b] = [lab.host('c'), lab.host('s')];
    const [ea] = lab.veth(a, 'eth0', '10.7.0.1/24', b, 'eth0', '10.7.0.2/24', 20_000);
    const frames: Uint8Array[] = [];
    (ea as NetDevice).tap.connect((_d, pkt) => frames.push(serializeFrame(pkt).slice()));
    const ctx = new TlsServerContext(lab.sim.rng.stream('s/tls'), () => chain);
    new TlsServer(new TcpLayer(b), 443, ctx, (t) => {
      t.onData = () => t.send(responseLen);
      t.onEnd = () => t.close();
    });
    const client = TlsSocket.connect(new TcpLayer(a).connect(ipOf('10.7.0.2'), 443, undefined, { noDelay: true }), { rng: lab.sim.rng.stream('c/tls'), serverName: 'foo.bar.com' });
    client.onSecureConnect = () => client.send(requestLen);
    client.onData = () => client.close();
    lab.sim.run({ until: 5e9 });
    return frames;
  }

  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

  const compared = new Map<TlsKeyType, Promise<{ real: { client: Side; server: Side }; model: { client: Side; server: Side } }>>();
  function compare(key: TlsKeyType): Promise<{ real: { client: Side; server: Side }; model: { client: Side; server: Side } }> {
    let c = compared.get(key);
    if (!c) compared.set(key, (c = compareOnce(key)));
    return c;
  }

  async function compareOnce(key: TlsKeyType): Promise<{ real: { client: Side; server: Side }; model: { client: Side; server: Side } }> {
    const chainFiles = makeChain(dir, key);
    const real = sides(await kernel(key, chainFiles));
    // The request and response records: the 4th client record and the 9th server record (plaintext + 17).
    const model = sides(podwire({ key, derSizes: chainFiles.derSizes, commonName: 'foo.bar.com' }, real.client.records[3]! - 17, real.server.records[8]! - 17));
    return { real, model };
  }

  it('RSA-2048 leaf + intermediate: the same records and the same segment sizes on both sides', async () => {
    const { real, model } = await compare('rsa2048');
    expect(real.client.records.slice(0, 3)).toEqual([512, 1, 69]);
    expect(model.client.records).toEqual(real.client.records);
    expect(model.server.records).toEqual(real.server.records);
    expect(model.client.segments).toEqual(real.client.segments);
    // The server's flight (two segments) exactly; what follows (tickets, the response, close_notify)
    // the real server writes as its timing lets the kernel coalesce, so compare those bytes in total.
    expect(model.server.segments.slice(0, 2)).toEqual(real.server.segments.slice(0, 2));
    expect(sum(model.server.segments)).toBe(sum(real.server.segments));
    expect(real.server.segments.length).toBeLessThanOrEqual(model.server.segments.length);
  }, 60_000);

  it('P-256 leaf + intermediate: the same records except the ECDSA signature (66..72 bytes); one server segment for the flight', async () => {
    const { real, model } = await compare('p256');
    expect(model.client.records).toEqual(real.client.records);
    const cv = 4; // ServerHello, CCS, EncryptedExtensions, Certificate, CertificateVerify
    expect(model.server.records.filter((_, i) => i !== cv)).toEqual(real.server.records.filter((_, i) => i !== cv));
    // A DER ECDSA-P256 signature is 6 + len(r) + len(s): each integer 33 bytes when its top bit is set,
    // 32 otherwise, one byte less again with probability 1/256 (a leading zero byte; a run saw 69), so
    // 66..72 bounds all but a 2^-32 chance.
    for (const side of [real, model]) expect(side.server.records[cv]).toBeGreaterThanOrEqual(4 + 4 + 66 + 17);
    for (const side of [real, model]) expect(side.server.records[cv]).toBeLessThanOrEqual(4 + 4 + 72 + 17);
    expect(model.client.segments).toEqual(real.client.segments);
    // The flight in one segment (the signatures' lengths apart); the later writes as above.
    const sigGap = Math.abs(model.server.records[cv]! - real.server.records[cv]!);
    expect(Math.abs(model.server.segments[0]! - real.server.segments[0]!)).toBe(sigGap);
    expect(Math.abs(sum(model.server.segments) - sum(real.server.segments))).toBe(sigGap);
    expect(real.server.segments.length).toBeLessThanOrEqual(model.server.segments.length);
  }, 60_000);

  it('the kernel resets the server\'s close_notify that arrives after curl closed (RFC 1122 4.2.2.13; tcp_rcv_state_process, TCPAbortOnData)', async () => {
    const { real } = await compare('rsa2048');
    expect(real.server.records.at(-1)).toBe(19);
    expect(real.client.reset).toBe(true);
  }, 60_000);

  // podwire's TCP queues data that arrives in FIN_WAIT after close() instead of answering with RST
  // (transport/tcp: not modelled yet); the TLS records are the same, the last segment differs.
  it.fails('podwire answers that close_notify with RST too', async () => {
    const { real, model } = await compare('rsa2048');
    expect(model.client.reset).toBe(real.client.reset);
  }, 60_000);
});
