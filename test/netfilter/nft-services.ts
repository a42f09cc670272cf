// The services of kube-proxy's TestOverallNFTablesRules (pkg/proxy/nftables/proxier_test.go) as
// podwire's kube-proxy sees them, and the node configuration of its fake proxier: shared by the nft
// unit tests and the kernel comparison.
import { RngFactory } from '../../src/core/rng.js';
import { renderNftablesSync, type NftConfig } from '../../src/k8s/kube-proxy/nftables.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { Packet } from '../../src/packet/packet.js';
import { ipv4Header } from '../../src/wire/ipv4.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { IpProto, TcpFlag } from '../../src/wire/types.js';
import type { KpEndpoint, KpServicePort } from '../../src/k8s/kube-proxy/iptables.js';

export const NODE_IP = '192.168.0.2';
export const CFG: NftConfig = { clusterCIDR: '10.0.0.0/8', serviceCIDR: '172.30.0.0/16', masqueradeAll: false, randomFully: true, localhostNodePorts: false, nodeIP: NODE_IP };

export const ep = (ip: string, isLocal = false): KpEndpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, isLocal });
export function svc(ns: string, name: string, clusterIP: string, o: Partial<KpServicePort> = {}): KpServicePort {
  return { namespace: ns, name, portName: 'p80', protocol: 'TCP', clusterIP, port: 80, nodePort: 0, externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], sessionAffinitySeconds: null, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0, endpoints: [], ...o };
}

/** The services of TestOverallNFTablesRules. */
export const SERVICES: KpServicePort[] = [
  svc('ns1', 'svc1', '172.30.0.41', { endpoints: [ep('10.180.0.1')] }),
  svc('ns2', 'svc2', '172.30.0.42', { nodePort: 3001, loadBalancerIPs: ['1.2.3.4'], externalIPs: ['192.168.99.22'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, endpoints: [ep('10.180.0.2')] }),
  svc('ns3', 'svc3', '172.30.0.43', { nodePort: 3003, endpoints: [ep('10.180.0.3')] }),
  svc('ns4', 'svc4', '172.30.0.44', { externalIPs: ['192.168.99.33'], endpoints: [ep('10.180.0.4'), ep('10.180.0.5', true)] }),
  svc('ns5', 'svc5', '172.30.0.45', { nodePort: 3002, loadBalancerIPs: ['5.6.7.8'], loadBalancerSourceRanges: [' 203.0.113.0/25'], sessionAffinitySeconds: 10800, healthCheckNodePort: 30000, endpoints: [ep('10.180.0.3')] }),
  svc('ns6', 'svc6', '172.30.0.46'),
];


/** A node namespace stand-in: kube-proxy's state loaded, packets pushed through the hooks as the kernel would. */
export function node() {
  const rng = new RngFactory(7);
  const local = new Set([NODE_IP, '192.168.1.2', '192.168.99.11', '127.0.0.1'].map((s) => parseIpv4(s)!));
  const nf = new Netfilter({ now: () => 0, isLocalAddress: (ip) => local.has(ip), masqueradeAddress: () => parseIpv4(NODE_IP), routeMtu: () => 1500, rng: (n) => rng.stream(n) });
  nf.nft.apply(renderNftablesSync(SERVICES, CFG, null, new Map(), 0), 'kube-proxy');
  return nf;
}

let sport = 40000;
function syn(src: string, dst: string, dport: number): Packet {
  const p = new Packet();
  p.ip = ipv4Header(IpProto.TCP, parseIpv4(src)!, parseIpv4(dst)!);
  p.tcp = { srcPort: sport++, dstPort: dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
  return p;
}

/** Where a new connection from `src` to dst:port goes through the node: "ip:port" after DNAT (masq?), DROP or REJECT. */
export function flow(nf: Netfilter, src: string, dst: string, dport: number): string {
  const p = syn(src, dst, dport);
  const fromPod = src.startsWith('10.');
  const v1 = nf.hook(NfHook.PREROUTING, p, fromPod ? 'cni0' : 'eth0', null);
  if (v1.kind !== 'accept') return v1.kind.toUpperCase();
  const toLocal = [NODE_IP].includes(formatIpv4(p.ip!.dst));
  const v2 = toLocal ? nf.hook(NfHook.INPUT, p, 'eth0', null) : nf.hook(NfHook.FORWARD, p, 'eth0', 'eth1');
  if (v2.kind !== 'accept') return v2.kind.toUpperCase();
  if (toLocal) return 'LOCAL';
  const v3 = nf.hook(NfHook.POSTROUTING, p, null, 'eth1');
  if (v3.kind !== 'accept') return v3.kind.toUpperCase();
  const masq = formatIpv4(p.ip!.src) !== src;
  return `${formatIpv4(p.ip!.dst)}:${p.tcp!.dstPort}${masq ? ' masq' : ''}`;
}

