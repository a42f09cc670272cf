// scenarios/network-policy.yaml: kube-router's policy controller beside flannel enforces the
// NetworkPolicies (default deny, allow rules): allowed flows succeed, denied connections are refused at
// once by the REJECT of the destination pod's (or, for egress, the source pod's) firewall chain — an ICMP
// port unreachable on the wire — and a pod the scale fault adds is allowed after kube-router's re-sync.
// Without spec.cluster.networkPolicy flannel enforces nothing: one warning, every flow succeeds. tshark,
// judging each interface on its own, finds nothing malformed and no bad checksum.
//
//   node1: frontend, backend ×2 (+1 at 3 s)  ══ flannel VXLAN ══  node2: backend, redis, debug
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatUserError } from '../../src/core/user-error.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { ROOT, runScenarioFrames } from './run-scenario.js';

const HAS_TSHARK = hasTshark();
const FILE = join(ROOT, 'scenarios/network-policy.yaml');
const TEXT = readFileSync(FILE, 'utf8');
const r = runScenarioFrames('network-policy');
interface FlowStats {
  name: string;
  requests: number;
  successes: number;
  errorsByKind?: Record<string, number>;
}
const stats = JSON.parse(r.statsJson) as { flows: FlowStats[]; endpoints: { name: string; requests?: number; served?: number }[]; timeline: { atNs?: number; at?: string; what: string }[] };
const outcome = (f: FlowStats): string => `${f.name} ${f.successes}/${f.requests}${Object.entries(f.errorsByKind ?? {}).filter(([, n]) => n > 0).map(([k, n]) => ` ${k}=${n}`).join('')}`;

