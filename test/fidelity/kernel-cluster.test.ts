// test/fidelity/kernel-cluster — differential test of the cluster data plane (issue 3, item 8): the
// two-node cluster of scenarios/pod-to-pod.yaml (flannel VXLAN) and scenarios/host-gw.yaml is built
// twice, once in podwire and once with REAL Linux network namespaces, veth pairs, bridges and a vxlan
// device on this machine; the scenario's traffic is sent through both; tcpdump records every interface
// podwire records; the two captures are then compared hop by hop, interface by interface.
//
//   pwk-<pid>-node1 10.100.11.11                          pwk-<pid>-node2 10.100.11.12
//   +-------------------------------------+               +-------------------------------------+
//   | pwk-weba 10.244.0.2  pwk-webb .0.3   |               | pwk-webc 10.244.1.2                  |
//   |  eth0 ─ vethXXXXXXXX  eth0 ─ vethYY… |               |  eth0 ─ vethZZZZZZZZ                 |
//   |            \           /             |               |            |                         |
//   |          cni0 10.244.0.1/24 (bridge) |               |          cni0 10.244.1.1/24 (bridge) |
//   |   flannel.1 10.244.0.0/32 (vxlan)    |               |   flannel.1 10.244.1.0/32 (vxlan)    |
//   |                eth0 ─────────────────┼─ swp1  swp2 ──┼── eth0                               |
//   +-------------------------------------+     br0        +-------------------------------------+
//                                  pwk-<pid>-switch (bridge br0)
//                                               swp3 ── eth0 pwk-<pid>-laptop 10.100.11.100
//
// MAC addresses: the kernel devices get the MACs podwire drew (read from podwire's world), so every
// MAC in both captures names the same role; failures print roles ("node1/cni0"), not numbers. UDP
// datagrams carry the exact payload bytes podwire sent, from the same source port, so they can be
// compared byte for byte (IP ID and the header checksum over it excepted: Linux picks IDs at random).
//
// What is compared, and why it must match (derived from the kernel, not from podwire):
//   - the innermost packet's TTL at every interface (ip_forward decrements once per routing node),
//   - which (source, destination) MAC pairs appear on which interface, by role,
//   - VXLAN outer fields: ports (source within the local port range, one per inner flow), VNI, flags,
//     lengths (outer UDP = inner frame + 16, outer IP = UDP + 20), outer TTL, DF, UDP checksum present,
//   - frame sizes and a full per-frame description, as multisets per interface,
//   - the ARP exchanges (who asks whom, broadcast or unicast probe, on which interface; none on flannel.1),
//   - UDP frames byte for byte.
// Deliberately not compared (kernel realities podwire does not claim): timing and the order of frames
// between concurrent flows (multisets per interface instead), IP IDs, ICMP echo identifiers and ping
// payload contents (iputils puts a timeval there), the outer UDP source port's value (a keyed hash).
// Checksums: tcpdump on a sending veth sees CHECKSUM_PARTIAL checksums unfilled; when ethtool exists
// every veth gets `tx off`, so the stack fills them before the tap and UDP frames compare whole.
//
// Findings (kernel 6.18 on the machine this was written on):
//   - podwire bug, asserted below ("IP ID is non-zero ..."): podwire sends UDP datagrams with IP ID 0
//     (transport/udp.ts builds id 0 with DF, net/namespace.ts selectIdent keeps 0 for DF). Linux gives
//     a connected socket's datagrams its per-socket counter (ip_select_ident_segs: inet_sk(sk)->inet_id,
//     +1 per datagram; the client here showed 0x5837, 0x5838, ...) and this kernel also gave the
//     unconnected echo server's DF replies non-zero, hashed IDs (0xf688, 0xf697, ...).
//   - not modelled, set aside with a check: IGMPv3 reports from bridges coming up (see that test).
//   - everything else listed above matched, frame for frame.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterWorld } from '../../src/k8s/cluster.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatMac } from '../../src/wire/mac.js';
import { ArpOp, BROADCAST_MAC, IP_DF, IcmpType, type Ipv4, type Mac } from '../../src/wire/types.js';
import {
  ETHTOOL,
  NetnsSet,
  PING,
  PYTHON,
  killAll,
  netnsSkipReason,
  nsExec,
  nsSpawn,
  nsSysctl,
  readPcap,
  readPcapng,
  reapStaleNetns,
  sleep,
  startTcpdump,
  stopChild,
  ip,
  type CapturedFrame,
  type Child,
  type Tcpdump,
} from '../helpers/netns.js';

const SKIP = netnsSkipReason();
if (SKIP !== null) console.warn(`test/fidelity/kernel-cluster skipped: ${SKIP}`);

const ROOT = resolve(import.meta.dirname, '../..');
/** Linux's default net.ipv4.ip_local_port_range, which bounds udp_flow_src_port (vxlan source port). */
const LOCAL_PORT_MIN = 32768;
const LOCAL_PORT_MAX = 60999;

// --- the topology, as podwire built it ------------------------------------------------------------

interface Plan {
  scenario: string;
  mode: 'flannel-vxlan' | 'host-gw';
  vni: number;
  vxlanPort: number;
  netPrefix: number;
  /** flannel's pod MTU: 1450 (eth0 − 50) over VXLAN, 1500 over host-gw. Independent of podwire's choice. */
  podMtu: number;
  switchBr: { name: string; mac: Mac };
  nodes: { name: string; ip: Ipv4; eth0: Mac; swp: { name: string; mac: Mac }; cni0: Mac; flannel: Mac | null; podNet: Ipv4; podPrefix: number }[];
  pods: { name: string; node: string; ip: Ipv4; prefix: number; eth0: Mac; veth: { name: string; mac: Mac } }[];
  hosts: { name: string; ip: Ipv4; eth0: Mac; swp: { name: string; mac: Mac } }[];
  traffic: Flow[];
  /** MAC → role ("node1/cni0"), for messages. */
  roles: Map<Mac, string>;
  /** podwire's captured interfaces ("node1/eth0", ...). */
  interfaces: string[];
}

