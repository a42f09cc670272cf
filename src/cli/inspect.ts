// cli/inspect — a namespace's state printed the way iproute2 prints it (`ip addr`, `ip route`,
// `ip neigh`, `bridge fdb`), and the load balancers of a cluster (`--lb`). Layer: cli.
import { formatColumns } from '../core/columns.js';
import type { BridgeDevice } from '../link/bridge.js';
import type { NetDevice } from '../link/device.js';
import { VethDevice } from '../link/veth.js';
import { VxlanDevice } from '../link/vxlan.js';
import type { Namespace } from '../net/namespace.js';
import { formatRoute } from '../net/namespace.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { formatMac } from '../wire/mac.js';
import type { RoutingRow } from '../k8s/ingress/index.js';
import type { GatewayController } from '../k8s/gateway/index.js';

/**
 * The ingress controller's routing table, one row per nginx location, in nginx's server order (exact
 * hosts sorted, one-label wildcards, then the catch-all "_"): HOST, PATH as the location reads
 * ("= /foo" exact, "/foo/" prefix, "~* ^/foo" regex), PATHTYPE, BACKEND, ENDPOINTS, INGRESS.
 */
export function formatIngressRows(rows: readonly RoutingRow[]): string {
  const table = [['HOST', 'PATH', 'PATHTYPE', 'BACKEND', 'ENDPOINTS', 'INGRESS']];
  for (const r of rows) table.push([r.host, r.path, r.pathType, r.backend, r.endpoints.join(',') || '<none>', r.ingress]);
  return formatColumns(table).join('\n') + '\n';
}
/**
 * The Gateway controller's routing table, one row per HTTPRoute match in nginx's order (per listener
 * port: exact hostnames, wildcards, the catch-all; inside a server the spec's precedence), then the
 * status conditions it wrote (GatewayClass, Gateway and its listeners, each HTTPRoute's parents).
 */
export function inspectGateway(gw: GatewayController | null): string | null {
  if (gw === null) return null;
  const table = [['GATEWAY', 'LISTENER', 'PORT', 'HOSTNAME', 'MATCH', 'ACTION', 'BACKENDS', 'ENDPOINTS', 'ROUTE']];
  for (const r of gw.rows()) table.push([r.gateway, r.listener, `${r.port}/${r.protocol}`, r.hostname, r.match, r.action, r.backends, r.endpoints.join(',') || '<none>', r.route]);
  const status = [['OBJECT', 'SCOPE', 'CONDITION', 'STATUS', 'REASON', 'MESSAGE']];
  for (const c of gw.conditions()) status.push([c.object, c.scope, c.type, c.status, c.reason, c.message]);
  return `${formatColumns(table).join('\n')}\n\n${formatColumns(status).join('\n')}\n`;
}
import type { World } from '../scenario/build.js';

/** iproute2's `NAME@PEER`: a veth's peer by name in the same namespace, by its index there (`@ifN`) in another. */
function linkSuffix(ns: Namespace, dev: NetDevice): string {
  if (!(dev instanceof VethDevice)) return '';
  const peer = dev.peer;
  return ns.devices.includes(peer) ? `@${peer.name}` : `@if${peer.nsIfindex}`;
}

