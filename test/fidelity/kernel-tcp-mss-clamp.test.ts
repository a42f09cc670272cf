// TCP MSS clamping against the kernel (xt_TCPMSS.c; iptables-nft turns the rule into nftables'
// `tcp option maxseg size set rt mtu`, nft_exthdr + nft_rt, which agree with xt_TCPMSS whenever the SYN
// carries an MSS option, as every Linux SYN does): a router whose far link has the smaller MTU clamps
// the MSS of both handshake segments, so neither end ever sends a segment the far link cannot carry.
//
//   a: eth0 10.6.0.2/24 ══ veth ══ ra 10.6.0.1 [r, ip_forward, mangle FORWARD -j TCPMSS --clamp-mss-to-pmtu]
//                                   rb 10.7.0.1 mtu 1400 ══ veth ══ b: eth0 10.7.0.2/24 (mtu 1500)
//
// a connects to b:5003, sends 5000 bytes; b answers 5000 bytes and both close. Compared on r's two
// legs (tcpdump on ra and rb, podwire's taps on the same devices): the MSS option of the SYN and of
// the SYN-ACK (a's 1460 becomes 1360 on rb: min(1400, 1500) − 40; b's 1460 becomes 1360 on ra, the
// route back to b being rb), the largest data segment each way (1400 bytes of IP: 1348 of data after
// 12 of timestamps), the bytes each end received, and that no ICMP "fragmentation needed" was needed.
// Segment counts and timing are not compared (Linux coalesces writes as timing allows).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { TcpLayer, type TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { ETHTOOL, findProgram, ip, netnsSkipReason, nsExec, nsSpawn, nsSysctl, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const skip = netnsSkipReason() ?? (findProgram('iptables-restore') === null ? 'needs iptables-restore' : ETHTOOL === null ? 'needs ethtool' : findProgram('python3') === null ? 'needs python3' : null);
const BYTES = 5000;
const RULES = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
`;

const SERVER = `
import socket
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); l.bind(("0.0.0.0",5003)); l.listen(1); l.settimeout(5)
c,_=l.accept(); c.settimeout(3); n=0
try:
  while n < ${BYTES}:
    d=c.recv(65536)
    if not d: break
    n+=len(d)
  c.sendall(b"y"*${BYTES})
except Exception: pass
print(n, flush=True); c.close()`;

const CLIENT = `
import socket
s=socket.create_connection(("10.7.0.2",5003),timeout=5); s.sendall(b"x"*${BYTES}); s.settimeout(3); n=0
try:
  while n < ${BYTES}:
    d=s.recv(65536)
    if not d: break
    n+=len(d)
