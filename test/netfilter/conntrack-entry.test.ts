// netfilter/conntrack's entry representation: the ORIGINAL and REPLY tuples are fields of the entry
// (NAT rewrites the REPLY one before confirm, IPVS sets it through `reply`), under which the hash holds
// the entry itself; the TCP state is a small integer whose name `tcpState` gives as conntrack -L prints it.
//
//   client 203.0.113.2:40000 --eth0-- [ node, nat: 10.96.0.10:80 → 10.244.0.5:8080 ] --cni0-- pod
import { describe, expect, it } from 'vitest';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { ConnEntry, Conntrack, NatManip, TCP_CT_NAMES, TcpCt, formatConntrackEntry } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeHost, ip, ipStr, rules, tcp } from './helpers.js';

const NODE = '192.168.0.2';
const C = '203.0.113.2';
const VIP = '10.96.0.10';

function lab(): Netfilter {
  const h = new FakeHost([ip(NODE)], { eth0: ip(NODE), cni0: ip('10.244.0.1') }, 1);
  const nf = new Netfilter(h);
  nf.load(
    rules(`*nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      -A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.0.5:8080
      COMMIT
    `),
  );
  return nf;
}

const through = (nf: Netfilter, p: ReturnType<typeof tcp>, inIf: string, outIf: string): void => {
  for (const [hk, i, o] of [[NfHook.PREROUTING, inIf, null], [NfHook.FORWARD, inIf, outIf], [NfHook.POSTROUTING, null, outIf]] as const) nf.hook(hk, p, i, o);
};

