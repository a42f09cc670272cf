// k8s/container-ports — what answers on each port a pod's containers declare, when the pod does not
// say (podwire.dev/app): an image runs a server on its containerPorts, so each port gets a listener.
// TCP: HTTP/1.1 when the port is named like an HTTP port (http, http-*, web, metrics: the names
// Istio's protocol selection and Prometheus conventions use), a Service port targeting it is so named
// or declares appProtocol http, the image is a well-known web server, or an httpGet probe with scheme
// HTTPS targets the port (it then serves HTTPS, see scenario/workloads); otherwise a generic
// request/response server (app/tcp-rr). UDP: an echo server. SCTP: nothing. Layer: k8s (imports k8s).
import type { ClusterPod } from './cluster.js';
import type { ServiceView } from './services.js';

/** One listener a pod runs by default. */
export interface DefaultListener {
  port: number;
  protocol: 'TCP' | 'UDP';
  app: 'http' | 'tcp-rr' | 'udp-echo';
  /** Why this app was chosen (for `podwire inspect`-like output and tests). */
  reason: string;
}

/** Images whose main process is an HTTP server (repository name, without registry and tag). */
const WEB_IMAGES = ['nginx', 'httpd', 'apache', 'caddy', 'traefik', 'envoy', 'haproxy', 'tomcat', 'jetty', 'lighttpd', 'openresty', 'http-echo', 'echoserver', 'agnhost', 'hello-app', 'gb-frontend', 'php', 'wordpress', 'ghost', 'grafana', 'prometheus', 'node-exporter', 'whoami', 'podinfo', 'kuard', 'nginx-unprivileged'];

/** True for an HTTP-looking port name (http, http-web, http2, web, metrics). */
export function isHttpPortName(name: string | undefined): boolean {
  return name !== undefined && (/^https?(\d|-|$)/.test(name) || name === 'web' || name === 'metrics' || /-http$/.test(name));
}

/** The repository name of an image reference: "us-docker.pkg.dev/x/y/frontend:v1@sha256:..." → "frontend". */
export function imageRepo(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.split('/').pop()!;
  return last.split(':')[0]!;
}

function isWebImage(image: string): boolean {
  const repo = imageRepo(image);
  return WEB_IMAGES.some((w) => repo === w || repo.startsWith(`${w}-`));
}

/** The listeners a pod runs on its declared ports (first declaration of a port/protocol wins). */
export function defaultListeners(pod: ClusterPod, services: readonly ServiceView[]): DefaultListener[] {
  const out: DefaultListener[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports) {
      if (p.protocol === 'SCTP' || out.some((o) => o.port === p.containerPort && o.protocol === p.protocol)) continue;
      if (p.protocol === 'UDP') {
        out.push({ port: p.containerPort, protocol: 'UDP', app: 'udp-echo', reason: 'UDP port' });
        continue;
      }
      const svcName = httpServicePort(pod, services, p.containerPort, p.name);
      const reason = isHttpPortName(p.name) ? `port named ${p.name}` : svcName !== null ? `Service port ${svcName}` : isWebImage(c.image) ? `image ${imageRepo(c.image)}` : httpsProbed(pod, p.containerPort) ? 'HTTPS probe' : null;
      out.push(reason !== null ? { port: p.containerPort, protocol: 'TCP', app: 'http', reason } : { port: p.containerPort, protocol: 'TCP', app: 'tcp-rr', reason: 'TCP port' });
    }
  }
  return out;
}

/** True when a probe of the pod's containers is an httpGet with scheme HTTPS on `port` (by number or port name): that port serves HTTPS. */
export function httpsProbed(pod: ClusterPod, port: number): boolean {
  for (const c of pod.spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const g = probe?.httpGet;
      if (!g || g.scheme !== 'HTTPS') continue;
      if (g.port === port || pod.spec.containers.some((x) => x.ports.some((p) => p.name === g.port && p.containerPort === port))) return true;
    }
  }
  return false;
}

/** "svc/port-name" of a Service port that sends HTTP to this container port, or null. */
function httpServicePort(pod: ClusterPod, services: readonly ServiceView[], port: number, portName: string | undefined): string | null {
  for (const s of services) {
    for (const sp of s.ports) {
      if (sp.protocol !== 'TCP' || !sp.endpoints.some((e) => e.pod === pod)) continue;
      const targets = sp.targetPort === port || (portName !== undefined && sp.targetPort === portName);
      if (targets && isHttpPortName(sp.name)) return `${s.name}/${sp.name}`;
    }
  }
  return null;
}
