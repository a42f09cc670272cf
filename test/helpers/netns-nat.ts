// test/helpers/netns-nat — real Linux network namespaces for the kube-proxy NAT differential test
// (test/fidelity/kernel-kube-proxy.test.ts): a flannel-VXLAN cluster of namespaces built from a plan,
// kube-proxy's iptables rules loaded with the real iptables-restore, TCP servers and clients in Python
// that report where each connection landed and from which address, and `conntrack -L` parsed.
// Layer: test helpers (imports only node:*; nothing from src/, so the kernel side is never shaped by
// the code under test). Everything is bounded: every child gets a timeout, every wait a deadline, and
// every process started is tracked by pid so `killAll()` ends exactly those (never by name).
//
// Names: every namespace is `pwn-<pid>-<short>`; `reapStaleNetns()` removes `pwn-<N>-*` namespaces
// whose process N is gone (a crashed earlier run), and nothing else.
import { spawnSync } from 'node:child_process';
import * as base from './netns.js';
import { deleteNetns, findProgram, ip, IP, killAll, listNetns, nsExec, nsSpawn, nsSysctl, nsSysctlRead, PYTHON, run, sleep, stopChild, waitFor, type Child } from './netns.js';

export { deleteNetns, findProgram, ip, IP, killAll, listNetns, nsExec, nsSpawn, nsSysctl, nsSysctlRead, PYTHON, run, sleep, stopChild, waitFor, type Child };

// --- programs ------------------------------------------------------------------------------------

export const IPTABLES_RESTORE = findProgram('iptables-restore');
export const IPTABLES_SAVE = findProgram('iptables-save');
/** conntrack-tools (`apt-get install conntrack`); without it the conntrack comparison skips. */
export const CONNTRACK = findProgram('conntrack');
/** nfacct (`apt-get install nfacct`); without it `-m nfacct` matches are stripped before loading. */
export const NFACCT = findProgram('nfacct');