except Exception: pass
print(n, flush=True); s.close()`;

/** What one leg of the router shows. */
interface Leg {
  synMss: number | null;
  synAckMss: number | null;
  /** Largest IP total length of a data segment a → b and b → a. */
  maxToB: number;
  maxToA: number;
  /** Data bytes seen each way (retransmissions included, so at least BYTES). */
  bytesToB: number;
  bytesToA: number;
  fragNeeded: number;
}

function leg(frames: Packet[]): Leg {
  const out: Leg = { synMss: null, synAckMss: null, maxToB: 0, maxToA: 0, bytesToB: 0, bytesToA: 0, fragNeeded: 0 };
  for (const p of frames) {
    if (p.ip === null) continue;
    if (p.icmp !== null && p.icmp.type === 3 && p.icmp.code === 4) out.fragNeeded++;
    const t = p.tcp;
    if (t === null || (t.dstPort !== 5003 && t.srcPort !== 5003)) continue;
    const mss = t.options.find((o): o is { kind: 'mss'; value: number } => o.kind === 'mss')?.value ?? null;
    if ((t.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) out.synMss = mss;
    if ((t.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) out.synAckMss = mss;
    if (p.payloadLength === 0) continue;
    if (t.dstPort === 5003) {
      out.maxToB = Math.max(out.maxToB, p.ip.totalLength);
      out.bytesToB += p.payloadLength;
    } else {
      out.maxToA = Math.max(out.maxToA, p.ip.totalLength);
      out.bytesToA += p.payloadLength;
    }
  }
  return out;
}

describe.skipIf(skip !== null)(`TCP MSS clamping at a router: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  async function kernel(): Promise<{ ra: Leg; rb: Leg; gotA: number; gotB: number }> {
    const [a, r, b] = [set.create('mssa'), set.create('mssr'), set.create('mssb')];
    const id = process.pid % 100000;
    ip('link', 'add', `mssa${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', a);
    ip('link', 'set', `mssa${id}`, 'netns', r, 'name', 'ra');
    ip('link', 'add', `mssb${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    ip('link', 'set', `mssb${id}`, 'netns', r, 'name', 'rb');
    ip('-n', a, 'addr', 'add', '10.6.0.2/24', 'dev', 'eth0');
    ip('-n', r, 'addr', 'add', '10.6.0.1/24', 'dev', 'ra');
    ip('-n', r, 'addr', 'add', '10.7.0.1/24', 'dev', 'rb');
    ip('-n', b, 'addr', 'add', '10.7.0.2/24', 'dev', 'eth0');
    for (const [ns, dev] of [[a, 'eth0'], [r, 'ra'], [b, 'eth0']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', r, 'link', 'set', 'rb', 'up', 'mtu', '1400');
    ip('-n', a, 'route', 'add', 'default', 'via', '10.6.0.1');
    ip('-n', b, 'route', 'add', 'default', 'via', '10.7.0.1');
    nsSysctl(r, { 'net.ipv4.ip_forward': 1 });
    for (const [ns, dev] of [[a, 'eth0'], [b, 'eth0'], [r, 'ra'], [r, 'rb']] as const) nsExec(ns, ETHTOOL!, ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    nsExec(r, findProgram('iptables-restore')!, [], { input: RULES });
    const [fa, fb] = [join(dir, 'ra.pcap'), join(dir, 'rb.pcap')];
    const ta = await startTcpdump(r, 'ra', fa);
    const tb = await startTcpdump(r, 'rb', fb);
    const srv = nsSpawn(b, findProgram('python3')!, ['-c', SERVER]);
    await sleep(300);
    const gotA = Number(nsExec(a, findProgram('python3')!, ['-c', CLIENT], { timeoutMs: 10_000 }).trim());
    await srv.exited(8000);
    await sleep(200);
    await stopChild(ta.child);
    await stopChild(tb.child);
    const parse = (file: string, name: string) => readPcap(file, name).map((f) => parseFrame(f.bytes));
    return { ra: leg(parse(fa, 'ra')), rb: leg(parse(fb, 'rb')), gotA, gotB: Number(srv.stdout().trim()) };
  }

  function podwire(): { ra: Leg; rb: Leg; gotA: number; gotB: number } {
    const lab = new Lab();
    const [a, r, b] = [lab.host('a'), lab.host('r', true), lab.host('b')];
    const [ea, ra] = lab.veth(a, 'eth0', '10.6.0.2/24', r, 'ra', '10.6.0.1/24', 5_000);
    const [rb, eb] = lab.veth(r, 'rb', '10.7.0.1/24', b, 'eth0', '10.7.0.2/24', 5_000);
    rb.mtu = 1400;
    a.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.6.0.1'), dev: ea });
    b.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.7.0.1'), dev: eb });
    r.enableNetfilter().load(parseIptablesSave(RULES, 'mss.rules'));
    const seen = { ra: [] as Packet[], rb: [] as Packet[] };
    ra.tap.connect((_d, pkt) => seen.ra.push(parseFrame(serializeFrame(pkt).slice())));
    rb.tap.connect((_d, pkt) => seen.rb.push(parseFrame(serializeFrame(pkt).slice())));
    let gotA = 0;
    let gotB = 0;
    new TcpLayer(b).listen(5003, (s) => {
      s.onData = (_d, n) => {
        gotB += n;
        if (gotB === BYTES) s.send(BYTES);
      };
    });
    new TcpLayer(a).connect(ipOf('10.7.0.2'), 5003, (s: TcpSocket) => {
      s.onData = (_d, n) => (gotA += n);
      s.send(BYTES);
    });
    lab.sim.run({ until: 2e9 });
    return { ra: leg(seen.ra), rb: leg(seen.rb), gotA, gotB };
  }

  it('clamps the SYN and the SYN-ACK to the far link, and no segment exceeds it', async () => {
    const k = await kernel();
    const p = podwire();
    expect(k.gotA).toBe(BYTES);
    expect(k.gotB).toBe(BYTES);
    expect(p.gotA).toBe(BYTES);
    expect(p.gotB).toBe(BYTES);
    // a's SYN as a sent it, as b gets it; b's SYN-ACK as b sent it, as a gets it.
    expect({ ra: [k.ra.synMss, k.ra.synAckMss], rb: [k.rb.synMss, k.rb.synAckMss] }).toEqual({ ra: [1460, 1360], rb: [1360, 1460] });
    expect({ ra: [p.ra.synMss, p.ra.synAckMss], rb: [p.rb.synMss, p.rb.synAckMss] }).toEqual({ ra: [1460, 1360], rb: [1360, 1460] });
    for (const [name, x] of [['kernel', k], ['podwire', p]] as const) {
      for (const l of [x.ra, x.rb]) {
        expect([l.maxToB, l.maxToA], name).toEqual([1400, 1400]);
        expect(l.fragNeeded, name).toBe(0);
        expect(l.bytesToB, name).toBeGreaterThanOrEqual(BYTES);
        expect(l.bytesToA, name).toBeGreaterThanOrEqual(BYTES);
      }
    }
  }, 40_000);
});
