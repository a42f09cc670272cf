// IPVS NATs every packet of a connection itself, at LOCAL_IN (ip_vs_in), as the kernel does: conntrack
// only gets its REPLY tuple altered on the first packet (ip_vs_update_conntrack), never a DNAT binding.
// So on the node's cni0 every client packet shows twice — arriving for the ClusterIP (TTL 64, to
// cni0's MAC) and routed out to the pod after DNAT (TTL 63, from cni0's MAC) — and replies, bridged
// straight back to the client, get the ClusterIP back as source from ip_vs_out at FORWARD.
//
//   client (10.244.0.x) ──veth── cni0 10.244.0.1 (node1: kube-proxy IPVS, kube-ipvs0 10.96.0.50) ──veth── web (10.244.0.y)
import { describe, expect, it } from 'vitest';
import { CtStatus } from '../../src/netfilter/conntrack.js';
import type { Packet } from '../../src/packet/packet.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { IPVS_ONE_NODE_SCENARIO } from './ipvs-one-node.js';

const SCENARIO = IPVS_ONE_NODE_SCENARIO;

function flags(p: Packet): string {
  const f = p.tcp!.flags;
  return `${f & TcpFlag.SYN ? 'S' : ''}${f & TcpFlag.FIN ? 'F' : ''}${f & TcpFlag.PSH ? 'P' : ''}${f & TcpFlag.ACK ? '.' : ''}`;
}

describe('IPVS at LOCAL_IN: every packet NATed by ip_vs_in, replies by ip_vs_out', () => {
  it('each client packet crosses cni0 twice (to the VIP, TTL 64; to the pod after DNAT, TTL 63); the client sees replies from the VIP', () => {
    const w = buildWorld(loadScenarioText(SCENARIO, 'ipvs-in.yaml'), 1);
    const node = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    const web = w.cluster!.pods.find((p) => p.name === 'web')!;
    const client = w.cluster!.pods.find((p) => p.name === 'client')!;
    const cni0 = node.cni0!;
    const onCni0: string[] = [];
    cni0.tap.connect((_d, p, dir) => {
      if (p.tcp === null || p.ip!.src !== client.ip) return;
      const mac = dir === 'in' ? (p.eth!.dst === cni0.mac ? 'to cni0' : 'bridged') : p.eth!.src === cni0.mac ? 'from cni0' : 'bridged';
      onCni0.push(`${dir} ${mac} > ${formatIpv4(p.ip!.dst)}:${p.tcp.dstPort} [${flags(p)}] ttl ${p.ip!.ttl}`);
    });
    const atClient: string[] = [];
    client.ns.device('eth0')!.tap.connect((_d, p, dir) => {
      if (dir === 'in' && p.tcp !== null) atClient.push(`${formatIpv4(p.ip!.src)}:${p.tcp.srcPort} [${flags(p)}]`);
    });
    const srv = new TcpLayer(web.ns);
    srv.listen(8080, (s) => s.send(100));
    const cli = new TcpLayer(client.ns);
    let got = 0;
    w.sim.scheduleAt(1e9, () => {
      const s = cli.connect(0x0a600032, 80, (sock) => sock.send(50));
      s.onData = (_d, n) => {
        got += n;
        if (got >= 100) s.close();
      };
    });
    w.sim.run({ until: 3e9 });
    expect(got).toBe(100);
    // Every client segment: once arriving for the VIP, once routed out to the pod.
    expect(onCni0.length).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < onCni0.length; i += 2) {
      const [a, b] = [onCni0[i]!, onCni0[i + 1]!];
      const fl = a.slice(a.indexOf('['), a.indexOf(']') + 1);
      expect([a, b]).toEqual([`in to cni0 > 10.96.0.50:80 ${fl} ttl 64`, `out from cni0 > ${formatIpv4(web.ip)}:8080 ${fl} ttl 63`]);
    }
    expect(new Set(atClient)).toEqual(new Set(atClient.filter((l) => l.startsWith('10.96.0.50:80 '))));
    expect(atClient.length).toBeGreaterThan(0);
    // conntrack: no DNAT binding (`-m conntrack --ctstate DNAT` does not match), the reply tuple is the pod's.
    const ct = node.ns.nf!.conntrack.list().find((c) => c.tuple[0].dst === 0x0a600032)!;
    expect(ct.status & CtStatus.DST_NAT).toBe(0);
    expect(formatIpv4(ct.tuple[1].src)).toBe(formatIpv4(web.ip));
    expect(ct.tuple[1].sport).toBe(8080);
  });
});