/** One-line reason to skip the kernel NAT test here, or null when it can run. */
export function natSkipReason(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'kernel kube-proxy test needs root (CAP_NET_ADMIN) for network namespaces and iptables';
  if (IP === null) return 'kernel kube-proxy test needs iproute2 (`ip`), which is not installed';
  if (IPTABLES_RESTORE === null || IPTABLES_SAVE === null) return 'kernel kube-proxy test needs iptables-restore/iptables-save (package iptables), not installed';
  if (PYTHON === null) return 'kernel kube-proxy test needs python3 (TCP clients and servers), which is not installed';
  const r = spawnSync(IP, ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return `\`ip netns\` does not work here: ${(r.stderr || String(r.error)).trim()}`;
  return null;
}

// --- namespaces: the shared helpers of ./netns.js with this test's `pwn` prefix -------------------

/** This process's namespace name prefix (`pwn-<pid>-`). */
export function netnsPrefix(): string {
  return base.netnsPrefix('pwn');
}

/** Removes `pwn-<N>-*` namespaces left by a process N that no longer exists. */
export function reapStaleNetns(): void {
  base.reapStaleNetns('pwn');
}

/** Namespaces created by this process (`pwn-<pid>-<short>`), destroyed together. */
export class NetnsSet extends base.NetnsSet {
  constructor() {
    super('pwn');
  }
}

/** A node as podwire built it (addresses as dotted quads, MACs as aa:bb:..). */
export interface PlanNode {
  name: string;
  ip: string;
  eth0Mac: string;
  /** Its port on the external network's switch. */
  swp: { name: string; mac: string };
  cni0Mac: string;
  flannelMac: string;
  /** Pod subnet base (10.244.N.0) and prefix. */
  podNet: string;
  podPrefix: number;
}

/** A pod (its node's cni0 port is the host end of its veth). */
export interface PlanPod {
  name: string;
  node: string;
  ip: string;
  eth0Mac: string;
  veth: { name: string; mac: string };
}

/** An external host on the nodes' network. */
export interface PlanHost {
  name: string;
  ip: string;
  eth0Mac: string;
  swp: { name: string; mac: string };
}

/** Everything needed to build the cluster's data plane in namespaces. */
export interface ClusterPlan {
  netPrefix: number;
  podCidr: string;
  vni: number;
  vxlanPort: number;
  podMtu: number;
  switchBr: { name: string; mac: string };
  nodes: PlanNode[];
  pods: PlanPod[];
  hosts: PlanHost[];
  /** Nodes' default gateway on the external network (no such host exists: only routing needs it). */
  defaultGateway: string;
}

/** Kernel namespace names, by podwire name ("network" is the switch). */
export type NsNames = Map<string, string>;

/** A short namespace suffix from a podwire namespace name. */
function shortName(name: string): string {
  return name === 'network' ? 'switch' : name.replace(/[^a-z0-9]/g, '').slice(-24);
}

/** ipv4 dotted quad + n. */
function addIp(a: string, n: number): string {
  const v = (a.split('.').reduce((x, o) => x * 256 + Number(o), 0) + n) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * Builds the plan as flannel (VXLAN backend), the CNI bridge plugin and kubelet build a node:
 * a switch namespace with bridge br0; per node eth0 on the switch, cni0 (bridge, gateway address),
 * flannel.1 (vxlan, nolearning, static neighbour + FDB entries for the other nodes), a route per other
 * node's pod subnet via flannel.1 onlink, a default route via `defaultGateway`, ip_forward=1 and
 * bridge-nf-call-iptables=1 (br_netfilter: per network namespace on kernels ≥ 5.3); per pod a veth whose
 * host end is a cni0 port, default and pod-CIDR routes via the gateway. Returns the namespace names.
 */
export function buildCluster(plan: ClusterPlan, set: NetnsSet): NsNames {
  const names: NsNames = new Map();
  const mk = (podwireName: string): string => {
    const n = set.create(shortName(podwireName));
    names.set(podwireName, n);
    return n;
  };
  const sw = mk('network');
  nsSysctl(sw, { 'net.ipv4.ip_forward': 0 });
  ip('-n', sw, 'link', 'add', plan.switchBr.name, 'address', plan.switchBr.mac, 'type', 'bridge');
  ip('-n', sw, 'link', 'set', plan.switchBr.name, 'up');
  // The switch is a plain L2 bridge: its namespace must not run iptables on bridged frames.
  if (nsSysctlRead(sw, 'net.bridge.bridge-nf-call-iptables') !== '') nsSysctl(sw, { 'net.bridge.bridge-nf-call-iptables': 0 });
  const uplink = (ns: string, eth0: string, addr: string, swp: { name: string; mac: string }): void => {
    ip('-n', sw, 'link', 'add', swp.name, 'address', swp.mac, 'type', 'veth', 'peer', 'name', 'eth0', 'address', eth0, 'netns', ns);
    ip('-n', sw, 'link', 'set', swp.name, 'master', plan.switchBr.name, 'up');
    ip('-n', ns, 'addr', 'add', `${addr}/${plan.netPrefix}`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  };
  for (const n of plan.nodes) {
    const ns = mk(n.name);
    nsSysctl(ns, { 'net.ipv4.ip_forward': 1 });
    if (nsSysctlRead(ns, 'net.bridge.bridge-nf-call-iptables') !== '') nsSysctl(ns, { 'net.bridge.bridge-nf-call-iptables': 1 });
    uplink(ns, n.eth0Mac, n.ip, n.swp);
    ip('-n', ns, 'route', 'add', 'default', 'via', plan.defaultGateway, 'dev', 'eth0');
    ip('-n', ns, 'link', 'add', 'cni0', 'address', n.cni0Mac, 'mtu', String(plan.podMtu), 'type', 'bridge');
    ip('-n', ns, 'addr', 'add', `${addIp(n.podNet, 1)}/${n.podPrefix}`, 'dev', 'cni0');
    ip('-n', ns, 'link', 'set', 'cni0', 'up');
    ip('-n', ns, 'link', 'add', 'flannel.1', 'address', n.flannelMac, 'mtu', String(plan.podMtu), 'type', 'vxlan', 'id', String(plan.vni), 'local', n.ip, 'dev', 'eth0', 'dstport', String(plan.vxlanPort), 'nolearning');
    ip('-n', ns, 'addr', 'add', `${n.podNet}/32`, 'dev', 'flannel.1');
    ip('-n', ns, 'link', 'set', 'flannel.1', 'up');
  }
  for (const n of plan.nodes) {
    const ns = names.get(n.name)!;
    for (const m of plan.nodes) {
      if (m === n) continue;
      ip('-n', ns, 'route', 'add', `${m.podNet}/${m.podPrefix}`, 'via', m.podNet, 'dev', 'flannel.1', 'onlink');
      ip('-n', ns, 'neigh', 'replace', m.podNet, 'lladdr', m.flannelMac, 'dev', 'flannel.1', 'nud', 'permanent');
      nsExec(ns, findProgram('bridge') ?? 'bridge', ['fdb', 'append', m.flannelMac, 'dev', 'flannel.1', 'dst', m.ip]);
    }
  }
  for (const h of plan.hosts) {
    const ns = mk(h.name);
    nsSysctl(ns, { 'net.ipv4.ip_forward': 0 });
    uplink(ns, h.eth0Mac, h.ip, h.swp);
  }
  for (const p of plan.pods) {
    const node = plan.nodes.find((n) => n.name === p.node)!;
    const nodeNs = names.get(p.node)!;
    const ns = mk(p.name);
    nsSysctl(ns, { 'net.ipv4.ip_forward': 0 });
    ip('-n', nodeNs, 'link', 'add', p.veth.name, 'address', p.veth.mac, 'mtu', String(plan.podMtu), 'type', 'veth', 'peer', 'name', 'eth0', 'address', p.eth0Mac, 'mtu', String(plan.podMtu), 'netns', ns);
    ip('-n', nodeNs, 'link', 'set', p.veth.name, 'master', 'cni0', 'up');
    ip('-n', nodeNs, 'link', 'set', p.veth.name, 'type', 'bridge_slave', 'hairpin', 'on'); // the CNI bridge plugin, flannel's hairpinMode: true
    ip('-n', ns, 'addr', 'add', `${p.ip}/${node.podPrefix}`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    const gw = addIp(node.podNet, 1);
    ip('-n', ns, 'route', 'add', 'default', 'via', gw, 'dev', 'eth0');
    ip('-n', ns, 'route', 'add', plan.podCidr, 'via', gw, 'dev', 'eth0');
  }
  return names;
}

// --- iptables ------------------------------------------------------------------------------------

/** The nfacct object names `-m nfacct --nfacct-name NAME` matches in a restore text. */
export function nfacctNames(text: string): string[] {
  return [...new Set([...text.matchAll(/--nfacct-name\s+(\S+)/g)].map((m) => m[1]!))];
}

/** The text without its `-m nfacct --nfacct-name NAME` matches (the fallback when nfacct is missing). */
export function stripNfacct(text: string): string {
  return text.replace(/\s+-m nfacct --nfacct-name\s+\S+/g, '');
}

/**
 * Loads rules into `ns` as a node gets them: `texts[0]` (kubelet's and kube-proxy's base chains: it
 * declares the built-in chains) with a plain iptables-restore, every later text (the CNI's rules,
 * kube-proxy's sync) with `iptables-restore --noflush`. The nfacct objects the rules name are created
 * first (they live per network namespace).
 */
export function loadRules(ns: string, texts: string[]): void {
  if (NFACCT) for (const n of nfacctNames(texts.join(''))) nsExec(ns, NFACCT, ['add', n], { allowFail: true });
  texts.forEach((t, i) => nsExec(ns, IPTABLES_RESTORE!, i === 0 ? ['-w', '5'] : ['-w', '5', '--noflush'], { input: NFACCT ? t : stripNfacct(t) }));
}

/** iptables-save of `ns` without the `# Generated by` / `# Completed` banners, counters zeroed. */
export function saveRules(ns: string): string {
  return normalizeSave(nsExec(ns, IPTABLES_SAVE!, []));
}

/** Drops `#` banner lines and zeroes `[packets:bytes]` counters, so two dumps compare as rules. */
export function normalizeSave(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n')
    .trimEnd();
}

// --- conntrack -----------------------------------------------------------------------------------

/** One `conntrack -L` entry: the ORIGINAL and REPLY tuples. */
export interface CtLine {
  proto: string;
  state: string | null;
  orig: { src: string; dst: string; sport: number; dport: number };
  reply: { src: string; dst: string; sport: number; dport: number };
}

/** Parses `conntrack -L` default output (TCP/UDP lines; others skipped). */
export function parseConntrack(text: string): CtLine[] {
  const out: CtLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(tcp|udp)\s+\d+\s+\d+\s+(?:([A-Z_]+)\s+)?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+) (?:\[UNREPLIED\] )?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/.exec(line);
    if (!m) continue;
    out.push({
      proto: m[1]!,
      state: m[2] ?? null,
      orig: { src: m[3]!, dst: m[4]!, sport: Number(m[5]), dport: Number(m[6]) },
      reply: { src: m[7]!, dst: m[8]!, sport: Number(m[9]), dport: Number(m[10]) },
    });
  }
  return out;
}

/** `conntrack -L` of `ns`, parsed (TCP only). */
export function listConntrack(ns: string): CtLine[] {
  return parseConntrack(nsExec(ns, CONNTRACK!, ['-L', '-p', 'tcp'], { allowFail: true }));
}

// --- TCP programs --------------------------------------------------------------------------------

/** A TCP server: accepts on PORT until killed or DEADLINE seconds, printing one JSON line per accept. */
export const TCP_SERVER = `
import json, select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen(256)
deadline = time.time() + float(sys.argv[2])
print('ready', flush=True)
while time.time() < deadline:
    if not select.select([s], [], [], 0.2)[0]:
        continue
    c, peer = s.accept()
    l = c.getsockname()
    print(json.dumps({'peer': peer[0], 'peerPort': peer[1], 'local': l[0], 'localPort': l[1]}), flush=True)
    c.close()
`;

/**
 * A TCP client: COUNT sequential connects to DST:PORT, each with a TIMEOUT; prints one JSON document:
 * per attempt the result (ok / refused / timeout / errno name) and the local address used, plus every
 * ICMP message a raw ICMP socket in the namespace saw meanwhile (outer source, type, code, and the
 * quoted datagram's destination address and port).
 */
export const TCP_CLIENT = `
import errno, json, select, socket, sys, time
dst, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
raw.setblocking(False)
icmp = []
def drain():
    while True:
        try:
            b = raw.recv(65535)
        except BlockingIOError:
            return
        ihl = (b[0] & 15) * 4
        rec = {'src': socket.inet_ntoa(b[12:16]), 'type': b[ihl], 'code': b[ihl + 1]}
        q = ihl + 8
        if len(b) >= q + 20:
            qihl = (b[q] & 15) * 4
            rec['innerDst'] = socket.inet_ntoa(b[q + 16:q + 20])
            if len(b) >= q + qihl + 4:
                rec['innerDport'] = int.from_bytes(b[q + qihl + 2:q + qihl + 4], 'big')
        icmp.append(rec)
attempts = []
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    rec = {}
    try:
        s.connect((dst, port))
        rec['result'] = 'ok'
    except ConnectionRefusedError:
        rec['result'] = 'refused'
    except socket.timeout:
        rec['result'] = 'timeout'
    except OSError as e:
        rec['result'] = errno.errorcode.get(e.errno, str(e.errno))
    try:
        a = s.getsockname()
        rec['local'], rec['localPort'] = a[0], a[1]
    except OSError:
        pass
    s.close()
    drain()
    attempts.append(rec)
time.sleep(0.05)
drain()
print(json.dumps({'attempts': attempts, 'icmp': icmp}), flush=True)
`;

/**
 * A burst: COUNT non-blocking connects to DST:PORT issued at once, then WAIT seconds, then each
 * socket's SO_ERROR (ECONNREFUSED when an ICMP port unreachable or RST came back, 0/EINPROGRESS when
 * nothing did). Prints {"refused": N, "pending": M, "icmp": K}.
 */
export const TCP_BURST = `
import errno, json, select, socket, sys, time
dst, port, count, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
raw.setblocking(False)
socks = []
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((dst, port))
    socks.append(s)
time.sleep(wait)
refused = sum(1 for s in socks if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED)
n = 0
while True:
    try:
        b = raw.recv(65535)
    except BlockingIOError:
        break
    ihl = (b[0] & 15) * 4
    if b[ihl] == 3 and b[ihl + 1] == 3:
        n += 1
for s in socks:
    s.close()
print(json.dumps({'refused': refused, 'pending': count - refused, 'icmp': n}), flush=True)
`;

/** Runs a Python program in `ns` to completion (bounded) and parses its last stdout line as JSON. */
export function pythonJson<T>(ns: string, program: string, args: string[], timeoutMs: number): T {
  const out = nsExec(ns, PYTHON!, ['-c', program, ...args], { timeoutMs }).trim().split('\n');
  return JSON.parse(out[out.length - 1]!) as T;
}
