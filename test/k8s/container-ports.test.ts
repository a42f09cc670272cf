// k8s/container-ports: what a pod without podwire annotations serves on each port, for manifests as
// they are written upstream (sock-shop, emojivoto, podinfo, metallb): a port an httpGet probe checks
// speaks HTTP; a Prometheus port (prometheus.io/port, a `prom` name, an exporter image) speaks HTTP; a
// port named for another protocol (grpc) is not HTTP even in a web server's image; a Service port's
// appProtocol http makes its target HTTP; ports a probe or a Service reaches without a containerPort
// declaration still get a listener (containerPorts are informational in Kubernetes).
import { describe, expect, it } from 'vitest';
import type { ClusterPod } from '../../src/k8s/cluster.js';
import { defaultListeners } from '../../src/k8s/container-ports.js';
import { PodSpecSchema } from '../../src/k8s/manifests.js';
import type { ServicePortView, ServiceView } from '../../src/k8s/services.js';

function pod(spec: unknown, extra: { annotations?: Record<string, string>; labels?: Record<string, string> } = {}): ClusterPod {
  return { name: 'p', namespace: 'default', labels: extra.labels ?? {}, annotations: extra.annotations ?? {}, spec: PodSpecSchema.parse(spec) } as unknown as ClusterPod;
}

function service(selector: Record<string, string>, ports: Partial<ServicePortView>[], endpointsOf: ClusterPod | null = null): ServiceView {
  const full = ports.map((p) => ({ name: '', protocol: 'TCP', port: 80, nodePort: null, targetPort: 80, ...p, endpoints: endpointsOf ? [{ pod: endpointsOf }] : [] }));
  return { name: 'svc', namespace: 'default', selector, ports: full } as unknown as ServiceView;
}

const apps = (p: ClusterPod, services: ServiceView[] = []) => defaultListeners(p, services).map((l) => `${l.port}/${l.protocol} ${l.app} (${l.reason})`);

describe('defaultListeners', () => {
  it('a port an httpGet probe checks serves HTTP (sock-shop front-end: unnamed 8079, weaveworksdemos image)', () => {
    const p = pod({ containers: [{ name: 'front-end', image: 'weaveworksdemos/front-end:0.3.12', ports: [{ containerPort: 8079 }], readinessProbe: { httpGet: { path: '/', port: 8079 } } }] });
    expect(apps(p)).toEqual(['8079/TCP http (httpGet probe)']);
    const named = pod({ containers: [{ name: 'c', image: 'example/api', ports: [{ name: 'admin', containerPort: 9000 }], livenessProbe: { httpGet: { path: '/healthz', port: 'admin' } } }] });
    expect(apps(named)).toEqual(['9000/TCP http (httpGet probe)']);
    // A tcpSocket probe says nothing about the protocol.
    const tcp = pod({ containers: [{ name: 'c', image: 'example/db', ports: [{ containerPort: 5432 }], readinessProbe: { tcpSocket: { port: 5432 } } }] });
    expect(apps(tcp)).toEqual(['5432/TCP tcp-rr (TCP port)']);
  });

  it('Prometheus ports serve HTTP: prometheus.io/port, a port named prom, an exporter image', () => {
    const ann = pod({ containers: [{ name: 'c', image: 'example/app', ports: [{ containerPort: 8080 }, { containerPort: 9797 }] }] }, { annotations: { 'prometheus.io/port': '9797' } });
    expect(apps(ann)).toEqual(['8080/TCP tcp-rr (TCP port)', '9797/TCP http (prometheus.io/port)']);
    const emoji = pod({ containers: [{ name: 'emoji-svc', image: 'docker.l5d.io/buoyantio/emojivoto-emoji-svc:v11', ports: [{ containerPort: 8080, name: 'grpc' }, { containerPort: 8801, name: 'prom' }] }] });
    expect(apps(emoji)).toEqual(['8080/TCP tcp-rr (TCP port)', '8801/TCP http (port named prom)']);
    const exporter = pod({ containers: [{ name: 'rabbitmq-exporter', image: 'kbudde/rabbitmq-exporter', ports: [{ containerPort: 9090, name: 'exporter' }] }] });
    expect(apps(exporter)).toEqual(['9090/TCP http (image rabbitmq-exporter)']);
  });

  it('a port named for another protocol is not HTTP in a web image (podinfo grpc 9999); its http port still is', () => {
    const p = pod({ containers: [{ name: 'backend', image: 'ghcr.io/stefanprodan/podinfo:6.14.1', ports: [{ name: 'http', containerPort: 9898 }, { name: 'http-metrics', containerPort: 9797 }, { name: 'grpc', containerPort: 9999 }, { containerPort: 8000 }] }] });
    expect(apps(p)).toEqual(['9898/TCP http (port named http)', '9797/TCP http (port named http-metrics)', '9999/TCP tcp-rr (TCP port)', '8000/TCP http (image podinfo)']);
  });

  it("a Service port's appProtocol http makes its target HTTP", () => {
    const p = pod({ containers: [{ name: 'c', image: 'example/api', ports: [{ containerPort: 8080 }] }] }, { labels: { app: 'api' } });
    expect(apps(p, [service({ app: 'api' }, [{ name: 'api', port: 80, targetPort: 8080 }], p)])).toEqual(['8080/TCP tcp-rr (TCP port)']);
    expect(apps(p, [service({ app: 'api' }, [{ name: 'api', port: 80, targetPort: 8080, appProtocol: 'http' }], p)])).toEqual(['8080/TCP http (Service port svc/api)']);
  });

  it('undeclared ports that probes and selecting Services reach get listeners (metallb controller: probes on 17472)', () => {
    const p = pod({ containers: [{ name: 'c', image: 'example/api', readinessProbe: { httpGet: { path: '/ready', port: 17472 } }, livenessProbe: { tcpSocket: { port: 7946 } } }] }, { labels: { app: 'api' } });
    expect(apps(p)).toEqual(['17472/TCP http (httpGet probe, undeclared (probed))', '7946/TCP tcp-rr (TCP port, undeclared (probed))']);
    const svc = service({ app: 'api' }, [{ name: 'http', port: 80, targetPort: 3000 }, { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 }, { name: 'named', port: 81, targetPort: 'web' }], p);
    expect(apps(p, [svc])).toEqual([
      '17472/TCP http (httpGet probe, undeclared (probed))',
      '7946/TCP tcp-rr (TCP port, undeclared (probed))',
      '3000/TCP http (Service port svc/http, undeclared (Service svc targets it))',
      '5353/UDP udp-echo (UDP Service svc targets it)',
    ]);
    // A Service that does not select the pod, or selects nothing ({}), adds nothing.
    expect(apps(p, [service({ app: 'other' }, [{ port: 80, targetPort: 3000 }]), service({}, [{ port: 80, targetPort: 3001 }])])).toHaveLength(2);
  });
});
