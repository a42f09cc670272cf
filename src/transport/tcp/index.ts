// transport/tcp — TCP sockets of one namespace, Linux-faithful on the wire: the package's public
// names. Layer: transport (the package imports core, wire, packet, net/api and ../api, ../udp).
// Mirrors RFC 9293 (state machine), RFC 6298 (RTO), RFC 5681/6582 (NewReno), RFC 6675 (SACK loss
// recovery, simplified), RFC 6937 (PRR), RFC 7323 (window scale, timestamps) and Linux's
// net/ipv4/tcp*.c, split as gVisor's pkg/tcpip/transport/tcp and Linux split TCP:
//
//   config    sysctl defaults, states, counters          include/net/tcp.h, ip-sysctl.rst
//   segment   retransmission-queue segment, OOO range    struct tcp_skb_cb            (gVisor segment.go)
//   socket    struct tcp_sock + send/close/abort         tcp.c                        (endpoint.go)
//   layer     TcpLayer: demux, listen, connect, RST      tcp_ipv4.c, inet_hashtables.c (protocol.go, dispatcher.go)
//   setup     handshake, option negotiation              tcp_output.c tcp_connect, tcp_minisocks.c (connect.go, accept.go)
//   output    segments out, window, retransmit one       tcp_output.c                 (snd.go)
//   input     segments in, ACK processing, data queue    tcp_input.c                  (rcv.go)
//   recovery  SACK scoreboard, fast retransmit, PRR      tcp_input.c tcp_fastretrans_alert (sack_scoreboard.go, sack_recovery.go)
//   timers    RTO, delayed ACK, persist, 2MSL            tcp_timer.c                  (timer.go)
//   teardown  FIN, entering TIME_WAIT, RST, errors       tcp_input.c tcp_fin, tcp_minisocks.c
//   timewait  TimeWaitSock: the TIME_WAIT record         tcp_minisocks.c, inet_timewait_sock.c
//   tw-queue  TIME_WAIT expiry queue, free records       inet_timewait_sock.c (inet_twsk_schedule)
//   cc        CUBIC and Reno                             tcp_cubic.c, tcp_cong.c      (cubic.go, reno.go)
//   options   the options Linux writes                   tcp_options_write
//   pmtu      frag-needed: MSS follows the path MTU      tcp_v4_mtu_reduced, tcp_simple_retransmit
//
// Not modelled: TLP/RACK (tail losses wait for the RTO), F-RTO, DSACK and undo, HyStart, pacing, TSO/GSO,
// PAWS, keepalive, urgent data, SYN cookies, TCP Fast Open, simultaneous open, MTU probing, ECN, send
// buffer limits (writes are never refused), a receiver that stops reading (data is handed to the
// application on arrival, so the receive window never closes for lack of reads), forced PSH during one
// long write, out-of-window RST challenge-ACK rate limiting, the local address in the connection hash
// (one address per namespace side is assumed).
export { LINUX_TCP_DEFAULTS, type CaState, type TcpConfig, type TcpCounters, type TcpSocketOptions, type TcpState } from './config.js';
export { TcpLayer, TcpListener, type TcpAcceptor } from './layer.js';
export { TcpSocket } from './socket.js';
export { TimeWaitSock } from './timewait.js';
export { modelTimeout } from './timers.js';
export type { CongestionAlgorithm } from './cc.js';
