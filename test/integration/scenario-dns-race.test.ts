// scenarios/dns-race.yaml: glibc's A and AAAA queries of one lookup leave one UDP socket back to back;
// with the rule-cost model each spends its iptables walk between conntrack `in` and confirm on node1,
// so the AAAA query's entry is confirmed after the A query's and clashes with it. Linux >= 5.9
// resolves every such clash (nf_ct_resolve_clash): the lookups are all answered at once, node1's
// `conntrack -S` counts clash_resolve and no insert_failed, and where kube-proxy sent the two queries
// to different CoreDNS pods both answers still come back from the kube-dns address.
//
//   client (node1) --A, AAAA: client:P -> 10.96.0.10:53--> node1 [DNAT, held perRule x rules] --> CoreDNS pod 1 | pod 2
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { CLI, ensureBuilt } from '../scenario/dist.js';
import { ROOT, runScenarioFrames, type FramedRun } from './run-scenario.js';

interface StatsDoc {
  flows: { name: string; requests: number; successes: number; errors: number; latencyUs: { max: number } }[];
  counters: Record<string, Record<string, number>>;
}

describe('dns-race.yaml: the A/AAAA conntrack race, resolved', () => {
  let run: FramedRun;
  let stats: StatsDoc;
  beforeAll(() => {
    run = runScenarioFrames('dns-race');
    stats = JSON.parse(run.statsJson) as StatsDoc;
  });
  afterAll(() => rmSync(run.dir, { recursive: true, force: true }));

  it('every lookup is answered at once: no query waits for a resolver timeout', () => {
    const f = stats.flows.find((x) => x.name === 'lookup-web')!;
    expect([f.requests, f.successes, f.errors]).toEqual([20, 20, 0]);
    expect(f.latencyUs.max).toBeLessThan(50_000); // a lost query would cost glibc's 5 s timeout
  });

  it("node1's conntrack -S: each lookup's race resolved (clash_resolve), none failed", () => {
    const ct = stats.counters['conntrack/node1']!;
    expect(ct['clash_resolve']).toBeGreaterThanOrEqual(20); // one per lookup at least (VXLAN's outer flows race too)
    expect(ct['insert_failed']).toBe(0);
    expect(ct['drop']).toBe(0);
    expect(run.world.namespaces.get('node1')!.nf!.conntrack.stats.clash_resolve).toBe(ct['clash_resolve']);
  });

  it('the two queries of one socket reach different CoreDNS pods, and both answers come back from 10.96.0.10', () => {
    const podOf = new Map<number, Set<string>>();
    for (const f of run.frames) {
      const u = f.pkt.udp;
      if (u !== null && u.dstPort === 53 && f.ifName.startsWith('coredns-') && f.ifName.endsWith('/eth0')) {
        const s = podOf.get(u.srcPort) ?? new Set<string>();
        s.add(f.ifName);
        podOf.set(u.srcPort, s);
      }
    }
    expect(podOf.size).toBe(20); // a socket (an ephemeral port) per lookup
    const split = [...podOf].filter(([, pods]) => pods.size === 2).map(([port]) => port);
    // nf_ct_resolve_clash_harder's case (DNAT picked another pod for the AAAA query) and
    // __nf_ct_resolve_clash's (the same pod: merged) both occur.
    expect(split.length).toBeGreaterThan(0);
    expect(split.length).toBeLessThan(20);
    for (const port of podOf.keys()) {
      const answers = run.frames.filter((f) => f.ifName === 'client/eth0' && f.pkt.udp !== null && f.pkt.udp.dstPort === port && f.pkt.udp.srcPort === 53);
      expect(answers.map((f) => formatIpv4(f.pkt.ip!.src))).toEqual(['10.96.0.10', '10.96.0.10']);
    }
  });

  it('podwire inspect --conntrack-stats prints the same counters as conntrack -S does', () => {
    ensureBuilt();
    const r = spawnSync(process.execPath, [CLI, 'inspect', 'scenarios/dns-race.yaml', '--node', 'node1', '--conntrack-stats'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const n = stats.counters['conntrack/node1']!['clash_resolve'];
    expect(r.stdout).toBe(`cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=${n} chaintoolong=0 \n`);
  });
});
