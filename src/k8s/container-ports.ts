// k8s/container-ports — what answers on each port a pod's containers declare, when the pod does not
// say (podwire.dev/app): an image runs a server on its containerPorts, so each port gets a listener.
// TCP: HTTP/1.1 when the port is named like an HTTP port (http, http-*, web, metrics, prom: the names
// Istio's protocol selection and Prometheus conventions use), a Service port targeting it is so named
// or declares appProtocol http, an httpGet probe targets it (HTTPS with scheme HTTPS, see
// scenario/workloads), the pod's `prometheus.io/port` annotation names it (a scrape is an HTTP GET), or
// the image is a well-known web server or a Prometheus exporter (unless the port's name says another
// protocol: grpc, tcp, redis, ...); otherwise a generic request/response server (app/tcp-rr). UDP: an
// echo server. SCTP: nothing. A container listens whether or not it declares the port (containerPorts
// are informational): a port an httpGet / tcpSocket / grpc probe or a selecting Service's numeric
// targetPort reaches, undeclared, gets a listener too, after the declared ones. Layer: k8s (imports k8s).
import type { ClusterPod } from './cluster.js';
import type { ContainerT } from './manifests.js';
import { selectorMatches, type ServiceView } from './services.js';

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

/** True for an HTTP-looking port name (http, http-web, http2, web, metrics, http-metrics, prom). */
export function isHttpPortName(name: string | undefined): boolean {
  return name !== undefined && (/^https?(\d|-|$)/.test(name) || name === 'web' || /^(metrics|prom|prometheus)(-|$)/.test(name) || /-(http|metrics)$/.test(name));
}

/** True for a port name that says a protocol other than HTTP (Istio's protocol prefixes and common servers): the image rule does not apply. */
function isOtherProtocolName(name: string | undefined): boolean {
  return name !== undefined && /^(grpc(?!-web)|tcp|tls|udp|mongo|mongodb|mysql|redis|postgres|postgresql|amqp|kafka|dns|memcache|memcached|zookeeper|cql)(-|\d|$)/.test(name);
}

/** True for a Service port's appProtocol that is HTTP/1.1 (IANA http, or the Kubernetes WebSocket names). */
function isHttpAppProtocol(p: string | undefined): boolean {
  return p !== undefined && /^(http|kubernetes\.io\/ws)$/i.test(p);
}

/** The repository name of an image reference: "us-docker.pkg.dev/x/y/frontend:v1@sha256:..." → "frontend". */
export function imageRepo(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.split('/').pop()!;
  return last.split(':')[0]!;
}

function isWebImage(image: string): boolean {
  const repo = imageRepo(image);
  return WEB_IMAGES.some((w) => repo === w || repo.startsWith(`${w}-`)) || /(^|-|_)exporter$/.test(repo);
}

/** The listeners a pod runs on its declared ports (first declaration of a port/protocol wins), then on the undeclared ports its probes and Services reach. */
export function defaultListeners(pod: ClusterPod, services: readonly ServiceView[]): DefaultListener[] {
  const out: DefaultListener[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports) {
      if (p.protocol === 'SCTP' || out.some((o) => o.port === p.containerPort && o.protocol === p.protocol)) continue;
      if (p.protocol === 'UDP') {
        out.push({ port: p.containerPort, protocol: 'UDP', app: 'udp-echo', reason: 'UDP port' });
        continue;
      }
      const reason = httpReason(pod, services, c, p.containerPort, p.name);
      out.push(reason !== null ? { port: p.containerPort, protocol: 'TCP', app: 'http', reason } : { port: p.containerPort, protocol: 'TCP', app: 'tcp-rr', reason: 'TCP port' });
    }
  }
  for (const u of undeclaredPorts(pod, services)) {
    if (out.some((o) => o.port === u.port && o.protocol === u.protocol)) continue;
    if (u.protocol === 'UDP') out.push({ port: u.port, protocol: 'UDP', app: 'udp-echo', reason: `UDP ${u.why}` });
    else {
      const reason = httpReason(pod, services, u.container, u.port, undefined);
      out.push({ port: u.port, protocol: 'TCP', app: reason !== null ? 'http' : 'tcp-rr', reason: `${reason ?? 'TCP port'}, undeclared (${u.why})` });
    }
  }
  return out;
}

/** Why TCP `port` (named `name`) of container `c` serves HTTP, or null. */
function httpReason(pod: ClusterPod, services: readonly ServiceView[], c: ContainerT, port: number, name: string | undefined): string | null {
  if (isHttpPortName(name)) return `port named ${name}`;
  const svcName = httpServicePort(pod, services, port, name);
  if (svcName !== null) return `Service port ${svcName}`;
  if (httpProbed(pod, port)) return 'httpGet probe';
  if (pod.annotations['prometheus.io/port'] === String(port)) return 'prometheus.io/port';
  if (isWebImage(c.image) && !isOtherProtocolName(name)) return `image ${imageRepo(c.image)}`;
  return null;
}

