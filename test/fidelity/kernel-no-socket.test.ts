// No socket, no listener: against the kernel. Linux registers TCP and UDP in every network namespace
// (inet_init), so a SYN to a port nobody listens on gets tcp_v4_send_reset's RST and a datagram to a
// closed UDP port gets ICMP port unreachable, whether or not anything in that namespace ever opened a
// socket. podwire must answer the same from a namespace with no transport layer at all and from one
// whose TCP layer exists (with no listener on that port), header field by header field.
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24   (capture on b's eth0)
//   a → b:81 SYN (TOS 0, then TOS 0x2b), a → b:9999 UDP "hello"
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Namespace } from '../../src/net/namespace.js';
import { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { IP_DF, IpProto, TcpFlag } from '../../src/wire/types.js';
import { netnsSkipReason, nsExec, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { ip as ipAddr, Lab } from '../net/harness.js';
import { pwaFixture, vethPair } from './netns-pwa.js';

const skip = netnsSkipReason();

/** The fields of an answer that the kernel fixes (not the random ISN or ICMP's IP ID). */
function answer(p: Packet, synSeq: Map<number, number>): Record<string, unknown> {
  const h = p.ip!;
  const common = { tos: h.tos, ttl: h.ttl, df: (h.flags & IP_DF) !== 0, len: h.totalLength };
  if (p.tcp !== null) {
    const t = p.tcp;
    return { ...common, proto: 'tcp', id: h.id, flags: t.flags, seq: t.seq, ackMinusSyn: (t.ack - synSeq.get(t.dstPort)!) >>> 0, window: t.window, options: t.options.length };
  }
  const i = p.icmp!;
  return { ...common, proto: 'icmp', type: i.type, code: i.code, quotedProto: p.inner?.ip?.protocol, quotedLen: p.inner?.ip?.totalLength };
}

/** What b sent and the SYN sequence numbers by client port, from frames in capture order. */
function answers(frames: Packet[]): Record<string, unknown>[] {
  const syn = new Map<number, number>();
  const out: Record<string, unknown>[] = [];
  for (const p of frames) {
    if (p.ip === null) continue;
    if (p.ip.src === ipAddr('10.0.0.1')) {
      if (p.tcp !== null) syn.set(p.tcp.srcPort, p.tcp.seq);
      continue;
    }
    out.push(answer(p, syn));
  }
  return out;
}

describe.skipIf(skip !== null)(`no socket: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('a SYN to a closed port gets a RST and a datagram ICMP port unreachable, with the same headers', async () => {
    // --- kernel
    const [a, b] = vethPair(set, ['nsa', 'nsb'], ['10.0.0.1/24', '10.0.0.2/24']);
    const file = join(dir, 'b.pcap');
    const td = await startTcpdump(b, 'eth0', file);
    const client = [
      'import socket',
      'for tos in (0, 0x2b):',
      '  s=socket.socket(); s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos); s.settimeout(1)',
      '  try: s.connect(("10.0.0.2",81))',
      '  except Exception: pass',
      '  s.close()',
      'u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.sendto(b"hello",("10.0.0.2",9999))',
      'import time; time.sleep(0.2)',
    ].join('\n');
    nsExec(a, PYTHON!, ['-c', client], { timeoutMs: 5000 });
    await sleep(200);
    await stopChild(td.child);
    const kernel = answers(readPcap(file, 'eth0').map((f) => parseFrame(f.bytes)));
    expect(kernel).toHaveLength(3);

    // --- podwire: b without any transport layer, then b with a TCP layer (no listener on 81)
    const run = (withTcp: boolean): Record<string, unknown>[] => {
      const lab = new Lab();
      const na = lab.host('a');
      const nb = lab.host('b');
      const [, eb] = lab.veth(na, 'eth0', '10.0.0.1/24', nb, 'eth0', '10.0.0.2/24');
      if (withTcp) new TcpLayer(nb);
      lab.capture(eb);
      const send = (t: number, build: (p: Packet) => void): void => {
        lab.sim.scheduleAt(t, () => {
          const p = new Packet();
          build(p);
          (na as Namespace).ipLocalOut(p);
        });
      };
      for (const [i, tos] of [0, 0x2b].entries()) {
        send((i + 1) * 1e6, (p) => {
          p.ip = { tos, totalLength: 0, id: -1, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.TCP, checksum: null, src: 0, dst: ipAddr('10.0.0.2'), options: null };
          p.tcp = { srcPort: 40000 + i, dstPort: 81, seq: 1000 + i, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [{ kind: 'mss', value: 1460 }, { kind: 'sackPermitted' }, { kind: 'timestamps', tsval: 1, tsecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 10 }] };
        });
      }
      send(3e6, (p) => {
        p.ip = { tos: 0, totalLength: 0, id: -1, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.UDP, checksum: null, src: 0, dst: ipAddr('10.0.0.2'), options: null };
        p.udp = { srcPort: 50000, dstPort: 9999, length: 13, checksum: null };
        p.payloadLength = 5;
      });
      lab.sim.run({ until: 1e9 });
      return answers(lab.log.map((s) => s.pkt));
    };
    expect(run(false)).toEqual(kernel);
    expect(run(true)).toEqual(kernel);
  });
});
