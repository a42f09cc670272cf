// kube-router's NetworkPolicy rules against the kernel. podwire renders node2's rules of
// scenarios/network-policy.yaml (kube-proxy's, flanneld's and kube-router's: `inspect --iptables`) and
// its ip sets (`inspect --ipset`); a namespace standing for node2 loads them with `ipset restore` and
// `iptables-restore`, prints them back identically (iptables-save, ipset save), and forwards real
// connections between two namespaces standing for the pods on either side. Each connection's fate —
// established, or refused by the ICMP port unreachable of kube-router's REJECT — is what podwire's
// `trace --iptables-save` decides for the same packet through the same dump (ACCEPT / REJECT).
//
//   remote (node1's pods)              node2 (the dump)                      local pods (node2's)
//   frontend 10.244.0.3  ─ eth0 ═══ flannel.1 10.100.12.12   cni0 10.244.1.1 ═══ eth0 ─ backend 10.244.1.2
//   backend  10.244.0.2    10.100.12.11                                                   redis   10.244.1.3
//                                                                                          debug   10.244.1.4
//
// And on node1, where frontend and a backend pod share cni0: br_netfilter hands the iptables hooks the
// frames bridged between them, which kube-router's `-m physdev --physdev-is-bridged` rules match. One
// allowed SYN (answered by a RST: nothing listens) and one refused SYN (REJECT's ICMP leaves by OUTPUT)
// give every filter rule and chain policy the same packet counts in the kernel and in podwire.
//
//   frontend 10.244.0.3 ─ veth ─┐
//                               cni0 10.244.0.1 (node1: the dump, br_netfilter on)
//   backend  10.244.0.2 ─ veth ─┘
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { renderRule } from '../../src/netfilter/iptables-save.js';
import type { Ruleset } from '../../src/netfilter/rules.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { IP_DF, IpProto, TcpFlag } from '../../src/wire/types.js';
import { cniBridge, findProgram, ip, netnsSkipReason, nsExec, nsSpawn, nsSysctl, PYTHON, sleep, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const RESTORE = findProgram('iptables-restore');
const SAVE = findProgram('iptables-save');
const IPSET = findProgram('ipset');
const skip = netnsSkipReason() ?? (RESTORE === null || SAVE === null || IPSET === null ? 'needs iptables-restore, iptables-save and ipset' : PYTHON === null ? 'needs python3' : null);
const podwire = (...args: string[]): string => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};
const SCENARIO = 'scenarios/network-policy.yaml';

/** Connects from each [source, destination, port] with a 2 s timeout: ok, refused or timeout. */
const CLIENT = `
import json, socket, sys
out = []
for src, dst, port in json.loads(sys.argv[1]):
    s = socket.socket(); s.bind((src, 0)); s.settimeout(2)
    try:
        s.connect((dst, port)); out.append('ok')
    except ConnectionRefusedError:
        out.append('refused')
    except socket.timeout:
        out.append('timeout')
    s.close()
print(json.dumps(out))
`;
const SERVER = `
import socket, sys, time
socks = []
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', int(p))); s.listen(16); socks.append(s)
print('ready', flush=True)
time.sleep(60)
`;

