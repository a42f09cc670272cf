// Tests for netfilter/netfilter + conntrack: hook order, traversal, counters, trace, NAT bindings,
// conntrack states and timeouts.
//
//   client 203.0.113.2 --eth0-- [ node: 192.168.0.2, nat/filter ] --cni0-- pods 10.244.0.0/24
//
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import { formatConntrackTable, CtStatus } from '../../src/netfilter/conntrack.js';
import { Netfilter, NfHook, type NfTraceEvent } from '../../src/netfilter/netfilter.js';
import { IcmpType, IcmpUnreachCode, TcpFlag } from '../../src/wire/types.js';
import { FakeHost, icmp, ip, ipStr, rules, tcp, udp } from './helpers.js';

const NODE = '192.168.0.2';
const host = (seed = 1) => new FakeHost([ip(NODE)], { eth0: ip(NODE), cni0: ip('10.244.0.1') }, seed);

/** Forwards a packet through the node: PREROUTING, FORWARD, POSTROUTING; returns the first non-accept verdict or 'accept'. */
function forward(nf: Netfilter, p: ReturnType<typeof tcp>, inIf: string, outIf: string): string {
  for (const [h, i, o] of [[NfHook.PREROUTING, inIf, null], [NfHook.FORWARD, inIf, outIf], [NfHook.POSTROUTING, null, outIf]] as const) {
    const v = nf.hook(h, p, i, o);
    if (v.kind !== 'accept') return v.kind === 'drop' ? `drop:${v.reason}` : `reject:${v.with}`;
  }
  return 'accept';
}

/** The rules `send`'s packets match (chain:rule, in order) in a Netfilter loaded with `text`, whose chains of `indexMinRules` rules or more are indexed. */
function matchedRules(text: string, indexMinRules: number, send: (nf: Netfilter) => void): string[] {
  const nf = new Netfilter(host(), { indexMinRules });
  nf.load(rules(text));
  const out: string[] = [];
  nf.trace = (e) => out.push(`${e.chain}:${e.rule}`);
  send(nf);
  return out;
}

