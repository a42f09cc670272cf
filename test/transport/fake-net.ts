// test/transport/fake-net — a stand-in for net/: IpStacks joined by a store-and-forward path with
// rate, delay, a drop-tail queue and a seeded loss function. Just enough IP for transport tests.
//
//   host A ──hop 0──> [router] ──hop 1──> host B      (each hop: serialization at `rateBps`, then `delayNs`)
//
import type { Simulator } from '../../src/core/simulator.js';
import type { Rng } from '../../src/core/rng.js';
import type { IpStack, L4Receiver } from '../../src/net/api.js';
import { Packet } from '../../src/packet/packet.js';
import { tcpOptionsLength } from '../../src/transport/tcp/options.js';
import { IpProto, type Ipv4 } from '../../src/wire/types.js';

export interface FakeNetOptions {
  delayNs?: number;
  rateBps?: number;
  hops?: number;
  mtu?: number;
  /** Link-layer bytes added to the IP length for serialization (2 = PPP as ns-3 point-to-point). */
  overheadBytes?: number;
  /** Packets a hop may queue (drop-tail). */
  queueLimit?: number;
  /** Called for each packet entering hop `hop`; true drops it. */
  loss?: (pkt: Packet, hop: number) => boolean;
}

export interface SentRecord {
  t: number;
  from: string;
  pkt: Packet;
}