/** The world of the scenario run until `untilNs` (no capture kept). */
function runUntil(text: string, untilNs: number | null): ReturnType<typeof buildWorld> & { flows?: FlowStats[] } {
  const w = buildWorld(loadScenarioText(text, 'network-policy.yaml'), 7);
  const dir = mkdtempSync(join(tmpdir(), 'podwire-netpol-'));
  try {
    const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144, ...(untilNs !== null ? { untilNs } : {}) });
    return Object.assign(w, { flows: (JSON.parse(res.statsJson) as { flows: FlowStats[] }).flows });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('scenarios/network-policy.yaml', () => {
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  it('allowed flows succeed; denied connections are refused (kube-router REJECTs), not timed out; pings pass', () => {
    expect(stats.flows.map(outcome)).toEqual([
      'backend-to-redis 6/6',
      'debug-ping-frontend 2/2',
      'debug-to-backend 0/3 refused=3',
      'frontend-to-backend 16/16',
      'frontend-to-redis 0/3 refused=3',
      'redis-to-frontend 0/2 refused=2',
    ]);
  });

  it('each refused SYN is answered by an ICMP port unreachable from the node whose policy refused it', () => {
    const podIp = (name: string): string => formatIpv4(r.world.cluster!.pods.find((p) => p.name === name)!.ip);
    const unreachables = (ifName: string): string[] =>
      r.frames.filter((f) => f.ifName === ifName && f.pkt.icmp?.type === 3 && f.pkt.icmp.code === 3).map((f) => `${formatIpv4(f.pkt.ip!.src)} > ${formatIpv4(f.pkt.ip!.dst)} quoting ${formatIpv4(f.pkt.inner!.ip!.dst)}:${f.pkt.inner!.tcp!.dstPort}`);
    // frontend → redis: refused on node2 (redis's ingress), its flannel.1 address answering.
    expect(new Set(unreachables('frontend/eth0'))).toEqual(new Set([`10.244.1.0 > ${podIp('frontend')} quoting ${podIp('redis')}:6379`]));
    // redis → frontend: refused on node2 too (redis's egress), by cni0's address.
    expect(new Set(unreachables('redis/eth0'))).toEqual(new Set([`10.244.1.1 > ${podIp('redis')} quoting ${podIp('frontend')}:80`]));
    expect(unreachables('redis/eth0')).toHaveLength(2);
  });

  it("every node carries kube-router's chains and sets, shown by `podwire inspect --iptables` / `--ipset`", () => {
    for (const n of r.world.cluster!.nodes) {
      const save = n.ns.nf!.save();
      expect(save.split('\n').filter((l) => / -j KUBE-ROUTER-(INPUT|FORWARD|OUTPUT)$/.test(l))).toHaveLength(3);
      expect(save).toMatch(/\n:KUBE-POD-FW-[A-Z2-7]{16} - \[0:0\]\n/);
    }
    const cli = (...args: string[]): string => execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'inspect', FILE, '--node', 'node2', ...args], { encoding: 'utf8' });
    const filter = cli('--iptables', '--no-run');
    expect(filter).toContain('-j REJECT --reject-with icmp-port-unreachable');
    expect(filter).toContain('-m comment --comment "default/allow-backend-to-redis ingress pods" -m set --match-set KUBE-SRC-');
    expect(cli('--ipset', '--no-run')).toMatch(/^create KUBE-(SRC|DST)-[A-Z2-7]{16} hash:ip family inet hashsize 1024 maxelem 65536 timeout 0 /m);
  });

  it('`podwire trace` walks a refused SYN through kube-router\'s chains to the REJECT on redis\'s node', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'trace', FILE, '--from', 'pod/frontend', '--to', '10.244.1.3:6379'], { encoding: 'utf8' });
    const node2 = out.split('\n').filter((l) => / node2 +FORWARD filter: /.test(l)).map((l) => l.replace(/^.*FORWARD filter: /, '').replace(/[A-Z2-7]{16}/g, 'H'));
    expect(node2).toEqual([
      '-A FORWARD -m comment --comment "kube-router netpol - H" -j KUBE-ROUTER-FORWARD',
      '-A KUBE-ROUTER-FORWARD -d 10.244.1.3/32 -m comment --comment "default/redis in" -j KUBE-POD-FW-H',
      '-A KUBE-POD-FW-H -m comment --comment "common netpol rules" -j KUBE-NWPLCY-COMMON',
      '-A KUBE-POD-FW-H -d 10.244.1.3/32 -m comment --comment "default/allow-backend-to-redis policy" -j KUBE-NWPLCY-H',
      '-A KUBE-POD-FW-H -d 10.244.1.3/32 -m comment --comment "default/default-deny-ingress policy" -j KUBE-NWPLCY-H',
      '-A KUBE-POD-FW-H -m comment --comment "default/redis log-drop" -m mark ! --mark 0x10000/0x10000 -m limit --limit 10/min --limit-burst 10 -j NFLOG --nflog-group 100',
      '-A KUBE-POD-FW-H -m comment --comment "default/redis reject" -m mark ! --mark 0x10000/0x10000 -j REJECT --reject-with icmp-port-unreachable',
    ]);
    expect(out).toContain('verdict: dropped in node2 (netfilter-reject)');
  });

  it("the scale fault's pod: not in the rules until kube-router's sync 200 ms after the pod event, then served", () => {
    const newPod = (w: ReturnType<typeof buildWorld>) => w.cluster!.pods.find((p) => p.name.startsWith('backend-') && p.node.name === 'node1' && formatIpv4(p.ip) === '10.244.0.4');
    const before = runUntil(TEXT, 3.1e9);
    expect(newPod(before)).toBeDefined();
    const node1 = (w: ReturnType<typeof buildWorld>) => w.cluster!.nodes.find((n) => n.name === 'node1')!.ns.nf!;
    expect(node1(before).save()).not.toContain('-d 10.244.0.4/32');
    expect(node1(before).ipsets.save()).not.toContain(' 10.244.0.4 ');
    const after = runUntil(TEXT, 3.3e9);
    expect(node1(after).save()).toContain(`-d 10.244.0.4/32 -m comment --comment "default/${newPod(after)!.name} in" -j KUBE-POD-FW-`);
    expect(node1(after).ipsets.save()).toContain(' 10.244.0.4 timeout 0\n');
    expect(stats.timeline.map((t) => t.what).filter((w) => w.startsWith('kube-router:'))).toEqual(['kube-router: network policy sync 1735689600000000000 (4 policies, 5 pods)', 'kube-router: network policy sync 1735689603000000000 (4 policies, 6 pods)']);
    const served = JSON.stringify(stats.endpoints);
    expect(served).toContain(newPod(after)!.name);
    // kube-proxy's sync at 5 s (the new endpoint) restores into the rules kube-router left, not its own last restore's.
    const end = r.world.cluster!.nodes.find((n) => n.name === 'node1')!.ns.nf!.save();
    expect(end).toContain('-d 10.244.0.4/32 -m comment --comment "default/');
    expect(end).toContain('-A KUBE-SVC-');
  });

  it('without spec.cluster.networkPolicy: one warning naming the first NetworkPolicy, no rules, every flow succeeds', () => {
    const text = TEXT.replace('    networkPolicy: kube-router\n', '');
    const w = runUntil(text, null);
    const warnings = w.cluster!.warnings.filter((x) => x.message.includes('NetworkPolicy'));
    expect(warnings.map((x) => formatUserError(x))).toEqual([
      `network-policy.yaml:${text.split('\n').findIndex((l) => l === 'kind: NetworkPolicy') + 1}:7: kind: NetworkPolicy has no effect: flannel does not enforce NetworkPolicy (4 objects); set spec.cluster.networkPolicy: kube-router to run kube-router's policy controller beside it`,
    ]);
    expect(w.cluster!.nodes[0]!.ns.nf!.save()).not.toContain('KUBE-ROUTER');
    expect(w.flows!.map(outcome)).toEqual(['backend-to-redis 6/6', 'debug-ping-frontend 2/2', 'debug-to-backend 3/3', 'frontend-to-backend 16/16', 'frontend-to-redis 3/3', 'redis-to-frontend 2/2']);
  });

  it.skipIf(!HAS_TSHARK)(`tshark per interface: nothing malformed, no bad checksum${HAS_TSHARK ? '' : ` — skipped: ${NO_TSHARK}`}`, () => {
    const files = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    expect(files.size).toBeGreaterThan(10);
    for (const [name, file] of files) {
      const c = tsharkCheck(file, ['-d', 'udp.port==8472,vxlan']);
      expect(`${name}: malformed=${c.malformed} badChecksums=${c.badChecksums}`).toBe(`${name}: malformed=0 badChecksums=0`);
    }
  });
});