describe('traversal', () => {
  it('jumps, goto, RETURN, policies, counters (bytes = IP total length) and trace', () => {
    const nf = new Netfilter(host());
    nf.load(
      rules(`*filter
        :INPUT DROP [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :A - [0:0]
        :B - [0:0]
        -A INPUT -p tcp --dport 22 -j A
        -A INPUT -p tcp --dport 23 -g B
        -A INPUT -p tcp --dport 80 -j ACCEPT
        -A A -s 10.0.0.0/8 -j RETURN
        -A A -j ACCEPT
        -A B -j RETURN
        -A B -j ACCEPT
        COMMIT
      `),
    );
    const events: NfTraceEvent[] = [];
    nf.trace = (e) => events.push(e);
    expect(nf.hook(NfHook.INPUT, tcp('1.1.1.1', 1000, NODE, 22, TcpFlag.SYN, 60), 'eth0', null).kind).toBe('accept');
    expect(events.map((e) => `${e.chain}:${e.rule}`)).toEqual(['INPUT:0', 'A:1']);
    events.length = 0;
    // From 10/8: A returns, INPUT continues, nothing else matches: policy DROP.
    const v = nf.hook(NfHook.INPUT, tcp('10.1.1.1', 1000, NODE, 22), 'eth0', null);
    expect(v).toMatchObject({ kind: 'drop', reason: 'policy-drop', table: 'filter', chain: 'INPUT', rule: -1 });
    expect(events.map((e) => e.text)).toEqual(['-A INPUT -p tcp -m tcp --dport 22 -j A', '-A A -s 10.0.0.0/8 -j RETURN', ':INPUT DROP']);
    // goto B then RETURN: returns past INPUT (goto does not push), so INPUT's policy applies.
    expect(nf.hook(NfHook.INPUT, tcp('1.1.1.1', 1000, NODE, 23), 'eth0', null)).toMatchObject({ kind: 'drop', reason: 'policy-drop' });
    const rs = nf.ruleset();
    const input = rs.tables[0]!.chains.find((c) => c.name === 'INPUT')!;
    expect(input.rules[0]!.counters).toEqual({ packets: 2, bytes: 140 });
    expect(input.counters).toEqual({ packets: 2, bytes: 80 });
    expect(nf.save()).toContain('-A INPUT -p tcp -m tcp --dport 23 -g B\n');
  });

  it('tables run in priority order: raw NOTRACK before conntrack, mangle MARK before filter', () => {
    const nf = new Netfilter(host());
    nf.load(
      rules(`*raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A PREROUTING -p udp --dport 53 -j CT --notrack
        COMMIT
        *mangle
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A PREROUTING -i eth0 -j MARK --set-xmark 0x10/0xff
        COMMIT
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -m conntrack --ctstate UNTRACKED -j DROP
        -A INPUT -m mark --mark 0x10/0xff -j REJECT --reject-with tcp-reset
        COMMIT
      `),
    );
    const d = udp('1.1.1.1', 999, NODE, 53);
    expect(nf.hook(NfHook.PREROUTING, d, 'eth0', null).kind).toBe('accept');
    expect(nf.hook(NfHook.INPUT, d, 'eth0', null)).toMatchObject({ kind: 'drop', reason: 'rule-drop', chain: 'INPUT', rule: 0 });
    const s = tcp('1.1.1.1', 999, NODE, 80);
    nf.hook(NfHook.PREROUTING, s, 'eth0', null);
    expect(s.mark).toBe(0x10);
    expect(nf.hook(NfHook.INPUT, s, 'eth0', null)).toMatchObject({ kind: 'reject', with: 'tcp-reset' });
  });

  it('the destination index of a big chain reports the same matched rules as a linear walk', () => {
    let text = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:MARKED - [0:0]\n';
    text += '-A PREROUTING -j KUBE-SERVICES\n';
    for (let i = 0; i < 60; i++) {
      if (i % 7 === 3) text += `-A KUBE-SERVICES -s 10.0.${i}.0/24 -j MARKED\n`;
      text += `-A KUBE-SERVICES -d 172.30.0.${i}/32 -p ${i % 2 ? 'udp' : 'tcp'} -m ${i % 2 ? 'udp' : 'tcp'} --dport ${80 + (i % 3)} -j MARKED\n`;
    }
    text += '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j MARKED\n-A MARKED -j MARK --set-xmark 0x1/0x1\nCOMMIT\n';
    const run = (indexMinRules: number): string[] =>
      matchedRules(text, indexMinRules, (nf) => {
        for (let i = 0; i < 62; i++) {
          const src = `10.0.${i % 64}.5`;
          const pk = i % 2 ? udp(src, 5000 + i, `172.30.0.${i % 61}`, 80 + (i % 3)) : tcp(src, 5000 + i, `172.30.0.${i % 61}`, 80 + (i % 3));
          nf.hook(NfHook.PREROUTING, pk, 'eth0', null);
          nf.hook(NfHook.PREROUTING, tcp(src, 6000 + i, NODE, 80), 'eth0', null);
        }
      });
    const linear = run(Infinity);
    expect(linear.length).toBeGreaterThan(100);
    expect(run(32)).toEqual(linear);
  });

  it('the destination index skips the tests of fully keyed rules only for packets carrying the header their port match reads', () => {
    let text = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:MARKED - [0:0]\n';
    text += '-A PREROUTING -j KUBE-SERVICES\n';
    for (let i = 0; i < 40; i++) {
      const p = i % 2 ? 'udp' : 'tcp';
      // Fully keyed (a comment tests nothing), and a twin bucket rule that also tests the source.
      text += `-A KUBE-SERVICES -d 172.30.0.${i}/32 -p ${p} -m comment --comment "svc ${i}" -m ${p} --dport 80 -j MARKED\n`;
      if (i % 5 === 0) text += `-A KUBE-SERVICES -s 10.1.0.0/16 -d 172.30.0.${i}/32 -p ${p} -m ${p} --dport 80 -j MARKED\n`;
    }
    text += '-A MARKED -j MARK --set-xmark 0x1/0x1\nCOMMIT\n';
    const run = (indexMinRules: number): string[] =>
      matchedRules(text, indexMinRules, (nf) => {
        for (let i = 0; i < 40; i++) {
          const dst = `172.30.0.${i}`;
          const src = i % 10 === 0 ? '10.1.0.5' : '10.3.0.5'; // the twins' source, or another
          const right = i % 2 ? udp(src, 5000 + i, dst, 80) : tcp(src, 5000 + i, dst, 80);
          nf.hook(NfHook.PREROUTING, right, 'eth0', null);
          // The other transport's record under this protocol number: the rule's -m tcp / -m udp fails.
          const wrong = i % 2 ? tcp('10.2.0.5', 6000 + i, dst, 80) : udp('10.2.0.5', 6000 + i, dst, 80);
          wrong.ip!.protocol = i % 2 ? 17 : 6;
          nf.hook(NfHook.PREROUTING, wrong, 'eth0', null);
        }
      });
    const linear = run(Infinity);
    expect(linear.filter((l) => l.startsWith('KUBE-SERVICES')).length).toBe(44); // 40 keyed rules, 4 of the 8 twins
    expect(run(32)).toEqual(linear);
  });

  it('the port index (rules keyed by protocol and port, no /32 destination: KUBE-NODEPORTS) reports the same matched rules as a linear walk', () => {
    let text = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-NODEPORTS - [0:0]\n:MARKED - [0:0]\n';
    text += '-A PREROUTING -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n';
    for (let i = 0; i < 80; i++) {
      if (i % 11 === 5) text += `-A KUBE-NODEPORTS -p udp -j MARKED\n`; // protocol only: wild
      else if (i % 13 === 7) text += `-A KUBE-NODEPORTS -d 10.0.0.0/8 -p tcp -m tcp --dport ${30000 + (i % 5)} -j MARKED\n`; // not /32: keyed by port
      else if (i % 17 === 2) text += `-A KUBE-NODEPORTS -p tcp -m tcp ! --dport ${30000 + i} -j MARKED\n`; // negated port: wild
      else text += `-A KUBE-NODEPORTS -p ${i % 2 ? 'udp' : 'tcp'} -m ${i % 2 ? 'udp' : 'tcp'} --dport ${30000 + (i % 9)} -j MARKED\n`;
    }
    text += '-A MARKED -j MARK --set-xmark 0x1/0x1\nCOMMIT\n';
    const run = (indexMinRules: number): string[] =>
      matchedRules(text, indexMinRules, (nf) => {
        for (let i = 0; i < 40; i++) {
          const port = 30000 + (i % 12);
          const pk = i % 2 ? udp('1.1.1.1', 5000 + i, NODE, port) : tcp('1.1.1.1', 5000 + i, NODE, port);
          nf.hook(NfHook.PREROUTING, pk, 'eth0', null);
        }
      });
    const linear = run(Infinity);
    expect(linear.filter((l) => l.startsWith('KUBE-NODEPORTS')).length).toBeGreaterThan(80);
    expect(run(32)).toEqual(linear);
  });
});