/** Dotted quad → uint32. */
export function ip(s: string): Ipv4 {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** A Bernoulli(p) loss on a named stream, optionally only for packets matching `only`. */
export function bernoulliLoss(rng: Rng, p: number, only?: (pkt: Packet) => boolean): (pkt: Packet) => boolean {
  return (pkt) => (only === undefined || only(pkt)) && rng.next() < p;
}

/** IPv4 + L4 header + payload length, as ip_local_out would set totalLength. */
export function ipLength(pkt: Packet): number {
  let l4 = 0;
  if (pkt.udp) l4 = 8;
  else if (pkt.tcp) l4 = 20 + tcpOptionsLength(pkt.tcp.options);
  else if (pkt.icmp) l4 = 8 + (pkt.inner?.ip ? 28 : 0);
  return 20 + l4 + pkt.payloadLength;
}

class Hop {
  busyUntil = 0;
  queued = 0;
}

export class FakeStack implements IpStack {
  readonly protocols = new Map<number, L4Receiver>();
  private ipId = 0;
  constructor(
    readonly net: FakeNet,
    readonly name: string,
    readonly addr: Ipv4,
  ) {}
  get sim(): Simulator {
    return this.net.sim;
  }
  registerProtocol(protocol: number, rx: L4Receiver): void {
    this.protocols.set(protocol, rx);
  }
  ipLocalOut(pkt: Packet): boolean {
    const h = pkt.ip!;
    if (!this.net.routable(h.dst)) return false;
    if (h.src === 0) h.src = this.addr;
    h.id = this.ipId++ & 0xffff;
    h.totalLength = ipLength(pkt);
    this.net.transmit(this, pkt);
    return true;
  }
  sourceFor(dst: Ipv4): Ipv4 | null {
    return this.net.routable(dst) ? this.addr : null;
  }
  mtuFor(dst: Ipv4): number | null {
    return this.net.routable(dst) ? this.net.mtu : null;
  }
  /** Path MTU updates are not modelled by the fake network. */
  updatePmtu(_dst: Ipv4, _mtu: number): void {}
  isLocal(a: Ipv4): boolean {
    return a === this.addr;
  }
  icmpSend(orig: Packet, type: number, code: number, info: number): void {
    const p = new Packet();
    p.ip = { tos: 0xc0, totalLength: 0, id: 0, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.ICMP, checksum: null, src: this.addr, dst: orig.ip!.src, options: null };
    p.icmp = { type, code, checksum: null, rest: info };
    p.inner = orig.clone();
    this.net.icmpSent++;
    this.ipLocalOut(p);
  }
  /** ip_local_deliver: hand to the L4 protocol, or an ICMP error to the protocol of the quoted packet. */
  deliver(pkt: Packet): void {
    const h = pkt.ip!;
    if (h.protocol === IpProto.ICMP) {
      const inner = pkt.inner;
      if (inner?.ip) this.protocols.get(inner.ip.protocol)?.error(pkt);
      return;
    }
    const rx = this.protocols.get(h.protocol);
    if (rx) rx.receive(pkt);
    else this.net.unhandled++;
  }
}

/** The network: every stack reaches every other through the same path shape (one Hop chain per direction). */
export class FakeNet {
  readonly hosts = new Map<Ipv4, FakeStack>();
  readonly delayNs: number;
  readonly rateBps: number;
  readonly hops: number;
  readonly mtu: number;
  readonly overhead: number;
  readonly queueLimit: number;
  loss: ((pkt: Packet, hop: number) => boolean) | null;
  /** Addresses that route but lead nowhere (packets vanish): for SYN timeouts. */
  readonly blackholes = new Set<Ipv4>();
  readonly log: SentRecord[] = [];
  /** When each logged packet reached its destination host (while `logging`). */
  readonly arrivals = new Map<Packet, number>();
  logging = true;
  dropped = 0;
  queueDrops = 0;
  icmpSent = 0;
  unhandled = 0;
  private readonly links = new Map<string, Hop[]>();

  constructor(
    readonly sim: Simulator,
    o: FakeNetOptions = {},
  ) {
    this.delayNs = o.delayNs ?? 50_000;
    this.rateBps = o.rateBps ?? 1e9;
    this.hops = o.hops ?? 1;
    this.mtu = o.mtu ?? 1500;
    this.overhead = o.overheadBytes ?? 38;
    this.queueLimit = o.queueLimit ?? 10_000;
    this.loss = o.loss ?? null;
  }
  addHost(name: string, addr: string): FakeStack {
    const s = new FakeStack(this, name, ip(addr));
    this.hosts.set(s.addr, s);
    return s;
  }
  /** When `pkt`, sent at `t` onto idle hops, reaches the far host: per hop serialization + delay (see `arrivals` for queued packets). */
  arrival(t: number, pkt: Packet): number {
    const tx = Math.round(((pkt.ip!.totalLength + this.overhead) * 8 * 1e9) / this.rateBps);
    return t + this.hops * (tx + this.delayNs);
  }
  routable(dst: Ipv4): boolean {
    return this.hosts.has(dst) || this.blackholes.has(dst);
  }
  transmit(from: FakeStack, pkt: Packet): void {
    if (this.logging) this.log.push({ t: this.sim.now, from: from.name, pkt });
    const dst = pkt.ip!.dst;
    let chain = this.links.get(`${from.addr}>${dst}`);
    if (!chain) {
      chain = [];
      for (let i = 0; i < this.hops; i++) chain.push(new Hop());
      this.links.set(`${from.addr}>${dst}`, chain);
    }
    this.enterHop(chain, 0, pkt);
  }
  private enterHop(chain: Hop[], i: number, pkt: Packet): void {
    if (i === chain.length) {
      const h = this.hosts.get(pkt.ip!.dst);
      if (this.logging) this.arrivals.set(pkt, this.sim.now);
      if (h) h.deliver(pkt);
      return;
    }
    if (this.loss?.(pkt, i)) {
      this.dropped++;
      return;
    }
    const hop = chain[i]!;
    if (hop.queued >= this.queueLimit) {
      this.queueDrops++;
      return;
    }
    const now = this.sim.now;
    const tx = Math.round(((pkt.ip!.totalLength + this.overhead) * 8 * 1e9) / this.rateBps);
    const start = Math.max(now, hop.busyUntil);
    hop.busyUntil = start + tx;
    hop.queued++;
    this.sim.scheduleAt(hop.busyUntil, () => {
      hop.queued--;
      this.sim.schedule(this.delayNs, () => this.enterHop(chain, i + 1, pkt));
    });
  }
}
