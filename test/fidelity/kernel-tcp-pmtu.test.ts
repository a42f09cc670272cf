// TCP and "fragmentation needed" against the kernel (tcp_v4_err → tcp_v4_mtu_reduced → tcp_sync_mss,
// tcp_simple_retransmit): a bulk sender whose segments fit its own MTU but not a router's next hop.
// The router answers each 1500-byte DF segment with ICMP 3/4 "next-hop MTU 1400"; the sender learns
// the path MTU (a route exception), lowers its MSS to 1348 and sends the refused bytes again at once
// (no retransmission timeout, no window reduction), cut to the new MSS; the receiver gets every byte.
//
//   a: eth0 10.4.0.2/24 ══ veth ══ ra 10.4.0.1 [r, ip_forward] rb 10.5.0.1 mtu 1400 ══ veth ══ b: eth0 10.5.0.2/24 (mtu 1500)
//
// Linux re-cuts the refused data along its GSO skbs (5 segments each here: 1348 × 5 + 500); podwire,
// with one buffer per segment, re-cuts the run of refused segments as one piece (1348 × 10 + 1000).
// What both must show, and what is compared: every segment after the first ICMP fits 1400 bytes, the
// refused range [1, 14481) is sent again exactly once and starts within a millisecond of the ICMP,
// no byte is sent twice after that, b receives all 20000 bytes, and a's route cache says mtu 1400.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPmtuCache } from '../../src/net/ip-output.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { TcpLayer, type TcpSocket } from '../../src/transport/tcp/index.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSpawn, nsSysctl, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';

const skip = netnsSkipReason() ?? (findProgram('ethtool') === null ? 'needs ethtool' : null);
const BYTES = 20_000;

const SERVER = `
import socket
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); l.bind(("0.0.0.0",5002)); l.listen(1); l.settimeout(5)
c,_=l.accept(); c.settimeout(3); n=0
try:
  while n < ${BYTES}:
    d=c.recv(65536)
    if not d: break
    n+=len(d)
except Exception: pass
print(n, flush=True); c.close()`;

const CLIENT = `
import socket
s=socket.create_connection(("10.5.0.2",5002),timeout=5); s.sendall(b"x"*${BYTES}); s.settimeout(3)
try: s.recv(10)
except Exception: pass
s.close()`;

interface Seen {
  t: number;
  /** Data segment from a: [relative start, end) of the payload, and IP total length. */
  seg?: { start: number; end: number; ipLen: number };
  icmpMtu?: number;
}

/** a's side of the exchange: its data segments and the ICMP errors it got, with times in ns. */
function observe(frames: { t: number; p: Packet }[]): Seen[] {
  let isn: number | null = null;
  const out: Seen[] = [];
  for (const { t, p } of frames) {
    if (p.ip === null) continue;
    if (p.icmp !== null && p.icmp.type === 3 && p.icmp.code === 4) out.push({ t, icmpMtu: p.icmp.rest & 0xffff });
    else if (p.tcp !== null && p.tcp.dstPort === 5002) {
      if (isn === null) isn = p.tcp.seq;
      const start = (p.tcp.seq - isn) >>> 0;
      if (p.payloadLength > 0) out.push({ t, seg: { start, end: start + p.payloadLength, ipLen: p.ip.totalLength } });
    }
  }
  return out;
}

/** The facts both runs must share. */
function check(seen: Seen[]): { refusedResentOnce: boolean; gapNs: number; maxAfter: number; icmps: number } {
  const firstIcmp = seen.findIndex((s) => s.icmpMtu !== undefined);
  expect(firstIcmp).toBeGreaterThan(0);
  const after = seen.slice(firstIcmp).filter((s) => s.seg !== undefined);
  const before = seen.slice(0, firstIcmp).filter((s) => s.seg !== undefined);
  // Segments sent before the router's answer reached a, and those still answered (the same 1500-byte ones).
  const refused = seen.filter((s) => s.seg?.ipLen === 1500);
  const refusedEnd = Math.max(...refused.map((s) => s.seg!.end));
  // After the ICMP: the refused range again, each byte once, then new data, never a byte twice.
  const covered = new Map<number, number>();
  for (const s of after) if (s.seg!.ipLen <= 1400) for (let b = s.seg!.start; b < s.seg!.end; b += 4) covered.set(b, (covered.get(b) ?? 0) + 1);
  let once = true;
  for (let b = 1; b < refusedEnd; b += 4) if (covered.get(b) !== 1) once = false;
  const firstResend = after.find((s) => s.seg!.ipLen <= 1400)!;
  return {
    refusedResentOnce: once && before.length > 0,
    gapNs: firstResend.t - seen[firstIcmp]!.t,
    maxAfter: Math.max(...after.filter((s) => s.t > seen[firstIcmp]!.t && s.seg!.start >= refusedEnd || s.seg!.ipLen <= 1400).map((s) => s.seg!.ipLen)),
    icmps: seen.filter((s) => s.icmpMtu === 1400).length,
  };
}

