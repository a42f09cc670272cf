// Tests for the iptables extension registry (netfilter/ext/): every registered match and target has a
// sample rule here; each sample parses into a record of its own kind, renders back byte for byte (the
// samples are written as iptables-save v1.8.9 prints them), and compiles. A new extension without a
// sample fails the first test.
import { describe, expect, it } from 'vitest';
import { CHAIN_TARGETS, MATCH_EXTENSIONS, TARGET_EXTENSIONS, findMatch, findTarget } from '../../src/netfilter/ext/index.js';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';
import { compileRuleTests } from '../../src/netfilter/matches.js';
import { compileTarget } from '../../src/netfilter/targets.js';
import { Conntrack } from '../../src/netfilter/conntrack.js';
import { IpSetTable } from '../../src/netfilter/ipset.js';
import type { MatchEnv } from '../../src/netfilter/x-tables.js';
import type { TableName } from '../../src/netfilter/rules.js';
import { FakeHost } from './helpers.js';

/** `-A` rule bodies as iptables-save prints them, per extension name. */
const MATCH_SAMPLES: Record<string, string[]> = {
  tcp: ['-p tcp -m tcp --sport 1024:65535 ! --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN', '-p tcp -m tcp --tcp-flags SYN,ACK NONE'],
  udp: ['-p udp -m udp --dport 53'],
  sctp: ['-p sctp -m sctp --sport 1:2 --dport 3'],
  icmp: ['-p icmp -m icmp --icmp-type 8', '-p icmp -m icmp ! --icmp-type 3/4', '-p icmp -m icmp --icmp-type any'],
  comment: ['-m comment --comment "ns1/svc1:p80 cluster IP"', '-m comment --comment plain'],
  addrtype: ['-m addrtype --src-type LOCAL,MULTICAST ! --dst-type LOCAL --limit-iface-in'],
  mark: ['-m mark --mark 0x4000/0x4000', '-m mark ! --mark 0x1'],
  connmark: ['-m connmark --mark 0x2/0xff'],
  statistic: ['-m statistic --mode random --probability 0.33333333349', '-m statistic --mode nth --every 3 --packet 1'],
  conntrack: [
    '-m conntrack --ctstate RELATED,ESTABLISHED',
    '-m conntrack ! --ctstate DNAT --ctproto 6 --ctorigsrc 10.0.0.0/8 --ctorigdst 1.2.3.4 --ctorigdstport 80 --ctstatus SEEN_REPLY,ASSURED --ctdir REPLY',
  ],
  state: ['-m state --state NEW,ESTABLISHED'],
  recent: ['-m recent --rcheck --seconds 60 --reap --hitcount 4 --name SSH --mask 255.255.255.255 --rsource'],
  multiport: ['-p tcp -m multiport --dports 80,443,8000:8080', '-p udp -m multiport ! --sports 53'],
  nfacct: ['-m nfacct --nfacct-name  acct1'],
  physdev: ['-m physdev --physdev-is-in --physdev-in veth0 ! --physdev-is-bridged'],
  set: ['-m set --match-set KUBE-CLUSTER-IP dst,dst', '-m set ! --match-set KUBE-LOOP-BACK dst,dst,src'],
  limit: ['-m limit --limit 5/min --limit-burst 10', '-m limit --limit 3/hour'],
  rpfilter: ['-m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert', '-m rpfilter --loose --validmark --accept-local --invert', '-m rpfilter'],
};
/** The table a match sample is loaded in when the match is not valid in filter. */
const MATCH_TABLE: Record<string, TableName> = { rpfilter: 'raw' };

/** [table, rule body] per target name. */
const TARGET_SAMPLES: Record<string, [TableName, string][]> = {
  ACCEPT: [['filter', '-j ACCEPT']],
  DROP: [['filter', '-j DROP']],
  RETURN: [['filter', '-j RETURN']],
  REJECT: [['filter', '-p tcp -j REJECT --reject-with tcp-reset'], ['filter', '-j REJECT --reject-with icmp-port-unreachable']],
  DNAT: [['nat', '-p tcp -j DNAT --to-destination 10.244.0.5:8080'], ['nat', '-j DNAT --to-destination 10.0.0.1-10.0.0.9 --random --persistent']],
  SNAT: [['nat', '-j SNAT --to-source 192.0.2.1:1024-2048 --random-fully']],
  MASQUERADE: [['nat', '-j MASQUERADE --random-fully'], ['nat', '-p tcp -j MASQUERADE --to-ports 1000-2000']],
  MARK: [['nat', '-j MARK --set-xmark 0x4000/0x4000'], ['mangle', '-j MARK --set-xmark 0x0/0xffffbfff']],
  CONNMARK: [['mangle', '-j CONNMARK --set-xmark 0x1/0xff'], ['mangle', '-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff']],
  NOTRACK: [['raw', '-j NOTRACK']],
  CT: [['raw', '-j CT --notrack']],
  LOG: [['filter', '-j LOG --log-prefix "drop: " --log-level 6 --log-tcp-options --log-uid']],
  TRACE: [['raw', '-j TRACE']],
  NFLOG: [['filter', '-j NFLOG --nflog-prefix "drop: " --nflog-group 100 --nflog-size 128 --nflog-threshold 2'], ['filter', '-j NFLOG']],
  CHECKSUM: [['mangle', '-o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill']],
  TCPMSS: [['mangle', '-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400'], ['filter', '-p tcp -j TCPMSS --set-mss 536']],
  jump: [['filter', '-j MY-CHAIN']],
  goto: [['filter', '-g MY-CHAIN']],
};

