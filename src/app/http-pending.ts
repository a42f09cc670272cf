// app/http-pending — what app/http-client keeps of a request from request() to its outcome, apart from the client:
// the phase times (and the phases made of them), its callback and timer, the socket error kinds. Layer: app.
import type { SimEvent } from '../core/scheduler.js';
import type { TimeNs } from '../core/time.js';
import type { ErrorKind, RequestPhases } from '../stats/flow.js';
import type { SocketErrorKind } from '../transport/api.js';
import type { HttpCallback } from './http-client.js';

/** Maps a socket error to the request error kind. */
export function errorKindOf(k: SocketErrorKind): ErrorKind {
  switch (k) {
    case 'refused':
      return 'refused';
    case 'reset':
      return 'reset';
    case 'timeout':
      return 'timeout';
    case 'unreachable':
      return 'no-route';
    case 'addrnotavail':
      return 'addrnotavail';
    default: {
      const never: never = k;
      throw new Error(`unknown socket error ${String(never)}`);
    }
  }
}

/**
 * A request's times (absolute sim time): started; name resolved, connection usable for this request, TLS
 * secure on it, request written, first response byte, each −1 until reached (a double field from the start:
 * a record the client reuses takes each time in place, where a nullable field boxed every time stored).
 * `connect`, `tls`: the handshakes' lengths when this request opened the connection (the result's, null: none).
 */
export interface PendingTimes {
  started: TimeNs;
  resolvedAt: TimeNs;
  connectedAt: TimeNs;
  tlsAt: TimeNs;
  sentAt: TimeNs;
  firstByteAt: TimeNs;
  connect: TimeNs | null;
  tls: TimeNs | null;
}

/** The phases of a completed request written into `ph`: each from its times (dns and connect 0 when skipped). */
export function writePhases(ph: RequestPhases, p: PendingTimes, now: TimeNs): RequestPhases {
  ph.dns = p.resolvedAt >= 0 ? p.resolvedAt - p.started : 0;
  ph.connect = p.connect ?? 0;
  ph.tls = p.tlsAt >= 0 && p.connectedAt >= 0 ? p.tlsAt - p.connectedAt : 0;
  ph.ttfb = p.firstByteAt >= 0 && p.sentAt >= 0 ? p.firstByteAt - p.sentAt : 0;
  ph.total = now - p.started;
  return ph;
}

const DONE = (): void => {};

/**
 * The request's callback, once: the record lets go of it (a resolver or connection callback still in
 * flight keeps the record; the caller's closures need not live that long).
 */
export function takeCallback(p: { cb: HttpCallback }): HttpCallback {
  const cb = p.cb;
  p.cb = DONE;
  return cb;
}

/**
 * Cancels the request's timer and lets go of it (SimEvent.drop: nothing else holds it, and a later event
 * takes its object once the queue gives it up, not a new one a request).
 */
export function stopTimer(p: { timer: SimEvent | null }): void {
  p.timer?.drop();
  p.timer = null;
}
