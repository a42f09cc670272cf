// TCP receive window growth against the kernel: rcv_ssthresh grows only on segments of at least 128
// bytes (tcp_event_data_recv → tcp_grow_window, Linux 6.x). The receiver's advertised windows on its
// ACKs compared for a sender of 100-byte writes (TCP_NODELAY; the window never grows) and a sender of
// 1000-byte writes (it grows). The namespaces get podwire's tcp_rmem (Linux's default, window scale 7).
//
//   a: eth0 10.3.0.1/24 ══ veth ══ b: eth0 10.3.0.2/24 (server :5001)
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetDevice } from '../../src/link/device.js';
import { parseFrame } from '../../src/packet/parse.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { TcpLayer, type TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSpawn, nsSysctl, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';

const skip = netnsSkipReason();
const WRITES = 12;

const SERVER = `
import socket
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); l.bind(("0.0.0.0",5001)); l.listen(1); l.settimeout(5)
c,_=l.accept(); c.settimeout(5)
try:
  while c.recv(65536): pass
except Exception: pass`;

const CLIENT = (size: number) => `
import socket,time
s=socket.socket(); s.setsockopt(socket.IPPROTO_TCP,socket.TCP_NODELAY,1); s.connect(("10.3.0.2",5001))
for i in range(${WRITES}):
  s.send(b"x"*${size}); time.sleep(0.05)
s.close()`;

/** Raw window field of the server's pure ACKs of data (handshake and FIN excluded), in order. */
function serverWindows(frames: Uint8Array[]): number[] {
  return frames
    .map((b) => parseFrame(b))
    .filter((p) => p.tcp !== null && p.tcp.srcPort === 5001 && p.payloadLength === 0 && (p.tcp.flags & (TcpFlag.SYN | TcpFlag.FIN)) === 0 && p.tcp.ack > 1)
    .map((p) => p.tcp!.window);
}

describe.skipIf(skip !== null)(`TCP receive window growth: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwf');
  const dir = mkdtempSync(join(tmpdir(), 'pwf-'));
  afterAll(async () => {
    await killAll();
    set.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kernel(size: number): Promise<number[]> {
    const a = set.create(`wa${size}`);
    const b = set.create(`wb${size}`);
    ip('link', 'add', `pw${size}x${process.pid % 10000}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    ip('link', 'set', `pw${size}x${process.pid % 10000}`, 'netns', a, 'name', 'eth0');
    ip('-n', a, 'addr', 'add', '10.3.0.1/24', 'dev', 'eth0');
    ip('-n', b, 'addr', 'add', '10.3.0.2/24', 'dev', 'eth0');
    ip('-n', a, 'link', 'set', 'eth0', 'up');
    ip('-n', b, 'link', 'set', 'eth0', 'up');
    // podwire's TcpConfig is Linux's default tcp_rmem (6 MiB max → window scale 7); this host may differ.
    for (const ns of [a, b]) nsSysctl(ns, { 'net.ipv4.tcp_rmem': '4096 131072 6291456', 'net.ipv4.tcp_wmem': '4096 16384 4194304' });
    nsExec(a, findProgram('ping')!, ['-c', '1', '-W', '1', '10.3.0.2']);
    const file = join(dir, `w${size}.pcap`);
    const td = await startTcpdump(b, 'eth0', file);
    const srv = nsSpawn(b, findProgram('python3')!, ['-c', SERVER]);
    await sleep(300);
    nsExec(a, findProgram('python3')!, ['-c', CLIENT(size)], { timeoutMs: 10_000 });
    await srv.exited(8000);
    await sleep(200);
    await stopChild(td.child);
    return serverWindows(readPcap(file, 'eth0').map((f) => f.bytes));
  }

  function podwire(size: number): number[] {
    const lab = new Lab();
    const [a, b] = [lab.host('a'), lab.host('b')];
    const [, eb] = lab.veth(a, 'eth0', '10.3.0.1/24', b, 'eth0', '10.3.0.2/24', 20_000);
    const frames: Uint8Array[] = [];
    (eb as NetDevice).tap.connect((_d, pkt) => frames.push(serializeFrame(pkt).slice()));
    const ta = new TcpLayer(a);
    const tb = new TcpLayer(b);
    tb.listen(5001, () => {});
    let c: TcpSocket | null = null;
    ta.connect(ipOf('10.3.0.2'), 5001, (s) => (c = s), { noDelay: true });
    lab.sim.run({ until: 10e6 });
    for (let i = 0; i < WRITES; i++) lab.sim.schedule(i * 50e6, () => c!.send(size));
    lab.sim.run({ until: 2e9 });
    return serverWindows(frames);
  }

  // One kernel run per sender, shared by the tests below.
  const runs = { kSmall: [] as number[], kBulk: [] as number[] };
  const measured = (async () => {
    runs.kSmall = await kernel(100);
    runs.kBulk = await kernel(1000);
  })();

  it('100-byte segments never open the window (tcp_event_data_recv: skb->len < 128), in both', async () => {
    await measured;
    const pSmall = podwire(100);
    expect(runs.kSmall).toHaveLength(WRITES);
    expect(new Set(runs.kSmall).size).toBe(1);
    expect(new Set(pSmall).size).toBe(1);
    // The value differs by one unit of 2^7 (see the it.fails below).
    expect(Math.abs(pSmall[0]! - runs.kSmall[0]!)).toBeLessThanOrEqual(1);
  }, 40_000);

  // Linux 6.x __tcp_select_window rounds the free space down to the window-scale unit (65160 → 509 × 128);
  // podwire rounds up (510).
  it.fails('the advertised window after the handshake is the kernel\'s (509, rounded down to the scale unit)', async () => {
    await measured;
    expect(podwire(100)).toEqual(runs.kSmall);
  }, 40_000);

  // Linux 6.x sizes the window from the buffer with tp->scaling_ratio measured from skb->len / truesize
  // (here ≈ 54 %: 509 → 532 → 549); podwire keeps tcp_adv_win_scale's 50 % (tcp_space caps it at 512).
  it.fails('1000-byte segments open the window by the kernel\'s steps (scaling_ratio not modelled)', async () => {
    await measured;
    expect(runs.kBulk[runs.kBulk.length - 1]!).toBeGreaterThan(runs.kBulk[0]!);
    expect(podwire(1000)).toEqual(runs.kBulk);
  }, 40_000);
});