describe('conntrack entry', () => {
  it('holds the ORIGINAL and the DNAT REPLY tuple as its fields, found under both once confirmed (addresses above 2^31 included)', () => {
    const nf = lab();
    const syn = tcp(C, 40000, VIP, 80, TcpFlag.SYN);
    nf.hook(NfHook.PREROUTING, syn, 'eth0', null);
    const ct = syn.ct as ConnEntry;
    expect(ct.orig).toEqual({ proto: 6, src: ip(C), sport: 40000, dst: ip(VIP), dport: 80 });
    expect([ipStr(ct.reply.src), ct.reply.sport, ipStr(ct.reply.dst), ct.reply.dport]).toEqual(['10.244.0.5', 8080, C, 40000]);
    expect(ct.tuple).toEqual([ct.orig, ct.reply]);
    expect(nf.conntrack.lookup(ct.orig, 0)).toBeUndefined(); // not confirmed yet
    nf.hook(NfHook.FORWARD, syn, 'eth0', 'cni0');
    nf.hook(NfHook.POSTROUTING, syn, null, 'cni0');
    expect(nf.conntrack.list()).toEqual([ct]);
    expect(nf.conntrack.lookup({ proto: 6, src: ip(C), sport: 40000, dst: ip(VIP), dport: 80 }, 0)).toEqual({ ct, dir: 0 });
    // The reply finds the same entry in the REPLY direction, and is un-DNATed.
    const synAck = tcp('10.244.0.5', 8080, C, 40000, TcpFlag.SYN | TcpFlag.ACK);
    through(nf, synAck, 'cni0', 'eth0');
    expect([synAck.ct, synAck.ctDir, ipStr(synAck.ip!.src), synAck.tcp!.srcPort]).toEqual([ct, 1, VIP, 80]);
    expect(nf.conntrack.lookup({ proto: 6, src: ip('10.244.0.5'), sport: 8080, dst: ip(C), dport: 40000 }, 0)).toEqual({ ct, dir: 1 });
    expect(ct.orig.src).toBe(ip(C)); // unsigned again, as given
    // Once confirmed, the tuples the hash holds it by cannot change.
    expect(() => {
      ct.reply = { ...ct.reply, src: ip('10.244.0.6') };
    }).toThrow(/confirmed/);
    nf.conntrack.remove(ct);
    expect(nf.conntrack.lookup(ct.orig, 0)).toBeUndefined();
    expect(nf.conntrack.lookup(ct.reply, 0)).toBeUndefined();
  });

  it('names its integer TCP state through the handshake and close as conntrack -L does', () => {
    const nf = lab();
    const seen: string[] = [];
    const step = (p: ReturnType<typeof tcp>, fromClient: boolean): void => {
      through(nf, p, fromClient ? 'eth0' : 'cni0', fromClient ? 'cni0' : 'eth0');
      const ct = p.ct as ConnEntry;
      expect(ct.tcpState).toBe(TCP_CT_NAMES[ct.tcpCt]);
      expect(formatConntrackEntry(ct, 0)).toContain(` ${ct.tcpState} src=${C} `);
      seen.push(ct.tcpState);
    };
    step(tcp(C, 40000, VIP, 80, TcpFlag.SYN), true);
    step(tcp('10.244.0.5', 8080, C, 40000, TcpFlag.SYN | TcpFlag.ACK), false);
    step(tcp(C, 40000, VIP, 80, TcpFlag.ACK), true);
    step(tcp(C, 40000, VIP, 80, TcpFlag.FIN | TcpFlag.ACK), true);
    step(tcp('10.244.0.5', 8080, C, 40000, TcpFlag.FIN | TcpFlag.ACK), false);
    step(tcp(C, 40000, VIP, 80, TcpFlag.ACK), true);
    expect(seen).toEqual(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'LAST_ACK', 'TIME_WAIT']);
    expect(TCP_CT_NAMES.map((n) => TcpCt[n])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('rewrites its REPLY tuple for a NAT binding before confirm, and keeps a plain tuple put there (IPVS) as the one NAT starts from', () => {
    const table = new Conntrack(new RngFactory(1).stream('nat'));
    const syn = tcp(C, 40000, VIP, 80, TcpFlag.SYN);
    table.in(syn, 0);
    const ct = syn.ct as ConnEntry;
    const dnat = { minIp: ip('10.244.0.5'), maxIp: ip('10.244.0.5'), ports: { min: 8080, max: 8080 }, random: false, randomFully: false, persistent: false };
    expect(table.setupNat(ct, NatManip.DST, dnat, 0)).toBe(true);
    expect([ipStr(ct.reply.src), ct.reply.sport, ipStr(ct.reply.dst), ct.reply.dport]).toEqual(['10.244.0.5', 8080, C, 40000]);
    table.confirm(syn, 0);
    expect(table.lookup({ proto: 6, src: ip('10.244.0.5'), sport: 8080, dst: ip(C), dport: 40000 }, 0)).toEqual({ ct, dir: 1 });
    expect(table.lookup({ proto: 6, src: ip(VIP), sport: 80, dst: ip(C), dport: 40000 }, 0)).toBeUndefined();
    // A confirmed entry is bound already (both NAT manips done): a binding now is a caller's bug.
    expect(() => table.setupNat(ct, NatManip.SRC, dnat, 0)).toThrow(/confirmed/);

    const syn2 = tcp(C, 40001, VIP, 80, TcpFlag.SYN);
    table.in(syn2, 0);
    const ct2 = syn2.ct as ConnEntry;
    ct2.reply = { ...ct2.reply, src: ip('10.244.0.6'), sport: 8080 };
    expect(table.setupNat(ct2, NatManip.SRC, { minIp: ip(NODE), maxIp: ip(NODE), ports: null, random: false, randomFully: false, persistent: false }, 0)).toBe(true);
    expect([ipStr(ct2.reply.src), ct2.reply.sport, ipStr(ct2.reply.dst)]).toEqual(['10.244.0.6', 8080, NODE]);
    table.confirm(syn2, 0);
    expect(table.lookup({ proto: 6, src: ip('10.244.0.6'), sport: 8080, dst: ip(NODE), dport: ct2.reply.dport }, 0)?.ct).toBe(ct2);
  });
  it('keeps expiry and UDP stream times exact past 2^31 and 2^32 ns (two small integers each) and refuses a time that is not finite', () => {
    const table = new Conntrack(new RngFactory(1).stream('nat'));
    const p = tcp(C, 40000, VIP, 80, TcpFlag.SYN);
    table.in(p, 0);
    const ct = p.ct as ConnEntry;
    for (const t of [0, 2 ** 31 + 1, 2 ** 32 + 12345, 86_400e9 + 7, 2 ** 53 - 1]) {
      ct.expires = t;
      ct.udpStreamTs = t + 1;
      expect([ct.expires, ct.udpStreamTs]).toEqual([t, t + 1]);
    }
    expect(() => {
      ct.expires = Infinity;
    }).toThrow(/not a finite time/);
  });
});
