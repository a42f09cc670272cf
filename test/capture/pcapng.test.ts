import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter, PcapWriter, pcapFileName } from '../../src/capture/pcapng.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import {
  arpReplyFrame, arpRequestFrame, icmpEchoFrame, icmpPortUnreachableFrame, tcpSynFrame, udpFrame, vxlanFrame,
} from '../helpers/frames.js';
import { hasTshark, NO_TSHARK, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { dnsQuery, DnsClass, DnsFlag, DnsType, encodeDnsMessage, type DnsMessage } from '../../src/wire/dns.js';
import { buildHttpRequest, buildHttpResponse } from '../../src/wire/http.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcpFrame } from '../helpers/frames.js';

function dnsFrames() {
  const q = dnsQuery(0x1a2b, 'web.default.svc.cluster.local', DnsType.A);
  const r: DnsMessage = {
    ...q,
    flags: DnsFlag.QR | DnsFlag.AA | DnsFlag.RD | DnsFlag.RA,
    answers: [{ name: 'web.default.svc.cluster.local', type: DnsType.A, class: DnsClass.IN, ttl: 30, data: { kind: 'A', address: 0x0a60000a } }],
  };
  const query = udpFrame(53, encodeDnsMessage(q));
  const resp = udpFrame(53, encodeDnsMessage(r));
  // The response goes back from port 53 to the client port.
  resp.udp!.srcPort = 53;
  resp.udp!.dstPort = 40000;
  return [query, resp];
}

function httpFrames() {
  const req = buildHttpRequest({ method: 'GET', target: '/healthz', headers: [['Host', 'web'], ['User-Agent', 'podwire']] });
  const res = buildHttpResponse({ status: 200, headers: [['Content-Type', 'text/plain']], body: 'ok\n' });
  return [
    tcpFrame(TcpFlag.PSH | TcpFlag.ACK, 1001, 5001, req),
    tcpFrame(TcpFlag.PSH | TcpFlag.ACK, 5001, 1001 + req.length, res, [], true),
  ];
}

const dir = mkdtempSync(join(tmpdir(), 'podwire-pcapng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Minimal pcapng block walker for structural checks: [type, body] per block. */
function blocks(file: Uint8Array): { type: number; len: number; at: number }[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: { type: number; len: number; at: number }[] = [];
  for (let o = 0; o < file.length; ) {
    const type = v.getUint32(o, true);
    const len = v.getUint32(o + 4, true);
    expect(len % 4).toBe(0);
    expect(v.getUint32(o + len - 4, true)).toBe(len);
    out.push({ type, len, at: o });
    o += len;
  }
  return out;
}

describe('pcapng writer', () => {
  it('writes SHB, one IDB per interface and EPBs with split ns timestamps and padding', () => {
    const path = join(dir, 'struct.pcapng');
    const w = new PcapngWriter(path, { chunkSize: 128 }); // tiny chunks: exercises flushing
    const a = w.addInterface('host1/veth1a2b');
    const b = w.addInterface('node1/cni0', { snaplen: 40 });
    const frame = serializeFrame(udpFrame()); // 55 bytes: needs 1 byte of padding
    w.writePacket(a, 2 ** 32 + 5, frame);
    w.writePacket(b, 7, frame);
    expect(existsSync(path)).toBe(false);
    w.close();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const file = new Uint8Array(readFileSync(path));
    const v = new DataView(file.buffer, file.byteOffset);
    const bl = blocks(file);
    expect(bl.map((x) => x.type)).toEqual([0x0a0d0d0a, 1, 1, 6, 6]);
    expect(v.getUint32(8, true)).toBe(0x1a2b3c4d);
    const e1 = bl[3]!.at;
    expect(v.getUint32(e1 + 8, true)).toBe(0);
    expect(v.getUint32(e1 + 12, true)).toBe(1); // high
    expect(v.getUint32(e1 + 16, true)).toBe(5); // low
    expect(v.getUint32(e1 + 20, true)).toBe(55);
    expect(bl[3]!.len).toBe(32 + 56);
    expect([...file.subarray(e1 + 28, e1 + 28 + 55)]).toEqual([...frame]);
    expect(file[e1 + 28 + 55]).toBe(0);
    const e2 = bl[4]!.at;
    expect(v.getUint32(e2 + 8, true)).toBe(1);
    expect(v.getUint32(e2 + 20, true)).toBe(40); // snaplen
    expect(v.getUint32(e2 + 24, true)).toBe(55); // original
    expect(w.packetCount).toBe(2);
  });

  it('abort leaves no file', () => {
    const path = join(dir, 'aborted.pcapng');
    const w = new PcapngWriter(path);
    w.addInterface('x');
    w.writePacketRecord(0, 1, udpFrame());
    w.abort();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('aborted'))).toEqual([]);
  });

  it.skipIf(!hasTshark())('interface names and exact ns timestamps are visible to tshark', () => {
    const path = join(dir, 'ifaces.pcapng');
    const w = new PcapngWriter(path, { chunkSize: 256 });
    const names = ['host1/veth1a2b', 'node1/cni0', 'node1/flannel.1', 'node1/eth0'];
    const ids = names.map((n) => w.addInterface(n, { description: `capture point ${n}` }));
    const times = [0, 1, 999_999_999, 4_294_967_297, 90_000_000_000_007];
    for (let i = 0; i < times.length; i++) w.writePacketRecord(ids[i % ids.length]!, times[i]!, icmpEchoFrame(8, i));
    w.close();
    const recs = tsharkRecords(path, ['frame.interface_name', 'frame.interface_id', 'frame.time_epoch']);
    expect(recs.map((r) => r['frame.interface_name'])).toEqual(times.map((_, i) => names[i % names.length]));
    expect(recs.map((r) => r['frame.time_epoch'])).toEqual(times.map((t) => `${Math.floor(t / 1e9)}.${String(t % 1e9).padStart(9, '0')}`));
  });

  it.skipIf(!hasTshark())('a frame of every kind decodes with zero malformed and zero bad checksums', () => {
    const path = join(dir, 'kinds.pcapng');
    const w = new PcapngWriter(path);
    const ifc = w.addInterface('node1/eth0');
    const frames = [
      arpRequestFrame(), arpReplyFrame(), icmpEchoFrame(8), icmpEchoFrame(0), icmpPortUnreachableFrame(),
      udpFrame(), tcpSynFrame(), vxlanFrame(), vxlanFrame(icmpEchoFrame(), 4789),
      icmpPortUnreachableFrame(udpFrame(9999, null, 1400)),
      ...dnsFrames(), ...httpFrames(),
    ];
    frames.forEach((f, i) => w.writePacketRecord(ifc, (i + 1) * 1000, f));
    w.close();
    const r = tsharkCheck(path);
    expect(r.frames).toBe(frames.length);
    expect(r.errors).toEqual([]);
    expect(r.malformed).toBe(0);
    expect(r.badChecksums).toBe(0);
    const f = tsharkRecords(path, [
      'frame.len', 'frame.protocols', 'arp.opcode', 'icmp.type', 'tcp.options.mss_val', 'tcp.options.wscale.shift', 'vxlan.vni', 'udp.dstport', 'ip.len',
      'dns.qry.name', 'dns.flags.response', 'dns.a', 'http.request.method', 'http.request.uri', 'http.response.code', 'http.content_length',
    ]);
    expect(f.map((x) => x['frame.len'])).toEqual(frames.map((p) => String(serializeFrame(p).length)));
    expect(f[0]!['arp.opcode']).toBe('1');
    expect(f[1]!['arp.opcode']).toBe('2');
    expect(f[2]!['icmp.type']).toBe('8');
    expect(f[4]!['frame.protocols']).toBe('eth:ethertype:ip:icmp:ip:udp:data');
    expect(f[6]!['tcp.options.mss_val']).toBe('1460');
    expect(f[6]!['tcp.options.wscale.shift']).toBe('7');
    expect(f[7]!['vxlan.vni']).toBe('1');
    expect(f[7]!['frame.protocols']).toBe('eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data');
    expect(f[8]!['vxlan.vni']).toBe('1');
    // The large quote is capped: the ICMP error is 576 bytes of IP.
    expect(f[9]!['ip.len']).toBe('576,1428');
    expect(f[10]).toMatchObject({ 'dns.qry.name': 'web.default.svc.cluster.local', 'dns.flags.response': '0' });
    expect(f[11]).toMatchObject({ 'dns.qry.name': 'web.default.svc.cluster.local', 'dns.flags.response': '1', 'dns.a': '10.96.0.10' });
    expect(f[12]).toMatchObject({ 'http.request.method': 'GET', 'http.request.uri': '/healthz' });
    expect(f[13]).toMatchObject({ 'http.response.code': '200', 'http.content_length': '3' });
  });
});

describe('pcap writer', () => {
  it.skipIf(!hasTshark())('one file per interface with nanosecond timestamps', () => {
    const sub = join(dir, 'classic');
    const w = new PcapWriter(sub, { chunkSize: 64 });
    const a = w.addInterface('node1/cni0');
    const b = w.addInterface('node2/eth0');
    w.writePacketRecord(a, 1_500_000_001, udpFrame());
    w.writePacketRecord(b, 2_000_000_002, vxlanFrame());
    w.writePacketRecord(a, 3_000_000_003, tcpSynFrame());
    w.close();
    expect(w.paths).toEqual([pcapFileName(sub, 'node1/cni0'), pcapFileName(sub, 'node2/eth0')]);
    expect(w.paths[0]!.endsWith('node1_cni0.pcap')).toBe(true);
    const head = new Uint8Array(readFileSync(w.paths[0]!));
    const v = new DataView(head.buffer);
    expect(v.getUint32(0, true)).toBe(0xa1b23c4d);
    const ra = tsharkRecords(w.paths[0]!, ['frame.time_epoch', 'udp.dstport', 'tcp.dstport']);
    expect(ra.map((r) => r['frame.time_epoch'])).toEqual(['1.500000001', '3.000000003']);
    const rb = tsharkRecords(w.paths[1]!, ['frame.time_epoch', 'vxlan.vni']);
    expect(rb).toEqual([{ 'frame.time_epoch': '2.000000002', 'vxlan.vni': '1' }]);
    for (const p of w.paths) {
      const r = tsharkCheck(p);
      expect(r.malformed + r.badChecksums).toBe(0);
    }
  });
  it('skips tshark checks with a reason when tshark is missing', () => {
    expect(NO_TSHARK).toMatch(/tshark/);
  });
});
