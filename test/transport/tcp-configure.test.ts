// TcpLayer.configure (s44-tcp): layers made without overrides share the frozen LINUX_TCP_DEFAULTS, and
// configure() gives a layer a new frozen config, read by sockets made from then on. A TIME_WAIT record
// reads its layer's `timeWait` (tsRecentStamp = expiry - timeWait, the re-ACK's new expiry), not the
// config its socket was made with: a timeWait changed under existing connections would give their
// records a wrong start (tw_reuse decides on it), so configure() refuses it, as it does the port range.
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import { LINUX_TCP_DEFAULTS } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

describe('TcpLayer.configure', () => {
  it('leaves the shared defaults and the other layers as they are', () => {
    const { ta, tb } = tcpPair();
    expect(ta.config).toBe(LINUX_TCP_DEFAULTS);
    expect(tb.config).toBe(LINUX_TCP_DEFAULTS);
    ta.configure({ congestion: 'reno', synRetries: 2 });
    expect(ta.config.congestion).toBe('reno');
    expect(ta.config.synRetries).toBe(2);
    expect(Object.isFrozen(ta.config)).toBe(true);
    expect(tb.config).toBe(LINUX_TCP_DEFAULTS);
    expect(LINUX_TCP_DEFAULTS.congestion).toBe('cubic');
    expect(LINUX_TCP_DEFAULTS.synRetries).toBe(6);
  });

  it("refuses timeWait: a record of a socket made before would read another start (tsRecentStamp)", () => {
    const { sim, tb, ta } = tcpPair();
    tb.listen(80, (s) => (s.onEnd = () => s.close()));
    ta.connect(SERVER, 80, (s) => s.orphan());
    sim.run({ until: 10 * MS });
    const [tw] = ta.sockets();
    expect(tw!.state).toBe('TIME_WAIT');
    const start = (tw as unknown as { tsRecentStamp: number }).tsRecentStamp;
    expect(start).toBe((tw as unknown as { expiry: number }).expiry - 60 * SEC);
    expect(() => ta.configure({ timeWait: 30 * SEC } as never)).toThrow(/timeWait/);
    expect((tw as unknown as { tsRecentStamp: number }).tsRecentStamp).toBe(start);
    expect(ta.config).toBe(LINUX_TCP_DEFAULTS);
  });
});
