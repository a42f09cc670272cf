// transport/api — what the transport layer needs from net beyond net/api's IpStack, and the error
// kinds it reports upward. Layer: transport (imports core, wire, packet, net).
// Mirrors Linux's icmp_send() (net/ipv4/icmp.c), which UDP (__udp4_lib_rcv) calls for a datagram to a
// port nobody listens on; the net layer owns ICMP (rate limit, source address, quoting rules).
import type { Packet } from '../packet/packet.js';

/**
 * Lets transport ask the namespace to emit an ICMP error about a received packet (Linux icmp_send).
 * `orig` is the offending packet as received (ip and L4 records set); net builds the error (type,
 * code, `info` in the rest-of-header: next-hop MTU for FRAG_NEEDED, else 0), quotes the original,
 * applies icmp_ratelimit, and sends it back to `orig.ip.src`.
 */
export interface IcmpErrorSender {
  icmpSend(orig: Packet, type: number, code: number, info: number): void;
}

/** Errors a socket reports, as errno families: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH/ENETUNREACH. */
export type SocketErrorKind = 'refused' | 'reset' | 'timeout' | 'unreachable';

/** Linux's default ephemeral range (net.ipv4.ip_local_port_range = "32768 60999"). */
export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;

