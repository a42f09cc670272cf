// test/net/harness — builds small topologies in code with the real classes (Simulator, Namespace,
// VethDevice, BridgeDevice, NicDevice + Channel) and records what each interface sees as one
// tcpdump-like line per frame, so a failing expectation shows the traffic that actually happened.
import { Simulator } from '../../src/core/simulator.js';
import { BridgeDevice } from '../../src/link/bridge.js';
import { Channel, type ChannelConfig } from '../../src/link/channel.js';
import { NicDevice } from '../../src/link/nic.js';
import type { NetDevice } from '../../src/link/device.js';
import { VethDevice } from '../../src/link/veth.js';
import { Namespace } from '../../src/net/namespace.js';
import { ipTotalLength, udpLength } from '../../src/packet/length.js';
import { Packet } from '../../src/packet/packet.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatMac } from '../../src/wire/mac.js';
import { ArpOp, IpProto, type Ipv4 } from '../../src/wire/types.js';

/** Dotted quad → uint32 (throws on a typo, so a test cannot silently use 0). */
export function ip(text: string): Ipv4 {
  const v = parseIpv4(text);
  if (v === null) throw new Error(`bad IPv4 literal ${text}`);
  return v;
}

const ICMP_NAMES: Record<string, string> = {
  '0/0': 'echo reply',
  '8/0': 'echo request',
  '3/0': 'net unreachable',
  '3/1': 'host unreachable',
  '3/2': 'protocol unreachable',
  '3/3': 'port unreachable',
  '3/4': 'frag needed',
  '11/0': 'time exceeded',
};

/** One line per packet, tcpdump style: "ARP who-has 10.0.0.2 tell 10.0.0.1", "10.0.0.1 > 10.0.0.2 UDP 40000 > 9 ttl 64". */
export function describePacket(p: Packet, withMacs = false): string {
  const l2 = withMacs && p.eth ? `${formatMac(p.eth.src)} > ${formatMac(p.eth.dst)} ` : '';
  if (p.arp) {
    const a = p.arp;
    return a.op === ArpOp.REQUEST
      ? `${l2}ARP who-has ${formatIpv4(a.tpa)} tell ${formatIpv4(a.spa)}`
      : `${l2}ARP ${formatIpv4(a.spa)} is-at ${formatMac(a.sha)}`;
  }
  const h = p.ip;
  if (!h) return `${l2}non-IP`;
  let l4 = `proto ${h.protocol}`;
  if (p.udp) l4 = `UDP ${p.udp.srcPort} > ${p.udp.dstPort}`;
  else if (p.icmp) {
    const name = ICMP_NAMES[`${p.icmp.type}/${p.icmp.code}`] ?? `type ${p.icmp.type} code ${p.icmp.code}`;
    l4 = `ICMP ${name}`;
    if (p.inner?.ip) l4 += ` [${describePacket(p.inner)}]`;
  }
  return `${l2}${formatIpv4(h.src)} > ${formatIpv4(h.dst)} ${l4} ttl ${h.ttl}`;
}

/** A capture log entry. */
export interface Seen {
  t: number;
  dev: string;
  dir: 'in' | 'out';
  line: string;
  pkt: Packet;
}

/** A lab: one simulator and the namespaces and devices of a topology. */
export class Lab {
  readonly sim: Simulator;
  private macSeq = 1;
  readonly log: Seen[] = [];

  constructor(seed = 1) {
    this.sim = new Simulator(seed);
  }

  /** A namespace ("host"), with ip_forward set as given. */
  host(name: string, forwarding = false): Namespace {
    const ns = new Namespace(this.sim, name);
    ns.ipForwardEnabled = forwarding;
    return ns;
  }

  private nextMac(): number {
    return 0x020000000000 + this.macSeq++;
  }

  /** `ip link add ifA type veth peer name ifB`, each end moved into its namespace, addressed when a CIDR is given. */
  veth(a: Namespace, ifA: string, cidrA: string | null, b: Namespace, ifB: string, cidrB: string | null, delayNs = 0): [VethDevice, VethDevice] {
    const [da, db] = VethDevice.pair(this.sim, ifA, this.nextMac(), ifB, this.nextMac());
    da.delayNs = db.delayNs = delayNs;
    a.addDevice(da);
    b.addDevice(db);
    if (cidrA) addCidr(a, da, cidrA);
    if (cidrB) addCidr(b, db, cidrB);
    return [da, db];
  }

  /** A bridge in `ns` with the given (already placed) ports. */
  bridge(ns: Namespace, name: string, cidr: string | null, ports: NetDevice[]): BridgeDevice {
    const br = new BridgeDevice(this.sim, name, this.nextMac());
    ns.addDevice(br);
    for (const p of ports) br.addPort(p);
    if (cidr) addCidr(ns, br, cidr);
    return br;
  }

  /** Two NICs joined by a Channel. */
  wire(a: Namespace, ifA: string, cidrA: string, b: Namespace, ifB: string, cidrB: string, cfg: ChannelConfig): [NicDevice, NicDevice] {
    const na = new NicDevice(this.sim, ifA, this.nextMac());
    const nb = new NicDevice(this.sim, ifB, this.nextMac());
    a.addDevice(na);
    b.addDevice(nb);
    new Channel(this.sim, na, nb, cfg);
    addCidr(a, na, cidrA);
    addCidr(b, nb, cidrB);
    return [na, nb];
  }

  /** Records every frame on these devices (both directions) into `log`. */
  capture(...devs: NetDevice[]): void {
    for (const d of devs) d.tap.connect((dev, pkt, dir) => this.log.push({ t: this.sim.now, dev: dev.qualifiedName, dir, line: describePacket(pkt), pkt }));
  }

  /** Lines seen on one device in one direction (`dev` is the qualified name, e.g. "a/eth0"). */
  seen(dev: string, dir: 'in' | 'out'): string[] {
    return this.log.filter((s) => s.dev === dev && s.dir === dir).map((s) => s.line);
  }

  /** Lines with their times in µs, for timing assertions. */
  timed(dev: string, dir: 'in' | 'out'): string[] {
    return this.log.filter((s) => s.dev === dev && s.dir === dir).map((s) => `${s.t / 1000}us ${s.line}`);
  }
}

/** `ip addr add CIDR dev DEV`. */
export function addCidr(ns: Namespace, dev: NetDevice, cidr: string): void {
  const [a, p] = cidr.split('/') as [string, string];
  ns.addAddress(dev, ip(a), Number(p));
}

/** A UDP datagram as ipLocalOut expects it (src 0 = chosen by route). */
export function udpDatagram(dst: string, dstPort = 9, opts: { ttl?: number; tos?: number; src?: string; srcPort?: number; size?: number; flags?: number } = {}): Packet {
  const p = new Packet();
  p.ip = { tos: opts.tos ?? 0, totalLength: 0, id: 0, flags: opts.flags ?? 0, fragOffset: 0, ttl: opts.ttl ?? 64, protocol: IpProto.UDP, checksum: null, src: opts.src ? ip(opts.src) : 0, dst: ip(dst), options: null };
  p.udp = { srcPort: opts.srcPort ?? 40000, dstPort, length: 0, checksum: null };
  p.payloadLength = opts.size ?? 32;
  p.udp.length = udpLength(p);
  p.ip.totalLength = ipTotalLength(p);
  return p;
}

/** Counts packets handed to the UDP protocol of a namespace, without a socket layer. */
export function udpSink(ns: Namespace): Packet[] {
  const got: Packet[] = [];
  ns.registerProtocol(IpProto.UDP, { receive: (p) => got.push(p), error: () => {} });
  return got;
}
