// k8s/portmap — the CNI portmap plugin (containernetworking/plugins plugins/meta/portmap/portmap.go,
// chain.go, utils.go; chain names from pkg/utils/iptables.go), chained after flannel → bridge in
// kube-flannel's CNI config (network "cbr0", capabilities portMappings, snat on, markMasqBit 13): for
// every pod that declares a hostPort, the kubelet passes its port mappings and portmap adds nat rules
// on the pod's node — PREROUTING and OUTPUT `-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT`, one
// multiport jump per protocol into the pod's CNI-DN-<hash> chain, and there per mapping the hairpin
// and localhost mark rules (→ CNI-HOSTPORT-SETMARK, 0x2000) and the DNAT to podIP:containerPort;
// POSTROUTING → CNI-HOSTPORT-MASQ masquerades what carries the mark. Rendered as iptables-save prints
// the result, loaded with the node's other CNI rules (kube-proxy's restore keeps them). Layer: k8s.
// The container id is podwire's own stable stand-in for the sandbox id: sha256(namespace/name) in hex.
// Not modelled: the POSTROUTING jump is prepended by the plugin; here it follows kube-proxy's and
// flanneld's jumps (they RETURN or masquerade other traffic, so marked packets still reach it);
// route_localnet on cni0 (a 127.0.0.1 hairpin); DEL (a deleted pod's chain stays); conntrack flush of
// UDP host ports; hostIP other than IPv4; ConditionsV4, MasqAll, an external SETMARK chain.
import { createHash } from 'node:crypto';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import type { ClusterNode, ClusterPod } from './cluster.js';

/** kube-flannel's CNI network name (its cni-conf.json). */
export const FLANNEL_NETWORK_NAME = 'cbr0';
/** portmap's default markMasqBit (13). */
const MARK = '0x2000/0x2000';

/** One runtimeConfig.portMappings entry as the kubelet passes it (protocol lower case). */
export interface PortMapEntry {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP: string;
}

/** pkg/utils MustFormatChainNameWithPrefix: "CNI-" + prefix + sha512(name + id) in hex, cut to 28 characters. */
export function formatChainName(prefix: string, name: string, id: string): string {
  return `CNI-${prefix}${createHash('sha512').update(name + id).digest('hex')}`.slice(0, 28);
}

/** podwire's stable container (sandbox) id for a pod: sha256 of "namespace/name", 64 hex characters. */
export function containerIdOf(pod: { namespace: string; name: string }): string {
  return createHash('sha256').update(`${pod.namespace}/${pod.name}`).digest('hex');
}

/** The port mappings the kubelet hands portmap for this pod (none for a hostNetwork pod). */
export function portMappingsOf(pod: ClusterPod): PortMapEntry[] {
  if (pod.hostNetwork) return [];
  const out: PortMapEntry[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports) {
      if (p.hostPort === undefined) continue;
      const hostIP = (p as { hostIP?: unknown }).hostIP;
      out.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol.toLowerCase(), hostIP: typeof hostIP === 'string' ? hostIP : '' });
    }
  }
  return out;
}

/** trimComment: iptables comments are at most 255 characters. */
function trimComment(s: string): string {
  return s.length <= 255 ? s : `${s.slice(0, 253)}...`;
}

/** An iptables-save quoted argument. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** groupByProto + splitPortList: host ports per protocol in entry order, at most 15 per multiport rule. */
function portLists(entries: PortMapEntry[]): [string, string][] {
  const byProto = new Map<string, number[]>();
  for (const e of entries) byProto.set(e.protocol, [...(byProto.get(e.protocol) ?? []), e.hostPort]);
  const out: [string, string][] = [];
  for (const proto of [...byProto.keys()].sort()) {
    const ports = byProto.get(proto)!;
    for (let i = 0; i < ports.length; i += 15) out.push([proto, ports.slice(i, i + 15).join(',')]);
  }
  return out;
}

/**
 * One container's chain and its jumps from CNI-HOSTPORT-DNAT (fillDnatRules), as iptables-save lines.
 * `podCidr` is the hairpin source: the plugin writes the IPAM result's address with its prefix
 * (host-local: 10.244.1.3/24), which iptables stores and prints as the network (10.244.1.0/24).
 */
export function renderDnatChain(netName: string, containerId: string, podIP: string, podCidr: string, entries: PortMapEntry[]): { chain: string; entry: string[]; rules: string[] } {
  const chain = formatChainName('DN-', netName, containerId);
  const comment = quote(trimComment(`dnat name: "${netName}" id: "${containerId}"`));
  const entry = portLists(entries).map(([proto, ports]) => `-A CNI-HOSTPORT-DNAT -p ${proto} -m comment --comment ${comment} -m multiport --dports ${ports} -j ${chain}`);
  const rules: string[] = [];
  for (const e of entries) {
    // An IPv6 hostIP does not apply to an IPv4 pod; 0.0.0.0 adds no destination.
    if (e.hostIP.includes(':')) continue;
    const dst = e.hostIP !== '' && e.hostIP !== '0.0.0.0' ? ` -d ${e.hostIP}/32` : '';
    const match = `-p ${e.protocol} -m ${e.protocol} --dport ${e.hostPort}`;
    rules.push(`-A ${chain} -s ${podCidr}${dst} ${match} -j CNI-HOSTPORT-SETMARK`);
    rules.push(`-A ${chain} -s 127.0.0.1/32${dst} ${match} -j CNI-HOSTPORT-SETMARK`);
    rules.push(`-A ${chain}${dst} ${match} -j DNAT --to-destination ${podIP}:${e.containerPort}`);
  }
  return { chain, entry, rules };
}

/** The pods of `node` with host ports, in the order their sandboxes (and CNI ADDs) ran. */
export function portmapPodsOn(node: ClusterNode, pods: ClusterPod[]): ClusterPod[] {
  return pods.filter((p) => p.node === node && portMappingsOf(p).length > 0);
}

/** The nat table portmap leaves on a node with these pods, as iptables-save text; null when no pod maps a port. */
export function renderPortmapRules(pods: ClusterPod[], netName = FLANNEL_NETWORK_NAME): string | null {
  const chains = pods
    .map((p) => renderDnatChain(netName, containerIdOf(p), formatIpv4(p.ip), `${formatIpv4(p.node.podNet)}/${p.node.podPrefix}`, portMappingsOf(p)))
    .filter((c) => c.entry.length > 0);
  if (chains.length === 0) return null;
  const userChains = [...chains.map((c) => c.chain), 'CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK'].sort();
  return [
    '*nat',
    ...['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((c) => `:${c} ACCEPT [0:0]`),
    ...userChains.map((c) => `:${c} - [0:0]`),
    '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
    ...[...chains].sort((a, b) => (a.chain < b.chain ? -1 : 1)).flatMap((c) => c.rules),
    ...chains.flatMap((c) => c.entry),
    `-A CNI-HOSTPORT-MASQ -m mark --mark ${MARK} -j MASQUERADE`,
    `-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark ${MARK}`,
    'COMMIT',
  ].join('\n') + '\n';
}
