// DNS over TCP after a truncated reply: glibc's getaddrinfo against podwire's stub resolver. A server in
// namespace b answers A queries with 40 records, cut at 512 octets with TC over UDP and whole over TCP
// (framed by length, one query at a time); the client in namespace a resolves a name with glibc
// (python3's socket.getaddrinfo, AF_UNSPEC: A and AAAA), its resolv.conf bind-mounted inside `ip netns
// exec`'s private mount namespace. What the client puts on the wire must match podwire's resolver:
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24   (capture on a's eth0)
//
// the A and AAAA datagrams; after the TC reply one TCP connection to the same server; both queries, with
// the datagrams' IDs, in the first (and only) data segment; every record back; the client's FIN first;
// and, the 40 addresses being more than getaddrinfo's first buffer holds, all of it a second time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DnsServer, rr, type DnsZone } from '../../src/app/dns-server.js';
import { parseResolvConf, StubResolver } from '../../src/app/dns-resolver.js';
import { DnsStreamReader } from '../../src/app/dns-stream.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { decodeDns, DnsType } from '../../src/wire/dns.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip, netnsSkipReason, nsSpawn, PYTHON, readPcap, sleep, startTcpdump, stopChild, waitFor } from '../helpers/netns.js';
import { ip as ipAddr, Lab } from '../net/harness.js';
import { pwaFixture, vethPair } from './netns-pwa.js';

const skip = netnsSkipReason() ?? (PYTHON === null ? 'python3 not found' : null);

const SERVER = `
import socket, struct, threading, sys
def answer(q, limit):
    qid, flags = struct.unpack('!HH', q[:4])
    o = 12
    while q[o]: o += 1 + q[o]
    qend = o + 5
    qtype = struct.unpack('!H', q[o+1:o+3])[0]
    question = q[12:qend]
    recs = [b'\\xc0\\x0c' + struct.pack('!HHIH', 1, 1, 30, 4) + bytes([10, 1, 0, i]) for i in range(40)] if qtype == 1 else []
    tc = 0
    if limit:
        keep, size = [], 12 + len(question)
        for r in recs:
            if size + len(r) > limit:
                tc = 1
                break
            keep.append(r)
            size += len(r)
        recs = keep
    hflags = 0x8400 | (flags & 0x0100) | (0x0200 if tc else 0)
    return struct.pack('!HHHHHH', qid, hflags, 1, len(recs), 0, 0) + question + b''.join(recs)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('10.0.0.2', 53))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(('10.0.0.2', 53)); t.listen(4)
def udp():
    while True:
        q, a = u.recvfrom(512)
        u.sendto(answer(q, 512), a)
def readn(c, n):
    b = b''
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: return None
        b += x
    return b
def tcp():
    while True:
        c, _ = t.accept()
        while True:
            h = readn(c, 2)
            if h is None: break
            q = readn(c, struct.unpack('!H', h)[0])
            if q is None: break
            r = answer(q, 0)
            c.sendall(struct.pack('!H', len(r)) + r)
        c.close()
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
print('ready', flush=True)
threading.Event().wait(10)
`;

const CLIENT = `
import socket
r = socket.getaddrinfo('big.example', 80, socket.AF_UNSPEC, socket.SOCK_STREAM)
print(len({x[4][0] for x in r}))
`;

interface ClientView {
  /** Query types of the client's datagrams, in order. */
  udpQueries: string[];
  /** Per TCP connection (in order): the query types of its data, and the number of data segments. */
  connections: { queries: string[]; segments: number; sameIdsAsDatagrams: boolean; clientFinFirst: boolean }[];
}

const typeName = (t: number): string => (t === DnsType.A ? 'A' : t === DnsType.AAAA ? 'AAAA' : String(t));