/** The port number a probe's port names in the pod (a number, or a containerPort name), or null. */
function probePort(pod: ClusterPod, port: number | string): number | null {
  if (typeof port === 'number') return port;
  for (const c of pod.spec.containers) for (const p of c.ports) if (p.name === port) return p.containerPort;
  return null;
}

/** True when an httpGet probe of the pod's containers targets `port` (by number or port name), any scheme. */
function httpProbed(pod: ClusterPod, port: number): boolean {
  for (const c of pod.spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const g = probe?.httpGet;
      if (g && probePort(pod, g.port) === port) return true;
    }
  }
  return false;
}

/** Ports no container declares that something reaches: numeric probe ports (first container probing), then numeric targetPorts of Services selecting the pod. */
function undeclaredPorts(pod: ClusterPod, services: readonly ServiceView[]): { port: number; protocol: 'TCP' | 'UDP'; container: ContainerT; why: string }[] {
  const declared = (port: number, protocol: string) => pod.spec.containers.some((c) => c.ports.some((p) => p.containerPort === port && p.protocol === protocol));
  const out: { port: number; protocol: 'TCP' | 'UDP'; container: ContainerT; why: string }[] = [];
  for (const c of pod.spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
      if (typeof port === 'number' && !declared(port, 'TCP')) out.push({ port, protocol: 'TCP', container: c, why: 'probed' });
    }
  }
  const first = pod.spec.containers[0]!;
  for (const s of services) {
    if (s.namespace !== pod.namespace || s.selector === null || Object.keys(s.selector).length === 0 || !selectorMatches(s.selector, pod.labels)) continue;
    for (const sp of s.ports) {
      if (typeof sp.targetPort !== 'number' || sp.protocol === 'SCTP' || declared(sp.targetPort, sp.protocol)) continue;
      out.push({ port: sp.targetPort, protocol: sp.protocol, container: first, why: `Service ${s.name} targets it` });
    }
  }
  return out;
}

/** True when a probe of the pod's containers is an httpGet with scheme HTTPS on `port` (by number or port name): that port serves HTTPS. */
export function httpsProbed(pod: ClusterPod, port: number): boolean {
  for (const c of pod.spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const g = probe?.httpGet;
      if (g && g.scheme === 'HTTPS' && probePort(pod, g.port) === port) return true;
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
      if (targets && (isHttpPortName(sp.name) || isHttpAppProtocol(sp.appProtocol))) return `${s.name}/${sp.name || sp.port}`;
    }
  }
  return null;
}

/** The app answering on a pod's TCP port that a client reaches, and why that app. */
export interface TcpTarget {
  pod: ClusterPod;
  port: number;
  app: 'http' | 'tcp-rr' | string;
  reason: string;
}

/**
 * What answers a TCP connection to `addr:port` (or to the Service named `serviceName`, port `port`) on
 * each pod it can land on: the pod at `addr`, or the pods a Service selects — its ClusterIP, external or
 * load-balancer addresses, or a node's address at its NodePort — at its targetPort. The app is the pod's
 * podwire.dev/app, else what defaultListeners runs there (http or the generic request/response server,
 * tcp-rr); a port nothing listens on is left out.
 */
export function tcpTargets(pods: readonly ClusterPod[], services: readonly ServiceView[], nodeIps: readonly number[], addr: number | null, port: number, serviceName: string | null): TcpTarget[] {
  const reached: { pod: ClusterPod; port: number | string }[] = [];
  const direct = addr === null ? undefined : pods.find((p) => p.ip === addr && !p.hostNetwork);
  if (direct) reached.push({ pod: direct, port });
  for (const s of services) {
    if (s.selector === null || Object.keys(s.selector).length === 0) continue;
    const named = serviceName !== null && (serviceName === s.name || serviceName === `${s.name}.${s.namespace}` || serviceName.startsWith(`${s.name}.${s.namespace}.svc`));
    const at = named || (addr !== null && (s.clusterIP === addr || s.externalIPs.includes(addr) || s.loadBalancerIPs.includes(addr)));
    for (const sp of s.ports) {
      if (sp.protocol !== 'TCP' || !((at && sp.port === port) || (addr !== null && nodeIps.includes(addr) && sp.nodePort === port))) continue;
      for (const pod of pods) if (pod.namespace === s.namespace && selectorMatches(s.selector, pod.labels)) reached.push({ pod, port: sp.targetPort });
    }
  }
  const out: TcpTarget[] = [];
  for (const r of reached) {
    const p = probePort(r.pod, r.port);
    if (p === null || out.some((o) => o.pod === r.pod && o.port === p)) continue;
    const app = r.pod.annotations['podwire.dev/app'];
    if (app !== undefined) out.push({ pod: r.pod, port: p, app, reason: `podwire.dev/app: ${app}` });
    else {
      const l = defaultListeners(r.pod, services).find((x) => x.port === p && x.protocol === 'TCP');
      if (l) out.push({ pod: r.pod, port: p, app: l.app, reason: l.reason });
    }
  }
  return out;
}
