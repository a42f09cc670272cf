// IPVS against the kernel: what a capture on the node's bridge shows for a client pod's connection to
// an IPVS virtual service whose real server is a pod on the same bridge. ip_vs_in runs at LOCAL_IN and
// NATs every packet itself (conntrack gets no DNAT binding, only an altered reply tuple), so each client
// segment crosses cni0 twice: arriving for the virtual IP (to cni0's MAC, TTL 64) and routed out to the
// pod after DNAT (from cni0's MAC, TTL 63). podwire must show the same sequence.
// Needs a kernel with IPVS (ip_vs) and ipvsadm; skips with the reason otherwise (a kernel built without
// CONFIG_IP_VS answers "Protocol not available").
//
//   client (10.244.0.4) ──veth── cni0 10.244.0.1 (node: VIP 10.96.0.50 local, ipvsadm -A -t 10.96.0.50:80 -s rr,
//                                                  -a -r 10.244.0.2:8080 -m; vs.conntrack=1) ──veth── web (10.244.0.2)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { findProgram, ip, netnsSkipReason, nsExec, nsSpawn, nsSysctl, nsSysctlRead, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';
import { IPVS_ONE_NODE_SCENARIO } from '../net/ipvs-one-node.js';

const IPVSADM = findProgram('ipvsadm');

