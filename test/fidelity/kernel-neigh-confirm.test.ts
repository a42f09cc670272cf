// TCP keeps its neighbour REACHABLE, against the kernel: an ACK for new data confirms the next hop
// (tcp_ack → sk_dst_confirm → sock_confirm_neigh → neigh_confirm), so a steady TCP flow never sends a
// unicast ARP probe even when reachable_time is short. Both ends run with base_reachable_time 2 s and
// delay_first_probe_time 1 s on eth0, and exchange 100-byte echoes every 100 ms for 6 s; a's eth0
// then shows only the first ARP exchange, in the kernel and in podwire.
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24 (echo server, TCP 7000)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/packet/parse.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { ArpOp } from '../../src/wire/types.js';
import { ip, netnsSkipReason, nsExec, nsSpawn, nsSysctl, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { Lab } from '../net/harness.js';
import { pwaFixture } from './netns-pwa.js';

const skip = netnsSkipReason();
const ROUNDS = 60;

describe.skipIf(skip !== null)(`TCP confirms its neighbour: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('a 6 s echo flow with reachable_time ~2 s: only the first ARP exchange, no unicast probe', async () => {
    // --- kernel
    const a = set.create('nca');
    const b = set.create('ncb');
    const va = `pwac${process.pid % 100000}`;
    ip('link', 'add', va, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    ip('link', 'set', va, 'netns', a, 'name', 'eth0');
    for (const [ns, addr] of [[a, '10.0.0.1'], [b, '10.0.0.2']] as const) {
      nsSysctl(ns, { 'net.ipv4.neigh.eth0.base_reachable_time_ms': 2000, 'net.ipv4.neigh.eth0.delay_first_probe_time': 1 });
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
    const file = join(dir, 'a.pcap');
    const td = await startTcpdump(a, 'eth0', file);
    const server = nsSpawn(b, PYTHON!, ['-c', 'import socket\nl=socket.socket(); l.bind(("0.0.0.0",7000)); l.listen(); l.settimeout(10)\nc,x=l.accept(); c.settimeout(10)\nwhile True:\n  d=c.recv(1000)\n  if not d: break\n  c.sendall(d)']);
    await sleep(300);
    nsExec(a, PYTHON!, ['-c', `import socket,time\ns=socket.socket(); s.settimeout(5); s.connect(("10.0.0.2",7000))\nfor i in range(${ROUNDS}):\n  s.sendall(b"x"*100); s.recv(1000); time.sleep(0.1)\ns.close()`], { timeoutMs: 20_000 });
    await server.exited(5000);
    await sleep(200);
    await stopChild(td.child);
    const arpLine = (p: ReturnType<typeof parseFrame>, macA: number): string => {
      const x = p.arp!;
      const who = (m: number) => (m === macA ? 'a' : 'b');
      return x.op === ArpOp.REQUEST ? `${who(p.eth!.src)} who-has ${formatIpv4(x.tpa)} ${p.eth!.dst === 0xffffffffffff ? 'broadcast' : 'unicast'}` : `${who(p.eth!.src)} reply ${formatIpv4(x.spa)}`;
    };
    const kFrames = readPcap(file, 'eth0').map((f) => parseFrame(f.bytes));
    const kMacA = kFrames.find((p) => p.ip !== null && p.ip.src === 0x0a000001)!.eth!.src;
    const kernel = kFrames.filter((p) => p.arp !== null).map((p) => arpLine(p, kMacA));
    expect(kFrames.filter((p) => p.tcp !== null).length).toBeGreaterThan(ROUNDS * 2);

    // --- podwire
    const lab = new Lab();
    const na = lab.host('a');
    const nb = lab.host('b');
    const [ea] = lab.veth(na, 'eth0', '10.0.0.1/24', nb, 'eth0', '10.0.0.2/24', 20_000);
    for (const ns of [na, nb]) ns.neigh.params = { ...ns.neigh.params, baseReachableNs: 2e9, delayFirstProbeNs: 1e9 };
    const frames: ReturnType<typeof parseFrame>[] = [];
    ea.tap.connect((_d, p) => frames.push(p));
    new TcpLayer(nb).listen(7000, (s) => {
      s.onData = (_d, n) => s.send(n);
    });
    const cli = new TcpLayer(na);
    lab.sim.scheduleAt(1e9, () => {
      let round = 0;
      const s = cli.connect(0x0a000002, 7000, (sock) => sock.send(100));
      s.onData = () => {
        if (++round < ROUNDS) lab.sim.schedule(100e6, () => s.send(100));
        else s.close();
      };
    });
    lab.sim.run({ until: 10e9 });
    const podwire = frames.filter((p) => p.arp !== null).map((p) => arpLine(p, ea.mac));
    expect(frames.filter((p) => p.tcp !== null).length).toBeGreaterThan(ROUNDS * 2);

    expect(kernel).toEqual(['a who-has 10.0.0.2 broadcast', 'b reply 10.0.0.2']);
    expect(podwire).toEqual(kernel);
  });
});
