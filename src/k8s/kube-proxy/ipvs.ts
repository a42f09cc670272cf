// k8s/kube-proxy/ipvs — kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go): service addresses on
// the kube-ipvs0 dummy interface, one IPVS virtual service per ClusterIP / external IP / node
// address + node port with the endpoints as real servers (masquerading forward, weight 1), ip sets
// (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP/UDP, KUBE-LOOP-BACK) and the few iptables rules that use them
// for masquerading. arp_ignore=1 so nodes do not answer ARP for the service addresses. Layer: k8s.
import { DummyDevice } from '../../link/dummy.js';
import { Ipvs, type IpvsProto, type IpvsScheduler } from '../../netfilter/ipvs.js';
import { parseIptablesSave, restoreInto } from '../../netfilter/iptables-save.js';
import type { Packet } from '../../packet/packet.js';
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

const protoOf = (p: Packet): string => (p.tcp ? 'tcp' : p.udp ? 'udp' : '');

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
      clusterIpSet.add(`${s.clusterIP}|${proto}|${p.port}`);
      for (const v of [...s.externalIPs, ...s.loadBalancerIPs]) ipvs.setService({ proto, vip: v, port: p.port, scheduler: opts.scheduler, persistence, servers: external });
      if (p.nodePort !== null) {
        for (const a of nodeAddrs) ipvs.setService({ proto, vip: a, port: p.nodePort, scheduler: opts.scheduler, persistence, servers: external });
        nodePortSet[proto]?.add(p.nodePort);
      }
      for (const e of ready) loopBack.add(`${e.ip}|${proto}|${e.port}|${e.ip}`);
    }
  }
  ns.ipsetSave = () => {
    const out: string[] = [];
    out.push('create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536');
    for (const k of clusterIpSet) {
      const [ip, proto, port] = k.split('|') as [string, string, string];
      out.push(`add KUBE-CLUSTER-IP ${formatIpv4(Number(ip))},${proto}:${port}`);
    }
    for (const proto of ['tcp', 'udp'] as const) {
      out.push(`create KUBE-NODE-PORT-${proto.toUpperCase()} bitmap:port range 0-65535`);
      for (const p of nodePortSet[proto]!) out.push(`add KUBE-NODE-PORT-${proto.toUpperCase()} ${p}`);
    }
    out.push('create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536');
    for (const k of loopBack) {
      const [ip, proto, port, src] = k.split('|') as [string, string, string, string];
      out.push(`add KUBE-LOOP-BACK ${formatIpv4(Number(ip))},${proto}:${port},${formatIpv4(Number(src))}`);
    }
    return out.join('\n') + '\n';
  };
  ns.ipsets = new Map([
    ['KUBE-CLUSTER-IP', (_f: readonly string[], pkt: Packet) => clusterIpSet.has(`${pkt.ip!.dst}|${protoOf(pkt)}|${(pkt.tcp ?? pkt.udp)?.dstPort ?? 0}`)],
    ['KUBE-NODE-PORT-TCP', (_f: readonly string[], pkt: Packet) => pkt.tcp !== null && nodePortSet['tcp']!.has(pkt.tcp.dstPort)],
    ['KUBE-NODE-PORT-UDP', (_f: readonly string[], pkt: Packet) => pkt.udp !== null && nodePortSet['udp']!.has(pkt.udp.dstPort)],
    ['KUBE-LOOP-BACK', (_f: readonly string[], pkt: Packet) => loopBack.has(`${pkt.ip!.dst}|${protoOf(pkt)}|${(pkt.tcp ?? pkt.udp)?.dstPort ?? 0}|${pkt.ip!.src}`)],
  ]);
  nf.load(restoreInto(base, parseIptablesSave(renderIpvsModeRules(opts.clusterCIDR, opts.randomFully), `kube-proxy-ipvs@${node.name}`), true));
}