describe.skipIf(skip !== null)(`kube-router's rules in the kernel decide as podwire does${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('the same save output, and every connection established or refused as podwire decides', async () => {
    // nfacct objects need the nfnetlink_acct module, which the machine may lack: the match goes (kube-proxy's, not kube-router's).
    const rules = podwire('inspect', SCENARIO, '--node', 'node2', '--iptables', '--no-run').replace(/ -m nfacct --nfacct-name +\S+/g, '');
    const sets = podwire('inspect', SCENARIO, '--node', 'node2', '--ipset', '--no-run');
    expect(rules).toContain('-j KUBE-ROUTER-FORWARD');
    expect(sets).toContain(' timeout 0\n');

    const node = set.create('np-node');
    const remote = set.create('np-remote');
    const local = set.create('np-local');
    const tag = `pwa${process.pid % 100000}`;
    ip('link', 'add', `${tag}r`, 'type', 'veth', 'peer', 'name', 'flannel.1', 'netns', node);
    ip('link', 'set', `${tag}r`, 'netns', remote, 'name', 'eth0');
    ip('link', 'add', `${tag}l`, 'type', 'veth', 'peer', 'name', 'cni0', 'netns', node);
    ip('link', 'set', `${tag}l`, 'netns', local, 'name', 'eth0');
    for (const ns of [node, remote, local]) nsSysctl(ns, { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 });
    nsSysctl(node, { 'net.ipv4.ip_forward': 1 });
    ip('-n', node, 'addr', 'add', '10.100.12.12/24', 'dev', 'flannel.1');
    ip('-n', node, 'addr', 'add', '10.244.1.1/24', 'dev', 'cni0');
    ip('-n', remote, 'addr', 'add', '10.100.12.11/24', 'dev', 'eth0');
    for (const a of ['10.244.0.2', '10.244.0.3']) ip('-n', remote, 'addr', 'add', `${a}/32`, 'dev', 'eth0');
    for (const a of ['10.244.1.2', '10.244.1.3', '10.244.1.4']) ip('-n', local, 'addr', 'add', `${a}/24`, 'dev', 'eth0');
    for (const [ns, dev] of [[node, 'flannel.1'], [node, 'cni0'], [remote, 'eth0'], [local, 'eth0']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', node, 'route', 'add', '10.244.0.0/24', 'via', '10.100.12.11', 'dev', 'flannel.1');
    ip('-n', remote, 'route', 'add', 'default', 'via', '10.100.12.12', 'dev', 'eth0');
    ip('-n', local, 'route', 'add', 'default', 'via', '10.244.1.1', 'dev', 'eth0');

    nsExec(node, IPSET!, ['restore'], { input: sets });
    nsExec(node, RESTORE!, [], { input: rules });
    const body = (t: string): string => t.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(body(nsExec(node, SAVE!, []))).toBe(body(rules));
    const bySet = (t: string): string[] => t.split('\n').filter((l) => l !== '').sort();
    expect(bySet(nsExec(node, IPSET!, ['save']))).toEqual(bySet(sets));

    const servers = [nsSpawn(local, PYTHON!, ['-c', SERVER, '6379', '8080', '9090']), nsSpawn(remote, PYTHON!, ['-c', SERVER, '80'])];
    for (let i = 0; i < 300 && !servers.every((s) => s.stdout().includes('ready')); i++) await sleep(10);
    // [source, destination, port, the namespace sending, and the interfaces it enters and leaves node2 by]
    const cases: [string, string, number, string, string, string][] = [
      ['10.244.0.2', '10.244.1.3', 6379, remote, 'flannel.1', 'cni0'], // backend → redis: allowed (podSelector AND namespaceSelector)
      ['10.244.0.3', '10.244.1.3', 6379, remote, 'flannel.1', 'cni0'], // frontend → redis: default deny
      ['10.244.0.3', '10.244.1.2', 8080, remote, 'flannel.1', 'cni0'], // frontend → backend's named port http
      ['10.244.0.3', '10.244.1.2', 9090, remote, 'flannel.1', 'cni0'], // another port of backend
      ['10.244.0.2', '10.244.1.2', 8080, remote, 'flannel.1', 'cni0'], // backend → backend: not a frontend
      ['10.244.0.3', '10.244.1.4', 8080, remote, 'flannel.1', 'cni0'], // frontend → debug: default deny
      ['10.244.1.3', '10.244.0.3', 80, local, 'cni0', 'flannel.1'], // redis → out: its Egress policy has no rules
      ['10.244.1.4', '10.244.0.3', 80, local, 'cni0', 'flannel.1'], // debug → out: no egress policy (frontend's ingress is node1's)
    ];
    const kernel: string[] = [];
    for (const [src, dst, port, ns] of cases) kernel.push(...(JSON.parse(nsExec(ns, PYTHON!, ['-c', CLIENT, JSON.stringify([[src, dst, port]])])) as string[]));
    for (const s of servers) await stopChild(s);

    const rulesFile = join(dir, 'node2.rules');
    const setsFile = join(dir, 'node2.sets');
    writeFileSync(rulesFile, rules);
    writeFileSync(setsFile, sets);
    const mine = cases.map(([src, dst, port, , inIf, outIf]) => {
      const out = JSON.parse(podwire('trace', '--iptables-save', rulesFile, '--ipset-save', setsFile, '--local-ip', '10.100.12.12', '--local-ip', '10.244.1.1', '--src', src, '--dst', `${dst}:${port}`, '--in-iface', inIf, '--out-iface', outIf, '--json')) as { outcomes: { verdict: string }[] };
      expect(out.outcomes).toHaveLength(1);
      return out.outcomes[0]!.verdict;
    });
    const asKernel = (v: string): string => (v === 'REJECT' ? 'refused' : v === 'DROP' ? 'timeout' : 'ok');
    expect(cases.map((c, i) => `${c[0]} → ${c[1]}:${c[2]} ${kernel[i]}`)).toEqual(cases.map((c, i) => `${c[0]} → ${c[1]}:${c[2]} ${asKernel(mine[i]!)}`));
    // Both kinds happen: the policies let some connections through and refuse others.
    expect(new Set(kernel)).toEqual(new Set(['ok', 'refused']));
  });

  it('bridged frames on node1: every filter rule and chain policy counts the same packets (physdev --physdev-is-bridged included)', async () => {
    const rules = podwire('inspect', SCENARIO, '--node', 'node1', '--iptables', '--no-run').replace(/ -m nfacct --nfacct-name +\S+/g, '');
    const sets = podwire('inspect', SCENARIO, '--node', 'node1', '--ipset', '--no-run');
    // --- kernel
    const node = set.create('np-n1');
    const fe = set.create('np-fe');
    const be = set.create('np-be');
    cniBridge(node, '10.244.0.1/24', [[fe, '10.244.0.3', `pwa${process.pid % 100000}f`], [be, '10.244.0.2', `pwa${process.pid % 100000}b`]]);
    nsExec(node, '/sbin/modprobe', ['br_netfilter'], { allowFail: true });
    nsSysctl(node, { 'net.ipv4.ip_forward': 1, 'net.bridge.bridge-nf-call-iptables': 1 });
    nsExec(node, IPSET!, ['restore'], { input: sets });
    nsExec(node, RESTORE!, [], { input: rules });
    // What the node sends by itself as cni0 comes up (IGMP membership reports, in the first seconds) is no part of the comparison.
    await sleep(3000);
    nsExec(node, findProgram('iptables')!, ['-Z']);
    const connect = (port: number): string =>
      nsExec(fe, PYTHON!, ['-c', `import socket\ns=socket.socket()\ns.settimeout(0.5)\ntry:\n  s.connect(("10.244.0.2",${port})); print("ok")\nexcept ConnectionRefusedError: print("refused")\nexcept socket.timeout: print("timeout")`]).trim();
    // 8080 is allowed (nothing listens: the backend's RST comes back), 9090 refused by kube-router.
    expect([connect(8080), connect(9090)]).toEqual(['refused', 'refused']);
    const kernel = packetCounts(nsExec(node, SAVE!, ['-c', '-t', 'filter']));

    // --- podwire: the scenario's world before its traffic; the backend's app stopped (its RST answers), the same two SYNs.
    const w = buildWorld(loadScenarioFile(SCENARIO), 7);
    const pod = (ip4: string) => w.cluster!.pods.find((p) => p.ip === parseIpv4(ip4))!;
    const n1 = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    w.sim.run({ until: 0.3e9 });
    w.controlPlane!.podAppStopped(pod('10.244.0.2'));
    const before = n1.ns.nf!.ruleset();
    const syn = (t: number, port: number) =>
      w.sim.scheduleAt(t, () => {
        const p = new Packet();
        p.ip = { tos: 0, totalLength: 0, id: -1, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.TCP, checksum: null, src: 0, dst: parseIpv4('10.244.0.2')!, options: null };
        p.tcp = { srcPort: 40000 + port, dstPort: port, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
        pod('10.244.0.3').ns.ipLocalOut(p);
      });
    syn(0.4e9, 8080);
    syn(0.6e9, 9090);
    w.sim.run({ until: 0.9e9 });
    const mine = packetCounts(renderCounts(n1.ns.nf!.ruleset(), before));
    expect(mine.filter((l) => l.includes('physdev') && !l.endsWith(' 0'))).toHaveLength(2);
    expect(mine).toEqual(kernel);
  });
});

/** `iptables-save -c -t filter`-like lines of `after`'s filter table with the packets counted since `before`. */
function renderCounts(after: Ruleset, before: Ruleset): string {
  const filter = (rs: Ruleset) => rs.tables.find((t) => t.name === 'filter')!;
  const old = new Map<string, number>();
  for (const c of filter(before).chains) {
    old.set(`:${c.name}`, c.counters.packets);
    c.rules.forEach((r, i) => old.set(`${c.name}#${i}`, r.counters.packets));
  }
  const lines: string[] = [];
  for (const c of filter(after).chains) {
    lines.push(`:${c.name} ${c.policy} [${c.counters.packets - (old.get(`:${c.name}`) ?? 0)}:0]`);
    c.rules.forEach((r, i) => lines.push(`[${r.counters.packets - (old.get(`${c.name}#${i}`) ?? 0)}:0] ${renderRule(c.name, r)}`));
  }
  return lines.join('\n');
}

/** Each chain's and rule's packet count, by chain and position: ":CHAIN n" and "CHAIN #i n" (the rule text, kernel's and podwire's alike, is compared by the first test). */
function packetCounts(save: string): string[] {
  const out: string[] = [];
  const pos = new Map<string, number>();
  for (const line of save.split('\n')) {
    const chain = /^:(\S+) \S+ \[(\d+):\d+\]$/.exec(line);
    if (chain) out.push(`:${chain[1]} ${chain[2]}`);
    const rule = /^\[(\d+):\d+\] -A (\S+)(.*)$/.exec(line);
    if (rule) {
      const i = pos.get(rule[2]!) ?? 0;
      pos.set(rule[2]!, i + 1);
      out.push(`${rule[2]} #${i}${rule[3]!.includes('physdev') ? ' physdev' : ''} ${rule[1]}`);
    }
  }
  return out.sort();
}
