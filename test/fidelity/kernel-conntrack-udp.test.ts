// UDP conntrack timeouts and ASSURED against the kernel (nf_conntrack_udp_packet, Linux 6.x): a flow
// answered once stays [UNREPLIED]-free but unassured with the 30 s timeout; a flow still exchanging
// datagrams 2 s after its first packet (ct->proto.udp.stream_ts) becomes [ASSURED] with 120 s.
// `conntrack -L` on the router compared line by line with podwire's formatConntrackTable.
//
//   a: eth0 10.1.0.2/24 ══ veth ══ ra 10.1.0.1/24 [r: ip_forward=1, conntrack] rb 10.2.0.1/24 ══ veth ══ b: eth0 10.2.0.2/24 (echo :9001 :9002 :9003)
//
// t = 0: a → b:9001, b answers (once). t = 0: a → b:9002 answered, again at 2.5 s, answered.
// t = 0: a → b:9003, never answered (nothing listens... b answers port unreachable: RELATED, still unreplied).
// `conntrack -L` at 3 s.
import { afterAll, describe, expect, it } from 'vitest';
import { UdpEchoServer } from '../../src/app/udp-probe.js';
import { formatConntrackTable } from '../../src/netfilter/conntrack.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSpawn, nsSysctl, sleep } from '../helpers/netns.js';

const skip = netnsSkipReason() ?? (findProgram('iptables') === null || findProgram('conntrack') === null ? 'needs iptables and conntrack' : null);

const ECHO = `
import socket,select
ss=[]
for p in (9001,9002):
  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",p)); ss.append(s)
while True:
  r,_,_=select.select(ss,[],[],6)
  if not r: break
  for s in r:
    d,a=s.recvfrom(2000); s.sendto(d,a)`;

const CLIENT = `
import socket,time
def sock(p):
  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.connect(("10.2.0.2",p)); s.settimeout(1); return s
a,b,c=sock(9001),sock(9002),sock(9003)
for s in (a,b,c): s.send(b"x"*32)
a.recv(100); b.recv(100)
time.sleep(2.5)
b.send(b"y"*32); b.recv(100)`;

/** conntrack -L lines for UDP, ports of a's side replaced by P, sorted by destination port; timeouts kept apart. */
function normalise(text: string): { line: string; timeout: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('udp'))
    .map((l) => {
      const m = /^(udp\s+17\s+)(\d+)(.*)$/.exec(l)!;
      return { line: (m[1]! + 'T' + m[3]!).replace(/sport=\d{5}/, 'sport=P').replace(/dport=\d{5}/, 'dport=P').replace(/\s+/g, ' ').trim(), timeout: Number(m[2]) };
    })
    .sort((x, y) => x.line.localeCompare(y.line));
}

describe.skipIf(skip !== null)(`UDP conntrack: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwf');
  afterAll(async () => {
    await killAll();
    set.destroy();
  });

  it('answered once: 30 s, no ASSURED; still answered after 2 s: ASSURED, 120 s; unanswered: UNREPLIED', async () => {
    const a = set.create('ua');
    const r = set.create('ur');
    const b = set.create('ub');
    const id = process.pid % 100000;
    ip('link', 'add', `pua${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', a);
    ip('link', 'set', `pua${id}`, 'netns', r, 'name', 'ra');
    ip('link', 'add', `pub${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    ip('link', 'set', `pub${id}`, 'netns', r, 'name', 'rb');
    for (const [ns, dev, addr] of [[a, 'eth0', '10.1.0.2/24'], [r, 'ra', '10.1.0.1/24'], [r, 'rb', '10.2.0.1/24'], [b, 'eth0', '10.2.0.2/24']] as const) {
      ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    ip('-n', a, 'route', 'add', 'default', 'via', '10.1.0.1');
    ip('-n', b, 'route', 'add', 'default', 'via', '10.2.0.1');
    nsSysctl(r, { 'net.ipv4.ip_forward': 1 });
    nsExec(r, findProgram('iptables')!, ['-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED,RELATED', '-j', 'ACCEPT']);
    const echo = nsSpawn(b, findProgram('python3')!, ['-c', ECHO]);
    await sleep(300);
    const t0 = Date.now();
    nsExec(a, findProgram('python3')!, ['-c', CLIENT], { timeoutMs: 10_000, allowFail: true });
    await sleep(Math.max(0, 3000 - (Date.now() - t0)));
    const kernel = normalise(nsExec(r, findProgram('conntrack')!, ['-L', '-p', 'udp'], { allowFail: true }));
    await echo.exited(10_000).catch(() => undefined);

    // --- podwire
    const lab = new Lab();
    const [wa, wr, wb] = [lab.host('a'), lab.host('r', true), lab.host('b')];
    const [ea] = lab.veth(wa, 'eth0', '10.1.0.2/24', wr, 'ra', '10.1.0.1/24');
    const [, eb] = lab.veth(wr, 'rb', '10.2.0.1/24', wb, 'eth0', '10.2.0.2/24');
    wa.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.1.0.1'), dev: ea });
    wb.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.2.0.1'), dev: eb });
    const nf = wr.enableNetfilter();
    const ub = new UdpLayer(wb);
    new UdpEchoServer(ub, 9001);
    new UdpEchoServer(ub, 9002);
    const ua = new UdpLayer(wa);
    const [s1, s2, s3] = [9001, 9002, 9003].map((p) => ua.socket().connect(ipOf('10.2.0.2'), p));
    for (const s of [s1, s2, s3]) s!.send(32);
    lab.sim.schedule(2.5e9, () => s2!.send(32));
    lab.sim.run({ until: 3e9 });
    const podwire = normalise(formatConntrackTable(nf.conntrack, lab.sim.now));

    expect(podwire.map((x) => x.line)).toEqual(kernel.map((x) => x.line));
    expect(kernel.map((x) => x.line)).toEqual([
      'udp 17 T src=10.1.0.2 dst=10.2.0.2 sport=P dport=9001 src=10.2.0.2 dst=10.1.0.2 sport=9001 dport=P mark=0 use=1',
      'udp 17 T src=10.1.0.2 dst=10.2.0.2 sport=P dport=9002 src=10.2.0.2 dst=10.1.0.2 sport=9002 dport=P [ASSURED] mark=0 use=1',
      'udp 17 T src=10.1.0.2 dst=10.2.0.2 sport=P dport=9003 [UNREPLIED] src=10.2.0.2 dst=10.1.0.2 sport=9003 dport=P mark=0 use=1',
    ]);
    // Timeouts within a second of each other (the kernel run's timing is wall-clock).
    for (let i = 0; i < kernel.length; i++) expect(Math.abs(podwire[i]!.timeout - kernel[i]!.timeout), kernel[i]!.line).toBeLessThanOrEqual(1);
    expect(podwire.map((x) => x.timeout)).toEqual([27, 119, 27]);
  }, 30_000);
});
