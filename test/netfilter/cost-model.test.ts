// The optional rule-traversal cost (netfilter/cost-model.ts): a router R between A and B holds each
// packet back by (rules its netfilter evaluated for it) × perRuleNs. The rules evaluated are counted as
// the kernel's linear walk would (the destination index of big chains does not shorten the count),
// established packets skip the nat table, nft rules count one each, and with the model off nothing
// changes. Arrival times at B are compared with and without the model.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { Channel } from '../../src/link/channel.js';
import { NicDevice } from '../../src/link/nic.js';
import { Namespace } from '../../src/net/namespace.js';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { ruleCostExit } from '../../src/netfilter/cost-model.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { CLUSTER_GEN_DEFAULTS, generateClusterYaml } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { buildWorld } from '../../src/scenario/build.js';
import { ip } from './helpers.js';

interface Setup {
  /** iptables-restore text for R. */
  rules?: string;
  /** nft script for R. */
  nft?: string;
  /** iptables-restore text for B (INPUT: charged before local delivery). */
  bRules?: string;
  perRuleNs: number;
  /** Datagrams A sends, 1 ms apart (the same flow). */
  count?: number;
}

/** Arrival times (ns) at B of A's datagrams to B:9 across R. */
function run(s: Setup): { arrivals: number[] } {
  const sim = new Simulator(1);
  let mac = 1;
  const nic = (ns: Namespace, name: string): NicDevice => {
    const d = new NicDevice(sim, name, 0x020000000000 + mac++);
    ns.addDevice(d);
    return d;
  };
  const a = new Namespace(sim, 'a');
  const r = new Namespace(sim, 'r');
  const b = new Namespace(sim, 'b');
  r.ipForwardEnabled = true;
  const ea = nic(a, 'eth0');
  const ra = nic(r, 'eth0');
  const rb = nic(r, 'eth1');
  const eb = nic(b, 'eth0');
  new Channel(sim, ea, ra, { rateBps: 1e9, delayNs: 1000, queueLimit: 100 });
  new Channel(sim, rb, eb, { rateBps: 1e9, delayNs: 1000, queueLimit: 100 });
  a.addAddress(ea, ip('10.1.1.1'), 24);
  r.addAddress(ra, ip('10.1.1.2'), 24);
  r.addAddress(rb, ip('10.1.2.1'), 24);
  b.addAddress(eb, ip('10.1.2.2'), 24);
  a.addRoute({ dst: ip('10.1.2.0'), prefix: 24, gateway: ip('10.1.1.2'), dev: ea });
  b.addRoute({ dst: ip('10.1.1.0'), prefix: 24, gateway: ip('10.1.2.1'), dev: eb });
  const nf = r.enableNetfilter();
  if (s.rules) nf.load(parseIptablesSave(s.rules));
  if (s.nft) nf.nft.apply(s.nft);
  nf.perRuleNs = s.perRuleNs;
  if (s.bRules) {
    const bnf = b.enableNetfilter();
    bnf.load(parseIptablesSave(s.bRules));
    bnf.perRuleNs = s.perRuleNs;
  }
  const ua = new UdpLayer(a);
  const ub = new UdpLayer(b);
  const arrivals: number[] = [];
  ub.socket().bind(9).onMessage = () => arrivals.push(sim.now);
  const client = ua.socket().connect(ip('10.1.2.2'), 9);
  // The first datagram waits for two ARP resolutions; the later ones find the neighbours resolved.
  for (let k = 0; k < (s.count ?? 3); k++) sim.scheduleAt(1e6 * (k + 1), () => client.send(64));
  sim.run({ until: 1e9 });
  return { arrivals };
}

/** Extra latency per datagram that the cost model added. */
function added(s: Omit<Setup, 'perRuleNs'>, perRuleNs: number): number[] {
  const off = run({ ...s, perRuleNs: 0 }).arrivals;
  const on = run({ ...s, perRuleNs }).arrivals;
  expect(on.length).toBe(off.length);
  expect(off.length).toBe(s.count ?? 3);
  return on.map((t, i) => t - off[i]!);
}

const many = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n');