type Flow =
  | { name: string; type: 'ping'; fromNs: string; dst: Ipv4; count: number; intervalS: number; startS: number; size: number; ttl: number }
  | { name: string; type: 'udp'; fromNs: string; toNs: string; dst: Ipv4; port: number; count: number; intervalS: number; startS: number; sport: number; payloads: string[] };

interface Side {
  label: 'kernel' | 'podwire';
  frames: CapturedFrame[];
}

interface PodwireRun {
  plan: Plan;
  side: Side;
  /** Simulated time of the last event, µs from 0. */
  endUs: number;
}

/** Short kernel namespace name for a podwire namespace name. */
function shortNs(name: string): string {
  return name === 'network' ? 'switch' : name.replace(/[^a-z0-9]/g, '');
}

/** Runs a scenario in podwire (in-process, from src/) and derives the plan of the same topology. */
function runPodwire(file: string, outDir: string): PodwireRun {
  const loaded = loadScenarioFile(join(ROOT, file));
  const spec = loaded.scenario.spec;
  const world = buildWorld(loaded, spec.seed ?? 7);
  const res = runWorld(world, { outDir, format: 'pcapng', snaplen: 262144 });
  const frames = readPcapng(res.files.capture);
  const c: ClusterWorld = world.cluster!;
  const roles = new Map<Mac, string>();
  for (const d of c.devices) if (d.kind !== 'loopback') roles.set(d.mac, d.qualifiedName);
  roles.set(BROADCAST_MAC, 'broadcast');
  roles.set(0, '00:00:00:00:00:00');
  // cluster.ts links the switch ports in creation order: the nodes first, then the external hosts.
  let swp = 0;
  const nextSwp = (): { name: string; mac: Mac } => {
    const name = `swp${++swp}`;
    return { name, mac: c.network.device(name)!.mac };
  };
  const nodes = c.nodes.map((n) => ({ name: n.name, ip: n.ip, eth0: n.eth0.mac, swp: nextSwp(), cni0: n.cni0!.mac, flannel: n.flannel?.mac ?? null, podNet: n.podNet, podPrefix: n.podPrefix }));
  const hosts = c.hosts.map((h) => ({ name: h.name, ip: h.ip, eth0: h.ns.device('eth0')!.mac, swp: nextSwp() }));
  const pods = c.pods.map((p) => ({ name: p.name, node: p.node.name, ip: p.ip, prefix: p.node.podPrefix, eth0: p.ns.device('eth0')!.mac, veth: { name: p.hostVeth!.name, mac: p.hostVeth!.mac } }));
  const nsOf = (ref: string): string => ref.slice(ref.indexOf('/') + 1);
  const ipOf = (ref: string): Ipv4 => {
    const [kind, name] = ref.split('/') as [string, string];
    const hit = kind === 'pod' ? pods.find((p) => p.name === name) : kind === 'node' ? nodes.find((n) => n.name === name) : hosts.find((h) => h.name === name);
    if (!hit) throw new Error(`cannot resolve ${ref}`);
    return hit.ip;
  };
  const secs = (v: string | number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v === 'number') return v;
    const m = /^([\d.]+)\s*(ns|us|ms|s)$/.exec(v);
    if (!m) throw new Error(`duration ${v}`);
    return Number(m[1]) * { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1 }[m[2] as 'ns' | 'us' | 'ms' | 's'];
  };
  const traffic = spec.traffic.map((t): Flow => {
    if (t.type !== 'ping' && t.type !== 'udp') throw new Error(`traffic type ${t.type}: this test only replays ping and udp in the kernel`);
    const base = { name: t.name ?? t.type, fromNs: nsOf(t.from), count: t.count, intervalS: t.rate !== undefined ? 1 / t.rate : secs(t.interval, 1), startS: secs(t.start, 0) };
    if (t.type === 'ping') return { ...base, type: 'ping', dst: ipOf(t.to), size: t.size, ttl: t.ttl };
    const colon = t.to.lastIndexOf(':');
    const dst = ipOf(t.to.slice(0, colon));
    const port = Number(t.to.slice(colon + 1));
    // The payloads and source port podwire's client used, as sent on its eth0.
    const sent = frames
      .filter((f) => f.iface === `${base.fromNs}/eth0`)
      .map((f) => parseFrame(f.bytes))
      .filter((p) => p.udp !== null && p.vxlan === null && p.ip!.dst === dst && p.udp.dstPort === port);
    if (sent.length === 0) throw new Error(`podwire sent nothing for flow ${base.name}`);
    return { ...base, type: 'udp', toNs: nsOf(t.to.slice(0, colon)), dst, port, sport: sent[0]!.udp!.srcPort, payloads: sent.map((p) => Buffer.from(p.payload ?? new Uint8Array(p.payloadLength)).toString('hex')) };
  });
  const cfg = c.config;
  const plan: Plan = {
    scenario: file,
    mode: cfg.cni,
    vni: cfg.vni,
    vxlanPort: cfg.vxlanPort,
    netPrefix: Number(cfg.network.cidr.split('/')[1]),
    podMtu: cfg.cni === 'flannel-vxlan' ? 1500 - 50 : 1500,
    switchBr: { name: 'br0', mac: c.network.device('br0')!.mac },
    nodes,
    pods,
    hosts,
    traffic,
    roles,
    interfaces: world.captured.map((d) => d.qualifiedName),
  };
  return { plan, side: { label: 'podwire', frames }, endUs: world.sim.now / 1000 };
}

