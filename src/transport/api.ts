// transport/api — the error kinds sockets report upward and the ephemeral port range. Layer:
// transport (imports core, wire, packet, net). What transport needs from net (ip_local_out, route
// source and MTU, icmp_send) is net/api.ts's IpStack: net owns ICMP (rate limit, source, quoting).

/** Errors a socket reports, as errno families: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH/ENETUNREACH, EADDRNOTAVAIL. */
export type SocketErrorKind = 'refused' | 'reset' | 'timeout' | 'unreachable' | 'addrnotavail';

/** Linux's default ephemeral range (net.ipv4.ip_local_port_range = "32768 60999"). */
export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;


/**
 * A stream socket's application as one object (TcpSocket.handler, TlsSocket.handler): a connection's
 * own record implements it, so opening a connection makes no closure per callback. The socket calls it
 * where it would call its closure fields (onConnect or onSecureConnect, onData, onEnd, onError,
 * onClose), which stay for callers that set closures; a socket with a handler calls only the handler.
 */
export interface StreamHandler {
  /** The handshake completed (TCP's active open; TLS: the session is secure). */
  streamConnected(): void;
  /** In-order data arrived; `data` is null when the sender gave only a length. */
  streamData(data: Uint8Array | null, length: number): void;
  /** The peer closed its side (FIN received; read would return 0). */
  streamEnd(): void;
  /** The connection failed or was reset (streamClosed follows). */
  streamError(kind: SocketErrorKind): void;
  /** The socket is gone (as onClose). */
  streamClosed(): void;
}