/** `ip -br`-free but faithful text of a namespace's links, addresses, routes, neighbours and FDBs. */
export function inspectNamespace(ns: Namespace, nowNs: number): string {
  const out: string[] = [];
  out.push(`# ${ns.name}: ip addr`);
  for (const dev of ns.devices) {
    const flags = [dev.kind === 'loopback' ? 'LOOPBACK' : 'BROADCAST,MULTICAST', dev.up ? 'UP,LOWER_UP' : ''].filter(Boolean).join(',');
    const master = dev.master ? ` master ${(dev.master as unknown as BridgeDevice).name}` : '';
    out.push(`${dev.nsIfindex}: ${dev.name}${linkSuffix(ns, dev)}: <${flags}> mtu ${dev.mtu}${master} state ${dev.up ? (dev.kind === 'loopback' ? 'UNKNOWN' : 'UP') : 'DOWN'}`);
    out.push(`    link/${dev.kind === 'loopback' ? 'loopback' : 'ether'} ${formatMac(dev.mac)} brd ${dev.kind === 'loopback' ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff'}`);
    for (const a of ns.addrs) {
      if (a.dev !== dev) continue;
      const brd = a.broadcast !== 0 ? ` brd ${formatIpv4(a.broadcast)}` : '';
      out.push(`    inet ${formatIpv4(a.addr)}/${a.prefix}${brd} scope ${dev.kind === 'loopback' ? 'host' : 'global'} ${dev.name}`);
    }
  }
  out.push('', `# ${ns.name}: ip route`);
  for (const r of ns.mainTable.all()) out.push(formatRoute(r));
  out.push('', `# ${ns.name}: ip route show table local`);
  for (const r of ns.localTable.all()) out.push(formatRoute(r));
  out.push('', `# ${ns.name}: ip neigh`);
  for (const n of ns.neigh.all()) {
    const ll = n.state === 'FAILED' || n.state === 'INCOMPLETE' ? '' : ` lladdr ${formatMac(n.mac)}`;
    out.push(`${formatIpv4(n.ip)} dev ${n.dev.name}${ll} ${n.state}`);
  }
  out.push('', `# ${ns.name}: sysctl net.ipv4.ip_forward = ${ns.ipForwardEnabled ? 1 : 0}`);
  for (const dev of ns.devices) {
    if (!(dev instanceof VxlanDevice)) continue;
    out.push('', `# ${ns.name}: ip -d link show ${dev.name}`, `    vxlan id ${dev.vni} local ${formatIpv4(dev.local)} dstport ${dev.dstPort} nolearning`);
    out.push('', `# ${ns.name}: bridge fdb show dev ${dev.name}`);
    for (const [mac, dst] of dev.fdb) out.push(`${formatMac(mac)} dst ${formatIpv4(dst)} self permanent`);
  }
  for (const dev of ns.devices) {
    if (dev.kind !== 'bridge') continue;
    const br = dev as BridgeDevice;
    out.push('', `# ${ns.name}: bridge fdb show br ${br.name}`);
    for (const e of br.fdb.values()) {
      const age = e.local ? ' permanent' : ` (seen ${((nowNs - e.updated) / 1e9).toFixed(3)}s ago)`;
      out.push(`${formatMac(e.mac)} dev ${e.port.name} master ${br.name}${e.local ? '' : ''}${age}`);
    }
  }
  return out.join('\n') + '\n';
}

/**
 * `inspect --lb`: each LoadBalancer Service's status (as `kubectl get svc -o jsonpath='{.status}'`
 * would show it), then the provider's load balancers — address, listeners, every target with its
 * health and the last check — or, for MetalLB L2, the node answering ARP for each address.
 */
export function inspectLoadBalancers(world: World): string {
  const cp = world.controlPlane;
  if (!cp) return 'no cluster\n';
  const out: string[] = ['# status.loadBalancer of the LoadBalancer Services'];
  for (const s of cp.api.list('Service')) {
    if (s.spec.type !== 'LoadBalancer') continue;
    const ing = s.status?.loadBalancer?.ingress ?? [];
    out.push(`${s.metadata.namespace}/${s.metadata.name}: ${ing.length ? ing.map((i) => JSON.stringify(i)).join(' ') : '<pending>'}${s.spec.healthCheckNodePort ? ` healthCheckNodePort ${s.spec.healthCheckNodePort}` : ''}`);
  }
  out.push('');
  if (cp.cloud) {
    out.push(`# load balancers at ${(world.sim.now / 1e9).toFixed(3)}s`, cp.cloud.describe().trimEnd());
  } else {
    out.push('# MetalLB layer 2: who answers ARP for each address');
    for (const n of world.cluster?.nodes ?? []) for (const ip of n.ns.arpAnnounce) out.push(`${formatIpv4(ip)} is at ${formatMac(n.eth0.mac)} (${n.name})`);
  }
  return out.join('\n') + '\n';
}