describe('rule-traversal cost model', () => {
  it('delays a forwarded packet by the rules FORWARD evaluated × perRule, walking an indexed chain linearly', () => {
    // 40 rules keyed by destination (the chain gets a destination index at 32), none for B, then ACCEPT.
    const rules = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n${many(40, (i) => `-A FORWARD -d 10.9.0.${i + 1}/32 -p udp -m udp --dport 9 -j DROP`)}\n-A FORWARD -d 10.1.2.2/32 -p udp -m udp --dport 9 -j ACCEPT\nCOMMIT\n`;
    expect(added({ rules }, 100)).toEqual([4100, 4100, 4100]);
    expect(added({ rules }, 7)).toEqual([287, 287, 287]);
  });

  it('counts the rules up to the one that matched, inside jumped-to chains too', () => {
    const rules = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:SVC - [0:0]\n-A FORWARD -p tcp -j DROP\n-A FORWARD -j SVC\n${many(5, (i) => `-A SVC -d 10.9.0.${i + 1}/32 -j DROP`)}\n-A SVC -d 10.1.2.2/32 -j ACCEPT\n${many(20, (i) => `-A SVC -d 10.8.0.${i + 1}/32 -j DROP`)}\nCOMMIT\n`;
    // FORWARD: 2 rules (the second jumps), SVC: 6 (the sixth accepts).
    expect(added({ rules }, 50)).toEqual([400, 400, 400]);
  });

  it("charges the nat walk to a connection's first packet only (established packets skip the nat table)", () => {
    const rules = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n${many(60, (i) => `-A KUBE-SERVICES -d 10.96.0.${i + 1}/32 -p udp -m udp --dport 9 -j DNAT --to-destination 10.1.2.2:9`)}\n-A POSTROUTING -s 10.7.0.0/16 -j MASQUERADE\nCOMMIT\n`;
    // First datagram: PREROUTING 1 + KUBE-SERVICES 60 + POSTROUTING 1 = 62 rules; the next ones: none.
    expect(added({ rules }, 100)).toEqual([6200, 0, 0]);
  });

  it('counts nft rules one each: a verdict map is one rule whatever its size', () => {
    const elems = many(500, (i) => `10.96.${i >> 8}.${i & 255} : drop`).split('\n').join(', ');
    const nft = `add table ip t\nadd chain ip t fwd { type filter hook forward priority 0 ; policy accept ; }\nadd map ip t svc { type ipv4_addr : verdict ; }\nadd element ip t svc { ${elems} }\nadd rule ip t fwd ip daddr 10.9.9.9 drop\nadd rule ip t fwd ip daddr vmap @svc\nadd rule ip t fwd accept\n`;
    expect(added({ nft }, 100)).toEqual([300, 300, 300]);
  });

  it('charges INPUT rules before local delivery', () => {
    const bRules = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${many(9, (i) => `-A INPUT -s 10.5.0.${i + 1}/32 -j DROP`)}\nCOMMIT\n`;
    expect(added({ bRules }, 1000)).toEqual([9000, 9000, 9000]);
  });

  it('does not reorder: a packet that walked fewer rules leaves no earlier than one deferred before it', () => {
    const nf = new Namespace(new Simulator(1), 'n').enableNetfilter();
    nf.perRuleNs = 10;
    nf.walked = 100;
    expect(ruleCostExit(nf, 0)).toBe(1000);
    expect(nf.walked).toBe(0);
    nf.walked = 1;
    expect(ruleCostExit(nf, 10)).toBe(1000); // would be 20
    nf.walked = 0;
    expect(ruleCostExit(nf, 500)).toBe(1000); // no rules, but the earlier packet has not left yet
    expect(ruleCostExit(nf, 2000)).toBe(-1); // nothing to wait for
    nf.nftWalked = 3;
    expect(ruleCostExit(nf, 2000)).toBe(2030);
    nf.perRuleNs = 0;
    nf.walked = 50;
    expect(ruleCostExit(nf, 3000)).toBe(-1);
  });
});

describe('costModel in a scenario (spec.cluster.kubeProxy.costModel)', () => {
  /** Handshake p50 (ns) of 20 new connections from the client pod to the middle one of S Services. */
  function handshake(services: number, mode: 'iptables' | 'nftables', perRule: string | null): { p50: number; perRuleNs: number[] } {
    let yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 2, services, podsPerService: 3, mode, flows: 1, requests: 20, rate: 100 });
    yaml = yaml.replace('to: "svc/svc-0:80"', `to: "svc/svc-${services >> 1}:80"`);
    if (perRule !== null) yaml = yaml.replace(`kubeProxy: { mode: ${mode} }`, `kubeProxy: { mode: ${mode}, costModel: { perRule: ${perRule} } }`);
    const world = buildWorld(loadScenarioText(yaml, 'cost.yaml'), 1);
    world.sim.run();
    const f = world.stats.flow('flow-0');
    expect(f.successes).toBe(20);
    return { p50: f.connect.percentileNs(50), perRuleNs: world.cluster!.nodes.map((n) => n.ns.nf!.perRuleNs) };
  }

  it('reaches every node and grows the handshake with the Service count in iptables mode only', () => {
    expect(handshake(4, 'iptables', '1us').perRuleNs).toEqual([1000, 1000]);
    expect(handshake(4, 'iptables', null).perRuleNs).toEqual([0, 0]);
    const added = (s: number, mode: 'iptables' | 'nftables'): number => handshake(s, mode, '100ns').p50 - handshake(s, mode, null).p50;
    const ipt = [added(4, 'iptables'), added(40, 'iptables')];
    const nft = [added(4, 'nftables'), added(40, 'nftables')];
    expect(ipt[0]).toBeGreaterThan(0);
    expect(nft[0]).toBeGreaterThan(0);
    // 36 more Services: each new connection walks at least 36 more KUBE-SERVICES rules (18 before the
    // middle one on the client's node, all 36 where the DNATed packet arrives or the VXLAN packet leaves).
    expect(ipt[1]! - ipt[0]!).toBeGreaterThanOrEqual(36 * 100);
    expect(nft[1]).toBe(nft[0]); // verdict maps: the same rules whatever the count
  }, 60_000);

  it('refuses a bad perRule with the field named', () => {
    const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 1, services: 1 }).replace('kubeProxy: { mode: iptables }', 'kubeProxy: { mode: iptables, costModel: { perRule: fast } }');
    expect(() => loadScenarioText(yaml, 'bad.yaml')).toThrow(/bad\.yaml:\d+:\d+.*perRule/);
  });
});
