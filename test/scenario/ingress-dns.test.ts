// Flow 2's first step, "Ingress is connected to your provider DNS": the controller reports its
// Service's load-balancer address in every Ingress's status (--publish-service), external-dns turns
// the Ingress's host into an A record in the public zone, and a user on the internet resolves the
// name and reaches the pods through the controller.
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ingress-dns }
spec:
  cluster:
    serviceCIDR: 10.99.0.0/16
    network: { cidr: 10.100.11.0/24 }
    loadBalancerPool: [10.100.11.240]
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
    ingressController: { replicas: 1, service: { type: LoadBalancer } }
  internet:
    router: { name: edge }
    hosts: [{ name: user, ip: 203.0.113.10 }]
  dns:
    server: { name: ns1, ip: 203.0.113.53 }
    externalDns: { interval: 1m }
    zones: [{ origin: mydomain.com, ttl: 300, records: [] }]
  traffic:
    - { name: shop, type: http, from: host/user, to: "http://shop.mydomain.com/", rate: 5, count: 10, start: 8s }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop }
spec:
  ingressClassName: nginx
  rules: [{ host: shop.mydomain.com, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http } }
    spec: { containers: [{ name: web, image: nginx, ports: [{ containerPort: 8080 }] }] }
`;

describe('Ingress status → external-dns → the user', () => {
  it('the Ingress reports the controller LB address, external-dns publishes its host, the user resolves it and is served', () => {
    const world = buildWorld(loadScenarioText(SCENARIO, 'ingress-dns.yaml'), 1);
    world.sim.run({ until: 15e9 });
    const api = world.controlPlane!.api;
    const ing = api.get('Ingress', 'default', 'shop') as unknown as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    expect(ing.status?.loadBalancer?.ingress).toEqual([{ ip: '10.100.11.240' }]);
    const eps = api.list('DNSEndpoint') as unknown as { metadata: { name: string }; spec: { endpoints: { dnsName: string; recordType: string; targets: string[] }[] } }[];
    expect(eps.find((e) => e.metadata.name === 'ingress-shop')?.spec.endpoints).toEqual([expect.objectContaining({ dnsName: 'shop.mydomain.com', recordType: 'A', targets: ['10.100.11.240'] })]);
    const f = world.stats.flow('shop');
    expect([f.requests, f.successes]).toEqual([10, 10]);
    expect(world.timeline.some((t) => t.what === 'ingress-nginx: status of ingress default/shop → 10.100.11.240')).toBe(true);
  });
});
