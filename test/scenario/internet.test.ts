// spec.internet and spec.dns (k8s/internet.ts, scenario wiring): what gets built (router legs,
// routes, addresses, the DNS server's host, nameserver defaults) and the one-line errors for bad input.
//
//   user (203.0.113.10) ── internet/br0 ── edge (eth1 .1 | eth0 10.0.0.1) ── network/br0 ── node1, laptop
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWorld } from '../../src/scenario/run.js';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { problems } from './problems.js';

const HEAD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
`; // the body starts on line 5
const CLUSTER = `  cluster:
    network: { cidr: 10.0.0.0/24 }
    nodes: [{ name: node1 }]
    externalHosts: [{ name: laptop }]
`; // lines 5-8


const routes = (w: ReturnType<typeof buildWorld>, ns: string): string[] =>
  w.namespaces.get(ns)!.mainTable.all().filter((r) => r.prefix === 0).map((r) => `default via ${formatIpv4(r.gateway)} dev ${r.dev?.name ?? "-"}`);

describe('spec.internet and spec.dns', () => {
  it('builds the router with a leg on each side (forwarding on), default routes toward it, and the DNS server host on the internet', () => {
    const w = buildWorld(loadScenarioText(HEAD + CLUSTER + '  internet:\n    hosts: [{ name: user }]\n  dns: { zones: [{ origin: example.com }] }\n', 't.yaml'), 1);
    const edge = w.namespaces.get('edge')!;
    expect(edge.ipForwardEnabled).toBe(true);
    expect(edge.addrs.filter((a) => a.dev !== edge.lo).map((a) => `${a.dev.name} ${formatIpv4(a.addr)}/${a.prefix}`)).toEqual(['eth0 10.0.0.1/24', 'eth1 203.0.113.1/24']);
    expect(routes(w, 'node1')).toEqual(['default via 10.0.0.1 dev eth0']);
    expect(routes(w, 'laptop')).toEqual(['default via 10.0.0.1 dev eth0']);
    expect(routes(w, 'user')).toEqual(['default via 203.0.113.1 dev eth0']);
    expect(routes(w, 'edge')).toEqual([]);
    const out = w.cluster!.outside!;
    expect(out.hosts.map((h) => `${h.name} ${formatIpv4(h.ip)} ns=${h.nameserver === null ? '-' : formatIpv4(h.nameserver)}`)).toEqual(['user 203.0.113.10 ns=203.0.113.53', 'ns1 203.0.113.53 ns=-']);
    expect(w.cluster!.hosts.map((h) => h.name)).toEqual(['laptop', 'edge', 'user', 'ns1']);
  });

  it("without an internet, the DNS server is a host on the cluster network and every machine's default is the network's gateway .1", () => {
    const w = buildWorld(loadScenarioText(HEAD + CLUSTER + '  dns: { server: { name: ns1 } }\n', 't.yaml'), 1);
    expect(formatIpv4(w.cluster!.outside!.dnsServer!.ip)).toBe('10.0.0.53');
    for (const ns of ['node1', 'laptop', 'ns1']) expect(routes(w, ns)).toEqual(['default via 10.0.0.1 dev eth0']);
  });

  it('reports bad input at the field', () => {
    expect(problems(HEAD + '  internet: {}\n')).toEqual(['bad.yaml:5:13: spec.internet: the internet is routed to a cluster network: it needs spec.cluster']);
    expect(problems(HEAD + CLUSTER + '  internet:\n    hosts: [{ name: laptop }]\n')).toEqual(['bad.yaml:10:21: spec.internet.hosts[0].name: duplicate name "laptop"']);
    expect(problems(HEAD + CLUSTER + '  internet:\n    hosts: [{ name: u, ip: 10.0.0.9 }]\n')).toEqual(['bad.yaml:10:28: spec.internet.hosts[0].ip: 10.0.0.9 is outside the internet 203.0.113.0/24']);
    expect(problems(HEAD + CLUSTER + '  internet:\n    router: { clusterIp: 10.0.0.11 }\n')).toEqual(['bad.yaml:10:26: spec.internet.router.clusterIp: address 10.0.0.11 is used twice']);
    // external-dns's periodic loop is background: a run without a duration still ends.
    expect(problems(HEAD + CLUSTER + '  dns:\n    externalDns: { enabled: true }\n')).toEqual(['ok']);
    expect(problems(HEAD + CLUSTER + '  dns:\n    zones: [{ origin: x.com, records: [{ name: a, type: A, value: nope }] }]\n')).toEqual(['bad.yaml:10:67: spec.dns.zones[0].records[0].value: "nope" is not an IPv4 address']);
    const zone = (recs: string) => `${HEAD}${CLUSTER}  dns:\n    zones:\n      - origin: x.com\n        records: [${recs}]\n`;
    expect(problems(zone('{ name: a, type: A, value: 1.1.1.1 }, { name: a.x.com., type: CNAME, value: b }'))).toEqual(['bad.yaml:12:65: spec.dns.zones[0].records[1].name: a.x.com already has a A record: a CNAME cannot share its name']);
    expect(problems(zone('{ name: a, type: A, value: 1.1.1.1, values: [2.2.2.2] }'))).toEqual(['bad.yaml:12:46: spec.dns.zones[0].records[0].value: give value or values, not both']);
    expect(problems(`${HEAD}${CLUSTER}  dns: { zones: [{ origin: x.com }, { origin: x.com. }] }\n`)).toEqual(['bad.yaml:9:47: spec.dns.zones[1].origin: zone x.com is declared twice']);
  });
});

describe('internet hosts as senders', () => {
  it('ping, udp, tcp, http and dns from host/user all get their answers across the router', () => {
    const text = `${HEAD}  duration: 5s
