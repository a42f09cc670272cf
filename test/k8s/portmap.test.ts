// The CNI portmap plugin's hostPort rules (k8s/portmap.ts): the rendered text against lines written from
// containernetworking/plugins plugins/meta/portmap/portmap.go (fillDnatRules, genToplevelDnatChain,
// genSetMarkChain, genMarkMasqChain) as iptables-save prints them, the chain-name vectors of
// portmap_test.go, and a request from an external host to NODE_IP:hostPort in a built cluster.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerIdOf, formatChainName, portmapPodsOn, renderDnatChain, renderPortmapRules } from '../../src/k8s/portmap.js';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { readPcapng } from '../integration/pcapng-read.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: hostport }
spec:
  seed: 3
  cluster:
    podCIDR: 10.244.0.0/16
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
    externalHosts: [{ name: laptop, ip: 10.100.11.100 }]
  traffic:
    - { name: hostport, type: http, from: host/laptop, to: "node/node2:8080", rate: 20, count: 5, start: 1s }
---
apiVersion: v1
kind: Pod
metadata: { name: web, annotations: { podwire.dev/app: http } }
spec:
  nodeName: node2
  containers: [{ name: c, image: nginx, ports: [{ containerPort: 80, hostPort: 8080 }] }]
---
apiVersion: v1
kind: Pod
metadata: { name: plain }
spec:
  nodeName: node2
  containers: [{ name: c, image: nginx, ports: [{ containerPort: 80 }] }]
