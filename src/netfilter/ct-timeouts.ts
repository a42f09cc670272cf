// netfilter/ct-timeouts — conntrack's per-state timeouts and table configuration (the nf_conntrack_*
// sysctls of one namespace). Layer: netfilter (imports core). Mirrors nf_conntrack_proto_tcp.c
// (tcp_timeouts), nf_conntrack_proto_udp.c / _icmp.c / _generic.c and nf_conntrack_core.c (nf_conntrack_max).
import { SEC, type TimeNs } from '../core/time.js';

/** TCP conntrack states (enum tcp_conntrack), as conntrack -L prints them. */
export type TcpCtState = 'NONE' | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE';

/** Timeouts in ns; defaults are Linux's nf_conntrack_*_timeout* sysctls. */
export interface CtTimeouts {
  tcp: Record<TcpCtState, TimeNs>;
  udp: TimeNs;
  udpStream: TimeNs;
  icmp: TimeNs;
  generic: TimeNs;
}

/** Linux default timeouts (nf_conntrack_tcp_timeout_established = 5 days, udp 30 s / 120 s stream, icmp 30 s, generic 600 s). */
export const DEFAULT_CT_TIMEOUTS: CtTimeouts = {
  tcp: {
    NONE: 30 * SEC, SYN_SENT: 120 * SEC, SYN_RECV: 60 * SEC, ESTABLISHED: 432000 * SEC, FIN_WAIT: 120 * SEC,
    CLOSE_WAIT: 60 * SEC, LAST_ACK: 30 * SEC, TIME_WAIT: 120 * SEC, CLOSE: 10 * SEC,
  },
  udp: 30 * SEC,
  udpStream: 120 * SEC,
  icmp: 30 * SEC,
  generic: 600 * SEC,
};

/** Conntrack configuration of one namespace. */
export interface ConntrackConfig {
  /** nf_conntrack_max (default 262144 here; the kernel sizes it from memory). */
  max: number;
  timeouts: CtTimeouts;
  /** nf_conntrack_tcp_loose (default 1): a mid-stream ACK creates an ESTABLISHED entry. */
  tcpLoose: boolean;
}

/** Default conntrack configuration. */
export const DEFAULT_CONNTRACK_CONFIG: ConntrackConfig = { max: 262144, timeouts: DEFAULT_CT_TIMEOUTS, tcpLoose: true };

/**
 * The TCP states as small integers (the order of enum tcp_conntrack), what an entry stores: a state
 * test or step compares integers and a state change stores a small integer.
 */
export const TcpCt = {
  NONE: 0, SYN_SENT: 1, SYN_RECV: 2, ESTABLISHED: 3, FIN_WAIT: 4, CLOSE_WAIT: 5, LAST_ACK: 6, TIME_WAIT: 7, CLOSE: 8,
} as const;
/** A TCP state as TcpCt numbers it. */
export type TcpCt = (typeof TcpCt)[keyof typeof TcpCt];

/** TcpCt number -> name (as conntrack -L prints it). */
export const TCP_CT_NAMES: readonly TcpCtState[] = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'];

/** to[state] without a keyed property load per packet. */
export function tcpTimeout(to: Record<TcpCtState, TimeNs>, s: TcpCtState): TimeNs {
  return tcpTimeoutOf(to, TcpCt[s]);
}

/** to[state] for a TcpCt number (read at each call: the timeouts object may be changed after the table is made). */
export function tcpTimeoutOf(to: Record<TcpCtState, TimeNs>, s: TcpCt): TimeNs {
  switch (s) {
    case TcpCt.ESTABLISHED:
      return to.ESTABLISHED;
    case TcpCt.TIME_WAIT:
      return to.TIME_WAIT;
    case TcpCt.SYN_SENT:
      return to.SYN_SENT;
    case TcpCt.SYN_RECV:
      return to.SYN_RECV;
    case TcpCt.FIN_WAIT:
      return to.FIN_WAIT;
    case TcpCt.CLOSE_WAIT:
      return to.CLOSE_WAIT;
    case TcpCt.LAST_ACK:
      return to.LAST_ACK;
    case TcpCt.CLOSE:
      return to.CLOSE;
    case TcpCt.NONE:
      return to.NONE;
    default: {
      const never: never = s;
      throw new Error(`tcp state ${String(never)}`);
    }
  }
}
