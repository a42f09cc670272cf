// A connection attempt that meets an ICMP error, against the kernel (tcp_v4_err: in SYN_SENT every
// destination-unreachable ends the attempt at once with the error icmp_err_convert gives): a router
// without a route answers the SYN with net unreachable, and connect() fails with ENETUNREACH at once;
// podwire's socket reports `unreachable` after the same single SYN, not after its retransmissions.
//
//   a: eth0 10.6.0.2/24 ══ veth ══ r: ra 10.6.0.1/24 [ip_forward, no default route]
import { afterAll, describe, expect, it } from 'vitest';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import type { SocketErrorKind } from '../../src/transport/api.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSysctl } from '../helpers/netns.js';

const skip = netnsSkipReason() ?? (findProgram('python3') === null ? 'needs python3' : null);

const CLIENT = `
import socket,time
s=socket.socket(); s.settimeout(3); t=time.time()
try:
  s.connect(("10.9.9.9",80)); print("ok")
except OSError as e: print(e.errno, "%.3f" % (time.time()-t))`;

describe.skipIf(skip !== null)(`SYN answered by ICMP net unreachable: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pws');
  afterAll(async () => {
    await killAll();
    set.destroy();
  });

  it('connect() fails at once with ENETUNREACH; podwire reports unreachable after one SYN', () => {
    const [a, r] = [set.create('a'), set.create('r')];
    const id = process.pid % 100000;
    ip('link', 'add', `psa${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', a);
    ip('link', 'set', `psa${id}`, 'netns', r, 'name', 'ra');
    ip('-n', a, 'addr', 'add', '10.6.0.2/24', 'dev', 'eth0');
    ip('-n', r, 'addr', 'add', '10.6.0.1/24', 'dev', 'ra');
    ip('-n', a, 'link', 'set', 'eth0', 'up');
    ip('-n', r, 'link', 'set', 'ra', 'up');
    ip('-n', a, 'route', 'add', 'default', 'via', '10.6.0.1');
    nsSysctl(r, { 'net.ipv4.ip_forward': 1 });
    const [errno, secs] = nsExec(a, findProgram('python3')!, ['-c', CLIENT], { timeoutMs: 10_000 }).trim().split(' ');
    expect(errno).toBe('101'); // ENETUNREACH
    expect(Number(secs)).toBeLessThan(0.5); // not after SYN retransmissions (1 s, 3 s, ...)

    const lab = new Lab();
    const [pa, pr] = [lab.host('a'), lab.host('r', true)];
    const [ea] = lab.veth(pa, 'eth0', '10.6.0.2/24', pr, 'ra', '10.6.0.1/24', 5_000);
    pa.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.6.0.1'), dev: ea });
    let got: { kind: SocketErrorKind; at: number } | null = null;
    let syns = 0;
    ea.tap.connect((_d, pkt) => {
      if (pkt.tcp && pkt.ip?.src === ipOf('10.6.0.2')) syns++;
    });
    const s = new TcpLayer(pa).connect(ipOf('10.9.9.9'), 80, () => {});
    s.onError = (kind) => (got = { kind, at: lab.sim.now });
    lab.sim.run({ until: 10e9 });
    expect(got).not.toBeNull();
    expect(got!.kind).toBe('unreachable');
    expect(got!.at).toBeLessThan(1e6);
    expect(syns).toBe(1);
  }, 30_000);
});