describe.skipIf(skip !== null)(`TCP path MTU discovery: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwm');
  const dir = mkdtempSync(join(tmpdir(), 'pwm-'));
  afterAll(async () => {
    await killAll();
    set.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kernel(): Promise<{ seen: Seen[]; got: number; route: string }> {
    const [a, r, b] = [set.create('ma'), set.create('mr'), set.create('mb')];
    const id = process.pid % 100000;
    ip('link', 'add', `pma${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', a);
    ip('link', 'set', `pma${id}`, 'netns', r, 'name', 'ra');
    ip('link', 'add', `pmb${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    ip('link', 'set', `pmb${id}`, 'netns', r, 'name', 'rb');
    ip('-n', a, 'addr', 'add', '10.4.0.2/24', 'dev', 'eth0');
    ip('-n', r, 'addr', 'add', '10.4.0.1/24', 'dev', 'ra');
    ip('-n', r, 'addr', 'add', '10.5.0.1/24', 'dev', 'rb');
    ip('-n', b, 'addr', 'add', '10.5.0.2/24', 'dev', 'eth0');
    for (const [ns, dev] of [[a, 'eth0'], [r, 'ra'], [b, 'eth0']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', r, 'link', 'set', 'rb', 'up', 'mtu', '1400');
    ip('-n', a, 'route', 'add', 'default', 'via', '10.4.0.1');
    ip('-n', b, 'route', 'add', 'default', 'via', '10.5.0.1');
    nsSysctl(r, { 'net.ipv4.ip_forward': 1 });
    for (const ns of [a, b]) nsExec(ns, findProgram('ethtool')!, ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    nsExec(a, findProgram('ping')!, ['-c', '1', '-W', '1', '10.5.0.2']);
    const file = join(dir, 'a.pcap');
    const td = await startTcpdump(a, 'eth0', file);
    const srv = nsSpawn(b, findProgram('python3')!, ['-c', SERVER]);
    await sleep(300);
    nsExec(a, findProgram('python3')!, ['-c', CLIENT], { timeoutMs: 10_000 });
    await srv.exited(8000);
    await sleep(200);
    await stopChild(td.child);
    const frames = readPcap(file, 'eth0').map((f) => ({ t: f.tUs * 1000, p: parseFrame(f.bytes) }));
    return { seen: observe(frames), got: Number(srv.stdout().trim()), route: ip('-n', a, 'route', 'get', '10.5.0.2') };
  }

  function podwire(): { seen: Seen[]; got: number; cache: string } {
    const lab = new Lab();
    const [a, r, b] = [lab.host('a'), lab.host('r', true), lab.host('b')];
    const [ea] = lab.veth(a, 'eth0', '10.4.0.2/24', r, 'ra', '10.4.0.1/24', 5_000);
    const [rb, eb] = lab.veth(r, 'rb', '10.5.0.1/24', b, 'eth0', '10.5.0.2/24', 5_000);
    rb.mtu = 1400;
    a.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.4.0.1'), dev: ea });
    b.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.5.0.1'), dev: eb });
    const frames: { t: number; p: Packet }[] = [];
    ea.tap.connect((_d, pkt) => frames.push({ t: lab.sim.now, p: parseFrame(serializeFrame(pkt).slice()) }));
    let got = 0;
    new TcpLayer(b).listen(5002, (s) => (s.onData = (_d, n) => (got += n)));
    new TcpLayer(a).connect(ipOf('10.5.0.2'), 5002, (s: TcpSocket) => s.send(BYTES));
    lab.sim.run({ until: 2e9 });
    return { seen: observe(frames), got, cache: formatPmtuCache(a, ipOf("10.5.0.2")) ?? "" };
  }

  /**
   * The kernel's run, again (at most three runs) while the machine disturbed it: under a loaded CI (every
   * test file at once on 2 cores) tcpdump can miss frames or a timer fire late, and the capture then shows
   * a byte sent twice or never. The behaviour compared is the undisturbed one; a kernel that never shows
   * it fails the test with its last run.
   */
  async function settledKernel(): Promise<Awaited<ReturnType<typeof kernel>>> {
    let k = await kernel();
    for (let run = 2; run <= 3; run++) {
      let clean = false;
      try {
        const c = check(k.seen);
        clean = k.got === BYTES && c.refusedResentOnce && c.maxAfter === 1400 && c.gapNs < 50e6;
      } catch {
        clean = false; // (no ICMP seen at all)
      }
      if (clean) break;
      k = await kernel();
    }
    return k;
  }

  it('lowers the MSS and resends the refused bytes at once, cut to the new MSS', async () => {
    const k = await settledKernel();
    const p = podwire();
    expect(k.got).toBe(BYTES);
    expect(p.got).toBe(BYTES);
    expect(k.route).toMatch(/cache expires 5\d\dsec mtu 1400/);
    expect(p.cache).toMatch(/^cache expires 5\d\dsec mtu 1400$/);
    const [kc, pc] = [check(k.seen), check(p.seen)];
    for (const c of [kc, pc]) {
      expect(c.refusedResentOnce).toBe(true);
      expect(c.maxAfter).toBe(1400); // 1348 bytes of data + 52 of headers
    }
    // Resent at once, not after an RTO (≥ 200 ms). The kernel's gap is its scheduling delay (1.6 ms
    // once seen on a loaded 2-core machine); podwire's is the ICMP's round trip.
    expect(kc.gapNs).toBeLessThan(50e6);
    expect(pc.gapNs).toBeLessThan(1e6);
    // The initial window: ten 1500-byte segments, each refused. The kernel defers the MTU update while
    // the sender holds its socket (TCP_MTU_REDUCED_DEFERRED), so how many of the ten leave before it
    // is processed depends on timing; podwire sends all ten first.
    expect(pc.icmps).toBe(10);
    expect(kc.icmps).toBeGreaterThanOrEqual(1);
    expect(kc.icmps).toBeLessThanOrEqual(10);
    // Every segment sent after the MSS changed is a full new-MSS segment except where a refused run ends.
    const resent = p.seen.filter((s) => s.seg && s.seg.ipLen <= 1400).map((s) => s.seg!.end - s.seg!.start);
    expect(resent.slice(0, 10)).toEqual(Array(10).fill(1348));
  }, 100_000);
});
