// Real nodes' iptables-save dumps (test/fixtures/iptables/real/README.md says where each came from): they
// load, print back as the real iptables-save prints them, and trace as the real kernel forwards. The
// verdicts below were checked by loading the same dumps with iptables-restore into a network namespace
// and connecting through it (EHOSTUNREACH for icmp-host-prohibited, ECONNREFUSED for port-unreachable).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';
import { canonicalize } from '../../src/netfilter/rules.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { traceDump } from '../../src/netfilter/trace-dump.js';
import { FakeHost, ip, tcp } from './helpers.js';

const text = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/iptables/real/${name}`, import.meta.url)), 'utf8');
const ruleLines = (s: string) => s.split('\n').filter((l) => l.startsWith('-A '));
const restore = (body: string, table = 'filter') =>
  `*${table}\n${(table === 'mangle' ? ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] : ['INPUT', 'FORWARD', 'OUTPUT']).map((c) => `:${c} ACCEPT [0:0]`).join('\n')}\n${body}\nCOMMIT\n`;
const parseError = (s: string): string => {
  try {
    parseIptablesSave(s, 'in');
  } catch (e) {
    return (e as Error).message;
  }
  return 'parsed';
};

describe('a CentOS node with flannel, Docker and libvirt', () => {
  const dump = text('centos-flannel-libvirt.save');

  it('loads (libvirt\'s -j CHECKSUM --checksum-fill) and prints every rule as the dump has it', () => {
    const rs = parseIptablesSave(dump, 'centos');
    expect(ruleLines(renderIptablesSave(canonicalize(rs)))).toEqual(ruleLines(dump));
  });

  it('a pod calling the API server through its ClusterIP is refused by INPUT\'s catch-all REJECT (the note\'s "no route to host")', () => {
    const rs = parseIptablesSave(dump, 'centos');
    const r = traceDump(rs, { localIps: [ip('192.168.1.5')], src: ip('10.1.0.66'), dst: ip('10.2.0.1'), dport: 443, proto: 'tcp' });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]).toMatchObject({ probability: 1, verdict: 'REJECT', by: '-A INPUT -j REJECT --reject-with icmp-host-prohibited' });
    expect(r.outcomes[0]!.path.some((p) => p.rule.includes('DNAT --to-destination 192.168.1.5:6443'))).toBe(true);
  });

  it('kube-dns without endpoints: FORWARD\'s KUBE-SERVICES rejects with port unreachable; ssh to the node is accepted', () => {
    const rs = parseIptablesSave(dump, 'centos');
    const dns = traceDump(rs, { localIps: [ip('192.168.1.5')], src: ip('10.1.0.66'), dst: ip('10.2.0.10'), dport: 53, proto: 'udp' });
    expect(dns.outcomes[0]!.verdict).toBe('REJECT');
    expect(dns.outcomes[0]!.by).toContain('kube-system/kube-dns:dns has no endpoints');
    const ssh = traceDump(rs, { localIps: [ip('192.168.1.5')], src: ip('8.8.8.8'), dst: ip('192.168.1.5'), dport: 22, proto: 'tcp' });
    expect(ssh.outcomes[0]).toMatchObject({ verdict: 'ACCEPT', by: '-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT' });
  });

  it('a libvirt guest going out: rejected as if it came in on eth0, accepted and masqueraded when it comes in on virbr0 (trace --in-iface)', () => {
    const rs = parseIptablesSave(dump, 'centos');
    const q = { localIps: [ip('192.168.1.5')], src: ip('192.168.122.5'), dst: ip('8.8.8.8'), dport: 80, proto: 'tcp' as const };
    expect(traceDump(rs, q).outcomes[0]).toMatchObject({ verdict: 'REJECT', by: '-A FORWARD -j REJECT --reject-with icmp-host-prohibited' });
    const guest = traceDump(rs, { ...q, inIface: 'virbr0' }).outcomes;
    expect(guest).toHaveLength(1);
    expect(guest[0]).toMatchObject({ verdict: 'ACCEPT', masquerade: true, by: '-A FORWARD -s 192.168.122.0/24 -i virbr0 -j ACCEPT' });
    // Into the guest network: out by virbr0 (libvirt's ESTABLISHED-only rule there does not take a new connection).
    const inbound = traceDump(rs, { localIps: [ip('192.168.1.5')], src: ip('8.8.8.8'), dst: ip('192.168.122.5'), dport: 80, proto: 'tcp', outIface: 'virbr0' }).outcomes[0]!;
    expect(inbound).toMatchObject({ verdict: 'REJECT', by: '-A FORWARD -o virbr0 -j REJECT --reject-with icmp-port-unreachable' });
  });

  it('CHECKSUM as iptables 1.8.9 checks it: mangle only, --checksum-fill required', () => {
    expect(parseError(restore('-A INPUT -j CHECKSUM --checksum-fill'))).toMatch(/^in:5:\d+: target "CHECKSUM" is only valid in the mangle table$/);
    expect(parseError(restore('-A POSTROUTING -j CHECKSUM', 'mangle'))).toMatch(/^in:7:\d+: CHECKSUM: option "--checksum-fill" must be specified$/);
  });
});

describe('a k3s node with kube-router\'s network policies', () => {
  const dump = text('k3s-kube-router.save');

  it('loads (-j NFLOG on every pod chain) and prints every rule, \\\' in comments included, as the dump has it', () => {
    const rs = parseIptablesSave(dump, 'k3s');
    expect(ruleLines(renderIptablesSave(canonicalize(rs)))).toEqual(ruleLines(dump));
  });

  it('a pod reaching redis through its ClusterIP is DNATed and accepted by the policy mark; NFLOG only logs', () => {
    const rs = parseIptablesSave(dump, 'k3s');
    const r = traceDump(rs, { localIps: [ip('192.168.1.105')], src: ip('10.42.0.7'), dst: ip('10.43.111.105'), dport: 6379, proto: 'tcp' });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]).toMatchObject({ verdict: 'ACCEPT', dnat: '10.42.0.11:6379', masquerade: false });
    expect(r.outcomes[0]!.by).toContain('--mark 0x20000/0x20000 -j ACCEPT');
  });

  it('a packet the policy chain did not mark reaches NFLOG, then the REJECT after it', () => {
    const rules = restore(
      [
        '-A INPUT -m mark ! --mark 0x10000/0x10000 -m limit --limit 10/min --limit-burst 10 -j NFLOG --nflog-group 100',
        '-A INPUT -m mark ! --mark 0x10000/0x10000 -j REJECT --reject-with icmp-port-unreachable',
      ].join('\n'),
    );
    const r = traceDump(parseIptablesSave(rules), { localIps: [ip('10.0.0.1')], src: ip('10.0.0.2'), dst: ip('10.0.0.1'), dport: 6379, proto: 'tcp' });
    expect(r.outcomes[0]!.verdict).toBe('REJECT');
    expect(r.outcomes[0]!.path.map((p) => p.rule)).toEqual(ruleLines(rules));
  });

  it('NFLOG options print as iptables 1.8.9 saves them (prefix, group, size, threshold; zero group and threshold left out; --nflog-range dropped)', () => {
    const rules = restore(
      [
        '-A INPUT -j NFLOG --nflog-threshold 65535 --nflog-size 0 --nflog-group 1 --nflog-prefix "it\'s"',
        '-A INPUT -j NFLOG --nflog-group 0 --nflog-threshold 0',
        '-A INPUT -j NFLOG --nflog-range 5 --nflog-group 3',
      ].join('\n'),
    );
    expect(ruleLines(renderIptablesSave(parseIptablesSave(rules)))).toEqual([
      '-A INPUT -j NFLOG --nflog-prefix "it\\\'s" --nflog-group 1 --nflog-size 0 --nflog-threshold 65535',
      '-A INPUT -j NFLOG',
      '-A INPUT -j NFLOG --nflog-group 3',
    ]);
    expect(parseError(restore('-A INPUT -j NFLOG --nflog-group 65536'))).toMatch(/^in:5:\d+: NFLOG: bad value for option "--nflog-group", or out of range \(0-65535\)$/);
  });
});

describe('protocol names and IPv6 dumps', () => {
  it('Calico\'s IP-in-IP rule: -p ipv4 (RHEL\'s /etc/protocols) and -p 4 load, and print as this machine\'s iptables-save prints them (ipencap)', () => {
    const line = (p: string) => `-A INPUT -p ${p} -m set ! --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j DROP`;
    for (const p of ['ipv4', '4', 'ipencap']) expect(ruleLines(renderIptablesSave(parseIptablesSave(restore(line(p)))))).toEqual([line('ipencap')]);
    expect(ruleLines(renderIptablesSave(parseIptablesSave(restore('-A INPUT -p 112 -j ACCEPT'))))).toEqual(['-A INPUT -p vrrp -j ACCEPT']);
  });

  it('an ip6tables-save dump is refused at its banner, even when no rule holds an address; an IPv6 address says so', () => {
    const v6 = `# Generated by ip6tables-save v1.8.10 (nf_tables) on Sat Mar  7 09:27:10 2026\n${restore('-A INPUT -j ACCEPT')}`;
    expect(parseError(v6)).toBe("in:1:1: an ip6tables-save dump (IPv6 rules): podwire's iptables model is IPv4 only; give it the iptables-save output");
    expect(parseError(restore('-A INPUT ! -d ::1/128 -j ACCEPT'))).toBe('in:5:15: IPv6 address "::1/128": podwire\'s iptables model is IPv4 only (ip6tables rules are not supported)');
  });
});

