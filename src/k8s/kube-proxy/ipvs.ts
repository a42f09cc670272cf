// k8s/kube-proxy/ipvs — kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go): service addresses on
// the kube-ipvs0 dummy interface, one IPVS virtual service per ClusterIP / external IP / node
// address + node port with the endpoints as real servers (masquerading forward, weight 1), ip sets
// (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP/UDP, KUBE-LOOP-BACK) and the few iptables rules that use them
// for masquerading. The sets reach the node's netfilter as `ipset restore` text (netfilter/ipset.ts),
// as the rules reach it as iptables-restore text. arp_ignore=1 so nodes do not answer ARP for the
// service addresses. Layer: k8s.
import { DummyDevice } from '../../link/dummy.js';
import { Ipvs, type IpvsProto, type IpvsScheduler } from '../../netfilter/ipvs.js';
import { parseIptablesSave, restoreInto } from '../../netfilter/iptables-save.js';
import type { Ruleset } from '../../netfilter/rules.js';
import type { ClusterNode } from '../cluster.js';
import type { ServiceView } from '../services.js';
import { formatIpv4 } from '../../wire/ipv4-addr.js';

/** The iptables rules kube-proxy writes in IPVS mode. */
export function renderIpvsModeRules(clusterCIDR: string, randomFully: boolean): string {
  return [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-NODE-PORT - [0:0]',
    ':KUBE-LOAD-BALANCER - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    `-A KUBE-SERVICES ! -s ${clusterCIDR} -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`,
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
    '-A KUBE-NODE-PORT -p udp -m comment --comment "Kubernetes nodeport UDP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-UDP dst -j KUBE-MARK-MASQ',
    '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}`,
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    'COMMIT',
    '*filter',
    ':KUBE-FORWARD - [0:0]',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'COMMIT',
  ].join('\n') + '\n';
}

/**
 * The ip sets kube-proxy keeps in IPVS mode as `ipset restore -exist` input (pkg/proxy/ipvs/ipset.go:
 * create, then the set's entries; a flush first, so a resync replaces them). Elements are ipset text.
 */
export function renderIpvsModeSets(clusterIp: Iterable<string>, nodePorts: Record<string, Iterable<number>>, loopBack: Iterable<string>): string {
  const out: string[] = [];
  const set = (name: string, create: string, elems: Iterable<string | number>): void => {
    out.push(`create ${name} ${create}`, `flush ${name}`);
    for (const e of elems) out.push(`add ${name} ${e}`);
  };
  set('KUBE-CLUSTER-IP', 'hash:ip,port family inet hashsize 1024 maxelem 65536', clusterIp);
  for (const proto of ['tcp', 'udp'] as const) set(`KUBE-NODE-PORT-${proto.toUpperCase()}`, 'bitmap:port range 0-65535', nodePorts[proto] ?? []);
  set('KUBE-LOOP-BACK', 'hash:ip,port,ip family inet hashsize 1024 maxelem 65536', loopBack);
  return out.join('\n') + '\n';
}

/** Programs one node for IPVS mode. */
export function programIpvsNode(node: ClusterNode, services: ServiceView[], opts: { clusterCIDR: string; randomFully: boolean; scheduler: IpvsScheduler }, base: Ruleset): void {
  const ns = node.ns;
  const nf = ns.enableNetfilter();
  const ipvs = new Ipvs();
  ns.ipvs = ipvs;
  ns.arpIgnore = 1;
  let dummy = ns.device('kube-ipvs0');
  if (!dummy) {
    dummy = new DummyDevice(ns.sim, 'kube-ipvs0', 0);
    // A real kube-ipvs0 is DOWN, yet its addresses' local routes exist; podwire's FIB skips routes of
    // down devices, so the model keeps it up: nothing is ever sent through it either way.
    ns.addDevice(dummy);
  }
  const nodeAddrs = ns.addrs.filter((a) => a.dev !== ns.lo && a.dev !== dummy && a.prefix < 32).map((a) => a.addr);
  const clusterIpSet = new Set<string>();
  const nodePortSet: Record<string, Set<number>> = { tcp: new Set(), udp: new Set() };
  const loopBack = new Set<string>();
  const onDummy = new Set<number>();
  for (const s of services) {
    if (s.clusterIP === null) continue;
    const vips = [s.clusterIP, ...s.externalIPs, ...s.loadBalancerIPs];
    for (const v of vips) {
      if (!onDummy.has(v)) {
        onDummy.add(v);
        if (!ns.addrs.some((a) => a.addr === v && a.dev === dummy)) ns.addAddress(dummy, v, 32);
      }
    }
    for (const p of s.ports) {
      const proto = p.protocol.toLowerCase() as IpvsProto;
      const ready = p.endpoints.filter((e) => e.ready);
      const all = ready.map((e) => ({ ip: e.ip, port: e.port, weight: 1 }));
      const local = ready.filter((e) => e.nodeName === node.name).map((e) => ({ ip: e.ip, port: e.port, weight: 1 }));
      const internal = s.internalTrafficPolicy === 'Local' ? local : all;
      const external = s.externalTrafficPolicy === 'Local' ? local : all;
      const persistence = s.sessionAffinityTimeout;
      ipvs.setService({ proto, vip: s.clusterIP, port: p.port, scheduler: opts.scheduler, persistence, servers: internal });
      clusterIpSet.add(`${formatIpv4(s.clusterIP)},${proto}:${p.port}`);
      for (const v of [...s.externalIPs, ...s.loadBalancerIPs]) ipvs.setService({ proto, vip: v, port: p.port, scheduler: opts.scheduler, persistence, servers: external });
      if (p.nodePort !== null) {
        for (const a of nodeAddrs) ipvs.setService({ proto, vip: a, port: p.nodePort, scheduler: opts.scheduler, persistence, servers: external });
        nodePortSet[proto]?.add(p.nodePort);
      }
      for (const e of ready) loopBack.add(`${formatIpv4(e.ip)},${proto}:${e.port},${formatIpv4(e.ip)}`);
    }
  }
  nf.ipsets.restore(renderIpvsModeSets(clusterIpSet, nodePortSet, loopBack), { file: `kube-proxy-ipset@${node.name}`, exist: true });
  // Restored --noflush: the chains the input writes start at 0, kubelet's and the CNI's keep their counters.
  const input = parseIptablesSave(renderIpvsModeRules(opts.clusterCIDR, opts.randomFully), `kube-proxy-ipvs@${node.name}`);
  nf.loadNoflush(restoreInto(base, input, true), input);
}
