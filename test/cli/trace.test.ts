// `podwire trace`: one packet through a scenario, and through an iptables-save dump, from the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const podwire = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('podwire trace', () => {
  it('follows a pod → ClusterIP SYN: DNAT rule, bridged DNAT or routing, delivery to a web pod', () => {
    const r = podwire('trace', 'scenarios/clusterip.yaml', '--from', 'pod/front-end', '--to', '10.99.11.12:80');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('trace: front-end sends tcp to 10.99.11.12:80 at 0.000000s');
    expect(r.out).toMatch(/node1\s+PREROUTING nat: -A KUBE-SERVICES -d 10\.99\.11\.12\/32 -p tcp -m comment --comment "default\/back-end cluster IP" -m tcp --dport 80 -j KUBE-SVC-/);
    expect(r.out).toMatch(/node1\s+PREROUTING nat: -A KUBE-SEP-\w+ -p tcp -m comment --comment "?default\/back-end"? -m tcp -j DNAT --to-destination 10\.244\.\d+\.\d+:80/);
    // A same-node endpoint is reached by bridged DNAT (TTL kept), a node2 endpoint is routed (64 → 63).
    const local = /DNAT --to-destination 10\.244\.0\.\d+:80/.test(r.out);
    if (local) expect(r.out).toMatch(/node1\s+xmit cni0 \(bridged DNAT\) via 10\.244\.0\.\d+: tcp \S+ > 10\.244\.0\.\d+:80 ttl 64/);
    else expect(r.out).toMatch(/node1\s+forward: ttl 64 -> 63/);
    expect(lines.filter((l) => l.startsWith('verdict:'))).toHaveLength(1);
    expect(r.out).toMatch(/^verdict: delivered to back-end-/m);
  });

  it('shows the VXLAN encapsulation when the chosen endpoint is on the other node', () => {
    // Sweep seeds until the random pick lands on node2 (deterministic per seed).
    let out = '';
    for (let seed = 1; seed < 20 && !out.includes('vxlan vni 1'); seed++) out = podwire('trace', 'scenarios/clusterip.yaml', '--from', 'pod/front-end', '--to', '10.99.11.12:80', '--seed', String(seed)).out;
    expect(out).toMatch(/node1\s+xmit eth0 via 10\.100\.11\.12: udp 10\.100\.11\.11:\d+ > 10\.100\.11\.12:8472 ttl 64 vxlan vni 1 \[inner tcp 10\.244\.0\.\d+:40000 > 10\.244\.1\.\d+:80 ttl 63\]/);
    expect(out, "the inner TTL once, not \"ttl 63 ttl 63\"").not.toMatch(/ttl \d+ ttl \d+/);
  });

  it('prints every outcome of a dump with probabilities summing to 1 (--json)', () => {
    const r = podwire('trace', '--iptables-save', 'test/fixtures/iptables/kube-proxy-node.save', '--local-ip', '192.168.0.2', '--src', '10.0.0.2', '--dst', '172.30.0.44:80', '--proto', 'tcp', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { outcomes: { probability: number; verdict: string; dnat: string | null; masquerade: boolean }[] };
    expect(j.outcomes.map((o) => o.dnat).sort()).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    expect(j.outcomes.reduce((a, o) => a + o.probability, 0)).toBeCloseTo(1, 9);
    expect(j.outcomes.every((o) => o.verdict === 'ACCEPT' && !o.masquerade)).toBe(true);
  });

  it('a dump with an unknown match is one line naming file:line:col, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podwire-trace-'));
    const f = join(dir, 'bad.save');
    writeFileSync(f, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m foo -j ACCEPT\nCOMMIT\n');
    const r = podwire('trace', '--iptables-save', f, '--local-ip', '10.0.0.1', '--src', '10.0.0.2', '--dst', '10.0.0.1:80');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${f}:3:10: unknown match "-m foo"\n`);
  });

  it('bad flags: one line, exit 2', () => {
    const r = podwire('trace', 'scenarios/clusterip.yaml', '--from', 'pod/nobody', '--to', '10.99.11.12:80');
    expect(r.code).toBe(2);
    expect(r.err).toBe('podwire: --from: no sender "pod/nobody" in scenarios/clusterip.yaml\n');
  });
});