describe('Calico\'s reverse path check (-m rpfilter)', () => {
  // Calico's raw PREROUTING (projectcalico/calico#1129, felix#1421 dumps): packets from workload interfaces
  // are marked, and a marked packet whose source does not route back out of the interface it came in on is
  // dropped. Checked in namespaces with iptables 1.8.9: a pod's SYN from its own address (routed back via
  // its cali interface) reaches the node; one from an address routed elsewhere, or not at all, is dropped.
  const RAW = `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -i cali+ -j MARK --set-xmark 0x40000/0x40000\n-A PREROUTING -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP\nCOMMIT\n`;
  class RoutedHost extends FakeHost {
    reverseRoute(a: number) {
      if (this.isLocalAddress(a)) return { type: 'local' as const, dev: 'lo' };
      if (a === ip('10.0.0.7')) return { type: 'unicast' as const, dev: 'cali1234' };
      if (a >>> 24 === 10) return null;
      return { type: 'unicast' as const, dev: 'eth0' };
    }
  }
  const verdict = (src: string, inIf: string) => {
    const nf = new Netfilter(new RoutedHost([ip('192.168.1.5')]));
    nf.load(parseIptablesSave(RAW, 'raw'));
    return nf.hook(NfHook.PREROUTING, tcp(src, 40000, '192.168.1.5', 22), inIf, null).kind;
  };

  it('a pod\'s own address passes, a spoofed or unroutable one is dropped, an unmarked packet is not checked', () => {
    expect(verdict('10.0.0.7', 'cali1234')).toBe('accept');
    expect(verdict('8.8.8.8', 'cali1234')).toBe('drop');
    expect(verdict('10.0.0.99', 'cali1234')).toBe('drop');
    expect(verdict('8.8.8.8', 'eth0')).toBe('accept');
  });

  it('prints as iptables-save does and is refused outside raw and mangle, as the kernel\'s checkentry refuses it', () => {
    expect(ruleLines(renderIptablesSave(parseIptablesSave(RAW)))).toEqual(ruleLines(RAW));
    expect(parseError(restore('-A INPUT -m rpfilter -j DROP'))).toMatch(/^in:5:\d+: match "rpfilter" is only valid in the raw or mangle table$/);
  });

  // xt_rpfilter registers for PREROUTING only: a rule in any chain another hook reaches is refused (EINVAL),
  // through user chains too (Calico's own lives in cali-PREROUTING, which only PREROUTING jumps to). The lines
  // are iptables-nft-restore's (test/fidelity/kernel-restore.test.ts compares them with the kernel's).
  it('is refused in a chain OUTPUT or FORWARD reaches, at the later of the rule and the jump, as iptables-nft-restore refuses it', () => {
    const raw = (...body: string[]) => `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:x - [0:0]\n:y - [0:0]\n${body.join('\n')}\nCOMMIT\n`;
    expect(parseError(raw('-A OUTPUT -j x', '-A x -m rpfilter --invert -j DROP'))).toBe('in:7:6: match "rpfilter" is only valid in PREROUTING, and chain x is reached from OUTPUT (OUTPUT -> x): the kernel refuses the rule (EINVAL)');
    expect(parseError(raw('-A x -m rpfilter -j DROP', '-A OUTPUT -j x'))).toBe('in:7:14: this jump reaches a rule with match "rpfilter" (line 6) from OUTPUT (OUTPUT -> x), and it is only valid in PREROUTING: the kernel refuses it (EINVAL)');
    expect(parseError(raw('-A PREROUTING -j x', '-A OUTPUT -j y', '-A y -g x', '-A x -m rpfilter -j DROP'))).toMatch(/^in:9:6: .*reached from OUTPUT \(OUTPUT -> y -> x\)/);
    expect(parseError(restore('-A FORWARD -m rpfilter -j DROP', 'mangle'))).toBe('in:7:12: match "rpfilter" is only valid in PREROUTING, not FORWARD: the kernel refuses the rule (EINVAL)');
    // Reached from PREROUTING alone (by -j or -g), or from no hook: accepted.
    expect(parseError(raw('-A PREROUTING -j x', '-A x -m rpfilter --validmark --invert -j DROP'))).toBe('parsed');
    expect(parseError(raw('-A PREROUTING -g y', '-A y -j x', '-A x -m rpfilter -j DROP'))).toBe('parsed');
    expect(parseError(raw('-A x -m rpfilter -j DROP'))).toBe('parsed');
    expect(parseError(restore('-A PREROUTING -m rpfilter -j DROP', 'mangle'))).toBe('parsed');
    // A rule flushed before COMMIT is not checked.
    expect(parseError(raw('-A OUTPUT -j x', '-A x -m rpfilter -j DROP', '-F x'))).toBe('parsed');
  });

  it('trace --iptables-save: a dump holding it loads, and a packet from the one interface passes the check', () => {
    const rs = parseIptablesSave(RAW.replace('-i cali+ ', ''), 'raw');
    const r = traceDump(rs, { localIps: [ip('192.168.1.5')], src: ip('203.0.113.9'), dst: ip('192.168.1.5'), dport: 22, proto: 'tcp' });
    expect(r.outcomes.map((o) => o.verdict)).toEqual(['ACCEPT']);
  });
});

