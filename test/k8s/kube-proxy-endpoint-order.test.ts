// kube-proxy lists a service port's endpoints in its KUBE-SVC chain in the order its endpoint-slice cache
// returns them (endpointsMapFromEndpointInfo sorts by Endpoint.String(), "ip:port", as strings), not
// in the EndpointSlice's order: the same probability rules go to the same endpoints as on a real node.
import { describe, expect, it } from 'vitest';
import { servicePortsFor } from '../../src/k8s/kube-proxy/index.js';
import { renderKubeProxyRules } from '../../src/k8s/kube-proxy/iptables.js';
import type { ServiceView } from '../../src/k8s/services.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';

const endpoint = (ip: string, nodeName: string) => ({ ip: parseIpv4(ip)!, port: 8080, ready: true, serving: true, terminating: false, nodeName, pod: null });

const web = {
  namespace: 'apps',
  name: 'web',
  type: 'ClusterIP',
  clusterIP: parseIpv4('10.96.0.80')!,
  headless: false,
  externalName: null,
  externalIPs: [],
  loadBalancerIPs: [],
  selector: { app: 'web' },
  sessionAffinityTimeout: null,
  externalTrafficPolicy: 'Cluster',
  internalTrafficPolicy: 'Cluster',
  sliceName: 'web-abcde',
  // The EndpointSlice's order: the pods as the ReplicaSet made them, on nodes 3, 11 and 2.
  ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: null, targetPort: 8080, endpoints: [endpoint('10.244.2.7', 'node3'), endpoint('10.244.10.2', 'node11'), endpoint('10.244.1.3', 'node2')] }],
} as unknown as ServiceView;

describe('kube-proxy endpoint order', () => {
  it('servicePortsFor sorts endpoints by "ip:port" as strings (10.244.10.2 before 10.244.2.7)', () => {
    expect(servicePortsFor({ name: 'node2' }, [web])[0]!.endpoints.map((e) => [e.ip, e.isLocal])).toEqual([
      ['10.244.1.3', true],
      ['10.244.10.2', false],
      ['10.244.2.7', false],
    ]);
  });

  it('the KUBE-SVC chain gives 1/3, then 1/2 of the rest, then the rest, in that order', () => {
    const text = renderKubeProxyRules(servicePortsFor({ name: 'node2' }, [web]), { clusterCIDR: '10.244.0.0/16', masqueradeAll: false, randomFully: true, localhostNodePorts: true, nodeIP: '192.168.56.12' });
    const rules = text.split('\n').filter((l) => /^-A KUBE-SVC-\w+ -m comment --comment "apps\/web:http -> /.test(l));
    expect(rules.map((l) => /-> ([\d.:]+)"(.*?) -j/.exec(l)!.slice(1, 3).join(''))).toEqual([
      '10.244.1.3:8080 -m statistic --mode random --probability 0.3333333333',
      '10.244.10.2:8080 -m statistic --mode random --probability 0.5000000000',
      '10.244.2.7:8080',
    ]);
  });
});
