// transport/api — the error kinds sockets report upward and the ephemeral port range. Layer:
// transport (imports core, wire, packet, net). What transport needs from net (ip_local_out, route
// source and MTU, icmp_send) is net/api.ts's IpStack: net owns ICMP (rate limit, source, quoting).

/** Errors a socket reports, as errno families: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH/ENETUNREACH, EADDRNOTAVAIL. */
export type SocketErrorKind = 'refused' | 'reset' | 'timeout' | 'unreachable' | 'addrnotavail';

/** Linux's default ephemeral range (net.ipv4.ip_local_port_range = "32768 60999"). */
export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;

