// The socket's handler object (transport/api StreamHandler): the calls the closure fields get, in the
// same order, and only the handler's once one is set; an orphaned socket's handler hears nothing of
// TIME_WAIT's end; a connect that fails at once reports through the handler set after connect().
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { SocketErrorKind, StreamHandler } from '../../src/transport/api.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** A handler that logs every call. */
function recorder(log: string[], name: string): StreamHandler {
  return {
    streamConnected: () => log.push(`${name} connected`),
    streamData: (d, n) => log.push(`${name} data ${d === null ? 'null' : d.length} ${n}`),
    streamEnd: () => log.push(`${name} end`),
    streamError: (k: SocketErrorKind) => log.push(`${name} error ${k}`),
    streamClosed: () => log.push(`${name} closed`),
  };
}

/** The same exchange with closures: client sends 100 bytes, server answers 50 and closes, client closes. */
function exchange(useHandler: boolean): string[] {
  const { sim, ta, tb } = tcpPair();
  const log: string[] = [];
  tb.listen(80, (s: TcpSocket) => {
    const srv = recorder(log, 'server');
    const onData = (d: Uint8Array | null, n: number): void => {
      srv.streamData(d, n);
      s.send(new Uint8Array(50));
      s.close();
    };
    if (useHandler) s.handler = { ...srv, streamData: onData };
    else {
      s.onData = onData;
      s.onEnd = () => srv.streamEnd();
      s.onError = (k) => srv.streamError(k);
      s.onClose = () => srv.streamClosed();
    }
  });
  const c = ta.connect(SERVER, 80);
  const cli = recorder(log, 'client');
  const onEnd = (): void => {
    cli.streamEnd();
    c.close();
  };
  if (useHandler) {
    c.handler = { ...cli, streamEnd: onEnd, streamConnected: () => (cli.streamConnected(), c.send(new Uint8Array(100))) };
    // closures set beside a handler are not called
    c.onData = () => log.push('closure called');
    c.onConnect = () => log.push('closure called');
    c.onEnd = () => log.push('closure called');
    c.onError = () => log.push('closure called');
    c.onClose = () => log.push('closure called');
  } else {
    c.onConnect = () => (cli.streamConnected(), c.send(new Uint8Array(100)));
    c.onData = (d, n) => cli.streamData(d, n);
    c.onEnd = onEnd;
    c.onError = (k) => cli.streamError(k);
    c.onClose = () => cli.streamClosed();
  }
  sim.run({ until: 2 * 60 * SEC });
  return log;
}

describe('TcpSocket handler object', () => {
  it('gets the calls the closures get, in the same order, and the closures are not called beside it', () => {
    const withClosures = exchange(false);
    const withHandler = exchange(true);
    expect(withClosures).toEqual(['client connected', 'server data 100 100', 'client data 50 50', 'client end', 'server end', 'client closed', 'server closed']);
    expect(withHandler).toEqual(withClosures);
  });

  it('an orphaned socket in TIME_WAIT tells its handler nothing more', () => {
    const { sim, ta, tb } = tcpPair();
    const log: string[] = [];
    tb.listen(80, (s) => {
      s.handler = { ...recorder(log, 'server'), streamEnd: () => s.close() };
    });
    const c = ta.connect(SERVER, 80);
    c.handler = { ...recorder(log, 'client'), streamConnected: () => c.orphan() };
    sim.run({ until: 2 * 60 * SEC });
    expect(c.state).toBe('CLOSED');
    // (orphan() is a half-close: the peer's FIN still reaches the handler; TIME_WAIT's end does not)
    expect(log).toEqual(['client end', 'server closed']);
  });

  it('a listener given an acceptor object tells it of each established connection, as a callback is told (and its onAccept calls it too)', () => {
    const runWith = (acceptor: boolean): string[] => {
      const { sim, ta, tb } = tcpPair();
      const log: string[] = [];
      const accept = (s: TcpSocket): void => {
        log.push(`accepted ${s.state} ${s.remotePort > 0}`);
        s.handler = { ...recorder(log, 'server'), streamEnd: () => s.close() };
      };
      const l = acceptor ? tb.listen(80, { accepted: accept }) : tb.listen(80, accept);
      expect(l.acceptor !== null).toBe(acceptor);
      for (let i = 0; i < 2; i++) {
        const c = ta.connect(SERVER, 80);
        c.handler = { ...recorder(log, `client${i}`), streamConnected: () => c.close() };
      }
      sim.run({ until: 2 * 60 * SEC });
      return log;
    };
    const viaAcceptor = runWith(true);
    expect(viaAcceptor.filter((e) => e.startsWith('accepted'))).toEqual(['accepted ESTABLISHED true', 'accepted ESTABLISHED true']);
    expect(viaAcceptor).toEqual(runWith(false));
    const { tb } = tcpPair();
    const got: TcpSocket[] = [];
    const l = tb.listen(81, { accepted: (s) => got.push(s) });
    const fake = {} as TcpSocket;
    l.onAccept(fake);
    expect(got).toEqual([fake]);
  });

  it('a connect without a route reports through the handler set after connect()', () => {
    const { sim, ta } = tcpPair();
    const log: string[] = [];
    const c = ta.connect(ip('192.0.2.1'), 80);
    c.handler = recorder(log, 'client');
    sim.run({ until: 10 * MS });
    expect(log).toEqual(['client error unreachable']);
  });
});
