// transport/tcp/config — the Linux defaults the model follows, connection and congestion states,
// counters and per-socket options. Layer: transport (imports core types and ./cc types).
// Mirrors include/net/tcp.h (TCP_RTO_MIN, TCP_DELACK_MIN, …), Documentation/networking/ip-sysctl.rst
// (net.ipv4.tcp_*) and the Tcp/TcpExt rows of /proc/net/snmp; gVisor tcp/protocol.go.
import type { TimeNs } from '../../core/time.js';
import type { CongestionAlgorithm } from './cc.js';

export const MS = 1_000_000;
export const SEC = 1_000_000_000;

/** Linux sysctl defaults the model follows (net.ipv4.tcp_* and include/net/tcp.h constants). */
export interface TcpConfig {
  /** net.ipv4.tcp_congestion_control. */
  congestion: CongestionAlgorithm;
  /** tcp_syn_retries = 6: SYN at 0, 1, 3, 7, 15, 31, 63 s; ETIMEDOUT at 127 s. */
  synRetries: number;
  /** tcp_synack_retries = 5. */
  synackRetries: number;
  /** tcp_retries2 = 15: ~924.6 s of data retransmission before ETIMEDOUT (tcp_model_timeout). */
  retries2: number;
  /** TCP_INIT_CWND = 10 (RFC 6928). */
  initialCwnd: number;
  /** TCP_RTO_MIN 200 ms, TCP_RTO_MAX 120 s, TCP_TIMEOUT_INIT 1 s. */
  rtoMin: TimeNs;
  rtoMax: TimeNs;
  rtoInit: TimeNs;
  /** TCP_ATO_MIN / TCP_DELACK_MIN = 40 ms, TCP_DELACK_MAX = 200 ms. */
  delackMin: TimeNs;
  delackMax: TimeNs;
  /** TCP_TIMEWAIT_LEN = 60 s; tcp_fin_timeout = 60 s. */
  timeWait: TimeNs;
  finTimeout: TimeNs;
  /** tcp_rmem = "4096 131072 6291456". */
  rmemDefault: number;
  rmemMax: number;
  /** tcp_sack, tcp_timestamps, tcp_window_scaling = 1. */
  sack: boolean;
  timestamps: boolean;
  windowScaling: boolean;
  /** tcp_slow_start_after_idle = 1. */
  slowStartAfterIdle: boolean;
  /** net.core.somaxconn = 4096 (caps listen backlogs). */
  somaxconn: number;
  /** tcp_reordering = 3 (dupthresh). */
  reordering: number;
  /** tcp_tw_reuse = 2: connect() may take over a TIME_WAIT socket's port only toward loopback (1: always, 0: never). */
  twReuse: 0 | 1 | 2;
  /** net.ipv4.ip_local_port_range = "32768 60999" (connect()'s ephemeral ports; an even count of them). */
  portRange: readonly [number, number];
}

/**
 * Linux defaults. Frozen: it is the config of every layer made without overrides (TcpLayer), one object
 * all their sockets read, instead of a copy per namespace.
 */
export const LINUX_TCP_DEFAULTS: Readonly<TcpConfig> = Object.freeze({
  congestion: 'cubic',
  synRetries: 6,
  synackRetries: 5,
  retries2: 15,
  initialCwnd: 10,
  rtoMin: 200 * MS,
  rtoMax: 120 * SEC,
  rtoInit: 1 * SEC,
  delackMin: 40 * MS,
  delackMax: 200 * MS,
  timeWait: 60 * SEC,
  finTimeout: 60 * SEC,
  rmemDefault: 131072,
  rmemMax: 6291456,
  sack: true,
  timestamps: true,
  windowScaling: true,
  slowStartAfterIdle: true,
  somaxconn: 4096,
  reordering: 3,
  twReuse: 2,
  portRange: Object.freeze([32768, 60999] as const),
});

/** Connection states (RFC 9293 3.3.2, Linux's names). */
export type TcpState =
  | 'CLOSED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSING'
  | 'TIME_WAIT'
  | 'CLOSE_WAIT'
  | 'LAST_ACK';

/** Linux's congestion state machine (icsk_ca_state); Disorder and CWR are folded into Open. */
export type CaState = 'open' | 'recovery' | 'loss';

/** The Tcp counters of /proc/net/snmp plus a few TcpExt ones. */
export interface TcpCounters {
  ActiveOpens: number;
  PassiveOpens: number;
  AttemptFails: number;
  EstabResets: number;
  CurrEstab: number;
  InSegs: number;
  OutSegs: number;
  RetransSegs: number;
  InErrs: number;
  /** Segments whose checksum failed (also in InErrs); present once one has. */
  InCsumErrors?: number;
  OutRsts: number;
  /** TcpExt. */
  ListenOverflows: number;
  DelayedACKs: number;
  TCPTimeouts: number;
  TCPFastRetrans: number;
  TCPSackRecovery: number;
  TCPRenoRecovery: number;
  TCPLossProbes: number;
  OutNoRoutes: number;
}

/** Per-socket options. */
export interface TcpSocketOptions {
  /** TCP_NODELAY (disables Nagle). Default false, as Linux. */
  noDelay?: boolean;
  /** Congestion control for this socket (TCP_CONGESTION); default from the layer. */
  congestion?: CongestionAlgorithm;
  /** Flow id stamped on every packet (statistics). */
  flowId?: number;
}
