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
  /** Read when the table is made (Conntrack copies the values into a typed array): a change later is not seen. */
  readonly timeouts: CtTimeouts;
  /** nf_conntrack_tcp_loose (default 1): a mid-stream ACK creates an ESTABLISHED entry. */
  tcpLoose: boolean;
}

/** Default conntrack configuration. */
export const DEFAULT_CONNTRACK_CONFIG: ConntrackConfig = { max: 262144, timeouts: DEFAULT_CT_TIMEOUTS, tcpLoose: true };

/**
 * The TCP states as small integers (the order of enum tcp_conntrack), what an entry stores: a state
 * test or step compares integers and a state change stores a small integer. The hot path uses the
 * TCP_* bindings, not TcpCt's properties: TcpCt has the keys of DEFAULT_CT_TIMEOUTS.tcp in the same
 * order, so V8 gives both literals one hidden class whose fields hold doubles, and a value loaded from
 * TcpCt is a heap number — stored into an entry it would make the field a boxed double.
 */
export const TCP_NONE = 0;
export const TCP_SYN_SENT = 1;
export const TCP_SYN_RECV = 2;
export const TCP_ESTABLISHED = 3;
export const TCP_FIN_WAIT = 4;
export const TCP_CLOSE_WAIT = 5;
export const TCP_LAST_ACK = 6;
export const TCP_TIME_WAIT = 7;
export const TCP_CLOSE = 8;
/** The TCP_* numbers by state name (for readers and tests; not read per packet). */
export const TcpCt = {
  NONE: TCP_NONE, SYN_SENT: TCP_SYN_SENT, SYN_RECV: TCP_SYN_RECV, ESTABLISHED: TCP_ESTABLISHED, FIN_WAIT: TCP_FIN_WAIT,
  CLOSE_WAIT: TCP_CLOSE_WAIT, LAST_ACK: TCP_LAST_ACK, TIME_WAIT: TCP_TIME_WAIT, CLOSE: TCP_CLOSE,
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
    case TCP_ESTABLISHED:
      return to.ESTABLISHED;
    case TCP_TIME_WAIT:
      return to.TIME_WAIT;
    case TCP_SYN_SENT:
      return to.SYN_SENT;
    case TCP_SYN_RECV:
      return to.SYN_RECV;
    case TCP_FIN_WAIT:
      return to.FIN_WAIT;
    case TCP_CLOSE_WAIT:
      return to.CLOSE_WAIT;
    case TCP_LAST_ACK:
      return to.LAST_ACK;
    case TCP_CLOSE:
      return to.CLOSE;
    case TCP_NONE:
      return to.NONE;
    default: {
      const never: never = s;
      throw new Error(`tcp state ${String(never)}`);
    }
  }
}

/** Slots of timeoutsByIndex's array after the TCP states' (0 to TCP_CLOSE). */
export const TO_UDP = TCP_CLOSE + 1;
export const TO_UDP_STREAM = TO_UDP + 1;
export const TO_ICMP = TO_UDP + 2;
export const TO_GENERIC = TO_UDP + 3;

/** The arrays made so far, by timeouts object: every table of the same timeouts (a cluster's thousands of
 * namespaces: the defaults) reads one array, warm in cache, not one of its own per namespace, cold. */
const BY_INDEX = new WeakMap<CtTimeouts, Float64Array>();

/**
 * `to` as a typed array, slot s at [1 + s] (TCP states by TcpCt number, then TO_UDP … TO_GENERIC; [0] unused, where
 * CT_CLOCK, which holds the default timeouts in this layout, keeps the time): Conntrack's per-packet timeouts, one per `to`.
 */
export function timeoutsByIndex(to: CtTimeouts): Float64Array {
  const made = BY_INDEX.get(to);
  if (made !== undefined) return made;
  const a = new Float64Array(TO_GENERIC + 2);
  BY_INDEX.set(to, a);
  for (let s = TCP_NONE; s <= TCP_CLOSE; s++) a[1 + s] = tcpTimeoutOf(to.tcp, s as TcpCt);
  a[1 + TO_UDP] = to.udp;
  a[1 + TO_UDP_STREAM] = to.udpStream;
  a[1 + TO_ICMP] = to.icmp;
  a[1 + TO_GENERIC] = to.generic;
  return a;
}
