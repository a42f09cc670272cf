// net/api — what the per-namespace kernel offers to the layers above it (transport, app, k8s), and
// the small interfaces it calls upward through. Layer: net (imports core, wire, packet).
// Implemented by net/namespace.ts (Linux: struct net_protocol, ip_local_out, icmp_send).
import type { Simulator } from '../core/simulator.js';
import type { Packet } from '../packet/packet.js';
import type { Ipv4 } from '../wire/types.js';
import type { Route } from './fib.js';

/**
 * The route one `mtuFor` looked up, handed on to the `ipLocalOut` of the datagram built from that MTU
 * (Linux: udp_sendmsg's ip_route_output result, which ip_make_skb sizes by and ip_local_out sends
 * along): one lookup per datagram. `route` is null when the stack keeps none (a stand-in stack).
 */
export interface RouteHint {
  route: Route | null;
}

/**
 * A transport protocol registered in a namespace (Linux's struct net_protocol): net hands it every
 * locally delivered packet of its IP protocol number, and ICMP errors that quote one of its packets.
 */
export interface L4Receiver {
  /** A packet addressed to this namespace (after INPUT); `pkt.ip` and the L4 header are set. */
  receive(pkt: Packet): void;
  /**
   * An ICMP error (destination unreachable, time exceeded) about a packet this namespace sent:
   * `icmp` is the error packet, `icmp.inner` the quoted original (its ip and L4 header records).
   */
  error(icmp: Packet): void;
  /** A segment or datagram whose checksum failed (netem corrupt): the protocol's MIB counts it (InCsumErrors, InErrors). */
  csumError?(pkt: Packet): void;
}

/** Why ipLocalOut refused a packet: no route (EHOSTUNREACH / ENETUNREACH), or EMSGSIZE (a DF packet above the MTU that may not be fragmented). */
export type SendError = 'no-route' | 'msgsize';

/** The IP layer of one namespace as seen from transport and applications. */
export interface IpStack {
  readonly sim: Simulator;
  /** Namespace name, for stream names and traces (e.g. "node1", "web-0"). */
  readonly name: string;
  /** Registers the handler for an IP protocol number (1 ICMP is the kernel's own, 6 TCP, 17 UDP). */
  registerProtocol(protocol: number, rx: L4Receiver): void;
  /**
   * Sends a locally generated datagram (Linux ip_local_out): `pkt.ip` must be set with `src` (0 means
   * "choose by route"), `dst`, `protocol`, `ttl`, `tos`, `flags`; totalLength and checksum are filled
   * in here, and the IP ID as ip_select_ident picks it: a DF packet keeps the `id` the socket set
   * (its inet_id; -1 or 0 for an unconnected socket → 0), a non-DF packet takes the namespace's
   * ip_idents counter.
   * Returns false when there is no route (the caller reports EHOSTUNREACH / ENETUNREACH) or a TCP
   * segment with DF is above the MTU (EMSGSIZE); `sendError` then says which. A datagram (UDP, ICMP)
   * with DF above the MTU is fragmented without DF, as the kernel does for an IP_PMTUDISC_WANT socket
   * (skb->ignore_df): it was DF because it fitted when built, and OUTPUT DNAT rerouted it.
   * `fib`: the route `mtuFor(pkt.ip.dst, hint)` just put in its hint, in the same synchronous call (no
   * lookup again); null or absent looks the route up.
   */
  ipLocalOut(pkt: Packet, fib?: Route | null): boolean;
  /** Why the last ipLocalOut that returned false refused (errno: set only then); absent in stand-in stacks (no route). */
  readonly sendError?: SendError;
  /** The source address the kernel would pick for `dst` (route's preferred source), or null if unroutable. */
  sourceFor(dst: Ipv4): Ipv4 | null;
  /**
   * The path MTU toward `dst` (the route's device MTU, or a learned PMTU below it), or null if
   * unroutable. With `hint`, the route looked up is left in `hint.route` for the next ipLocalOut.
   */
  mtuFor(dst: Ipv4, hint?: RouteHint): number | null;
  /**
   * ipv4_sk_update_pmtu: an ICMP fragmentation-needed reported next-hop MTU `mtu` toward `dst`; a
   * protocol's error handler calls it for a packet of one of its sockets (a route exception, 10 min).
   */
  updatePmtu(dst: Ipv4, mtu: number): void;
  /** True when `addr` is one of this namespace's own addresses (or loopback). */
  isLocal(addr: Ipv4): boolean;
  /**
   * icmp_send: emits an ICMP error about a received packet, as UDP (__udp4_lib_rcv) does for a
   * datagram to a port nobody listens on. `orig` is the offending packet as received (ip and L4
   * records set); net builds the error (type, code, `info` in the rest-of-header: next-hop MTU for
   * FRAG_NEEDED, else 0), quotes the original, applies icmp_ratelimit, and sends it to `orig.ip.src`.
   */
  icmpSend(orig: Packet, type: number, code: number, info: number): void;
  /**
   * dst_confirm_neigh / neigh_confirm: the peer at `dst` showed forward progress (TCP: an ACK for new
   * data), so the neighbour toward it stays REACHABLE without a unicast probe. Optional for stand-ins.
   */
  confirmNeighbour?(dst: Ipv4): void;
}