describe('NAT and conntrack', () => {
  const natRules = (extra = '') =>
    rules(`*nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      :SVC - [0:0]
      -A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j SVC
      -A SVC -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.0.5:8080
      -A SVC -j DNAT --to-destination 10.244.0.6:8080
      -A POSTROUTING -s 10.244.0.0/24 -o eth0 -j MASQUERADE${extra}
      COMMIT
    `);

  it('DNAT on the first packet, binding reused for later packets, reply un-DNATed', () => {
    const nf = new Netfilter(host());
    nf.load(natRules());
    const syn = tcp('203.0.113.2', 40000, '10.96.0.10', 80);
    expect(forward(nf, syn, 'eth0', 'cni0')).toBe('accept');
    const ep = ipStr(syn.ip!.dst);
    expect(['10.244.0.5', '10.244.0.6']).toContain(ep);
    expect(syn.tcp!.dstPort).toBe(8080);
    expect(syn.tcp!.checksum).toBeNull();
    // 20 more packets of the same connection go to the same endpoint: statistic is not consulted again.
    const svcCounter = () => nf.ruleset().tables[0]!.chains.find((c) => c.name === 'SVC')!.rules[0]!.counters.packets;
    const before = svcCounter();
    for (let k = 0; k < 20; k++) {
      const p = tcp('203.0.113.2', 40000, '10.96.0.10', 80, TcpFlag.ACK);
      forward(nf, p, 'eth0', 'cni0');
      expect(ipStr(p.ip!.dst)).toBe(ep);
    }
    expect(svcCounter()).toBe(before);
    // Reply from the endpoint: source rewritten back to the VIP.
    const synack = tcp(ep, 8080, '203.0.113.2', 40000, TcpFlag.SYN | TcpFlag.ACK);
    expect(forward(nf, synack, 'cni0', 'eth0')).toBe('accept');
    expect(ipStr(synack.ip!.src)).toBe('10.96.0.10');
    expect(synack.tcp!.srcPort).toBe(80);
    const ct = nf.conntrack.list()[0]!;
    expect(ct.status & CtStatus.SEEN_REPLY).toBeTruthy();
    expect(ct.tcpState).toBe('SYN_RECV');
  });

  it('DNAT to a port only keeps each packet its own address, in one namespace and in two sharing the rule', () => {
    const text = `*nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination :8080
      COMMIT
    `;
    const a = new Netfilter(host());
    const b = new Netfilter(host());
    a.load(rules(text));
    b.load(rules(text)); // the same text: the two share the compiled chains and their targets
    const sends: [Netfilter, string, string][] = [
      [a, '203.0.113.2', '10.244.0.5'],
      [b, '203.0.113.3', '10.244.0.6'],
      [a, '203.0.113.4', '10.244.0.7'],
    ];
    for (const [nf, src, dst] of sends) {
      const syn = tcp(src, 40000, dst, 80);
      expect(forward(nf, syn, 'eth0', 'cni0')).toBe('accept');
      expect([ipStr(syn.ip!.src), syn.tcp!.srcPort, ipStr(syn.ip!.dst), syn.tcp!.dstPort]).toEqual([src, 40000, dst, 8080]);
    }
  });

  it('statistic random picks once per connection, evenly, and deterministically for a seed', () => {
    const picks = (seed: number): string[] => {
      const nf = new Netfilter(host(seed));
      nf.load(natRules());
      const out: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const p = tcp('203.0.113.2', 10000 + i, '10.96.0.10', 80);
        forward(nf, p, 'eth0', 'cni0');
        out.push(ipStr(p.ip!.dst));
      }
      return out;
    };
    const a = picks(7);
    expect(picks(7)).toEqual(a);
    expect(picks(8)).not.toEqual(a);
    const n5 = a.filter((x) => x === '10.244.0.5').length;
    expect(n5).toBeGreaterThan(900);
    expect(n5).toBeLessThan(1100);
  });

  it('MASQUERADE keeps the source port unless it clashes, then picks another; replies are un-SNATed', () => {
    const nf = new Netfilter(host());
    nf.load(natRules());
    const a = tcp('10.244.0.5', 33000, '8.8.8.8', 443);
    expect(forward(nf, a, 'cni0', 'eth0')).toBe('accept');
    expect([ipStr(a.ip!.src), a.tcp!.srcPort]).toEqual([NODE, 33000]);
    const b = tcp('10.244.0.6', 33000, '8.8.8.8', 443);
    forward(nf, b, 'cni0', 'eth0');
    expect(ipStr(b.ip!.src)).toBe(NODE);
    expect(b.tcp!.srcPort).not.toBe(33000);
    expect(b.tcp!.srcPort).toBeGreaterThanOrEqual(1024);
    const reply = tcp('8.8.8.8', 443, NODE, b.tcp!.srcPort, TcpFlag.SYN | TcpFlag.ACK);
    forward(nf, reply, 'eth0', 'cni0');
    expect([ipStr(reply.ip!.dst), reply.tcp!.dstPort]).toEqual(['10.244.0.6', 33000]);
  });

  it('MASQUERADE --random-fully draws the port from the seeded nat-port stream', () => {
    const ports = (seed: number) => {
      const nf = new Netfilter(host(seed));
      nf.load(natRules(' --random-fully'));
      return [0, 1, 2].map((i) => {
        const p = tcp('10.244.0.5', 33000 + i, '8.8.8.8', 443);
        forward(nf, p, 'cni0', 'eth0');
        return p.tcp!.srcPort;
      });
    };
    const a = ports(3);
    expect(a).toEqual(ports(3));
    expect(a).not.toContain(33000);
    expect(a.every((p) => p >= 1024 && p <= 65535)).toBe(true);
  });

  it('MASQUERADE with no address on the device drops with a typed reason', () => {
    const nf = new Netfilter(new FakeHost([ip(NODE)], {}));
    nf.load(natRules());
    expect(forward(nf, tcp('10.244.0.5', 1, '8.8.8.8', 2), 'cni0', 'eth0')).toBe('drop:masquerade-no-address');
  });

  it('ctstate NEW / ESTABLISHED / INVALID / RELATED and ICMP errors translated inside', () => {
    const nf = new Netfilter(host());
    nf.load(
      rules(`*nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A PREROUTING -d 10.96.0.10/32 -p udp -j DNAT --to-destination 10.244.0.5:5353
        COMMIT
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A FORWARD -m conntrack --ctstate INVALID -j DROP
        -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A FORWARD -m conntrack --ctstate NEW --ctorigdst 10.96.0.10 -j ACCEPT
        COMMIT
      `),
    );
    // A RST for nothing is INVALID.
    expect(forward(nf, tcp('203.0.113.2', 1, '10.244.0.5', 2, TcpFlag.RST), 'eth0', 'cni0')).toBe('drop:rule-drop');
    // NEW is accepted only toward the VIP.
    const q = udp('203.0.113.2', 5000, '10.96.0.10', 53);
    expect(forward(nf, q, 'eth0', 'cni0')).toBe('accept');
    expect(forward(nf, udp('203.0.113.2', 5000, '10.244.0.7', 53), 'eth0', 'cni0')).toBe('drop:policy-drop');
    // The endpoint answers with port unreachable quoting the DNATed datagram: RELATED, and both the
    // outer source and the quoted destination are translated back to the VIP.
    const quoted = udp('203.0.113.2', 5000, '10.244.0.5', 5353);
    const err = icmp('10.244.0.5', '203.0.113.2', IcmpType.DEST_UNREACH, IcmpUnreachCode.PORT, 0, quoted);
    expect(forward(nf, err, 'cni0', 'eth0')).toBe('accept');
    expect(ipStr(err.ip!.src)).toBe('10.96.0.10');
    expect([ipStr(quoted.ip!.dst), quoted.udp!.dstPort]).toEqual(['10.96.0.10', 53]);
    // The reply datagram is ESTABLISHED and un-DNATed.
    const ans = udp('10.244.0.5', 5353, '203.0.113.2', 5000);
    expect(forward(nf, ans, 'cni0', 'eth0')).toBe('accept');
    expect([ipStr(ans.ip!.src), ans.udp!.srcPort]).toEqual(['10.96.0.10', 53]);
  });

  it('TCP states and Linux default timeouts; UDP 30 s unreplied, 120 s once replied; conntrack -L', () => {
    const h = host();
    const nf = new Netfilter(h);
    nf.load(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'));
    const c = '203.0.113.2';
    const s = '10.244.0.5';
    const seq: [string, number, string, number, number][] = [
      [c, 40000, s, 80, TcpFlag.SYN],
      [s, 80, c, 40000, TcpFlag.SYN | TcpFlag.ACK],
      [c, 40000, s, 80, TcpFlag.ACK],
    ];
    for (const [a, ap, b, bp, f] of seq) forward(nf, tcp(a, ap, b, bp, f), 'eth0', 'cni0');
    const ct = nf.conntrack.list()[0]!;
    expect(ct.tcpState).toBe('ESTABLISHED');
    expect(ct.status & CtStatus.ASSURED).toBeTruthy();
    expect(ct.expires).toBe(432000 * SEC);
    expect(formatConntrackTable(nf.conntrack, 0)).toBe(
      'tcp      6 432000 ESTABLISHED src=203.0.113.2 dst=10.244.0.5 sport=40000 dport=80 src=10.244.0.5 dst=203.0.113.2 sport=80 dport=40000 [ASSURED] mark=0 use=1\n',
    );
    forward(nf, tcp(c, 40000, s, 80, TcpFlag.FIN | TcpFlag.ACK), 'eth0', 'cni0');
    expect(ct.tcpState).toBe('FIN_WAIT');
    forward(nf, tcp(s, 80, c, 40000, TcpFlag.FIN | TcpFlag.ACK), 'cni0', 'eth0');
    expect(ct.tcpState).toBe('LAST_ACK');
    forward(nf, tcp(c, 40000, s, 80, TcpFlag.ACK), 'eth0', 'cni0');
    expect(ct.tcpState).toBe('TIME_WAIT');
    expect(ct.expires).toBe(120 * SEC);

    forward(nf, udp(c, 7000, s, 53), 'eth0', 'cni0');
    const u = nf.conntrack.list()[1]!;
    expect(u.expires - h.t).toBe(30 * SEC);
    expect(formatConntrackTable(nf.conntrack, 0).split('\n')[1]).toBe(
      'udp      17 30 src=203.0.113.2 dst=10.244.0.5 sport=7000 dport=53 [UNREPLIED] src=10.244.0.5 dst=203.0.113.2 sport=53 dport=7000 mark=0 use=1',
    );
    h.t = 1 * SEC;
    forward(nf, udp(s, 53, c, 7000), 'cni0', 'eth0');
    expect([u.expires - h.t, u.status & CtStatus.ASSURED]).toEqual([30 * SEC, 0]); // answered within 2 s: not yet a stream
    h.t = 10 * SEC;
    forward(nf, udp(s, 53, c, 7000), 'cni0', 'eth0');
    expect(u.expires - h.t).toBe(120 * SEC);
    h.t = 200 * SEC;
    expect(nf.conntrack.gc(h.t)).toBe(2);
  });

  it('expired entries are reaped as new connections come (the gc worker), and conntrack -L never lists them', () => {
    const h = host();
    const nf = new Netfilter(h);
    nf.load(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'));
    forward(nf, udp('203.0.113.2', 7000, '10.244.0.5', 53), 'eth0', 'cni0');
    const old = nf.conntrack.list()[0]!;
    h.t = 30 * SEC; // its 30 s are over: nothing has reaped it yet, but conntrack -L (ctnetlink's dump) skips it
    expect(nf.conntrack.count).toBe(1);
    expect(formatConntrackTable(nf.conntrack, h.t)).toBe('');
    expect(formatConntrackTable(nf.conntrack, h.t - 1)).toContain('sport=7000');
    forward(nf, udp('203.0.113.2', 7001, '10.244.0.5', 53), 'eth0', 'cni0');
    expect(nf.conntrack.list().map((ct) => ct.orig.sport)).toEqual([7001]);
    expect(old.status & CtStatus.DYING).toBe(CtStatus.DYING);
    // One new flow a second, each idle after its first packet: the table stays near the 30 s of live
    // entries instead of growing with every flow ever seen, and the live ones all stay.
    for (let i = 0; i < 300; i++) {
      h.t += SEC;
      forward(nf, udp('203.0.113.2', 8000 + i, '10.244.0.5', 53), 'eth0', 'cni0');
    }
    const live = nf.conntrack.list().filter((ct) => ct.expires > h.t);
    expect(live.map((ct) => ct.orig.sport)).toEqual(Array.from({ length: 30 }, (_, i) => 8270 + i));
    expect(nf.conntrack.count).toBeLessThanOrEqual(2 * 30 + 2);
    expect(formatConntrackTable(nf.conntrack, h.t).split('\n').filter(Boolean)).toHaveLength(30);
  });

  it('an entry expired but not yet reaped is absent for a new packet of its tuple (a fresh entry, NEW again)', () => {
    const h = host();
    const nf = new Netfilter(h);
    nf.load(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'));
    forward(nf, udp('203.0.113.2', 7000, '10.244.0.5', 53), 'eth0', 'cni0');
    forward(nf, udp('10.244.0.5', 53, '203.0.113.2', 7000), 'cni0', 'eth0');
    const old = nf.conntrack.list()[0]!;
    expect(old.status & CtStatus.SEEN_REPLY).toBe(CtStatus.SEEN_REPLY);
    h.t = 31 * SEC;
    forward(nf, udp('203.0.113.2', 7000, '10.244.0.5', 53), 'eth0', 'cni0');
    const [fresh] = nf.conntrack.list();
    expect(fresh).not.toBe(old);
    expect(fresh!.status & CtStatus.SEEN_REPLY).toBe(0);
    expect(nf.conntrack.count).toBe(1);
  });

  it('a full table drops new connections with a typed reason after early drop finds only assured entries', () => {
    const h = host();
    const nf = new Netfilter(h, { conntrack: { max: 2 } });
    nf.load(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'));
    // A UDP flow is ASSURED once it is answered and still active more than 2 s after its first packet.
    const assured = (port: number) => {
      forward(nf, udp('203.0.113.2', port, '10.244.0.5', 53), 'eth0', 'cni0');
      forward(nf, udp('10.244.0.5', 53, '203.0.113.2', port), 'cni0', 'eth0');
      h.t += 3 * SEC;
      forward(nf, udp('203.0.113.2', port, '10.244.0.5', 53), 'eth0', 'cni0');
    };
    assured(1);
    forward(nf, udp('203.0.113.2', 2, '10.244.0.5', 53), 'eth0', 'cni0'); // not assured: early-drop victim
    expect(forward(nf, udp('203.0.113.2', 3, '10.244.0.5', 53), 'eth0', 'cni0')).toBe('accept');
    expect(nf.conntrack.count).toBe(2);
    assured(4); // evicts #3, becomes assured
    expect(forward(nf, udp('203.0.113.2', 5, '10.244.0.5', 53), 'eth0', 'cni0')).toBe('drop:conntrack-table-full');
  });

  it('early drop looks at a bounded window of the table, as the kernel looks at 8 hash buckets', () => {
    const h = host();
    const nf = new Netfilter(h, { conntrack: { max: 1000 } });
    nf.load(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'));
    // 999 answered flows, then one never answered (entry 1000), then 2 s later the answered ones again: ASSURED.
    for (let p = 1; p < 1000; p++) {
      forward(nf, udp('203.0.113.2', p, '10.244.0.5', 53), 'eth0', 'cni0');
      forward(nf, udp('10.244.0.5', 53, '203.0.113.2', p), 'cni0', 'eth0');
    }
    forward(nf, udp('203.0.113.2', 1000, '10.244.0.5', 53), 'eth0', 'cni0');
    h.t += 3 * SEC;
    for (let p = 1; p < 1000; p++) forward(nf, udp('203.0.113.2', p, '10.244.0.5', 53), 'eth0', 'cni0');
    expect(nf.conntrack.count).toBe(1000);
    // New flows: each looks at 64 entries from where the last look stopped. A flow that finds the entry
    // that is not ASSURED evicts it and becomes that entry itself (not ASSURED, at the tail); the others
    // find a full table — a whole-table search would have let all 40 in.
    const verdicts: string[] = [];
    for (let p = 2000; p < 2040; p++) verdicts.push(forward(nf, udp('203.0.113.2', p, '10.244.0.5', 53), 'eth0', 'cni0'));
    const accepted = verdicts.filter((v) => v === 'accept').length;
    expect(verdicts.every((v) => v === 'accept' || v === 'drop:conntrack-table-full')).toBe(true);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(Math.ceil((40 * 66) / 1000));
    expect(nf.conntrack.stats.early_drop).toBe(accepted);
    expect(nf.conntrack.stats.drop).toBe(40 - accepted);
    expect(nf.conntrack.count).toBe(1000);
  });

  it('an unknown ipset is an evaluation error: the packet is dropped with reason rule-error', () => {
    const nf = new Netfilter(host());
    nf.load(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m set --match-set KUBE-X src -j ACCEPT\nCOMMIT\n'));
    expect(nf.hook(NfHook.INPUT, tcp('1.1.1.1', 1, NODE, 2), 'eth0', null)).toMatchObject({ kind: 'drop', reason: 'rule-error', detail: '-m set: unknown set "KUBE-X"' });
  });

  it('OUTPUT DNAT asks for a re-route', () => {
    const nf = new Netfilter(host());
    nf.load(natRules().tables[0]!.chains.length ? rules('*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A OUTPUT -d 10.96.0.10/32 -j DNAT --to-destination 10.244.0.5\nCOMMIT\n') : natRules());
    expect(nf.hook(NfHook.OUTPUT, tcp(NODE, 1234, '10.96.0.10', 80), null, 'eth0')).toEqual({ kind: 'accept', reroute: true });
    expect(nf.hook(NfHook.OUTPUT, tcp(NODE, 1234, '10.96.0.11', 80), null, 'eth0')).toEqual({ kind: 'accept', reroute: false });
  });
});

describe('counters', () => {
  it('count per rule across a chain of hundreds of rules, reset to the loaded counters by a new load', () => {
    const ports = Array.from({ length: 300 }, (_, i) => 1000 + i);
    const text = (n: number) =>
      `*filter\n:INPUT ACCEPT [${n}:${n * 40}]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:SIDE - [0:0]\n` +
      ports.map((p) => `-A INPUT -p tcp --dport ${p} -j ${p % 7 === 0 ? 'SIDE' : 'ACCEPT'}\n`).join('') +
      '-A SIDE -p tcp --sport 5 -j ACCEPT\nCOMMIT\n';
    const nf = new Netfilter(host());
    const rs = rules(text(5));
    nf.load(rs);
    const sent = [1000, 1063, 1064, 1128, 1299, 1299, 1001, 1008, 1008, 2000]; // 1001, 1008, 1064 jump to SIDE
    for (const p of sent) expect(nf.hook(NfHook.INPUT, tcp('203.0.113.2', p === 1008 ? 5 : 40000, NODE, p, TcpFlag.SYN, 20), 'eth0', null).kind).toBe('accept');
    const filter = () => nf.ruleset().tables.find((t) => t.name === 'filter')!;
    const input = filter().chains.find((c) => c.name === 'INPUT')!;
    const want = new Map<number, number>();
    for (const p of sent) if (p < 1300) want.set(p, (want.get(p) ?? 0) + 1);
    input.rules.forEach((r, i) => expect([ports[i], r.counters]).toEqual([ports[i], { packets: want.get(ports[i]!) ?? 0, bytes: (want.get(ports[i]!) ?? 0) * 60 }]));
    // Policy: 1001 and 1064 came back from SIDE, 2000 matched nothing; loaded with [5:200].
    expect(input.counters).toEqual({ packets: 8, bytes: 380 });
    expect(filter().chains.find((c) => c.name === 'SIDE')!.rules[0]!.counters).toEqual({ packets: 2, bytes: 120 });
    expect(rs.tables[0]!.chains.find((c) => c.name === 'INPUT')!.counters).toEqual({ packets: 5, bytes: 200 });
    nf.load(rules(text(9)));
    expect(filter().chains.find((c) => c.name === 'INPUT')!.counters).toEqual({ packets: 9, bytes: 360 });
    expect(filter().chains.find((c) => c.name === 'INPUT')!.rules.every((r) => r.counters.packets === 0)).toBe(true);
  });
});

describe('one ruleset loaded into several namespaces', () => {
  it('keeps rule and policy counters per namespace (kube-proxy loads the same text on every node)', () => {
    const rs = rules(`*filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT -p tcp --dport 80 -j ACCEPT
      COMMIT`);
    const a = new Netfilter(host(1));
    const b = new Netfilter(host(2));
    a.load(rs);
    b.load(rs);
    expect(a.hook(NfHook.INPUT, tcp('203.0.113.2', 40000, NODE, 80, TcpFlag.SYN), 'eth0', null).kind).toBe('accept');
    expect(a.hook(NfHook.INPUT, tcp('203.0.113.2', 40001, NODE, 22, TcpFlag.SYN), 'eth0', null).kind).toBe('accept');
    const count = (nf: Netfilter) => {
      const input = nf.ruleset().tables.find((t) => t.name === 'filter')!.chains.find((c) => c.name === 'INPUT')!;
      return [input.rules[0]!.counters.packets, input.counters.packets];
    };
    expect(count(a)).toEqual([1, 1]);
    expect(count(b)).toEqual([0, 0]);
    expect(rs.tables[0]!.chains.find((c) => c.name === 'INPUT')!.rules[0]!.counters.packets).toBe(0);
  });
});
