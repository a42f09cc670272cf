// app/answered-by — which pod answered a connection, kept on the simulator side and never on the wire.
// Layer: app (imports core only). A real client of a Service sees only the ClusterIP; the server knows
// its own pod, and a monitoring sidecar or the server's access log would join the two through the
// client's address and port as the server sees them (after DNAT, before any reply NAT). Servers (tcp-rr,
// udp echo, DNS servers with an identity: CoreDNS pods, DNS hosts) note
// (protocol, peer address, peer port) → their identity when they accept or answer; the client looks up
// its own (protocol, address, port) when the answer arrives. Nothing here changes a packet.
// A path that masquerades the client (SNAT: a NodePort or LoadBalancer Service reached from outside with
// externalTrafficPolicy Cluster, hairpin) shows the server another address and port, so two keys NAT leaves
// alone back it up, as a flow log joins the two sides: a TCP connection's client ISN (NAT rewrites
// addresses and ports, never sequence numbers) and a UDP datagram's own bytes, which the echo server sends
// back (the same array object in the simulator: a weak key). Not covered: a proxy that opens its own
// connection (a Classic ELB): the server answers the proxy, not the client.
import type { Simulator } from '../core/simulator.js';

/** IP protocol numbers (wire/types IpProto, which this layer's registry does not import). */
const TCP = 6;
const UDP = 17;

/** The registry of one simulation. */
export class AnsweredBy {
  private readonly byPeer = new Map<number, string>();
  /** TCP: the client's initial sequence number → the server that accepted its connection. */
  private readonly byIsn = new Map<number, string>();
  /** UDP: a datagram's payload → the server that echoed it. */
  private readonly byDatagram = new WeakMap<Uint8Array, string>();

  /** A server named `identity` accepted (TCP) or answered (UDP) the peer `addr:port`. */
  note(proto: number, addr: number, port: number, identity: string): void {
    this.byPeer.set(key(proto, addr, port), identity);
  }

  /** The server that answered the client socket `addr:port`, or null when none noted it. */
  lookup(proto: number, addr: number, port: number): string | null {
    return this.byPeer.get(key(proto, addr, port)) ?? null;
  }

  /** A TCP server named `identity` accepted the peer `addr:port` whose initial sequence number is `isn`. */
  noteTcp(addr: number, port: number, isn: number, identity: string): void {
    this.note(TCP, addr, port, identity);
    this.byIsn.set(isn >>> 0, identity);
  }

  /** The server that accepted the client socket `addr:port` of initial sequence number `iss`, by its address, else by `iss` (a masqueraded path). */
  lookupTcp(addr: number, port: number, iss: number): string | null {
    return this.lookup(TCP, addr, port) ?? this.byIsn.get(iss >>> 0) ?? null;
  }

  /** Forgets a TCP peer (its connection ended). */
  forgetTcp(addr: number, port: number, isn: number, identity: string): void {
    this.forget(TCP, addr, port, identity);
    if (this.byIsn.get(isn >>> 0) === identity) this.byIsn.delete(isn >>> 0);
  }

  /** A UDP server named `identity` answered the peer `addr:port` with the datagram `data` (echoed back). */
  noteDatagram(addr: number, port: number, data: Uint8Array | null, identity: string): void {
    this.note(UDP, addr, port, identity);
    if (data !== null) this.byDatagram.set(data, identity);
  }

  /** The server that answered the client socket `addr:port` with the echo `data`: by its address, else by the datagram (a masqueraded path). */
  lookupDatagram(addr: number, port: number, data: Uint8Array): string | null {
    return this.lookup(UDP, addr, port) ?? this.byDatagram.get(data) ?? null;
  }

  /** Forgets a peer (its connection ended). */
  forget(proto: number, addr: number, port: number, identity: string): void {
    const k = key(proto, addr, port);
    if (this.byPeer.get(k) === identity) this.byPeer.delete(k);
  }
}

/** proto (TCP 6, UDP 17: 5 bits) · address (32 bits) · port (16 bits): 53 bits, exact in a double. */
function key(proto: number, addr: number, port: number): number {
  return ((proto & 31) * 2 ** 48) + (addr >>> 0) * 65536 + (port & 0xffff);
}

const registries = new WeakMap<Simulator, AnsweredBy>();

/** The registry of `sim` (created on first use). */
export function answeredBy(sim: Simulator): AnsweredBy {
  let r = registries.get(sim);
  if (r === undefined) registries.set(sim, (r = new AnsweredBy()));
  return r;
}
