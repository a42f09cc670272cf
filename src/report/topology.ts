// report/topology — the topology of a built world as plain data (topology.json) and the path a flow
// takes through it. Layer: report (imports scenario's World type, k8s views and wire address text).
import type { World } from '../scenario/build.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import type { TopoHost, Topology } from './model.js';

/** The topology of a built world: cluster nodes with their pods, other hosts, services, flows. */
export function topologyOf(world: World): Topology {
  const hosts: TopoHost[] = [];
  const cluster = world.cluster;
  const inCluster = new Set<string>();
  if (cluster) {
    for (const n of cluster.nodes) {
      inCluster.add(n.name);
      const pods = n.pods.map((p) => ({ name: p.name, ip: formatIpv4(p.ip), hostNetwork: p.hostNetwork }));
      for (const p of n.pods) inCluster.add(p.name);
      hosts.push({ name: n.name, kind: 'node', ip: formatIpv4(n.ip), pods });
    }
    // A pod deleted from the API server left its node's list; its namespace is no host of its own.
    for (const p of cluster.pods) inCluster.add(p.namespace === 'default' ? p.name : `${p.name}.${p.namespace}`);
    for (const h of cluster.hosts) {
      inCluster.add(h.name);
      hosts.push({ name: h.name, kind: 'external', ip: formatIpv4(h.ip), pods: [] });
    }
    inCluster.add(cluster.network.name);
    if (cluster.outside?.segment) inCluster.add(cluster.outside.segment.name);
  }
  for (const ns of world.namespaces.values()) {
    if (inCluster.has(ns.name)) continue;
    const addr = ns.addrs.find((a) => a.dev.kind !== 'loopback');
    hosts.push({ name: ns.name, kind: 'host', ip: addr !== undefined ? formatIpv4(addr.addr) : '', pods: [] });
  }
  const services = world.services.map((s) => ({
    name: s.name,
    namespace: s.namespace,
    type: s.type,
    clusterIP: s.clusterIP !== null ? formatIpv4(s.clusterIP) : null,
    ports: s.ports.map((p) => `${p.port}/${p.protocol}`),
    endpoints: [...new Set(s.ports.flatMap((p) => p.endpoints.map((e) => e.pod?.name ?? formatIpv4(e.ip))))].sort(),
  }));
  const flows = world.flows.map((f) => ({ name: f.name, type: f.type, from: f.from, to: f.to }));
  return { schema: 'podwire-topology/1', cni: cluster ? cluster.config.cni : null, hosts, services, flows };
}

/** A flow's path: the host boxes it leaves from and lands on, and the service it crosses, by name. */
export interface FlowPath {
  from: string[];
  via: string | null;
  to: string[];
}

/** Strips `pod/`, `host/`, `node/`, `svc/` and a `:port` / URL around a traffic endpoint. */
function bare(ref: string): { kind: string; name: string } {
  const url = /^https?:\/\/([^/:]+)/.exec(ref);
  const text = url ? url[1]! : ref;
  const m = /^(pod|host|node|svc|service|deployment)\/([^:]+)/.exec(text);
  const name = (m ? m[2]! : text).replace(/:\d+$/, '');
  return { kind: m ? m[1]! : '', name };
}

/** The endpoints a reference names: a service's pods, a deployment's pods, or the thing itself. */
function resolveRef(topo: Topology, ref: string): { names: string[]; service: string | null } {
  const { kind, name } = bare(ref);
  const svcName = name.split('.')[0]!;
  const svc = topo.services.find((s) => s.name === svcName || s.clusterIP === name);
  if (svc && (kind === 'svc' || kind === 'service' || kind === '' || kind === 'http')) return { names: svc.endpoints, service: svc.name };
  if (kind === 'deployment') {
    const pods = topo.hosts.flatMap((h) => h.pods.map((p) => p.name)).filter((p) => p.startsWith(`${name}-`));
    return { names: pods, service: null };
  }
  const byIp = topo.hosts.flatMap((h) => [{ name: h.name, ip: h.ip }, ...h.pods]).find((x) => x.ip === name);
  return { names: [byIp ? byIp.name : name], service: null };
}

/** The path of the flow called `name`, or null when there is no such flow. */
export function flowPath(topo: Topology, name: string): FlowPath | null {
  const f = topo.flows.find((x) => x.name === name);
  if (!f) return null;
  const from = resolveRef(topo, f.from).names;
  const to = resolveRef(topo, f.to);
  return { from, via: to.service, to: to.names };
}
