// What tshark 4.0 makes of podwire's TLS 1.3 handshake, and proof that the checks the scenario tests
// use can fail: the same capture with one length field corrupted is flagged as external-flows-facts §d
// measured it ("Vector length N is too large" → malformed; "trailing bytes were unprocessed" → a
// warning). Port 443 decodes as TLS by default; 8443 needs `-d tcp.port==8443,tls`.
//
//   c: eth0 10.7.0.1/24 ══ veth ══ s: eth0 10.7.0.2/24 (TlsServer :443 or :8443)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NetDevice } from '../../src/link/device.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { TlsServer, TlsServerContext, TlsSocket, certificateChain } from '../../src/app/tls.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { hasTshark, NO_TSHARK, TSHARK } from '../helpers/tshark.js';

const HAS_TSHARK = hasTshark();
const dir = mkdtempSync(join(tmpdir(), 'pw-tls-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames of one handshake + 75-byte request + 70-byte response + close, on the client's eth0. */
function handshakeFrames(port: number): Uint8Array[] {
  const lab = new Lab();
  const [a, b] = [lab.host('c'), lab.host('s')];
  const [ea] = lab.veth(a, 'eth0', '10.7.0.1/24', b, 'eth0', '10.7.0.2/24', 20_000);
  const frames: Uint8Array[] = [];
  (ea as NetDevice).tap.connect((_d, pkt) => frames.push(serializeFrame(pkt).slice()));
  new TlsServer(new TcpLayer(b), port, new TlsServerContext(lab.sim.rng.stream('s/tls'), () => certificateChain('rsa2048')), (t) => {
    t.onData = () => t.send(70);
    t.onEnd = () => t.close();
  });
  const client = TlsSocket.connect(new TcpLayer(a).connect(ipOf('10.7.0.2'), port, undefined, { noDelay: true }), { rng: lab.sim.rng.stream('c/tls'), serverName: 'foo.bar.com' });
  client.onSecureConnect = () => client.send(75);
  client.onData = () => client.close();
  lab.sim.run({ until: 5e9 });
  return frames;
}

/** A classic pcap (Ethernet, µs) of `frames`, one per millisecond. */
function writePcap(name: string, frames: Uint8Array[]): string {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts = [head];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(i, 0);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/** `tshark -r FILE [decode-as] -Y FILTER -T fields -e frame.number -e _ws.col.Info` rows. */
function tshark(path: string, filter: string, extra: string[] = []): string[] {
  const r = spawnSync(TSHARK, ['-r', path, '-n', ...extra, '-Y', filter, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message', '-e', 'tls.record.length'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const BAD = '_ws.malformed || (_ws.expert.severity>=warning && tls)';
/** Offset of the ClientHello's TCP payload in its frame: Ethernet 14 + IPv4 20 + TCP 32 (timestamps). */
const CH_PAYLOAD = 14 + 20 + 32;

describe.skipIf(!HAS_TSHARK)(`podwire's TLS 1.3 in tshark${HAS_TSHARK ? '' : ` (skipped: ${NO_TSHARK})`}`, () => {
  const frames = handshakeFrames(443);
  const chIndex = frames.findIndex((f) => f.length === CH_PAYLOAD + 517);

  it('port 443: every record recognised, nothing malformed, no TLS expert warning', () => {
    const path = writePcap('clean.pcap', frames);
    expect(tshark(path, BAD)).toEqual([]);
    const records = tshark(path, 'tls').map((l) => l.split('\t')[2]);
    expect(records).toEqual(['512', '122,1,38', '1838,281,69', '1,69', '92', '282,282', '87', '19', '19']);
  });

  it('port 8443: the same, with -d tcp.port==8443,tls', () => {
    const path = writePcap('clean-8443.pcap', handshakeFrames(8443));
    expect(tshark(path, 'tls', ['-d', 'tcp.port==8443,tls']).length).toBe(9);
    expect(tshark(path, BAD, ['-d', 'tcp.port==8443,tls'])).toEqual([]);
  });

  it('the check fails when a length is wrong: extensions length +7 is malformed, SNI extension length +4 leaves trailing bytes', () => {
    expect(chIndex).toBeGreaterThan(0);
    // ClientHello: record 5, handshake 4, version 2, random 32, session id 33, suites 64, compression 2.
    const extLen = CH_PAYLOAD + 5 + 4 + 2 + 32 + 33 + 64 + 2;
    const longer = frames.map((f) => f.slice());
    longer[chIndex]![extLen + 1]! += 7;
    const bad = tshark(writePcap('ext-len.pcap', longer), BAD);
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.join('\n')).toMatch(/Vector length \d+ is too large/);
    const sni = frames.map((f) => f.slice());
    sni[chIndex]![extLen + 2 + 2 + 1]! += 4; // server_name extension's length (type 0, then length)
    expect(tshark(writePcap('sni-len.pcap', sni), BAD).join('\n')).toMatch(/trailing bytes? (was|were) unprocessed/);
  });
});
