// netfilter/conntrack's inAt tests the shared recent slot itself (get4's first test, written out: get4 is a call there
// once it has optimized code of its own). Its tag must be get4's: a packet of a connection whose tuple is in its
// recent slot is answered without get4, in both directions, and each table answers with its own entry.
import { describe, expect, it, vi } from 'vitest';
import { ConnEntry, Conntrack } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcp, udp } from './helpers.js';

const table = (): Conntrack => new Conntrack(new RngFactory(1).stream('nat'));

describe('inAt and the shared recent slots', () => {
  it('answers a known connection from its recent slot in both directions, as get4 would', () => {
    const t = table();
    const syn = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN);
    t.in(syn, 1 * SEC);
    t.confirm(syn, 1 * SEC);
    const ct = syn.ct as ConnEntry;
    t.in(tcp('10.0.0.4', 80, '10.0.0.3', 40000, TcpFlag.SYN | TcpFlag.ACK), 2 * SEC); // the reply's slot filled here at the latest
    const get4 = vi.spyOn(t, 'get4');
    for (let i = 0; i < 4; i++) {
      const fwd = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.ACK);
      const back = tcp('10.0.0.4', 80, '10.0.0.3', 40000, TcpFlag.ACK);
      expect(t.in(fwd, (3 + i) * SEC)).toEqual({ ok: true });
      expect(t.in(back, (3 + i) * SEC)).toEqual({ ok: true });
      expect([fwd.ct, fwd.ctDir, back.ct, back.ctDir]).toEqual([ct, 0, ct, 1]);
    }
    expect(get4).not.toHaveBeenCalled();
    expect(ct.tcpState).toBe('ESTABLISHED');
    // a packet of no connection still goes to get4 (and on to a new entry)
    const other = udp('10.0.0.5', 5, '10.0.0.6', 6);
    t.in(other, 9 * SEC);
    expect(get4).toHaveBeenCalledTimes(1);
    expect(other.ct).not.toBe(ct);
  });

  it('two tables holding one tuple each answer with their own entry', () => {
    const a = table();
    const b = table();
    const pa = udp('10.1.0.1', 1000, '10.1.0.2', 53);
    const pb = udp('10.1.0.1', 1000, '10.1.0.2', 53);
    a.in(pa, 1 * SEC);
    a.confirm(pa, 1 * SEC);
    b.in(pb, 1 * SEC);
    b.confirm(pb, 1 * SEC);
    expect(pa.ct).not.toBe(pb.ct);
    for (let i = 0; i < 3; i++) {
      const qa = udp('10.1.0.2', 53, '10.1.0.1', 1000);
      const qb = udp('10.1.0.2', 53, '10.1.0.1', 1000);
      a.in(qa, (2 + i) * SEC);
      b.in(qb, (2 + i) * SEC);
      expect([qa.ct, qa.ctDir, qb.ct, qb.ctDir]).toEqual([pa.ct, 1, pb.ct, 1]);
    }
  });
});
