// Services as the API server allocates them and the EndpointSlice controller resolves them; and the
// errors a user gets for Services Kubernetes would reject.
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const HEAD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  cluster:
    serviceCIDR: 10.96.0.0/12
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
`;
const PODS = `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: c, image: nginx, ports: [{ name: http, containerPort: 8080 }, { name: metrics, containerPort: 9090 }] }] }
`;
const svc = (body: string) => `---
apiVersion: v1
kind: Service
${body}`;
const build = (docs: string, seed = 1) => buildWorld(loadScenarioText(HEAD + docs, 's.yaml'), seed);
const problems = (docs: string): string[] => {
  try {
    build(docs);
    return [];
  } catch (e) {
    if (e instanceof ScenarioError) return e.errors.map((x) => `${x.field}: ${x.message}`);
    throw e;
  }
};

describe('services', () => {
  it('allocates ClusterIPs in the service range, deterministically per seed, never the range\'s first or kube-dns\'s address', () => {
    const many = Array.from({ length: 20 }, (_, i) => svc(`metadata: { name: s${i} }\nspec: { selector: { app: web }, ports: [{ port: 80 }] }\n`)).join('');
    const a = build(PODS + many).services.map((s) => s.clusterIP!);
    const b = build(PODS + many).services.map((s) => s.clusterIP!);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(20);
    for (const ip of a) {
      expect(ip >>> 20).toBe(0x0a6); // 10.96.0.0/12
      expect(formatIpv4(ip)).not.toBe('10.96.0.1');
      expect(formatIpv4(ip)).not.toBe('10.96.0.10');
    }
  });

  it('resolves a named targetPort to each pod\'s containerPort and lists every matching pod', () => {
    const w = build(PODS + svc('metadata: { name: web }\nspec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: http }, { name: m, port: 9090, targetPort: metrics }] }\n'));
    const s = w.services[0]!;
    expect(s.ports.map((p) => p.endpoints.map((e) => `${formatIpv4(e.ip)}:${e.port}`))).toEqual([
      ['10.244.0.2:8080', '10.244.1.2:8080'],
      ['10.244.0.2:9090', '10.244.1.2:9090'],
    ]);
  });

  it('allocates a NodePort in 30000-32767 for NodePort and LoadBalancer services, keeps a given one', () => {
    const w = build(PODS + svc('metadata: { name: a }\nspec: { type: NodePort, selector: { app: web }, ports: [{ port: 80 }] }\n') + svc('metadata: { name: b }\nspec: { type: LoadBalancer, selector: { app: web }, ports: [{ port: 80, nodePort: 30008 }] }\n'));
    const [a, b] = w.services;
    expect(a!.ports[0]!.nodePort).toBeGreaterThanOrEqual(30000);
    expect(a!.ports[0]!.nodePort).toBeLessThanOrEqual(32767);
    expect(b!.ports[0]!.nodePort).toBe(30008);
    expect(b!.loadBalancerIPs).toEqual([]); // no provider pool: pending
  });

  it('gives headless and ExternalName services no ClusterIP, and takes endpoints of a selector-less service from an EndpointSlice', () => {
    const w = build(
      PODS +
        svc('metadata: { name: h }\nspec: { clusterIP: None, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }\n') +
        svc('metadata: { name: x }\nspec: { type: ExternalName, externalName: db.example.com }\n') +
        svc('metadata: { name: m }\nspec: { ports: [{ name: pg, port: 5432 }] }\n') +
        `---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: m-1, labels: { kubernetes.io/service-name: m } }\naddressType: IPv4\nendpoints: [{ addresses: [10.100.11.50] }]\nports: [{ name: pg, port: 5432 }]\n`,
    );
    const [h, x, m] = w.services;
    expect(h!.clusterIP).toBeNull();
    expect(h!.headless).toBe(true);
    expect(x!.clusterIP).toBeNull();
    expect(x!.externalName).toBe('db.example.com');
    expect(m!.ports[0]!.endpoints.map((e) => `${formatIpv4(e.ip)}:${e.port}`)).toEqual(['10.100.11.50:5432']);
  });

  it('rejects what the API server rejects, at the field', () => {
    expect(problems(svc('metadata: { name: a }\nspec: { type: NodePort, ports: [{ port: 80, nodePort: 29999 }] }\n'))).toEqual(['spec.ports[0].nodePort: 29999 is outside the node port range 30000-32767']);
    expect(problems(svc('metadata: { name: a }\nspec: { clusterIP: 10.200.0.1, ports: [{ port: 80 }] }\n'))).toEqual(['spec.clusterIP: "10.200.0.1" is not in the service range']);
    expect(problems(svc('metadata: { name: a }\nspec: { ports: [{ port: 80 }, { port: 81 }] }\n'))).toEqual(['spec.ports[0].name: every port of a multi-port Service needs a name', 'spec.ports[1].name: every port of a multi-port Service needs a name']);
    expect(problems(svc('metadata: { name: a }\nspec: { type: ExternalName }\n'))).toEqual(['spec.externalName: an ExternalName Service needs spec.externalName']);
    const twice = svc('metadata: { name: a }\nspec: { type: NodePort, ports: [{ port: 80, nodePort: 30001 }] }\n') + svc('metadata: { name: b }\nspec: { type: NodePort, ports: [{ port: 80, nodePort: 30001 }] }\n');
    expect(problems(twice)).toEqual(['spec.ports[0].nodePort: node port 30001 is already allocated']);
  });
});
