// TIME_WAIT expiries in one queue per layer: an exception thrown by an owner's onClose inside one
// expiry must not leave the other records without a scheduled event (the run can be resumed).
import { expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from '../transport/fake-net.js';
import { tcpPair } from '../transport/tcp-helpers.js';
it('records after a throwing expiry still expire when the run resumes', () => {
  const p = tcpPair();
  p.tb.listen(80, (s) => (s.onEnd = () => s.close()));
  const socks: TcpSocket[] = [];
  for (let i = 0; i < 3; i++)
    p.sim.schedule(i * MS, () => {
      const c = p.ta.connect(ip('10.0.0.2'), 80, (s) => s.close());
      socks.push(c);
    });
  p.sim.run({ until: 10 * SEC }); // all three in TIME_WAIT, queued
  expect(p.ta.sockets().map((s) => s.state)).toEqual(['TIME_WAIT', 'TIME_WAIT', 'TIME_WAIT']);
  socks[0]!.onClose = () => {
    throw new Error('app bug');
  };
  expect(() => p.sim.run()).toThrow('app bug');
  p.sim.run();
  expect(p.ta.sockets()).toHaveLength(0);
  expect(socks.map((s) => s.state)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
});
