// Conntrack's confirm-time clash resolution as Linux >= 5.9 has it (nf_conntrack_core.c
// nf_ct_resolve_clash, __nf_ct_resolve_clash, nf_ct_resolve_clash_harder): two packets of one tuple
// both pass conntrack `in` (PREROUTING) before either is confirmed (POSTROUTING), so each has its own
// unconfirmed entry and the second one's confirm finds the first's tuple taken. The race is made here
// by interleaving the hooks of the two packets by hand, as two CPUs would run them.
//
//   client 203.0.113.2:5000 --eth0-- [ node: kube-dns VIP 10.96.0.10:53 DNAT ] --cni0-- CoreDNS 10.244.0.5 / .6
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import { ConnEntry, CtStatus, formatConntrackStats, formatConntrackTable } from '../../src/netfilter/conntrack.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import type { Packet } from '../../src/packet/packet.js';
import { IcmpType, TcpFlag } from '../../src/wire/types.js';
import { FakeHost, icmp, ip, ipStr, rules, tcp, udp } from './helpers.js';

const NODE = '192.168.0.2';
const CLIENT = '203.0.113.2';
const VIP = '10.96.0.10';

/** A node whose nat PREROUTING sends the VIP to `endpoints`: one endpoint, or each new connection to the next in turn (statistic nth). */
function node(endpoints: string[]): { h: FakeHost; nf: Netfilter } {
  const h = new FakeHost([ip(NODE)], { eth0: ip(NODE) });
  const nf = new Netfilter(h);
  const n = endpoints.length;
  const svc = endpoints.map((ep, i) =>
    i < n - 1 ? `-A SVC -m statistic --mode nth --every ${n - i} --packet ${n - i - 1} -j DNAT --to-destination ${ep}` : `-A SVC -j DNAT --to-destination ${ep}`,
  );
  nf.load(
    rules(`*nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      :SVC - [0:0]
      -A PREROUTING -d ${VIP}/32 -j SVC
      ${svc.join('\n')}
      COMMIT
    `),
  );
  return { h, nf };
}

/** PREROUTING only: conntrack `in` and DNAT; the packet's entry stays unconfirmed. */
function pre(nf: Netfilter, p: Packet): string {
  const v = nf.hook(NfHook.PREROUTING, p, 'eth0', null);
  return v.kind === 'accept' ? 'accept' : v.kind;
}

/** FORWARD and POSTROUTING (confirm last) for a packet from `inIf` to `outIf`. */
function post(nf: Netfilter, p: Packet, inIf = 'eth0', outIf = 'cni0'): string {
  for (const [hk, i, o] of [[NfHook.FORWARD, inIf, outIf], [NfHook.POSTROUTING, null, outIf]] as const) {
    const v = nf.hook(hk, p, i, o);
    if (v.kind !== 'accept') return v.kind === 'drop' ? `drop:${v.reason}` : v.kind;
  }
  return 'accept';
}

/** The whole forward path at once (no race). */
function forward(nf: Netfilter, p: Packet, inIf: string, outIf: string): string {
  const v = nf.hook(NfHook.PREROUTING, p, inIf, null);
  if (v.kind !== 'accept') return v.kind === 'drop' ? `drop:${v.reason}` : v.kind;
  return post(nf, p, inIf, outIf);
}

const dst = (p: Packet): string => `${ipStr(p.ip!.dst)}:${p.udp?.dstPort ?? p.tcp?.dstPort}`;
const src = (p: Packet): string => `${ipStr(p.ip!.src)}:${p.udp?.srcPort ?? p.tcp?.srcPort}`;
const tuple = (s: string, sport: number, d: string, dport: number, proto = 17) => ({ proto, src: ip(s), sport, dst: ip(d), dport });

