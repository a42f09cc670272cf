// The load-balancer scenarios end to end (scenarios/lb-*.yaml, flow1-external-lb.yaml), at their own
// seeds: what the node sees (source and destination of the client's SYN on its eth0), the health
// checks on the wire and their timing (unhealthy after the failing checks reach the threshold), and
// traffic moving: every request opened after the target turned unhealthy (or the route moved) is
// answered, while some opened between the failure and the verdict are not. Each capture is clean in
// tshark per interface.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/k8s/api/objects.js';
import type { DnsEndpoint } from '../../src/k8s/external-dns.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { EtherType, TcpFlag } from '../../src/wire/types.js';
import { decodeDns, DnsType } from '../../src/wire/dns.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type Frame, type FramedRun } from '../integration/run-scenario.js';

const HAS_TSHARK = hasTshark();
const inTshark = HAS_TSHARK ? 'in tshark' : `in tshark — skipped: ${NO_TSHARK}`;
const S = 1e9;
const ip = (s: string) => parseIpv4(s)!;
const LAPTOP = ip('10.100.11.100');
const VIP = ip('10.100.11.240');
const LB = ip('10.100.11.254');
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');
const isSyn = (f: Frame) => f.pkt.tcp !== null && (f.pkt.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;

/** The client's connections (by source port) whose first SYN is in [t0, t1) on its own eth0, and whether each got an HTTP 200. */
function answered(r: FramedRun, host: string, t0: number, t1: number): { asked: number; ok: number } {
  const on = r.frames.filter((f) => f.ifName === `${host}/eth0` && f.pkt.tcp !== null);
  const first = new Map<number, number>();
  for (const f of on) if (isSyn(f) && f.pkt.ip!.src === LAPTOP && !first.has(f.pkt.tcp!.srcPort)) first.set(f.pkt.tcp!.srcPort, f.tNs);
  const ports = new Set([...first].filter(([, t]) => t >= t0 * S && t < t1 * S).map(([p]) => p));
  const okPorts = new Set(on.filter((f) => f.pkt.ip!.dst === LAPTOP && text(f.pkt.payload).startsWith('HTTP/1.1 200')).map((f) => f.pkt.tcp!.dstPort));
  return { asked: ports.size, ok: [...ports].filter((p) => okPorts.has(p)).length };
}

/** The first client SYN seen on a node's eth0 (after any LB rewrite). */
const firstSynAtNode = (r: FramedRun, node: string) => r.frames.find((f) => f.ifName === `${node}/eth0` && isSyn(f) && f.pkt.ip!.src !== LB && f.pkt.tcp!.dstPort !== 10256);

/** A timeline entry's time in seconds. */
const when = (r: FramedRun, what: RegExp) => {
  const e = r.world.timeline.find((x) => what.test(x.what));
  return e ? e.atNs / S : null;
};

function cleanInTshark(r: () => FramedRun): void {
  // One tshark pass over the whole capture (checksums and malformation are per frame); the same
  // check per interface (--format pcap, one file each) was run by hand for the report.
  it.skipIf(!HAS_TSHARK)(`zero malformed frames and bad checksums (${inTshark})`, () => {
    const c = tsharkCheck(r().capturePath);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
  });
}

function scenario(name: string, body: (r: () => FramedRun) => void): void {
  describe(`${name}.yaml`, () => {
    let run: FramedRun;
    beforeAll(() => {
      run = runScenarioFrames(name);
    });
    afterAll(() => rmSync(run.dir, { recursive: true, force: true }));
    body(() => run);
    cleanInTshark(() => run);
  });
}

scenario('lb-aws-nlb', (r) => {
  it('the node sees the client as source and its own IP:NodePort as destination; the client only the LB address', () => {
    const syn = firstSynAtNode(r(), 'node1')!;
    expect([formatIpv4(syn.pkt.ip!.src), formatIpv4(syn.pkt.ip!.dst), syn.pkt.tcp!.dstPort]).toEqual(['10.100.11.100', '10.100.11.11', 30080]);
    const peers = new Set(r().frames.filter((f) => f.ifName === 'laptop/eth0' && f.pkt.tcp).map((f) => formatIpv4(f.pkt.ip!.src === LAPTOP ? f.pkt.ip!.dst : f.pkt.ip!.src)));
    expect([...peers]).toEqual(['10.100.11.240']);
    // The pod sees the client too (ETP Local: no masquerade).
    expect(r().frames.some((f) => f.ifName === 'web-1/eth0' && isSyn(f) && f.pkt.ip!.src === LAPTOP)).toBe(true);
  });

  it('health checks: GET /healthz on the healthCheckNodePort every 10 s; 503 from 20 s; node2 unhealthy at 30 s (2 × 10 s); node3 (no pod) at the first check', () => {
    const hcnp = r().world.controlPlane!.api.get('Service', 'default', 'web')!.spec.healthCheckNodePort!;
    const gets = r().frames.filter((f) => f.ifName === 'node2/eth0' && f.pkt.ip?.src === LB && f.pkt.tcp?.dstPort === hcnp && text(f.pkt.payload).startsWith('GET /healthz HTTP/1.1'));
    expect(gets.map((f) => Math.floor(f.tNs / S))).toEqual([0, 10, 20, 30, 40]);
    expect(text(gets[0]!.pkt.payload)).toContain('User-Agent: ELB-HealthChecker/2.0');
    const codes = r().frames.filter((f) => f.ifName === 'node2/eth0' && f.pkt.ip?.dst === LB && f.pkt.tcp?.srcPort === hcnp && text(f.pkt.payload).startsWith('HTTP/1.1')).map((f) => text(f.pkt.payload).slice(9, 12));
    expect(codes).toEqual(['200', '200', '503', '503', '503']);
    expect(when(r(), /target node2 .* unhealthy \(2 consecutive failures/)).toBeCloseTo(30, 2);
    expect(when(r(), /target node3 .* unhealthy \(first check failed/)).toBeLessThan(0.01);
  });

  it('traffic moves: before the failure and after the verdict every request is answered, in between not all; node2 gets no new connection after 30 s', () => {
    expect(answered(r(), 'laptop', 0, 10)).toMatchObject({ ok: answered(r(), 'laptop', 0, 10).asked });
    const between = answered(r(), 'laptop', 12, 30);
    expect(between.ok).toBeLessThan(between.asked);
    const after = answered(r(), 'laptop', 30.01, 45);
    expect(after.asked).toBeGreaterThan(30);
    expect(after.ok).toBe(after.asked);
    // Connections opened in [t0, t1) (first SYN at the laptop) whose SYN reached the node; a flow opened
    // earlier keeps its target (its retransmitted SYNs still go to node2).
    const synsTo = (node: string, t0: number, t1: number) => {
      const first = new Map<number, number>();
      for (const f of r().frames) if (f.ifName === 'laptop/eth0' && isSyn(f) && !first.has(f.pkt.tcp!.srcPort)) first.set(f.pkt.tcp!.srcPort, f.tNs);
      const opened = (p: number) => (first.get(p) ?? -1) >= t0 * S && (first.get(p) ?? -1) < t1 * S;
      return new Set(r().frames.filter((f) => f.ifName === `${node}/eth0` && isSyn(f) && f.pkt.ip!.src === LAPTOP && opened(f.pkt.tcp!.srcPort)).map((f) => f.pkt.tcp!.srcPort)).size;
    };
    expect(synsTo('node2', 0, 10)).toBeGreaterThan(0);
    expect(synsTo('node2', 30.01, 45)).toBe(0);
    expect(synsTo('node3', 0, 45)).toBe(0);
  });

  it('status: hostname (a…elb.us-east-1.amazonaws.com), a DNSEndpoint for it, and no kube-proxy rule for the LB address', () => {
    const api = r().world.controlPlane!.api;
    const svc = api.get('Service', 'default', 'web') as Service;
    const ing = svc.status!.loadBalancer!.ingress!;
    expect(ing).toHaveLength(1);
    expect(ing[0]!.hostname).toMatch(/^a[0-9a-f]{32}-\d+\.elb\.us-east-1\.amazonaws\.com$/);
    expect(ing[0]!.ip).toBeUndefined();
    const dns = api.get('DNSEndpoint', 'default', 'web') as DnsEndpoint;
    expect(dns.spec.endpoints).toEqual([{ dnsName: ing[0]!.hostname, recordType: 'A', targets: ['10.100.11.240'], recordTTL: 60 }]);
    for (const n of r().world.cluster!.nodes) expect(n.ns.nf!.save()).not.toContain('10.100.11.240');
  });
});

scenario('lb-aws-clb', (r) => {
  it('the node sees a new connection from the LB machine to its IP:NodePort; the client only the LB address', () => {
    const syn = r().frames.find((f) => f.ifName === 'node1/eth0' && isSyn(f) && f.pkt.tcp!.dstPort === 30080 && f.tNs > 1 * S)!;
    expect([formatIpv4(syn.pkt.ip!.src), formatIpv4(syn.pkt.ip!.dst)]).toEqual(['10.100.11.254', '10.100.11.11']);
    expect(r().frames.some((f) => f.ifName.startsWith('node') && f.pkt.ip?.src === LAPTOP)).toBe(false);
  });

  it('status: hostname with ipMode Proxy, so kube-proxy writes no rule for the LB address', () => {
    const svc = r().world.controlPlane!.api.get('Service', 'default', 'web') as Service;
    expect(svc.status!.loadBalancer!.ingress![0]!.ipMode).toBe('Proxy');
    for (const n of r().world.cluster!.nodes) expect(n.ns.nf!.save()).not.toContain('10.100.11.240');
  });

  it('TCP checks to the first NodePort every 10 s; node2 (down at 10 s) unhealthy after 6 failures — the 60 s check, host unreachable once ARP fails; then every request is answered', () => {
    const t = when(r(), /target node2 .* unhealthy \(6 consecutive failures; TCP:30080 (timeout|unreachable)/)!;
    expect(t).toBeGreaterThan(60);
    expect(t).toBeLessThan(65.001);
    const before = answered(r(), 'laptop', 0, 10);
    expect(before.ok).toBe(before.asked);
    const between = answered(r(), 'laptop', 10, 60);
    expect(between.ok).toBeLessThan(between.asked);
    const after = answered(r(), 'laptop', t + 0.01, 75);
    expect(after.asked).toBeGreaterThan(0);
    expect(after.ok).toBe(after.asked);
  });
});

scenario('lb-gcp', (r) => {
  it('the node sees the unchanged packet (client → LB IP:80, TTL 64) and answers the client directly from the LB IP', () => {
    const syn = firstSynAtNode(r(), 'node1')!;
    expect([formatIpv4(syn.pkt.ip!.src), formatIpv4(syn.pkt.ip!.dst), syn.pkt.tcp!.dstPort, syn.pkt.ip!.ttl]).toEqual(['10.100.11.100', '10.100.11.240', 80, 64]);
    const reply = r().frames.find((f) => f.ifName === 'node1/eth0' && f.pkt.ip?.src === VIP && f.pkt.ip.dst === LAPTOP);
    expect(reply).toBeDefined();
    // Direct server return: no packet from the LB address leaves the lb machine.
    expect(r().frames.some((f) => f.ifName === 'lb/eth0' && f.pkt.ip?.src === VIP)).toBe(false);
  });

  it('HTTP checks of kube-proxy\'s 10256 /healthz every 8 s (GoogleHC/1.0); node2 unhealthy after 3 timeouts, at 33 s; then every request is answered', () => {
    const gets = r().frames.filter((f) => f.ifName === 'node1/eth0' && f.pkt.tcp?.dstPort === 10256 && text(f.pkt.payload).startsWith('GET /healthz'));
    expect(gets.slice(0, 4).map((f) => Math.round(f.tNs / S))).toEqual([0, 8, 16, 24]);
    expect(text(gets[0]!.pkt.payload)).toContain('User-Agent: GoogleHC/1.0');
    expect(when(r(), /target node2 .* unhealthy \(3 consecutive failures; HTTP:10256\/healthz timeout/)).toBeCloseTo(33, 2);
    const between = answered(r(), 'laptop', 10, 33);
    expect(between.ok).toBeLessThan(between.asked);
    const after = answered(r(), 'laptop', 33.01, 42);
    expect(after.ok).toBe(after.asked);
    const node2Mac = r().world.cluster!.nodes[1]!.eth0.mac;
    const toNode2 = (t0: number, t1: number) => r().frames.filter((f) => f.ifName === 'lb/eth0' && f.pkt.eth?.dst === node2Mac && f.pkt.ip?.dst === VIP && isSyn(f) && f.tNs >= t0 * S && f.tNs < t1 * S).length;
    expect(toNode2(10, 33)).toBeGreaterThan(0);
    expect(toNode2(33.01, 42)).toBe(0);
  });
});

scenario('lb-azure', (r) => {
  it('floating IP: the node sees client → frontend IP:80', () => {
    const syn = firstSynAtNode(r(), 'node1')!;
    expect([formatIpv4(syn.pkt.ip!.src), formatIpv4(syn.pkt.ip!.dst), syn.pkt.tcp!.dstPort]).toEqual(['10.100.11.100', '10.100.11.240', 80]);
  });

  it('TCP probes to the NodePort every 5 s; node2 unhealthy after 2 timeouts, at 20 s; then every request is answered', () => {
    // One connect per probe (retransmitted SYNs left out: the probe at 10 s was DNATed to web-2, gone with node2).
    const probes = r().frames.filter((f) => f.ifName === 'node1/eth0' && isSyn(f) && f.pkt.ip!.src === LB && f.pkt.tcp!.dstPort === 30080);
    const firstOf = [...new Map(probes.map((f) => [f.pkt.tcp!.srcPort, f] as const).reverse()).values()].reverse();
    expect(firstOf.slice(0, 4).map((f) => Math.round(f.tNs / S))).toEqual([0, 5, 10, 15]);
    expect(when(r(), /target node2 .* unhealthy \(2 consecutive failures; TCP:30080 timeout/)).toBeCloseTo(20, 2);
    const after = answered(r(), 'laptop', 20.01, 35);
    expect(after.asked).toBeGreaterThan(0);
    expect(after.ok).toBe(after.asked);
  });
});

scenario('lb-metallb-bgp', (r) => {
  it('the node sees client → LB IP with TTL 63 (the router forwarded it); node3 (no local endpoint) is never a next hop', () => {
    const syn = firstSynAtNode(r(), 'node1') ?? firstSynAtNode(r(), 'node2')!;
    expect([formatIpv4(syn.pkt.ip!.src), formatIpv4(syn.pkt.ip!.dst), syn.pkt.ip!.ttl]).toEqual(['10.100.11.100', '10.100.11.240', 63]);
    expect(firstSynAtNode(r(), 'node3')).toBeUndefined();
  });

  it('node2 withdraws its route when its endpoint goes (11 s); from then every flow goes to node1 and is answered', () => {
    expect(when(r(), /metallb-bgp: node2 withdraws/)).toBeCloseTo(11, 3);
    const syns = (node: string, t0: number, t1: number) => r().frames.filter((f) => f.ifName === `${node}/eth0` && isSyn(f) && f.pkt.ip!.dst === VIP && f.tNs >= t0 * S && f.tNs < t1 * S).length;
    expect(syns('node2', 0, 10)).toBeGreaterThan(0);
    expect(syns('node2', 11.001, 25)).toBe(0);
    const after = answered(r(), 'laptop', 11.001, 25);
    expect(after.ok).toBe(after.asked);
  });
});

scenario('lb-metallb-l2', (r) => {
  it('node1 answers ARP at first; at 5 s node2 sends gratuitous ARP (request and reply) and the laptop sends to node2\'s MAC', () => {
    const [n1, n2] = r().world.cluster!.nodes;
    const garp = r().frames.filter((f) => f.ifName === 'laptop/eth0' && f.pkt.eth!.etherType === EtherType.ARP && f.pkt.arp!.spa === VIP && f.pkt.arp!.tpa === VIP);
    expect(garp.map((f) => [f.pkt.arp!.op, f.pkt.arp!.sha === n2!.eth0.mac, Math.round(f.tNs / S)])).toEqual([
      [1, true, 5],
      [2, true, 5],
    ]);
    expect(when(r(), /metallb: 10\.100\.11\.240 moves from node1 to node2/)).toBe(5);
    const synMacs = (t0: number, t1: number) => new Set(r().frames.filter((f) => f.ifName === 'laptop/eth0' && isSyn(f) && f.tNs >= t0 * S && f.tNs < t1 * S).map((f) => f.pkt.eth!.dst));
    expect([...synMacs(0, 5)]).toEqual([n1!.eth0.mac]);
    expect([...synMacs(5.001, 20)]).toEqual([n2!.eth0.mac]);
    const after = answered(r(), 'laptop', 7.01, 20);
    expect(after.ok).toBe(after.asked);
  });
});

scenario('flow1-external-lb', (r) => {
  it('six listeners, each to its NodePort 3200N and served by pod-N only; node2 (10.100.11.12) receives NodePort connections from the LB', () => {
    const stats = JSON.parse(r().statsJson) as { flows: { name: string; successes: number; requests: number }[] };
    expect(stats.flows.map((f) => [f.name, f.successes])).toEqual([1, 2, 3, 4, 5, 6].map((i) => [`to-pod-${i}`, 6]));
    for (let i = 1; i <= 6; i++) {
      const responses = r().frames.filter((f) => f.ifName === 'user/eth0' && f.pkt.tcp?.srcPort === 8000 + i && text(f.pkt.payload).startsWith('HTTP/1.1 200'));
      expect(new Set(responses.map((f) => /X-Served-By: (\S+)/.exec(text(f.pkt.payload))?.[1]))).toEqual(new Set([`pod-${i}`]));
    }
    const ports = new Set(r().frames.filter((f) => f.ifName === 'node2/eth0' && isSyn(f) && f.pkt.ip!.src === LB && f.pkt.ip!.dst === ip('10.100.11.12')).map((f) => f.pkt.tcp!.dstPort));
    expect([...ports].every((p) => p >= 32001 && p <= 32006)).toBe(true);
    expect(ports.size).toBeGreaterThan(1);
  });

  it('the user resolves shop.mydomain.com first: a CNAME (external-dns) to the ELB name (the cloud controller), whose A record is the LB address', () => {
    const answers = r().frames.filter((f) => f.ifName === 'user/eth0' && f.pkt.udp?.srcPort === 53 && f.pkt.payload !== null).map((f) => decodeDns(f.pkt.payload!, 0).msg);
    const a = answers.find((m) => m.questions[0]!.type === DnsType.A)!;
    expect(a.answers.map((x) => x.data.kind)).toEqual(['CNAME', 'A']);
    expect(a.answers[0]!.name).toBe('shop.mydomain.com');
    expect((a.answers[0]!.data as { target: string }).target).toMatch(/\.elb\.us-east-1\.amazonaws\.com$/);
    expect(formatIpv4((a.answers[1]!.data as { address: number }).address)).toBe('10.100.11.240');
    // Every TCP connection of the user goes to the LB address, after its first DNS answer.
    const firstAnswer = r().frames.find((f) => f.ifName === 'user/eth0' && f.pkt.udp?.srcPort === 53)!.tNs;
    const syns = r().frames.filter((f) => f.ifName === 'user/eth0' && isSyn(f));
    expect(syns.every((f) => f.pkt.ip!.dst === VIP && f.tNs > firstAnswer)).toBe(true);
  });
});
