// app/answered-by — which pod answered a connection, kept on the simulator side and never on the wire.
// Layer: app (imports core only). A real client of a Service sees only the ClusterIP; the server knows
// its own pod, and a monitoring sidecar or the server's access log would join the two through the
// client's address and port as the server sees them (after DNAT, before any reply NAT). Servers (tcp-rr,
// udp echo, DNS servers with an identity: CoreDNS pods, DNS hosts) note
// (protocol, peer address, peer port) → their identity when they accept or answer; the client looks up
// its own (protocol, address, port) when the answer arrives. Nothing here changes a packet.
// Not covered: a client whose source the path masquerades (SNAT: NodePort from outside, hairpin): the
// server then sees another address and the client's lookup finds nothing (no endpoint recorded).
import type { Simulator } from '../core/simulator.js';

/** The registry of one simulation. */
export class AnsweredBy {
  private readonly byPeer = new Map<number, string>();

  /** A server named `identity` accepted (TCP) or answered (UDP) the peer `addr:port`. */
  note(proto: number, addr: number, port: number, identity: string): void {
    this.byPeer.set(key(proto, addr, port), identity);
  }

  /** The server that answered the client socket `addr:port`, or null when none noted it. */
  lookup(proto: number, addr: number, port: number): string | null {
    return this.byPeer.get(key(proto, addr, port)) ?? null;
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
