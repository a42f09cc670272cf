// A real node's iptables-save dump (test/fixtures/iptables/real/centos-flannel-libvirt.save: CentOS 7, flannel,
// Docker, libvirt) loaded with the real iptables-restore into a namespace this test creates, and the same dump
// traced by `traceDump`: each probe's fate on the kernel must be the one podwire's outcome implies.
//
//   <tag>-peer 192.168.1.1 (+ the probes' sources on lo) ── veth ── <tag>-node 192.168.1.5, the dump loaded,
//   default via .1 / .5 both ways                                     ip_forward 1, listeners on :22 and :6443
//
// podwire's outcome → what the sender sees: ACCEPT (to the node) → connected; REJECT --reject-with
// icmp-host-prohibited → EHOSTUNREACH; another REJECT → ECONNREFUSED; DROP → timeout.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { traceDump, type TraceOutcome } from '../../src/netfilter/trace-dump.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { findProgram, ip, NetnsSet, netnsSkipReason, nsExec, nsSpawn, nsSysctl, PYTHON, stopChild, waitFor, type Child } from '../helpers/netns.js';

const RESTORE = findProgram('iptables-restore');
const skip = netnsSkipReason() ?? (RESTORE === null ? 'needs iptables-restore' : PYTHON === null ? 'needs python3' : null);
const DUMP = readFileSync(fileURLToPath(new URL('../fixtures/iptables/real/centos-flannel-libvirt.save', import.meta.url)), 'utf8');
const NODE_IP = '192.168.1.5';
const SOURCES = ['10.1.0.66', '8.8.8.8'];

const PROBE = `
import socket, sys, errno
src, dst, port, proto = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
s.settimeout(1.5)
s.bind((src, 0))
try:
    s.connect((dst, port))
    if proto == 'udp':
        s.send(b'x'); s.recv(10)
    print('connected')
except socket.timeout: print('timeout')
except OSError as e: print(errno.errorcode.get(e.errno, str(e.errno)))
`;
const LISTEN = `
import socket, time
ss = []
for p in (22, 6443):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', p)); s.listen(16); ss.append(s)
print('ready', flush=True)
time.sleep(120)
`;

/** What the sender sees when the first packet meets `o` (the connection's later packets are all ACCEPTed here). */
function expectedErrno(o: TraceOutcome): string {
  if (o.verdict === 'ACCEPT') return 'connected';
  if (o.verdict === 'DROP') return 'timeout';
  return o.by.includes('icmp-host-prohibited') ? 'EHOSTUNREACH' : 'ECONNREFUSED';
}

describe.skipIf(skip !== null)(`a real node's dump: podwire's trace against the kernel${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwr');
  let node = '';
  let peer = '';
  let listener: Child | null = null;
  beforeAll(async () => {
    node = set.create('node');
    peer = set.create('peer');
    const [a, b] = [`pwr${process.pid}a`, `pwr${process.pid}b`];
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    ip('link', 'set', a, 'netns', node);
    ip('link', 'set', b, 'netns', peer);
    ip('-n', node, 'link', 'set', a, 'name', 'eth0');
    ip('-n', peer, 'link', 'set', b, 'name', 'eth0');
    ip('-n', node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
    ip('-n', peer, 'addr', 'add', '192.168.1.1/24', 'dev', 'eth0');
    for (const n of [node, peer]) ip('-n', n, 'link', 'set', 'eth0', 'up');
    ip('-n', node, 'route', 'add', 'default', 'via', '192.168.1.1');
    ip('-n', peer, 'route', 'add', 'default', 'via', NODE_IP);
    for (const s of SOURCES) ip('-n', peer, 'addr', 'add', `${s}/32`, 'dev', 'lo');
    nsSysctl(node, { 'net.ipv4.ip_forward': 1 });
    nsExec(node, RESTORE!, [], { input: DUMP });
    listener = nsSpawn(node, PYTHON!, ['-c', LISTEN]);
    await waitFor(() => listener!.stdout().includes('ready'), 5000, 'listeners on the node');
  });
  afterAll(async () => {
    if (listener) await stopChild(listener);
    set.destroy();
  });

  const cases: [string, string, number, 'tcp' | 'udp'][] = [
    ['10.1.0.66', '10.2.0.1', 443, 'tcp'], // a pod to the API server's ClusterIP: DNAT to the node, INPUT's catch-all REJECT
    ['10.1.0.66', '10.2.0.10', 53, 'udp'], // kube-dns without endpoints: FORWARD's KUBE-SERVICES REJECT
    ['8.8.8.8', NODE_IP, 22, 'tcp'], // ssh: INPUT's -m state NEW --dport 22 ACCEPT
    ['8.8.8.8', NODE_IP, 31674, 'tcp'], // a NodePort without endpoints: KUBE-EXTERNAL-SERVICES REJECT
    ['10.1.0.66', '8.8.4.4', 80, 'tcp'], // forwarded out: FORWARD's catch-all REJECT icmp-host-prohibited
  ];
  it.each(cases)('%s -> %s:%i (%s)', (src, dst, port, proto) => {
    const r = traceDump(parseIptablesSave(DUMP, 'centos'), { localIps: [parseIpv4(NODE_IP)!], src: parseIpv4(src)!, dst: parseIpv4(dst)!, dport: port, proto });
    expect(r.outcomes).toHaveLength(1);
    const kernel = nsExec(peer, PYTHON!, ['-c', PROBE, src, dst, String(port), proto], { timeoutMs: 10000 }).trim();
    expect(kernel).toBe(expectedErrno(r.outcomes[0]!));
  });
});
