// k8s/underlay — the network the nodes and external hosts sit on (the seeds' "VLAN"): a `network`
// namespace with one switch br0 and a port swpN per attached NIC, each joined by a Channel with the
// network's rate, delay, queue and netem; and the addresses of that network. Layer: k8s (imports core,
// wire, link, net).
//
//   host/client ──┐
//   node1/eth0 ───┼── network/br0 (swp1..N)
//   node2/eth0 ───┘
import { durationOr0, parseRate } from '../core/time.js';
import type { UserError } from '../core/user-error.js';
import { BridgeDevice } from '../link/bridge.js';
import { Channel } from '../link/channel.js';
import { NicDevice } from '../link/nic.js';
import { netemActive, setNetem } from '../link/netem.js';
import type { Namespace } from '../net/namespace.js';
import { formatIpv4, networkOf, parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { ClusterConfig, ExternalHost } from './cluster.js';
import type { Inventory } from './inventory.js';

/** A segment's link settings (the cluster network's, or the internet's: internet.ts). */
export type SegmentConfig = ClusterConfig['network'];

/** The external network: its switch and its address plan. */
export class Underlay {
  readonly net: { addr: Ipv4; prefix: number };
  readonly netBase: Ipv4;
  /** The `network` namespace. */
  readonly ns: Namespace;
  private readonly sw: BridgeDevice;
  private swPort = 0;
  private readonly usedIps = new Set<number>();

  /**
   * The cluster network (namespace `network`), or another segment built the same way (the internet:
   * internet.ts) named by `segment`.
   */
  constructor(
    private readonly inv: Inventory,
    private readonly cfg: ClusterConfig,
    private readonly errors: UserError[],
    private readonly at: (path: (string | number)[], message: string) => UserError,
    private readonly segment: { ns: string; network: SegmentConfig; label: string } = { ns: 'network', network: cfg.network, label: 'the cluster network' },
  ) {
    this.net = parseCidr(segment.network.cidr)!;
    this.netBase = networkOf(this.net.addr, this.net.prefix);
    this.ns = inv.newNs(segment.ns);
    this.sw = new BridgeDevice(inv.sim, 'br0', inv.mac(segment.ns, 'br0'), segment.network.mtu);
    inv.add(this.ns, this.sw);
  }

  /** Cables `nic` to a new switch port (with the segment's delay, or `delayNs`). */
  attach(nic: NicDevice, delayNs?: number): void {
    const { inv } = this;
    const net = this.segment.network;
    const port = new NicDevice(inv.sim, `swp${++this.swPort}`, inv.mac(this.segment.ns, `swp${this.swPort}`), net.mtu);
    inv.add(this.ns, port);
    this.sw.addPort(port);
    const ch = new Channel(inv.sim, nic, port, { rateBps: parseRate(net.rate)!, delayNs: delayNs ?? durationOr0(net.delay), queueLimit: net.queue });
    const netem = { loss: net.loss, delayNs: durationOr0(net.netemDelay), jitterNs: durationOr0(net.jitter) };
    if (netemActive(netem)) setNetem(ch, netem, inv.sim);
  }

  /** Takes an address of the network: the given one (checked) or `fallback`. */
  takeIp(text: string | undefined, fallback: number, path: (string | number)[]): Ipv4 {
    let ip = text ? parseIpv4(text) : fallback;
    if (ip === null) {
      this.errors.push(this.at(path, `"${text}" is not an IPv4 address`));
      ip = fallback;
    } else if (networkOf(ip, this.net.prefix) !== this.netBase) this.errors.push(this.at(path, `${formatIpv4(ip)} is outside ${this.segment.label} ${this.segment.network.cidr}`));
    if (this.usedIps.has(ip)) this.errors.push(this.at(path, `address ${formatIpv4(ip)} is used twice`));
    this.usedIps.add(ip);
    return ip;
  }

  /**
   * The network's gateway when the scenario has no router of its own: its first address (`.1`), or
   * the first one after it that no machine holds when a user gave `.1` to a node or host; null when
   * every address is held (a /31 or /32). Call it after every machine has its address.
   */
  gatewayAddress(): Ipv4 | null {
    const last = this.netBase + 2 ** (32 - this.net.prefix) - 2;
    for (let ip = this.netBase + 1; ip <= last; ip++) if (!this.usedIps.has(ip >>> 0)) return ip >>> 0;
    return null;
  }

  /** A host with eth0 on this network (a node's machine or an external host). */
  addMachine(name: string, ip: Ipv4, fixedMac?: string): { ns: Namespace; eth0: NicDevice } {
    const ns = this.inv.newNs(name);
    return { ns, eth0: this.addInterface(ns, 'eth0', ip, fixedMac) };
  }

  /** A new NIC `ifname` of `ns` with `ip` on this network, cabled to the switch (a router's second leg). */
  addInterface(ns: Namespace, ifname: string, ip: Ipv4, fixedMac?: string, delayNs?: number): NicDevice {
    const nic = new NicDevice(this.inv.sim, ifname, this.inv.mac(ns.name, ifname, fixedMac), this.segment.network.mtu);
    this.inv.add(ns, nic);
    ns.addAddress(nic, ip, this.net.prefix);
    this.attach(nic, delayNs);
    return nic;
  }

  /** The external hosts, from the 100th address of the network on. */
  addExternalHosts(taken: (name: string) => boolean): ExternalHost[] {
    const hosts: ExternalHost[] = [];
    this.cfg.externalHosts.forEach((h, i) => {
      const path = ['spec', 'cluster', 'externalHosts', i];
      if (taken(h.name) || hosts.some((x) => x.name === h.name)) {
        this.errors.push(this.at([...path, 'name'], `duplicate name "${h.name}"`));
        return;
      }
      const ip = this.takeIp(h.ip, (this.netBase + 100 + i) >>> 0, [...path, 'ip']);
      const { ns } = this.addMachine(h.name, ip, h.mac);
      hosts.push({ name: h.name, ns, ip });
    });
    return hosts;
  }
}