/** The client's side of the exchange, from frames seen on its interface. */
function clientView(frames: Packet[], client: number): ClientView {
  const udp = frames.filter((p) => p.ip?.src === client && p.udp?.dstPort === 53).map((p) => decodeDns(p.payload!, 0).msg);
  const ports = [...new Set(frames.filter((p) => p.ip?.src === client && p.tcp?.dstPort === 53).map((p) => p.tcp!.srcPort))];
  const connections = ports.map((port, i) => {
    const of = frames.filter((p) => p.tcp !== null && (p.tcp.srcPort === port || p.tcp.dstPort === port));
    const data = of.filter((p) => p.ip!.src === client && p.payload !== null && p.payload.length > 0);
    const rd = new DnsStreamReader();
    for (const d of data) rd.push(d.payload!);
    const msgs = [rd.next(), rd.next(), rd.next()].filter((b) => b !== null).map((b) => decodeDns(b!, 0).msg);
    const pair = udp.slice(2 * i, 2 * i + 2);
    const fin = of.find((p) => (p.tcp!.flags & TcpFlag.FIN) !== 0);
    return {
      queries: msgs.map((m) => typeName(m.questions[0]!.type)),
      segments: data.length,
      sameIdsAsDatagrams: msgs.length === pair.length && msgs.every((m, k) => m.id === pair[k]!.id),
      clientFinFirst: fin?.ip?.src === client,
    };
  });
  return { udpQueries: udp.map((m) => typeName(m.questions[0]!.type)), connections };
}

describe.skipIf(skip !== null)(`DNS over TCP after TC: glibc vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('the same datagrams, one TCP connection with both queries in one segment, every record, the client closing first, twice (ERANGE)', async () => {
    // --- kernel + glibc
    const [a, b] = vethPair(set, ['dta', 'dtb'], ['10.0.0.1/24', '10.0.0.2/24']);
    ip('-n', a, 'link', 'set', 'lo', 'up');
    const resolv = join(dir, 'resolv.conf');
    writeFileSync(resolv, 'nameserver 10.0.0.2\n');
    writeFileSync(join(dir, 'server.py'), SERVER);
    writeFileSync(join(dir, 'client.py'), CLIENT);
    const server = nsSpawn(b, PYTHON!, [join(dir, 'server.py')]);
    await waitFor(() => server.stdout().includes('ready'), 5000, 'the DNS server in b');
    const file = join(dir, 'a.pcap');
    const td = await startTcpdump(a, 'eth0', file);
    // `ip netns exec` runs in a private mount namespace: the bind mount is the client's alone.
    const client = nsSpawn(a, 'sh', ['-c', `mount --bind ${resolv} /etc/resolv.conf && exec ${PYTHON} ${join(dir, 'client.py')}`]);
    expect(await client.exited(10_000)).toBe(0);
    await sleep(300);
    await stopChild(td.child);
    await stopChild(server);
    expect(client.stdout().trim()).toBe('40');
    const kernel = clientView(readPcap(file, 'eth0').map((f) => parseFrame(f.bytes)), ipAddr('10.0.0.1'));

    // --- podwire: the same two hosts, podwire's server (40 records) and glibc-style resolver
    const lab = new Lab();
    const na = lab.host('a');
    const nb = lab.host('b');
    const [ea] = lab.veth(na, 'eth0', '10.0.0.1/24', nb, 'eth0', '10.0.0.2/24');
    lab.capture(ea);
    const zone: DnsZone = (q) => ({ rcode: 0, authoritative: true, answers: q.type === DnsType.A ? Array.from({ length: 40 }, (_, i) => rr(q.name, 30, { kind: 'A', address: ipAddr(`10.1.0.${i}`) })) : [], authority: [], additional: [], chase: null });
    new DnsServer(new UdpLayer(nb), { zone, upstream: [], tcp: new TcpLayer(nb) });
    const tcpA = new TcpLayer(na);
    const r = new StubResolver(new UdpLayer(na), parseResolvConf('nameserver 10.0.0.2\n'), { tcp: () => tcpA });
    let got = -1;
    lab.sim.scheduleAt(1e6, () => r.lookup('big.example', (x) => (got = new Set(x.addresses).size)));
    lab.sim.run({ until: 5e9 });
    expect(got).toBe(40);
    const ours = clientView(
      lab.log.map((s) => s.pkt),
      ipAddr('10.0.0.1'),
    );

    // glibc 2.36: the UDP reply cut (TC), the same server over TCP; then 40 addresses do not fit getaddrinfo's
    // 1,024-byte buffer (ERANGE): the whole lookup again with 2,048 bytes, truncated again, TCP again.
    const round = { queries: ['A', 'AAAA'], segments: 1, sameIdsAsDatagrams: true, clientFinFirst: true };
    expect(kernel).toEqual({ udpQueries: ['A', 'AAAA', 'A', 'AAAA'], connections: [round, round] });
    expect(ours).toEqual(kernel);
  });
});