const CHAINS: Record<TableName, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** A one-rule dump in canonical iptables-save form. */
const dump = (table: TableName, body: string): string =>
  `*${table}\n${CHAINS[table].map((c) => `:${c} ACCEPT [0:0]\n`).join('')}:MY-CHAIN - [0:0]\n-A ${CHAINS[table][0]} ${body}\nCOMMIT\n`;

describe('the extension registry', () => {
  it('every registered match and target has a sample here, and names are unique', () => {
    const matchNames = MATCH_EXTENSIONS.map((e) => e.name);
    const targetNames = [...TARGET_EXTENSIONS, ...CHAIN_TARGETS].map((e) => e.name);
    expect(new Set(matchNames).size).toBe(matchNames.length);
    expect(new Set(targetNames).size).toBe(targetNames.length);
    expect(Object.keys(MATCH_SAMPLES).sort()).toEqual([...matchNames].sort());
    expect(Object.keys(TARGET_SAMPLES).sort()).toEqual([...targetNames].sort());
  });

  it('looks matches up by -m name and targets by -j name; chain targets are not names', () => {
    for (const e of MATCH_EXTENSIONS) expect(findMatch(e.name)).toBe(e);
    for (const e of TARGET_EXTENSIONS) expect(findTarget(e.name)).toBe(e);
    expect(findTarget('jump')).toBeUndefined();
    expect(findMatch('iprange')).toBeUndefined();
  });

  const host = new FakeHost([]);
  const menv: MatchEnv = { isLocalAddress: () => false, conntrack: new Conntrack(host.rng('nat-port')), random: () => true, recent: new Map(), ipsets: new IpSetTable(), reverseRoute: () => null };

  for (const [name, bodies] of Object.entries(MATCH_SAMPLES)) {
    it.each(bodies)(`-m ${name}: %s parses, renders byte for byte and compiles`, (body) => {
      const text = dump(MATCH_TABLE[name] ?? 'filter', `${body} -j ACCEPT`);
      const rs = parseIptablesSave(text, name);
      const rule = rs.tables[0]!.chains[0]!.rules[0]!;
      expect(rule.matches.map((m) => m.kind)).toContain(name);
      expect(renderIptablesSave(rs)).toBe(text);
      expect(parseIptablesSave(renderIptablesSave(rs))).toEqual(rs);
      expect(() => compileRuleTests(rule, menv)).not.toThrow();
    });
  }

  for (const [name, samples] of Object.entries(TARGET_SAMPLES)) {
    it.each(samples)(`-j ${name} (%s): %s parses, renders byte for byte and compiles`, (table, body) => {
      const text = dump(table, body);
      const rs = parseIptablesSave(text, name);
      const rule = rs.tables[0]!.chains[0]!.rules[0]!;
      expect(rule.target?.kind).toBe(name);
      expect(renderIptablesSave(rs)).toBe(text);
      expect(typeof compileTarget(rule.target)).toBe('function');
    });
  }

  it('a target restricted to a table (xt_target.table) is refused elsewhere', () => {
    expect(() => parseIptablesSave(dump('filter', '-j DNAT --to-destination 1.2.3.4'), 't')).toThrow('target "DNAT" is only valid in the nat table');
    expect(() => parseIptablesSave(dump('filter', '-j CT --notrack'), 't')).toThrow('target "CT" is only valid in the raw table');
  });

  it('final_check runs per extension (statistic, multiport, set)', () => {
    expect(() => parseIptablesSave(dump('filter', '-m statistic --mode nth --every 3'), 't')).toThrow('option "--every" also requires "--packet"');
    expect(() => parseIptablesSave(dump('filter', '-m multiport'), 't')).toThrow('multiport needs --dports');
    expect(() => parseIptablesSave(dump('filter', '-m set'), 't')).toThrow('set needs --match-set');
    expect(() => parseIptablesSave(dump('filter', '-m set --match-set X dst,up'), 't')).toThrow('invalid --match-set flags');
  });
});