`;

describe('portmap', () => {
  it('names chains as pkg/utils MustFormatChainNameWithPrefix (vectors from plugins/meta/portmap/portmap_test.go)', () => {
    const id = 'icee6giejonei6sohng6ahngee7laquohquee9shiGo7fohferakah3Feiyoolu2pei7ciPhoh7shaoX6vai3vuf0ahfaeng8yohb9ceu0daez5hashee8ooYai5wa3y';
    expect(formatChainName('DN-', 'testNetName', id)).toBe('CNI-DN-bfd599665540dd91d5d28');
    expect(formatChainName('DN-', 'test', id)).toBe('CNI-DN-67e92b96e692a494b6b85');
    expect(containerIdOf({ namespace: 'default', name: 'web' })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renders fillDnatRules per mapping: hairpin mark, localhost mark, DNAT; one multiport jump per protocol', () => {
    // portmap.go fillDnatRules: entry rule {-m comment --comment C -m multiport -p PROTO --destination-ports LIST};
    // per entry {-p P --dport H -s containerNet -j CNI-HOSTPORT-SETMARK}, {... -s 127.0.0.1 ...}, {-p P --dport H -j DNAT --to-destination IP:C};
    // written as iptables-save prints them (-s/-d first, -p then its implicit -m tcp, --dports).
    const c = renderDnatChain('cbr0', 'abc', '10.244.1.3', '10.244.1.0/24', [
      { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '10.100.11.12' },
    ]);
    const n = formatChainName('DN-', 'cbr0', 'abc');
    expect(c.chain).toBe(n);
    expect(c.entry).toEqual([
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"cbr0\\" id: \\"abc\\"" -m multiport --dports 8080 -j ${n}`,
      `-A CNI-HOSTPORT-DNAT -p udp -m comment --comment "dnat name: \\"cbr0\\" id: \\"abc\\"" -m multiport --dports 5353 -j ${n}`,
    ]);
    expect(c.rules).toEqual([
      `-A ${n} -s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${n} -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${n} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.3:80`,
      `-A ${n} -s 10.244.1.0/24 -d 10.100.11.12/32 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${n} -s 127.0.0.1/32 -d 10.100.11.12/32 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${n} -d 10.100.11.12/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.244.1.3:53`,
    ]);
  });

  it('renders the shared chains of a node and round-trips through parseIptablesSave (podwire inspect --iptables)', () => {
    const w = buildWorld(loadScenarioText(SCENARIO, 'hostport.yaml'), 3);
    const node2 = w.cluster!.nodes.find((n) => n.name === 'node2')!;
    const pods = portmapPodsOn(node2, w.cluster!.pods);
    expect(pods.map((p) => p.name)).toEqual(['web']);
    expect(portmapPodsOn(w.cluster!.nodes[0]!, w.cluster!.pods)).toEqual([]);
    const text = renderPortmapRules(pods)!;
    const lines = text.trimEnd().split('\n');
    // genToplevelDnatChain (entryChains PREROUTING, OUTPUT), genMarkMasqChain, genSetMarkChain (markMasqBit 13).
    expect(lines).toContain('-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT');
    expect(lines).toContain('-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT');
    expect(lines).toContain('-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ');
    expect(lines).toContain('-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE');
    expect(lines).toContain('-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000');
    const ip = formatIpv4(pods[0]!.ip);
    expect(lines).toContain(`-A ${formatChainName('DN-', 'cbr0', containerIdOf(pods[0]!))} -p tcp -m tcp --dport 8080 -j DNAT --to-destination ${ip}:80`);
    expect(renderIptablesSave(parseIptablesSave(text))).toBe(text);
    // Loaded on node2 with the node's other rules; the other node has none.
    const live2 = renderIptablesSave(node2.ns.enableNetfilter().ruleset());
    for (const l of lines.filter((x) => x.startsWith('-A'))) expect(live2).toContain(l);
    expect(renderIptablesSave(parseIptablesSave(live2))).toBe(live2);
    expect(renderIptablesSave(w.cluster!.nodes[0]!.ns.enableNetfilter().ruleset())).not.toContain('CNI-HOSTPORT');
  });

  it('DNATs a request from an external host to NODE_IP:hostPort to the pod\'s containerPort, and the reply comes back', () => {
    const w = buildWorld(loadScenarioText(SCENARIO, 'hostport.yaml'), 3);
    const web = w.cluster!.pods.find((p) => p.name === 'web')!;
    const res = runWorld(w, { outDir: mkdtempSync(join(tmpdir(), 'podwire-portmap-')), format: 'pcapng', snaplen: 262144 });
    const stats = JSON.parse(res.statsJson) as { flows: { name: string; requests: number; successes: number; errors: number }[] };
    const flow = stats.flows.find((f) => f.name === 'hostport')!;
    expect([flow.requests, flow.successes, flow.errors]).toEqual([5, 5, 0]);
    const f = readPcapng(res.files.capture);
    const frames = f.packets.map((p) => ({ ifName: f.interfaces[p.ifId]!, pkt: parseFrame(p.data) }));
    const tcp = (x: (typeof frames)[number]) => (x.pkt.tcp ?? null);
    const podIp = web.ip;
    // The SYN leaves the laptop for node2:8080 and arrives in the pod for podIP:80.
    expect(frames.some((x) => x.ifName.startsWith('laptop') && x.pkt.ip?.dst === w.cluster!.nodes[1]!.ip && tcp(x)?.dstPort === 8080)).toBe(true);
    expect(frames.some((x) => x.ifName.startsWith('web') && x.pkt.ip?.dst === podIp && tcp(x)?.dstPort === 80)).toBe(true);
    // The reply reaches the laptop from node2:8080 (conntrack undoes the DNAT).
    expect(frames.some((x) => x.ifName.startsWith('laptop') && x.pkt.ip?.src === w.cluster!.nodes[1]!.ip && tcp(x)?.srcPort === 8080)).toBe(true);
  });

  it('hairpins a pod to its own node\'s hostPort: the SETMARK rule marks it, CNI-HOSTPORT-MASQ masquerades it to cni0\'s address', () => {
    // Only the pod's own requests (no laptop flow).
    const text = SCENARIO.replace(/ {4}- \{ name: hostport.*\n/, '    - { name: hairpin, type: http, from: pod/web, to: "node/node2:8080", count: 3, start: 1s }\n');
    const w = buildWorld(loadScenarioText(text, 'hostport.yaml'), 3);
    const web = w.cluster!.pods.find((p) => p.name === 'web')!;
    const res = runWorld(w, { outDir: mkdtempSync(join(tmpdir(), 'podwire-portmap-')), format: 'pcapng', snaplen: 262144 });
    const stats = JSON.parse(res.statsJson) as { flows: { name: string; successes: number; errors: number }[] };
    const flow = stats.flows.find((f) => f.name === 'hairpin')!;
    expect([flow.successes, flow.errors]).toEqual([3, 0]);
    const f = readPcapng(res.files.capture);
    const cni0 = web.node.ns.addrs.find((a) => a.dev === web.node.ns.device('cni0'))!.addr;
    const syns = f.packets.map((p) => ({ ifName: f.interfaces[p.ifId]!, pkt: parseFrame(p.data) })).filter((x) => x.ifName === 'web/eth0' && x.pkt.tcp?.dstPort === 80 && x.pkt.ip?.dst === web.ip);
    expect(syns.length).toBeGreaterThan(0);
    for (const x of syns) expect(x.pkt.ip!.src).toBe(cni0);
  });
});