describe('conntrack confirm clash (Linux >= 5.9)', () => {
  it('UDP, both packets NATed alike: the loser is dropped for the winner, the packet kept (clash_resolve)', () => {
    const { nf } = node(['10.244.0.5:53']);
    const a = udp(CLIENT, 5000, VIP, 53); // glibc's A query
    const aaaa = udp(CLIENT, 5000, VIP, 53); // and its AAAA query, sent back to back from the same socket
    expect(pre(nf, a)).toBe('accept');
    expect(pre(nf, aaaa)).toBe('accept');
    const loser = aaaa.ct;
    expect(loser).not.toBe(a.ct);
    expect(post(nf, a)).toBe('accept');
    expect(post(nf, aaaa)).toBe('accept');
    // __nf_ct_resolve_clash: both tuples equal, so the second packet now carries the winner's entry.
    expect(aaaa.ct).toBe(a.ct);
    expect(aaaa.ctDir).toBe(0);
    expect(dst(aaaa)).toBe('10.244.0.5:53');
    expect(nf.conntrack.count).toBe(1);
    expect(nf.conntrack.list()).toEqual([a.ct]);
    expect(nf.conntrack.stats).toEqual({ drop: 0, early_drop: 0, insert_failed: 0, clash_resolve: 1 });
    // Both answers come back through the one entry, un-DNATed.
    for (const _ of [0, 1]) {
      const ans = udp('10.244.0.5', 53, CLIENT, 5000);
      expect(forward(nf, ans, 'cni0', 'eth0')).toBe('accept');
      expect(src(ans)).toBe(`${VIP}:53`);
      expect(ans.ct).toBe(a.ct);
    }
  });

  it('ICMP echo requests clash too (allow_clash) and are merged', () => {
    const { nf } = node(['10.244.0.5']);
    const p1 = icmp(CLIENT, VIP, IcmpType.ECHO_REQUEST, 0, (7 << 16) | 1);
    const p2 = icmp(CLIENT, VIP, IcmpType.ECHO_REQUEST, 0, (7 << 16) | 1);
    expect(pre(nf, p1)).toBe('accept');
    expect(pre(nf, p2)).toBe('accept');
    expect(post(nf, p1)).toBe('accept');
    expect(post(nf, p2)).toBe('accept');
    expect(p2.ct).toBe(p1.ct);
    expect(nf.conntrack.stats.clash_resolve).toBe(1);
  });

  it('UDP, DNAT to different endpoints: the loser is held by its REPLY tuple only, for a fixed 1 s', () => {
    const { h, nf } = node(['10.244.0.5:53', '10.244.0.6:53']);
    const t0 = 5 * SEC;
    h.t = t0;
    const a = udp(CLIENT, 5000, VIP, 53);
    const aaaa = udp(CLIENT, 5000, VIP, 53);
    expect(pre(nf, a)).toBe('accept');
    expect(pre(nf, aaaa)).toBe('accept');
    expect(dst(a)).toBe('10.244.0.5:53');
    expect(dst(aaaa)).toBe('10.244.0.6:53'); // kube-proxy's next pick: another CoreDNS pod
    expect(post(nf, a)).toBe('accept');
    expect(post(nf, aaaa)).toBe('accept'); // Linux < 5.9 dropped it here (insert_failed): a 5 s resolver timeout
    const winner = a.ct as ConnEntry;
    const loser = aaaa.ct as ConnEntry;
    expect(loser).not.toBe(winner);
    expect(nf.conntrack.stats).toEqual({ drop: 0, early_drop: 0, insert_failed: 0, clash_resolve: 1 });
    // nf_ct_resolve_clash_harder: confirmed, fixed timeout, NAT_CLASH; hashed by its REPLY tuple alone.
    expect(loser.status & (CtStatus.CONFIRMED | CtStatus.FIXED_TIMEOUT | CtStatus.NAT_CLASH)).toBe(CtStatus.CONFIRMED | CtStatus.FIXED_TIMEOUT | CtStatus.NAT_CLASH);
    expect(winner.status & (CtStatus.FIXED_TIMEOUT | CtStatus.NAT_CLASH)).toBe(0);
    expect(loser.expires).toBe(t0 + SEC);
    expect(nf.conntrack.count).toBe(2); // conntrack -C counts it ...
    expect(formatConntrackTable(nf.conntrack, t0).trim().split('\n')).toHaveLength(1); // ... conntrack -L does not list it
    expect(formatConntrackTable(nf.conntrack, t0)).toContain('src=10.244.0.5 dst=203.0.113.2 sport=53');
    expect(nf.conntrack.lookup(tuple(CLIENT, 5000, VIP, 53), t0)).toEqual({ ct: winner, dir: 0 });
    expect(nf.conntrack.lookup(tuple('10.244.0.6', 53, CLIENT, 5000), t0)).toEqual({ ct: loser, dir: 1 });

    // Both answers are translated back to the VIP, each by its own entry.
    h.t = t0 + 100_000;
    const ans5 = udp('10.244.0.5', 53, CLIENT, 5000);
    const ans6 = udp('10.244.0.6', 53, CLIENT, 5000);
    expect(forward(nf, ans6, 'cni0', 'eth0')).toBe('accept');
    expect(forward(nf, ans5, 'cni0', 'eth0')).toBe('accept');
    expect([src(ans5), ans5.ct, ans5.ctDir]).toEqual([`${VIP}:53`, winner, 1]);
    expect([src(ans6), ans6.ct, ans6.ctDir]).toEqual([`${VIP}:53`, loser, 1]);
    expect(loser.status & CtStatus.SEEN_REPLY).toBeTruthy();

    // Later packets of the original direction find the winner: its endpoint, never the loser's.
    h.t = t0 + 500_000_000;
    const again = udp(CLIENT, 5000, VIP, 53);
    expect(forward(nf, again, 'eth0', 'cni0')).toBe('accept');
    expect([dst(again), again.ct]).toEqual(['10.244.0.5:53', winner]);

    // Replies do not push the loser's timeout on (IPS_FIXED_TIMEOUT) nor make it ASSURED, even past its
    // stream time (2 s after its first packet, later than its expiry: brought forward here to see it).
    h.t = t0 + 900_000_000;
    loser.udpStreamTs = t0;
    const late6 = udp('10.244.0.6', 53, CLIENT, 5000);
    expect(forward(nf, late6, 'cni0', 'eth0')).toBe('accept');
    expect([src(late6), late6.ct]).toEqual([`${VIP}:53`, loser]);
    expect(loser.expires).toBe(t0 + SEC);
    expect(loser.status & CtStatus.ASSURED).toBe(0);

    // 1 s after the clash it is gone however much traffic it saw: a reply from the loser's endpoint
    // is no longer translated back (it finds no entry and starts one of its own).
    h.t = t0 + SEC;
    expect(nf.conntrack.lookup(tuple('10.244.0.6', 53, CLIENT, 5000), h.t)).toBeUndefined();
    const after = udp('10.244.0.6', 53, CLIENT, 5000);
    expect(forward(nf, after, 'cni0', 'eth0')).toBe('accept');
    expect(src(after)).toBe('10.244.0.6:53');
    expect(after.ct).not.toBe(loser);
    expect(nf.conntrack.lookup(tuple(CLIENT, 5000, VIP, 53), h.t)).toEqual({ ct: winner, dir: 0 });
  });

  it('TCP has no allow_clash: the second SYN is dropped, counted as drop and insert_failed', () => {
    const { nf } = node(['10.244.0.5:80']);
    const s1 = tcp(CLIENT, 40000, VIP, 80, TcpFlag.SYN);
    const s2 = tcp(CLIENT, 40000, VIP, 80, TcpFlag.SYN);
    expect(pre(nf, s1)).toBe('accept');
    expect(pre(nf, s2)).toBe('accept');
    expect(post(nf, s1)).toBe('accept');
    // Though both entries are alike (the UDP case would merge them): TCP never resolves a clash.
    expect(post(nf, s2)).toBe('drop:conntrack-insert-clash');
    expect(nf.conntrack.count).toBe(1);
    expect(nf.conntrack.list()).toEqual([s1.ct]);
    expect(nf.conntrack.stats).toEqual({ drop: 1, early_drop: 0, insert_failed: 1, clash_resolve: 0 });
    expect(formatConntrackStats(nf.conntrack)).toBe(
      'cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=1 drop=1 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n',
    );
  });

  it('UDP whose REPLY tuple is taken too: dropped (drop, insert_failed)', () => {
    const { nf } = node(['10.244.0.5:53', '10.244.0.6:53']);
    const a = udp(CLIENT, 5000, VIP, 53);
    const aaaa = udp(CLIENT, 5000, VIP, 53);
    expect(pre(nf, a)).toBe('accept');
    expect(pre(nf, aaaa)).toBe('accept');
    expect(dst(aaaa)).toBe('10.244.0.6:53');
    // Meanwhile the client talks to the second endpoint directly from the same port: that entry's REPLY
    // tuple (10.244.0.6:53 -> client:5000) is the one the loser would be held by.
    const direct = udp(CLIENT, 5000, '10.244.0.6', 53);
    expect(forward(nf, direct, 'eth0', 'cni0')).toBe('accept');
    expect(post(nf, a)).toBe('accept');
    expect(post(nf, aaaa)).toBe('drop:conntrack-insert-clash');
    expect(nf.conntrack.list()).toEqual([direct.ct, a.ct]);
    expect(nf.conntrack.lookup(tuple('10.244.0.6', 53, CLIENT, 5000), 0)).toEqual({ ct: direct.ct, dir: 1 });
    expect(nf.conntrack.stats).toEqual({ drop: 1, early_drop: 0, insert_failed: 1, clash_resolve: 0 });
  });

  it('conntrack -S prints the counters as conntrack-tools does (one CPU)', () => {
    const { nf } = node(['10.244.0.5:53']);
    const a = udp(CLIENT, 5000, VIP, 53);
    const b = udp(CLIENT, 5000, VIP, 53);
    pre(nf, a);
    pre(nf, b);
    post(nf, a);
    post(nf, b);
    expect(formatConntrackStats(nf.conntrack)).toBe(
      'cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=1 chaintoolong=0 \n',
    );
  });
});
