// k8s/pod-dns: the resolv.conf kubelet writes for a pod (pkg/kubelet/network/dns/dns.go GetPodDNS, with
// the cases of its dns_test.go), the manifest checks kube-apiserver makes (validatePodDNSConfig), and the
// pod's resolver acting on what the file says.
import { describe, expect, it } from 'vitest';
import { podDns, resolvConfText } from '../../src/k8s/pod-dns.js';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { parseResolvConf, searchCandidates } from '../../src/app/dns-resolver.js';
import { ip } from '../transport/fake-net.js';
import { problems } from '../scenario/problems.js';

const HOST = { nameservers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example'], options: ['ndots:2', 'timeout:1'] };
const CLUSTER = [ip('10.96.0.10')];
const pod = (extra: Partial<Parameters<typeof podDns>[0]> = {}) => ({ namespace: 'shop', hostNetwork: false, ...extra });

describe('the kubelet: a pod resolv.conf from dnsPolicy and dnsConfig', () => {
  it('ClusterFirst: the cluster DNS alone, the cluster search domains then the node\'s, ndots:5 (the node\'s options dropped)', () => {
    const d = podDns(pod(), CLUSTER, 'cluster.local', HOST);
    expect(d).toEqual({ nameservers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'], events: [] });
    expect(resolvConfText(d)).toBe('search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n');
  });

  it('hostNetwork with ClusterFirst falls back to Default; ClusterFirstWithHostNet keeps the cluster DNS', () => {
    expect(podDns(pod({ hostNetwork: true }), CLUSTER, 'cluster.local', HOST)).toMatchObject({ nameservers: HOST.nameservers, searches: HOST.searches, options: HOST.options });
    expect(podDns(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), CLUSTER, 'cluster.local', HOST).nameservers).toEqual(['10.96.0.10']);
    expect(podDns(pod({ dnsPolicy: 'Default' }), CLUSTER, 'cluster.local', HOST)).toMatchObject({ nameservers: HOST.nameservers, options: HOST.options });
  });

  it('None: only dnsConfig; Default + dnsConfig: appended without duplicates, options merged by name', () => {
    const none = podDns(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }), CLUSTER, 'cluster.local', HOST);
    expect(none).toEqual({ nameservers: ['1.2.3.4'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: ['edns0', 'ndots:2'], events: [] });
    const merged = podDns(pod({ dnsPolicy: 'Default', dnsConfig: { nameservers: ['192.168.1.2', '10.0.0.9'], searches: ['corp.example', 'x.example'], options: [{ name: 'ndots', value: '3' }, { name: 'single-request' }] } }), CLUSTER, 'cluster.local', HOST);
    expect(merged.nameservers).toEqual(['192.168.1.1', '192.168.1.2', '10.0.0.9']);
    expect(merged.searches).toEqual(['corp.example', 'x.example']);
    expect(merged.options).toEqual(['ndots:3', 'single-request', 'timeout:1']);
  });

  it('limits: 3 nameservers, 32 search paths, none over 253 characters, 2,048 in the line — each cut said as kubelet says it', () => {
    const four = podDns(pod({ dnsPolicy: 'Default', dnsConfig: { nameservers: ['10.0.0.8', '10.0.0.9'] } }), CLUSTER, 'cluster.local', HOST);
    expect(four.nameservers).toEqual(['192.168.1.1', '192.168.1.2', '10.0.0.8']);
    expect(four.events).toEqual(['Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 192.168.1.1 192.168.1.2 10.0.0.8']);
    const many = podDns(pod({ dnsConfig: { searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`) } }), CLUSTER, 'cluster.local', { nameservers: [], searches: [], options: [] });
    expect(many.searches.length).toBe(32);
    expect(many.searches.slice(0, 3)).toEqual(['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(many.events[0]).toMatch(/^Search Line limits were exceeded, some search paths have been omitted, the applied search line is: shop\.svc\.cluster\.local /);
    const long = 'a'.repeat(60) + '.' + 'b'.repeat(60) + '.example';
    const wide = podDns(pod({ dnsConfig: { searches: Array.from({ length: 20 }, (_, i) => `${i}${long}`) } }), CLUSTER, 'cluster.local', { nameservers: [], searches: [], options: [] });
    expect(wide.searches.join(' ').length).toBeLessThanOrEqual(2048);
    expect(wide.searches.length).toBeLessThan(23);
  });

  it('no cluster DNS: ClusterFirst falls back to Default with the MissingClusterDNS event', () => {
    const d = podDns(pod(), [], 'cluster.local', HOST);
    expect(d.nameservers).toEqual(HOST.nameservers);
    expect(d.events).toEqual(['kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.']);
  });
});

describe('the resolver reads the options the kubelet wrote', () => {
  it('ndots from dnsConfig decides whether a name is tried as it is first; no-tld-query drops the bare single label', () => {
    const five = parseResolvConf(resolvConfText(podDns(pod(), CLUSTER, 'cluster.local', HOST)));
    expect(searchCandidates('example.com', five)[0]).toBe('example.com.shop.svc.cluster.local');
    const one = parseResolvConf(resolvConfText(podDns(pod({ dnsConfig: { options: [{ name: 'ndots', value: '1' }] } }), CLUSTER, 'cluster.local', HOST)));
    expect(searchCandidates('example.com', one)[0]).toBe('example.com');
    const notld = parseResolvConf('search a.example\nnameserver 10.0.0.1\noptions no-tld-query\n');
    expect(searchCandidates('web', notld)).toEqual(['web.a.example']);
    expect(searchCandidates('web.x', notld)).toEqual(['web.x', 'web.x.a.example']);
    expect(parseResolvConf('nameserver 10.0.0.1\noptions edns0 no-aaaa use-vc\n')).toMatchObject({ edns0: true, noAaaa: true, useVc: true });
  });
});

const SCENARIO = (podSpec: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    dns: { replicas: 1 }
    nodes: [{ name: node1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: c }
spec:
  nodeName: node1
  containers: [{ name: c, image: busybox }]
${podSpec}`;

describe('kube-apiserver checks the pod DNS fields (one line each, at the field)', () => {
  it('dnsPolicy None needs dnsConfig and a nameserver; an unknown policy; more than 3 nameservers; not an IP', () => {
    expect(problems(SCENARIO('  dnsPolicy: None\n'))).toEqual(['bad.yaml:16:14: spec.dnsPolicy: must provide `dnsConfig` when `dnsPolicy` is None']);
    expect(problems(SCENARIO('  dnsPolicy: None\n  dnsConfig: { searches: [a.example] }\n'))).toEqual(['bad.yaml:17:14: spec.dnsConfig.nameservers: must provide at least one DNS nameserver when `dnsPolicy` is None']);
    expect(problems(SCENARIO('  dnsPolicy: Custom\n'))).toEqual(['bad.yaml:16:14: spec.dnsPolicy: expected one of ClusterFirstWithHostNet, ClusterFirst, Default, None']);
    expect(problems(SCENARIO('  dnsConfig: { nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4] }\n'))).toEqual(['bad.yaml:16:29: spec.dnsConfig.nameservers: must not have more than 3 nameservers']);
    expect(problems(SCENARIO('  dnsConfig: { nameservers: [dns.example] }\n'))).toEqual(['bad.yaml:16:30: spec.dnsConfig.nameservers[0]: must be valid IP address']);
    expect(problems(SCENARIO('  dnsConfig: { options: [{ name: ndots, value: "1" }] }\n'))).toEqual(['ok']);
  });

  it('an IPv6 nameserver and an option podwire does not act on are warnings, not errors', () => {
    const w = buildWorld(loadScenarioText(SCENARIO('  dnsConfig: { nameservers: ["fd00::10"], options: [{ name: trust-ad }] }\n'), 'ok.yaml'), 1).warnings.map(formatUserError);
    expect(w.some((l) => l.startsWith('ok.yaml:16:') && l.includes('IPv6 nameserver fd00::10 is not modelled'))).toBe(true);
    expect(w.some((l) => l.includes('resolv.conf option trust-ad is not modelled by podwire'))).toBe(true);
  });
});
