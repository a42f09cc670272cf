// netfilter/x-tables ctStateBits (xt_conntrack's state bits, written with numbers): against a reference
// written with CT_BIT and CtStatus by name, for packets without an entry, NOTRACK'ed here or in another
// namespace, another namespace's entry, NEW / ESTABLISHED in both directions, RELATED ICMP errors, and
// the SNAT / DNAT bits of NATed entries.
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack, CtStatus, NatManip } from '../../src/netfilter/conntrack.js';
import { CT_BIT, ctStateBits, type EvalCtx } from '../../src/netfilter/x-tables.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import type { Packet } from '../../src/packet/packet.js';
import { icmp, ip, tcp, udp } from './helpers.js';

/** The bits as xt_conntrack defines them, by name. */
function reference(pkt: Packet, t: Conntrack): number {
  if (pkt.ct === null) return CT_BIT.INVALID;
  if (pkt.ct === t.untracked) return CT_BIT.UNTRACKED;
  if (!(pkt.ct instanceof ConnEntry) || pkt.ct.owner !== t) return CT_BIT.INVALID;
  const ct = pkt.ct;
  const related = pkt.icmp !== null && [3, 4, 5, 11, 12].includes(pkt.icmp.type);
  let bits = related ? CT_BIT.RELATED : pkt.ctDir === 0 && !(ct.status & CtStatus.SEEN_REPLY) ? CT_BIT.NEW : CT_BIT.ESTABLISHED;
  if (ct.status & CtStatus.SRC_NAT) bits |= CT_BIT.SNAT;
  if (ct.status & CtStatus.DST_NAT) bits |= CT_BIT.DNAT;
  return bits;
}

const ctx = (pkt: Packet): EvalCtx => ({ pkt, ip: pkt.ip!, inIf: '', outIf: '', now: 0 });

describe('ctStateBits', () => {
  it('matches the named bits for every kind of attachment, direction and NAT', () => {
    const rng = new RngFactory(1);
    const a = new Conntrack(rng.stream('a'));
    const b = new Conntrack(rng.stream('b'));
    const seen: number[] = [];
    const check = (p: Packet, t: Conntrack): void => {
      const got = ctStateBits(ctx(p), t);
      expect(got).toBe(reference(p, t));
      seen.push(got);
    };
    // No entry (INVALID), NOTRACK here (UNTRACKED) and in another namespace (INVALID).
    const lone = udp('10.0.0.9', 9, '10.0.0.8', 8);
    check(lone, a);
    lone.ct = a.untracked;
    check(lone, a);
    check(lone, b);
    // A connection: SYN NEW, the SYN-ACK (reply) and later packets ESTABLISHED; in another namespace INVALID.
    const syn = tcp('10.0.0.1', 40000, '10.0.0.2', 80, TcpFlag.SYN);
    expect(a.in(syn, 1 * SEC).ok).toBe(true);
    check(syn, a);
    check(syn, b);
    expect(a.confirm(syn, 1 * SEC).ok).toBe(true);
    const synAck = tcp('10.0.0.2', 80, '10.0.0.1', 40000, TcpFlag.SYN | TcpFlag.ACK);
    expect(a.in(synAck, 1 * SEC).ok).toBe(true);
    check(synAck, a);
    const ack = tcp('10.0.0.1', 40000, '10.0.0.2', 80, TcpFlag.ACK);
    expect(a.in(ack, 1 * SEC).ok).toBe(true);
    check(ack, a);
    // An ICMP error quoting the connection: RELATED.
    const err = icmp('10.0.0.7', '10.0.0.1', 3, 4, 0, tcp('10.0.0.1', 40000, '10.0.0.2', 80, TcpFlag.ACK));
    expect(a.in(err, 1 * SEC).ok).toBe(true);
    expect(err.ct).toBe(ack.ct);
    check(err, a);
    // DNAT then SNAT entries: the NAT bits, in both directions.
    for (const manip of [NatManip.DST, NatManip.SRC]) {
      const p = udp('10.0.0.1', 5000 + manip, '10.96.0.10', 53);
      expect(a.in(p, 2 * SEC).ok).toBe(true);
      const to = ip('10.244.0.5');
      expect(a.setupNat(p.ct as ConnEntry, manip, { minIp: to, maxIp: to, ports: null, random: false, randomFully: false, persistent: false }, 2 * SEC)).toBe(true);
      expect(a.confirm(p, 2 * SEC).ok).toBe(true);
      check(p, a);
      const r = (p.ct as ConnEntry).reply;
      const back = udp('0.0.0.0', r.sport, '0.0.0.0', r.dport);
      back.ip!.src = r.src;
      back.ip!.dst = r.dst;
      expect(a.in(back, 2 * SEC).ok).toBe(true);
      expect(back.ct).toBe(p.ct);
      check(back, a);
    }
    expect(seen).toEqual([
      CT_BIT.INVALID,
      CT_BIT.UNTRACKED,
      CT_BIT.INVALID,
      CT_BIT.NEW,
      CT_BIT.INVALID,
      CT_BIT.ESTABLISHED,
      CT_BIT.ESTABLISHED,
      CT_BIT.RELATED,
      CT_BIT.NEW | CT_BIT.DNAT,
      CT_BIT.ESTABLISHED | CT_BIT.DNAT,
      CT_BIT.NEW | CT_BIT.SNAT,
      CT_BIT.ESTABLISHED | CT_BIT.SNAT,
    ]);
  });
});