${CLUSTER}  internet:
    hosts: [{ name: user }]
  dns: { zones: [{ origin: example.com, records: [{ name: n1, type: A, value: 10.0.0.11 }] }] }
  traffic:
    - { name: p, type: ping, from: host/user, to: node/node1, count: 2 }
    - { name: u, type: udp, from: host/user, to: "node/node1:7000", count: 2 }
    - { name: t, type: tcp, from: host/user, to: "n1.example.com:7001", count: 2 }
    - { name: h, type: http, from: host/user, to: "http://n1.example.com:7002/", count: 2, rate: 10 }
    - { name: d, type: dns, from: host/user, lookup: n1.example.com, count: 2 }
    - { name: back, type: ping, from: node/node1, to: host/user, count: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: srv }
spec:
  hostNetwork: true
  nodeName: node1
  containers: [{ name: s, image: x, ports: [{ containerPort: 7001 }, { name: http, containerPort: 7002 }] }]
`;
    const w = buildWorld(loadScenarioText(text, 't.yaml'), 1);
    runWorld(w, { outDir: mkdtempSync(join(tmpdir(), 'podwire-inet-')), format: 'pcapng', snaplen: 256 });
    expect(w.flows.map((f) => `${f.name} ${f.counts.sent}/${f.counts.received} err ${f.counts.errors}`)).toEqual(['p 2/2 err 0', 'u 2/2 err 0', 't 2/2 err 0', 'h 2/2 err 0', 'd 2/2 err 0', 'back 1/1 err 0']);
  });

  it('a pod resolves a public name: CoreDNS without upstreams forwards to the public server across the router', () => {
    const text = `${HEAD}  cluster:
    network: { cidr: 10.0.0.0/24 }
    dns: { replicas: 1 }
    nodes: [{ name: node1 }, { name: node2 }]
  internet: { hosts: [{ name: user }] }
  dns: { zones: [{ origin: example.com, records: [{ name: n1, type: A, value: 10.0.0.11 }] }] }
  traffic:
    - { name: d, type: dns, from: pod/client, lookup: n1.example.com, count: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node2, containers: [{ name: c, image: x }] }
`;
    const w = buildWorld(loadScenarioText(text, 't.yaml'), 1);
    runWorld(w, { outDir: mkdtempSync(join(tmpdir(), 'podwire-inet-')), format: 'pcapng', snaplen: 256 });
    expect(w.flows.map((f) => `${f.name} ${f.counts.sent}/${f.counts.received}`)).toEqual(['d 1/1']);
  });

  it('a DNSEndpoint manifest is served by the public server (and warned about without spec.dns)', () => {
    const ep = `---
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: { name: by-hand }
spec:
  endpoints:
    - { dnsName: abc.elb.us-east-1.amazonaws.com, recordType: A, targets: [10.0.0.11], recordTTL: 60 }
    - { dnsName: svc.example.com, recordType: CNAME, targets: [abc.elb.us-east-1.amazonaws.com] }
`;
    const text = `${HEAD}${CLUSTER}  internet: { hosts: [{ name: user }] }
  dns: { zones: [{ origin: example.com }] }
  traffic:
    - { name: d, type: dns, from: host/user, lookup: svc.example.com, count: 1 }
${ep}`;
    const w = buildWorld(loadScenarioText(text, 't.yaml'), 1);
    expect(w.warnings.map(formatUserError)).toEqual([]);
    runWorld(w, { outDir: mkdtempSync(join(tmpdir(), 'podwire-inet-')), format: 'pcapng', snaplen: 256 });
    expect(w.flows.map((f) => `${f.name} ${f.counts.sent}/${f.counts.received}`)).toEqual(['d 1/1']);
    const bare = buildWorld(loadScenarioText(HEAD + CLUSTER + ep, 't.yaml'), 1);
    expect(bare.warnings.map(formatUserError)).toEqual(['t.yaml:11:7: kind: DNSEndpoint records need a public DNS server (spec.dns): ignored']);
  });
});