// --- the same topology in the kernel -----------------------------------------------------------

interface KernelRun {
  side: Side;
  /** Per flow: exit status and output of the traffic program. */
  results: { name: string; code: number | null; out: string }[];
  /** Kernel parameters that shape the captures, as read from a pod namespace (for failure messages). */
  params: Record<string, string>;
  offloadOff: boolean;
}

const mac = (m: Mac): string => formatMac(m);
const ipText = (a: Ipv4): string => formatIpv4(a);

/**
 * Builds the plan's topology in fresh namespaces (names in `set`). Returns the kernel namespace name
 * per podwire namespace name, and when the last bridge came up (ms, Date.now()).
 */
function buildKernel(plan: Plan, set: NetnsSet): { nsName: Map<string, string>; lastBridgeUpMs: number } {
  let lastBridgeUpMs = 0;
  const nsName = new Map<string, string>();
  const mk = (podwireName: string): string => {
    const n = set.create(shortNs(podwireName));
    nsName.set(podwireName, n);
    return n;
  };
  const sw = mk('network');
  nsSysctl(sw, { 'net.ipv4.ip_forward': 0 });
  ip('-n', sw, 'link', 'add', plan.switchBr.name, 'address', mac(plan.switchBr.mac), 'type', 'bridge');
  ip('-n', sw, 'link', 'set', plan.switchBr.name, 'up');
  const uplink = (ns: string, eth0: Mac, addr: Ipv4, swp: { name: string; mac: Mac }): void => {
    ip('-n', sw, 'link', 'add', swp.name, 'address', mac(swp.mac), 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(eth0), 'netns', ns);
    ip('-n', sw, 'link', 'set', swp.name, 'master', plan.switchBr.name, 'up');
    ip('-n', ns, 'addr', 'add', `${ipText(addr)}/${plan.netPrefix}`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  };
  for (const n of plan.nodes) {
    const ns = mk(n.name);
    nsSysctl(ns, { 'net.ipv4.ip_forward': 1 });
    uplink(ns, n.eth0, n.ip, n.swp);
    // The CNI bridge plugin: cni0 holding the gateway address of the node's pod subnet.
    ip('-n', ns, 'link', 'add', 'cni0', 'address', mac(n.cni0), 'mtu', String(plan.podMtu), 'type', 'bridge');
    ip('-n', ns, 'addr', 'add', `${ipText((n.podNet + 1) >>> 0)}/${n.podPrefix}`, 'dev', 'cni0');
    ip('-n', ns, 'link', 'set', 'cni0', 'up');
    lastBridgeUpMs = Date.now();
    if (plan.mode === 'flannel-vxlan') {
      // flanneld: `ip link add flannel.1 type vxlan id 1 local NODEIP dev eth0 dstport 8472 nolearning`.
      ip('-n', ns, 'link', 'add', 'flannel.1', 'address', mac(n.flannel!), 'mtu', String(plan.podMtu), 'type', 'vxlan', 'id', String(plan.vni), 'local', ipText(n.ip), 'dev', 'eth0', 'dstport', String(plan.vxlanPort), 'nolearning');
      ip('-n', ns, 'addr', 'add', `${ipText(n.podNet)}/32`, 'dev', 'flannel.1');
      ip('-n', ns, 'link', 'set', 'flannel.1', 'up');
    }
  }
  for (const n of plan.nodes) {
    const ns = nsName.get(n.name)!;
    for (const m of plan.nodes) {
      if (m === n) continue;
      const subnet = `${ipText(m.podNet)}/${m.podPrefix}`;
      if (plan.mode === 'flannel-vxlan') {
        ip('-n', ns, 'route', 'add', subnet, 'via', ipText(m.podNet), 'dev', 'flannel.1', 'onlink');
        ip('-n', ns, 'neigh', 'replace', ipText(m.podNet), 'lladdr', mac(m.flannel!), 'dev', 'flannel.1', 'nud', 'permanent');
        nsExec(ns, 'bridge', ['fdb', 'append', mac(m.flannel!), 'dev', 'flannel.1', 'dst', ipText(m.ip)]);
      } else {
        ip('-n', ns, 'route', 'add', subnet, 'via', ipText(m.ip), 'dev', 'eth0');
      }
    }
  }
  for (const h of plan.hosts) {
    const ns = mk(h.name);
    nsSysctl(ns, { 'net.ipv4.ip_forward': 0 });
    uplink(ns, h.eth0, h.ip, h.swp);
  }
  const podCidr = '10.244.0.0/16';
  for (const p of plan.pods) {
    const node = plan.nodes.find((n) => n.name === p.node)!;
    const nodeNs = nsName.get(p.node)!;
    const ns = mk(p.name);
    nsSysctl(ns, { 'net.ipv4.ip_forward': 0 });
    ip('-n', nodeNs, 'link', 'add', p.veth.name, 'address', mac(p.veth.mac), 'mtu', String(plan.podMtu), 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(p.eth0), 'mtu', String(plan.podMtu), 'netns', ns);
    ip('-n', nodeNs, 'link', 'set', p.veth.name, 'master', 'cni0', 'up');
    ip('-n', nodeNs, 'link', 'set', p.veth.name, 'type', 'bridge_slave', 'hairpin', 'on'); // the CNI bridge plugin, flannel's hairpinMode: true
    ip('-n', ns, 'addr', 'add', `${ipText(p.ip)}/${p.prefix}`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    const gw = ipText((node.podNet + 1) >>> 0);
    ip('-n', ns, 'route', 'add', 'default', 'via', gw, 'dev', 'eth0');
    ip('-n', ns, 'route', 'add', podCidr, 'via', gw, 'dev', 'eth0');
  }
  return { nsName, lastBridgeUpMs };
}

/** Turns off TX checksum offload on every veth end, so taps see filled checksums. False without ethtool. */
function offloadOff(plan: Plan, nsName: Map<string, string>): boolean {
  if (ETHTOOL === null) return false;
  const ends: [string, string][] = [];
  for (const n of plan.nodes) ends.push([n.name, 'eth0'], ['network', n.swp.name]);
  for (const h of plan.hosts) ends.push([h.name, 'eth0'], ['network', h.swp.name]);
  for (const p of plan.pods) ends.push([p.name, 'eth0'], [p.node, p.veth.name]);
  for (const [owner, dev] of ends) nsExec(nsName.get(owner)!, ETHTOOL, ['-K', dev, 'tx', 'off']);
  return true;
}

/** Where podwire's interface "owner/dev" lives in the kernel. */
function kernelIface(q: string, nsName: Map<string, string>): [string, string] {
  const [owner, dev] = q.split('/') as [string, string];
  const ns = nsName.get(owner);
  if (!ns) throw new Error(`no kernel namespace for ${q}`);
  return [ns, dev];
}

const UDP_ECHO = `
import select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
deadline = time.time() + float(sys.argv[2])
want, served = int(sys.argv[3]), 0
print('ready', flush=True)
while served < want:
    left = deadline - time.time()
    if left <= 0 or not select.select([s], [], [], left)[0]:
        break
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
    served += 1
print('served', served, flush=True)
`;

const UDP_CLIENT = `
import socket, sys, time
at, dst, port, sport, interval = float(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
payloads = [bytes.fromhex(h) for h in sys.argv[6].split(',')]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', sport))
s.connect((dst, port))
s.settimeout(1.0)
got = 0
for i, p in enumerate(payloads):
    time.sleep(max(0.0, at + i * interval - time.time()))
    s.send(p)
    try:
        if s.recv(65535) == p:
            got += 1
    except socket.timeout:
        pass
print('received', got, flush=True)
sys.exit(0 if got == len(payloads) else 1)
`;

/** exec argv[2:] at epoch time argv[1] (so every flow starts on time whatever its start-up cost). */
const AT = 'import os, sys, time; time.sleep(max(0.0, float(sys.argv[1]) - time.time())); os.execv(sys.argv[2], sys.argv[2:])';

/** Builds the topology, captures every interface, sends the scenario's traffic, returns the frames. */
async function runKernel(plan: Plan, endUs: number, dir: string, set: NetnsSet): Promise<KernelRun> {
  const { nsName, lastBridgeUpMs } = buildKernel(plan, set);
  const off = offloadOff(plan, nsName);
  const anyPod = nsName.get(plan.pods[0]!.name)!;
  const params: Record<string, string> = {};
  for (const k of ['net.ipv4.neigh.eth0.delay_first_probe_time', 'net.ipv4.neigh.eth0.ucast_solicit', 'net.ipv4.conf.eth0.arp_announce', 'net.ipv4.ip_local_port_range']) {
    params[k] = nsExec(anyPod, 'sysctl', ['-n', k], { allowFail: true }).trim();
  }
  const dumps: Tcpdump[] = [];
  const servers: Child[] = [];
  const clients: { name: string; child: Child }[] = [];
  try {
    // Start tcpdumps concurrently (each waits for "listening on"), then the echo servers.
    dumps.push(...(await Promise.all(plan.interfaces.map((q) => startTcpdump(...kernelIface(q, nsName), join(dir, `${q.replace('/', '_')}.pcap`))))));
    const runS = endUs / 1e6 + 1.0;
    for (const f of plan.traffic) {
      if (f.type !== 'udp') continue;
      const s = nsSpawn(nsName.get(f.toNs)!, PYTHON!, ['-c', UDP_ECHO, String(f.port), String(runS + 1), String(f.count)]);
      servers.push(s);
      const end = Date.now() + 5000;
      while (!s.stdout().includes('ready') && s.proc.exitCode === null && Date.now() < end) await sleep(10);
      if (!s.stdout().includes('ready')) throw new Error(`UDP echo server did not start: ${s.stderr()}`);
    }
    // Scenario time 0. A bridge's IGMPv3 reports (see the bring-up test) end within 1 s of it coming
    // up; starting the clock 0.5 s after the last one keeps them well before the first flow (t = 1 s).
    const t0 = Math.max(Date.now() + 200, lastBridgeUpMs + 500) / 1000;
    for (const f of plan.traffic) {
      const at = String(t0 + f.startS);
      const ns = nsName.get(f.fromNs)!;
      if (f.type === 'ping') {
        const args = ['-n', '-q', '-c', String(f.count), '-i', String(f.intervalS), '-s', String(f.size), '-t', String(f.ttl), '-W', '1', ipText(f.dst)];
        clients.push({ name: f.name, child: nsSpawn(ns, PYTHON!, ['-c', AT, at, PING!, ...args]) });
      } else {
        clients.push({ name: f.name, child: nsSpawn(ns, PYTHON!, ['-c', UDP_CLIENT, at, ipText(f.dst), String(f.port), String(f.sport), String(f.intervalS), f.payloads.join(',')]) });
      }
    }
    // Run as long as podwire's scenario ran (ARP probes come ~5 s after a neighbour is first used).
    await sleep(Math.max(0, (t0 + runS) * 1000 - Date.now()));
    const results: KernelRun['results'] = [];
    for (const c of clients) {
      const code = await c.child.exited(5000).catch(() => null);
      results.push({ name: c.name, code, out: (c.child.stdout() + c.child.stderr()).trim() });
    }
    for (const s of servers) await stopChild(s, 1000);
    await Promise.all(dumps.map((d) => stopChild(d.child)));
    const frames: CapturedFrame[] = [];
    for (const d of dumps) {
      const q = plan.interfaces[dumps.indexOf(d)]!;
      for (const f of readPcap(d.file, q)) frames.push({ ...f, tUs: f.tUs - t0 * 1e6 }); // scenario time
    }
    return { side: { label: 'kernel', frames }, results, params, offloadOff: off };
  } finally {
    for (const c of [...clients.map((x) => x.child), ...servers, ...dumps.map((d) => d.child)]) await stopChild(c, 500);
  }
}

// --- describing frames by role ------------------------------------------------------------------

/** A captured frame, decoded, with the projections the tests compare. */
interface Desc {
  iface: string;
  tUs: number;
  len: number;
  bytes: Uint8Array;
  pkt: Packet;
  /** The innermost IP packet's view: addresses, protocol, TTL. Null for ARP. */
  ttl: string | null;
  macs: string[];
  arp: string | null;
  vxlan: string | null;
  full: string;
}

function l4Text(p: Packet): string {
  if (p.icmp) {
    const t = p.icmp.type === IcmpType.ECHO_REQUEST ? 'echo-request' : p.icmp.type === IcmpType.ECHO_REPLY ? 'echo-reply' : `icmp type ${p.icmp.type} code ${p.icmp.code}`;
    return `ICMP ${t} data=${p.payloadLength}`;
  }
  if (p.udp) return `UDP ${p.udp.srcPort}→${p.udp.dstPort} len=${p.udp.length}`;
  if (p.tcp) return `TCP ${p.tcp.srcPort}→${p.tcp.dstPort}`;
  return `proto ${p.ip!.protocol}`;
}

function describe_(f: CapturedFrame, roles: Map<Mac, string>): Desc {
  const role = (m: Mac): string => roles.get(m) ?? mac(m);
  const pkt = parseFrame(f.bytes);
  const eth = pkt.eth!;
  const ethText = (p: Packet): string => `${role(p.eth!.src)} → ${role(p.eth!.dst)}`;
  const ipText_ = (p: Packet): string => `${ipText(p.ip!.src)} → ${ipText(p.ip!.dst)} ttl=${p.ip!.ttl}${p.ip!.flags & IP_DF ? ' DF' : ''} tos=${p.ip!.tos}`;
  const macs = [`${ethText(pkt)} ${pkt.arp ? 'ARP' : pkt.ip ? 'IPv4' : `0x${eth.etherType.toString(16)}`}`];
  let arp: string | null = null;
  let ttl: string | null = null;
  let vxlan: string | null = null;
  let full: string;
  if (pkt.arp) {
    const a = pkt.arp;
    arp =
      a.op === ArpOp.REQUEST
        ? `${ethText(pkt)} who-has ${ipText(a.tpa)} tell ${ipText(a.spa)} (sha ${role(a.sha)}, tha ${role(a.tha)})`
        : `${ethText(pkt)} ${ipText(a.spa)} is-at ${role(a.sha)} (to ${ipText(a.tpa)} at ${role(a.tha)})`;
    full = `${f.bytes.length}B ARP ${arp}`;
  } else if (pkt.ip && pkt.vxlan && pkt.inner) {
    const o = pkt;
    const inner = pkt.inner;
    const ihl = 20 + (o.ip!.options?.length ?? 0);
    const innerLen = f.bytes.length - 14 - ihl - 8 - 8;
    const sport = o.udp!.srcPort;
    vxlan =
      `${ipText(o.ip!.src)} → ${ipText(o.ip!.dst)} ttl=${o.ip!.ttl} ${o.ip!.flags & IP_DF ? 'DF' : 'no-DF'} tos=${o.ip!.tos} ihl=${ihl} ` +
      `ip.len=udp.len+${o.ip!.totalLength - o.udp!.length} udp.len=inner+${o.udp!.length - innerLen} ` +
      `sport ${sport >= LOCAL_PORT_MIN && sport <= LOCAL_PORT_MAX ? 'in' : `OUT OF (${sport})`} ${LOCAL_PORT_MIN}-${LOCAL_PORT_MAX} dport=${o.udp!.dstPort} ` +
      `udp.csum=${o.udp!.checksum === 0 ? 'zero' : 'set'} vxlan flags=0x${o.vxlan!.flags.toString(16)} vni=${o.vxlan!.vni}`;
    macs.push(`inner ${ethText(inner)} ${inner.arp ? 'ARP' : 'IPv4'}`);
    if (inner.ip) ttl = `${ipText(inner.ip.src)} → ${ipText(inner.ip.dst)} ${l4Text(inner).split(' ').slice(0, 2).join(' ')} ttl=${inner.ip.ttl}`;
    full = `${f.bytes.length}B ${ethText(pkt)} VXLAN[${vxlan}] inner ${innerLen}B ${ethText(inner)} ${inner.ip ? `${ipText_(inner)} ${l4Text(inner)}` : 'ARP'}`;
  } else if (pkt.ip) {
    ttl = `${ipText(pkt.ip.src)} → ${ipText(pkt.ip.dst)} ${l4Text(pkt).split(' ').slice(0, 2).join(' ')} ttl=${pkt.ip.ttl}`;
    full = `${f.bytes.length}B ${ethText(pkt)} ${ipText_(pkt)} ${l4Text(pkt)}`;
  } else {
    full = `${f.bytes.length}B ${ethText(pkt)} ethertype 0x${eth.etherType.toString(16)}`;
  }
  return { iface: f.iface, tUs: f.tUs, len: f.bytes.length, bytes: f.bytes, pkt, ttl, macs, arp, vxlan, full };
}

/** IGMPv3 membership report (RFC 3376 §4.2) to 224.0.0.22: the kernel's bring-up noise (see the test). */
function isBridgeBringUpIgmp(d: Desc): boolean {
  return d.pkt.ip !== null && d.pkt.ip.protocol === 2 && d.pkt.ip.dst === 0xe0000016 && d.pkt.payload !== null && d.pkt.payload[0] === 0x22;
}

/** The group addresses of an IGMPv3 report's records, comma-separated. */
function igmpReportGroups(d: Desc): string {
  const p = d.pkt.payload!;
  const n = (p[6]! << 8) | p[7]!;
  const groups: string[] = [];
  let o = 8;
  for (let i = 0; i < n && o + 8 <= p.length; i++) {
    groups.push(`${p[o + 4]}.${p[o + 5]}.${p[o + 6]}.${p[o + 7]}`);
    o += 8 + p[o + 1]! * 4 + ((p[o + 2]! << 8) | p[o + 3]!) * 4;
  }
  return groups.join(',');
}

/** Multiset difference, as "iface: item ×n" lines, so a failure reads as what is missing where. */
function diff(kernel: string[], podwire: string[]): { onlyInKernel: string[]; onlyInPodwire: string[] } {
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const k = count(kernel);
  const p = count(podwire);
  const only = (a: Map<string, number>, b: Map<string, number>): string[] =>
    [...a]
      .filter(([x, n]) => n > (b.get(x) ?? 0))
      .map(([x, n]) => `${x}${n - (b.get(x) ?? 0) > 1 || b.has(x) ? ` ×${n - (b.get(x) ?? 0)}${b.has(x) ? ` (of ${n} vs ${b.get(x)})` : ''}` : ''}`)
      .sort();
  return { onlyInKernel: only(k, p), onlyInPodwire: only(p, k) };
}

const distinct = (xs: string[]): string[] => [...new Set(xs)];

/** Masks what Linux randomizes in a plain (non-VXLAN) IPv4 frame: IP ID and the header checksum. */
function maskIpId(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  b.fill(0, 14 + 4, 14 + 6);
  b.fill(0, 14 + 10, 14 + 12);
  return b.toString('hex');
}

// --- the tests -----------------------------------------------------------------------------------

function fidelitySuite(scenario: string, mode: 'flannel-vxlan' | 'host-gw'): void {
  let pw: PodwireRun;
  let k: KernelRun;
  let kd: Desc[];
  let pd: Desc[];
  /** Kernel frames set aside as bring-up noise (see isBridgeBringUpIgmp). */
  let bringUp: Desc[] = [];
  const set = new NetnsSet();
  let dir = '';

  beforeAll(async () => {
    reapStaleNetns();
    dir = mkdtempSync(join(tmpdir(), 'podwire-fidelity-'));
    pw = runPodwire(scenario, join(dir, 'podwire'));
    expect(pw.plan.mode).toBe(mode);
    try {
      k = await runKernel(pw.plan, pw.endUs, dir, set);
    } finally {
      await killAll();
      set.destroy();
    }
    const all = k.side.frames.map((f) => describe_(f, pw.plan.roles));
    bringUp = all.filter(isBridgeBringUpIgmp);
    kd = all.filter((d) => !isBridgeBringUpIgmp(d));
    pd = pw.side.frames.map((f) => describe_(f, pw.plan.roles));
  }, 50_000);

  afterAll(async () => {
    await killAll();
    set.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Per-interface projection of both captures, "iface: value". */
  const project = (f: (d: Desc) => string | string[] | null): { kernel: string[]; podwire: string[] } => {
    const p = (ds: Desc[]): string[] =>
      ds.flatMap((d) => {
        const v = f(d);
        return v === null ? [] : (Array.isArray(v) ? v : [v]).map((x) => `${d.iface}: ${x}`);
      });
    return { kernel: p(kd), podwire: p(pd) };
  };

  it('the kernel run delivered every flow of the scenario (precondition for the comparisons)', () => {
    expect(k.results.filter((r) => r.code !== 0), `kernel parameters: ${JSON.stringify(k.params)}`).toEqual([]);
    expect(k.side.frames.length).toBeGreaterThan(0);
    // Nothing but IPv4 and ARP in the kernel capture: IPv6 is off, so no ND/MLD noise to filter.
    expect(distinct(kd.filter((d) => !d.pkt.ip && !d.pkt.arp).map((d) => `${d.iface}: ${d.full}`))).toEqual([]);
  });

  it('the only kernel frames set aside are IGMPv3 reports for 224.0.0.106 from bridges coming up, before any traffic', () => {
    // Not modelled (deliberately): a Linux bridge with multicast snooping (the default, also for a CNI
    // cni0) joins 224.0.0.106 (Multicast Router Discovery, RFC 4286; br_ip4_multicast_join_snoopers)
    // when it comes up, so its IPv4 stack sends an unsolicited IGMPv3 report and a retransmission
    // within unsolicited_report_interval (1 s). That is interface bring-up, which in podwire happens
    // before t = 0; the kernel's setup takes about as long, so some of these land in the capture.
    const firstFlow = Math.min(...pw.plan.traffic.map((f) => f.startS)) * 1e6;
    const bad = bringUp.filter((d) => igmpReportGroups(d) !== '224.0.0.106' || d.tUs >= firstFlow);
    expect(bad.map((d) => `${d.iface} t=${(d.tUs / 1e6).toFixed(3)}s ${d.full} groups ${igmpReportGroups(d)}`)).toEqual([]);
    expect(pd.filter((d) => d.pkt.ip?.protocol === 2).length, 'podwire sends no IGMP').toBe(0);
  });

  it('inner TTL at each interface matches the kernel (ip_forward decrements once per routing node)', () => {
    const { kernel, podwire } = project((d) => d.ttl);
    expect(diff(kernel, podwire)).toEqual({ onlyInKernel: [], onlyInPodwire: [] });
  });

  it('the cross-node echo request leaves web-a with TTL 64, crosses node1 at 63, reaches web-c at 62', () => {
    const webA = pw.plan.pods.find((p) => p.name === 'web-a')!.ip;
    const webC = pw.plan.pods.find((p) => p.name === 'web-c')!.ip;
    const hops = mode === 'flannel-vxlan' ? ['web-a/eth0', 'node1/cni0', 'node1/flannel.1', 'node1/eth0', 'network/br0', 'node2/eth0', 'node2/flannel.1', 'node2/cni0', 'web-c/eth0'] : ['web-a/eth0', 'node1/cni0', 'node1/eth0', 'network/br0', 'node2/eth0', 'node2/cni0', 'web-c/eth0'];
    const ttlAt = (ds: Desc[]): Record<string, number[]> => {
      const r: Record<string, number[]> = {};
      for (const h of hops) {
        r[h] = distinct(
          ds
            .filter((d) => d.iface === h)
            .map((d) => d.pkt.inner?.ip ? d.pkt.inner : d.pkt)
            .filter((p) => p.ip?.src === webA && p.ip.dst === webC && p.icmp?.type === IcmpType.ECHO_REQUEST)
            .map((p) => String(p.ip!.ttl)),
        ).map(Number);
      }
      return r;
    };
    const expected = Object.fromEntries(hops.map((h) => [h, [h.startsWith('web-a') || h === 'node1/cni0' ? 64 : h.startsWith('node2/cni0') || h.startsWith('web-c') ? 62 : 63]]));
    expect(ttlAt(kd), 'kernel').toEqual(expected);
    expect(ttlAt(pd), 'podwire').toEqual(expected);
  });

  it('the same MAC pairs (by role) appear on each interface', () => {
    const { kernel, podwire } = project((d) => d.macs);
    expect(diff(distinct(kernel), distinct(podwire))).toEqual({ onlyInKernel: [], onlyInPodwire: [] });
  });

  it('ARP exchanges match: who asks whom on which interface, broadcast or unicast probe', () => {
    const { kernel, podwire } = project((d) => d.arp);
    expect(diff(kernel, podwire)).toEqual({ onlyInKernel: [], onlyInPodwire: [] });
    // flannel.1 has permanent neighbours: no ARP ever crosses it (in either capture).
    expect(kd.filter((d) => d.iface.endsWith('/flannel.1') && d.arp).length).toBe(0);
    expect(pd.filter((d) => d.iface.endsWith('/flannel.1') && d.arp).length).toBe(0);
  });

  it('unicast ARP probes (NUD_DELAY → NUD_PROBE, delay_first_probe_time after first use) come when the kernel sends them', () => {
    // The kernel's 5 s neighbour timer sits in a coarse timer-wheel level (kernel/time/timer.c: 512 ms
    // buckets at HZ=1000) and never fires early, so the kernel may be up to ~0.6 s later than podwire.
    const probes = (ds: Desc[]): Map<string, number[]> => {
      const m = new Map<string, number[]>();
      for (const d of ds) {
        if (d.pkt.arp?.op !== ArpOp.REQUEST || d.pkt.eth!.dst === BROADCAST_MAC) continue;
        const key = `${d.iface}: ${d.arp}`;
        m.set(key, [...(m.get(key) ?? []), d.tUs]);
      }
      return m;
    };
    const kp = probes(kd);
    const pp = probes(pd);
    expect(kp.size, 'the kernel probes stale neighbours within the run').toBeGreaterThan(0);
    const off: string[] = [];
    for (const [key, ts] of kp) {
      const other = pp.get(key) ?? [];
      ts.forEach((t, i) => {
        const o = other[i];
        if (o === undefined || t - o < -200_000 || t - o > 800_000) off.push(`${key}: kernel t=${(t / 1e6).toFixed(3)}s, podwire ${o === undefined ? 'none' : `t=${(o / 1e6).toFixed(3)}s`}`);
      });
    }
    expect(off).toEqual([]);
  });

  it('per interface, each conversation\'s packets come in the same order', () => {
    const convs = (ds: Desc[]): Record<string, string[]> => {
      const r: Record<string, string[]> = {};
      for (const d of [...ds].sort((a, b) => a.tUs - b.tUs)) {
        const p = d.pkt.inner?.ip ? d.pkt.inner : d.pkt;
        if (!p.ip) continue;
        const pair = [p.ip.src, p.ip.dst].sort((a, b) => a - b).map(ipText).join(' ↔ ');
        (r[`${d.iface} ${pair}`] ??= []).push(d.ttl!);
      }
      return r;
    };
    expect(convs(pd)).toEqual(convs(kd));
  });

  it('IP ID is non-zero wherever the kernel sends a non-zero one (per interface and flow direction)', () => {
    // Linux picks IDs at random or from counters, so only presence is compared: for each interface
    // and each (src → dst, protocol) direction, "all zero" or "non-zero". Judged per direction, not per
    // packet, so a random ID that happens to be 0 cannot flip the result. Forwarding keeps the ID.
    const idClass = (ds: Desc[]): string[] => {
      const m = new Map<string, boolean>();
      for (const d of ds) {
        for (const [layer, p] of [['', d.pkt], ['inner ', d.pkt.inner]] as const) {
          if (!p?.ip) continue;
          const key = `${d.iface}: ${layer}${ipText(p.ip.src)} → ${ipText(p.ip.dst)} ${p.vxlan ? 'VXLAN' : l4Text(p).split(' ').slice(0, 2).join(' ')}`;
          m.set(key, (m.get(key) ?? false) || p.ip.id !== 0);
        }
      }
      return [...m].map(([key, nonzero]) => `${key} id ${nonzero ? 'non-zero' : 'zero'}`);
    };
    expect(diff(idClass(kd), idClass(pd))).toEqual({ onlyInKernel: [], onlyInPodwire: [] });
  });

  it('frame sizes and full frame descriptions match per interface (as multisets)', () => {
    const sizes = project((d) => `${d.len}B ${d.arp ? 'ARP' : d.vxlan ? 'VXLAN' : d.pkt.ip ? l4Text(d.pkt).split(' ').slice(0, 2).join(' ') : 'other'}`);
    expect(diff(sizes.kernel, sizes.podwire), 'frame sizes').toEqual({ onlyInKernel: [], onlyInPodwire: [] });
    const full = project((d) => d.full);
    expect(diff(full.kernel, full.podwire), 'full descriptions').toEqual({ onlyInKernel: [], onlyInPodwire: [] });
  });

  // Without ethtool the sending veths keep CHECKSUM_PARTIAL and taps show unfilled UDP checksums.
  it.skipIf(ETHTOOL === null)('UDP frames match byte for byte (IP ID and IP header checksum masked)', () => {
    const { kernel, podwire } = project((d) => (d.pkt.udp && !d.pkt.vxlan ? maskIpId(d.bytes) : null));
    expect(kernel.length).toBeGreaterThan(0);
    expect(diff(kernel, podwire)).toEqual({ onlyInKernel: [], onlyInPodwire: [] });
  });

  if (mode === 'flannel-vxlan') {
    it('VXLAN outer fields match: ports, VNI, lengths, TTL, DF, UDP checksum', () => {
      const { kernel, podwire } = project((d) => d.vxlan);
      expect(kernel.length).toBeGreaterThan(0);
      expect(diff(distinct(kernel), distinct(podwire))).toEqual({ onlyInKernel: [], onlyInPodwire: [] });
    });

    it('VXLAN outer source port is one per inner flow direction (udp_flow_src_port hashes the inner flow)', () => {
      const ports = (ds: Desc[]): string[] => {
        const m = new Map<string, Set<number>>();
        for (const d of ds) {
          if (!d.vxlan || d.iface !== `${d.iface.split('/')[0]}/eth0` || !d.pkt.inner?.ip) continue;
          const i = d.pkt.inner;
          const key = `${ipText(i.ip!.src)}→${ipText(i.ip!.dst)} ${l4Text(i).split(' ').slice(0, 2).join(' ')}`;
          const s = m.get(key) ?? new Set<number>();
          s.add(d.pkt.udp!.srcPort);
          m.set(key, s);
        }
        return [...m].map(([key, s]) => `${key}: ${s.size} port(s)`).sort();
      };
      expect(ports(kd).every((x) => x.endsWith(': 1 port(s)')), ports(kd).join('\n')).toBe(true);
      expect(ports(pd)).toEqual(ports(kd));
    });
  } else {
    it('host-gw: no VXLAN anywhere; pod packets cross the underlay routed via node MACs, unencapsulated', () => {
      for (const [label, ds] of [['kernel', kd], ['podwire', pd]] as const) {
        expect(ds.filter((d) => d.vxlan || d.pkt.udp?.dstPort === 8472).length, label).toBe(0);
        const podNet = (a: Ipv4): boolean => a >>> 16 === 0x0af4;
        const underlay = ds.filter((d) => d.iface === 'network/br0' && d.pkt.ip && podNet(d.pkt.ip.src) && podNet(d.pkt.ip.dst));
        expect(underlay.length, label).toBeGreaterThan(0);
        expect(distinct(underlay.map((d) => d.macs[0]!)).sort(), label).toEqual(['node1/eth0 → node2/eth0 IPv4', 'node2/eth0 → node1/eth0 IPv4']);
      }
    });
  }
}

const skipNote = SKIP === null ? '' : ` — skipped: ${SKIP}`;

describe.skipIf(SKIP !== null)(`kernel vs podwire: scenarios/pod-to-pod.yaml (flannel VXLAN) in real network namespaces${skipNote}`, () => {
  fidelitySuite('scenarios/pod-to-pod.yaml', 'flannel-vxlan');
});

describe.skipIf(SKIP !== null)(`kernel vs podwire: scenarios/host-gw.yaml in real network namespaces${skipNote}`, () => {
  fidelitySuite('scenarios/host-gw.yaml', 'host-gw');
});

