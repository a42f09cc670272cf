// A client port reused while its old conntrack entry lingers in TIME_WAIT or CLOSE
// (nf_conntrack_tcp_packet: "Attempt to reopen a closed/aborted connection. Delete this connection
// and look up again"): the SYN gets a fresh entry, so the DNAT rules choose the endpoint again.
// Before this, the entry was reopened in place and the reused port kept its old endpoint every time.
//
//   client 203.0.113.2:40000 --eth0-- [ node, nat: 10.96.0.10:80 → 10.244.0.5 | .6 at random ] --cni0-- pods
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeHost, ip, ipStr, rules, tcp } from './helpers.js';

const NODE = '192.168.0.2';
const C = '203.0.113.2';
const VIP = '10.96.0.10';

function lab(seed: number): { nf: Netfilter; h: FakeHost } {
  const h = new FakeHost([ip(NODE)], { eth0: ip(NODE), cni0: ip('10.244.0.1') }, seed);
  const nf = new Netfilter(h);
  nf.load(
    rules(`*nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      :SVC - [0:0]
      -A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 80 -j SVC
      -A SVC -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.0.5:8080
      -A SVC -j DNAT --to-destination 10.244.0.6:8080
      COMMIT
    `),
  );
  return { nf, h };
}

/** Client → service packet through PREROUTING/FORWARD/POSTROUTING; returns the endpoint it was sent to. */
function toSvc(nf: Netfilter, flags: number): string {
  const p = tcp(C, 40000, VIP, 80, flags);
  for (const [hk, i, o] of [[NfHook.PREROUTING, 'eth0', null], [NfHook.FORWARD, 'eth0', 'cni0'], [NfHook.POSTROUTING, null, 'cni0']] as const) nf.hook(hk, p, i, o);
  return ipStr(p.ip!.dst);
}
function fromEp(nf: Netfilter, ep: string, flags: number): void {
  const p = tcp(ep, 8080, C, 40000, flags);
  for (const [hk, i, o] of [[NfHook.PREROUTING, 'cni0', null], [NfHook.FORWARD, 'cni0', 'eth0'], [NfHook.POSTROUTING, null, 'eth0']] as const) nf.hook(hk, p, i, o);
}
/** One whole connection on the client's port 40000, closed by FINs; returns its endpoint. */
function connection(nf: Netfilter): string {
  const ep = toSvc(nf, TcpFlag.SYN);
  fromEp(nf, ep, TcpFlag.SYN | TcpFlag.ACK);
  toSvc(nf, TcpFlag.ACK);
  toSvc(nf, TcpFlag.FIN | TcpFlag.ACK);
  fromEp(nf, ep, TcpFlag.FIN | TcpFlag.ACK);
  toSvc(nf, TcpFlag.ACK);
  return ep;
}

describe('conntrack: a SYN on a tuple in TIME_WAIT or CLOSE', () => {
  it('kills the old entry and creates a new one whose DNAT is drawn again (same endpoint about half the time of two)', () => {
    const { nf, h } = lab(3);
    let prev = connection(nf);
    let same = 0;
    const n = 400;
    for (let k = 1; k <= n; k++) {
      h.t = k * 61 * SEC; // the client's TIME_WAIT (60 s) is over; conntrack's (120 s) is not
      const old = nf.conntrack.list()[0]!;
      expect(old.tcpState).toBe('TIME_WAIT');
      const ep = connection(nf);
      expect(nf.conntrack.count).toBe(1);
      expect(nf.conntrack.list()[0]).not.toBe(old);
      if (ep === prev) same++;
      prev = ep;
    }
    // Binomial(400, 1/2): mean 200, sd 10; ±4 sd. Reopening in place gave 400.
    expect(same).toBeGreaterThan(160);
    expect(same).toBeLessThan(240);
  });

  it('after a RST from the client (CLOSE) the SYN starts over; the new entry is SYN_SENT, unreplied', () => {
    const { nf, h } = lab(5);
    const ep = toSvc(nf, TcpFlag.SYN);
    fromEp(nf, ep, TcpFlag.SYN | TcpFlag.ACK);
    toSvc(nf, TcpFlag.RST);
    const old = nf.conntrack.list()[0]!;
    expect(old.tcpState).toBe('CLOSE');
    h.t = 1 * SEC;
    toSvc(nf, TcpFlag.SYN);
    const fresh = nf.conntrack.list()[0]!;
    expect(fresh).not.toBe(old);
    expect([fresh.tcpState, fresh.id > old.id]).toEqual(['SYN_SENT', true]);
  });

  it('a SYN on an ESTABLISHED entry (a retransmission) keeps the entry and its endpoint', () => {
    const { nf } = lab(9);
    const ep = toSvc(nf, TcpFlag.SYN);
    fromEp(nf, ep, TcpFlag.SYN | TcpFlag.ACK);
    toSvc(nf, TcpFlag.ACK);
    const ct = nf.conntrack.list()[0]!;
    for (let k = 0; k < 20; k++) expect(toSvc(nf, TcpFlag.SYN)).toBe(ep);
    expect(nf.conntrack.list()[0]).toBe(ct);
  });
});