function ipvsSkipReason(): string | null {
  if (IPVSADM === null) return 'needs ipvsadm (apt-get install ipvsadm)';
  // A read of the root namespace's (empty) table: fails when the kernel has no IPVS.
  const r = spawnSync(IPVSADM, ['-L', '-n'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return `the kernel has no IPVS (ip_vs): ${(r.stderr || String(r.error)).trim().split('\n')[0]}`;
  return null;
}

const skip = netnsSkipReason() ?? ipvsSkipReason();

const SCENARIO = IPVS_ONE_NODE_SCENARIO;

/** A client segment on cni0: which side of cni0 it is on (by MAC), where it goes, flags, TTL. */
function line(p: Packet, cni0Mac: number): string {
  const side = p.eth!.dst === cni0Mac ? 'to-cni0' : p.eth!.src === cni0Mac ? 'from-cni0' : 'bridged';
  const f = p.tcp!.flags;
  const flags = `${f & TcpFlag.SYN ? 'S' : ''}${f & TcpFlag.FIN ? 'F' : ''}${f & TcpFlag.ACK ? '.' : ''}`;
  return `${side} > ${formatIpv4(p.ip!.dst)}:${p.tcp!.dstPort} [${flags}] ttl ${p.ip!.ttl}`;
}

describe.skipIf(skip !== null)(`IPVS on the bridge: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('every client segment is seen for the VIP and again routed to the pod (TTL 63), from the SYN on', async () => {
    // --- kernel
    const node = set.create('ipvsnode');
    const cli = set.create('ipvscli');
    const srv = set.create('ipvssrv');
    ip('-n', node, 'link', 'add', 'cni0', 'type', 'bridge');
    ip('-n', node, 'addr', 'add', '10.244.0.1/24', 'dev', 'cni0');
    ip('-n', node, 'link', 'set', 'cni0', 'up');
    // kube-proxy puts the VIP on the dummy kube-ipvs0; where the kernel lacks dummy, lo gives the same local route.
    const dummy = spawnSync(findProgram('ip')!, ['-n', node, 'link', 'add', 'kube-ipvs0', 'type', 'dummy'], { timeout: 5000 });
    ip('-n', node, 'addr', 'add', '10.96.0.50/32', 'dev', dummy.status === 0 ? 'kube-ipvs0' : 'lo');
    for (const [ns, addr, tag] of [[cli, '10.244.0.4', 'c'], [srv, '10.244.0.2', 's']] as const) {
      const host = `pwai${tag}${process.pid % 100000}`;
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', host, 'netns', node);
      ip('-n', node, 'link', 'set', host, 'master', 'cni0', 'up');
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', '10.244.0.1');
    }
    nsSysctl(node, { 'net.ipv4.ip_forward': 1 });
    if (nsSysctlRead(node, 'net.bridge.bridge-nf-call-iptables') !== '') nsSysctl(node, { 'net.bridge.bridge-nf-call-iptables': 1 });
    nsExec(node, IPVSADM!, ['-A', '-t', '10.96.0.50:80', '-s', 'rr']);
    nsExec(node, IPVSADM!, ['-a', '-t', '10.96.0.50:80', '-r', '10.244.0.2:8080', '-m']);
    nsSysctl(node, { 'net.ipv4.vs.conntrack': 1 });
    const server = nsSpawn(srv, PYTHON!, ['-c', 'import socket\nl=socket.socket(); l.bind(("0.0.0.0",8080)); l.listen()\nc,a=l.accept(); c.recv(100); c.sendall(b"x"*100); c.close()']);
    const file = join(dir, 'cni0.pcap');
    const td = await startTcpdump(node, 'cni0', file);
    await sleep(200);
    nsExec(cli, PYTHON!, ['-c', 'import socket, time\ns=socket.socket(); s.settimeout(2); s.connect(("10.96.0.50",80)); s.sendall(b"y"*50)\nn=0\nwhile n < 100:\n  d=s.recv(200)\n  if not d: break\n  n+=len(d)\ns.close(); time.sleep(0.3)'], { timeoutMs: 8000 });
    await server.exited(5000);
    await sleep(100);
    await stopChild(td.child);
    const kFrames = readPcap(file, 'cni0').map((f) => parseFrame(f.bytes));
    const cni0Mac = kFrames.find((p) => p.arp !== null && p.arp.spa === 0x0af40001)?.arp?.sha ?? kFrames.find((p) => p.tcp !== null && p.ip!.ttl === 63)!.eth!.src;
    const kernel = kFrames.filter((p) => p.tcp !== null && p.ip!.src === 0x0af40004).map((p) => line(p, cni0Mac));

    // --- podwire: the same exchange
    const w = buildWorld(loadScenarioText(SCENARIO, 'ipvs-fidelity.yaml'), 1);
    const n1 = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    const web = w.cluster!.pods.find((p) => p.name === 'web')!;
    const client = w.cluster!.pods.find((p) => p.name === 'client')!;
    const pw: string[] = [];
    n1.cni0!.tap.connect((_d, p) => {
      if (p.tcp !== null && p.ip!.src === client.ip) pw.push(line(p, n1.cni0!.mac));
    });
    new TcpLayer(web.ns).listen(8080, (s) => s.send(100));
    const tcp = new TcpLayer(client.ns);
    w.sim.scheduleAt(1e9, () => {
      let got = 0;
      const s = tcp.connect(0x0a600032, 80, (sock) => sock.send(50));
      s.onData = (_d, n) => {
        got += n;
        if (got >= 100) s.close();
      };
    });
    w.sim.run({ until: 3e9 });
    const podwire = pw.map((l) => l.replace(formatIpv4(web.ip), '10.244.0.2'));

    // The handshake (SYN, ACK) exactly, and the pairing rule over every client segment, in both.
    expect(kernel.slice(0, 4)).toEqual([
      'to-cni0 > 10.96.0.50:80 [S] ttl 64',
      'from-cni0 > 10.244.0.2:8080 [S] ttl 63',
      'to-cni0 > 10.96.0.50:80 [.] ttl 64',
      'from-cni0 > 10.244.0.2:8080 [.] ttl 63',
    ]);
    expect(podwire.slice(0, 4)).toEqual(kernel.slice(0, 4));
    for (const ls of [kernel, podwire]) {
      expect(ls.length % 2).toBe(0);
      for (let i = 0; i < ls.length; i += 2) expect([ls[i]!.startsWith('to-cni0 > 10.96.0.50:80 '), ls[i + 1]!.startsWith('from-cni0 > 10.244.0.2:8080 ')]).toEqual([true, true]);
    }
    expect(podwire.length).toBeGreaterThanOrEqual(8);
  });
});