describe('Calico\'s ip sets (trace --iptables-save --ipset-save)', () => {
  const dump = () => parseIptablesSave(text('calico-excerpt.restore'), 'calico');
  const q = { localIps: [ip('10.0.0.1')], src: ip('192.168.5.7'), dst: ip('8.8.8.8'), dport: 80, proto: 'tcp' as const };

  it('without the sets the trace is refused naming them (it reported a DROP by "conntrack: rule-error")', () => {
    expect(() => traceDump(dump(), q)).toThrow('the rules match ip sets that are not given: cali40all-hosts-net, cali40masq-ipam-pools, cali40all-ipam-pools');
  });

  it('with the node\'s `ipset save` a pod\'s packet to the internet leaves by cali-nat-outgoing\'s MASQUERADE', () => {
    const r = traceDump(dump(), { ...q, ipsets: { text: text('calico.ipset'), file: 'calico.ipset' } });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]).toMatchObject({ verdict: 'ACCEPT', masquerade: true, dnat: null });
    expect(r.outcomes[0]!.path.at(-1)!.rule).toContain('-m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE');
    // A destination inside the pools is not masqueraded.
    const inPool = traceDump(dump(), { ...q, dst: ip('192.168.9.9'), ipsets: { text: text('calico.ipset'), file: 'calico.ipset' } });
    expect(inPool.outcomes[0]).toMatchObject({ verdict: 'ACCEPT', masquerade: false });
  });
});
