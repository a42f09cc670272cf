// Scheduler-specific behaviour of netfilter/ipvs, the connection table, persistence and ipvsadm -Ln.
import { describe, expect, it } from 'vitest';
import { Ipvs, ipvsScheduler, type Endpoint } from '../../src/netfilter/ipvs.js';
import { ip } from './helpers.js';

const eps = (...weights: number[]): Endpoint[] => weights.map((w, i) => ({ ip: ip(`10.244.1.${i + 2}`), port: 8080, weight: w }));
const c = (i: number) => ({ src: ip(`10.0.${i >> 8}.${i & 255}`), sport: 40000 + i });

describe('schedulers', () => {
  it('rr cycles in order, skipping weight 0', () => {
    const e = eps(1, 0, 1, 1);
    const s = ipvsScheduler('rr', e);
    expect(Array.from({ length: 6 }, (_, i) => e.indexOf(s.pick(c(i))!))).toEqual([0, 2, 3, 0, 2, 3]);
  });

  it('wrr interleaves by weight (ip_vs_wrr: weights 4,3,2 give a a b a b c a b c)', () => {
    const e = eps(4, 3, 2);
    const s = ipvsScheduler('wrr', e);
    expect(Array.from({ length: 9 }, (_, i) => 'abc'[e.indexOf(s.pick(c(i))!)]).join('')).toBe('aababcabc');
  });

  it('lc picks the server with the fewest active connections; wlc weighs them', () => {
    const e = eps(1, 1);
    const lc = ipvsScheduler('lc', e);
    expect(lc.pick(c(0))).toBe(e[0]);
    expect(lc.pick(c(1))).toBe(e[1]);
    lc.release(e[0]!); // e0: 0 active, 1 inactive (overhead 1) < e1 (256)
    expect(lc.pick(c(2))).toBe(e[0]);
    const w = eps(1, 3);
    const wlc = ipvsScheduler('wlc', w);
    const picks = Array.from({ length: 8 }, (_, i) => w.indexOf(wlc.pick(c(i))!));
    expect(picks.filter((x) => x === 1).length).toBe(6);
  });

  it('sh sends a source to the same server and spreads sources by weight over 256 buckets', () => {
    const e = eps(1, 3);
    const s = ipvsScheduler('sh', e);
    for (let i = 0; i < 50; i++) expect(s.pick({ src: c(i).src, sport: 1 })).toBe(s.pick({ src: c(i).src, sport: 2 }));
    let heavy = 0;
    for (let i = 0; i < 4000; i++) if (s.pick(c(i)) === e[1]) heavy++;
    expect(heavy / 4000).toBeGreaterThan(0.6);
    expect(heavy / 4000).toBeLessThan(0.9);
  });

  it('mh (Maglev): balanced table, minimal disruption when a server goes away', () => {
    const e = eps(1, 1, 1, 1, 1);
    const s = ipvsScheduler('mh', e, { mhTableSize: 4093 });
    const fewer = ipvsScheduler('mh', e.slice(0, 4), { mhTableSize: 4093 });
    let moved = 0;
    let fromRemoved = 0;
    const per = new Map<Endpoint, number>();
    for (let i = 0; i < 5000; i++) {
      const a = s.pick(c(i))!;
      per.set(a, (per.get(a) ?? 0) + 1);
      const b = fewer.pick(c(i))!;
      if (a === e[4]) fromRemoved++;
      else if (a !== b) moved++;
    }
    for (const ep of e) expect(per.get(ep)!).toBeGreaterThan(800);
    expect(fromRemoved).toBeGreaterThan(0);
    expect(moved / (5000 - fromRemoved)).toBeLessThan(0.1);
  });
});

const SYN = 0x02;
const FIN = 0x01;
const ACK = 0x10;

describe('Ipvs services and connections', () => {
  const vip = ip('10.96.0.50');

  it('a connection sticks to its server; new connections are scheduled; ipvsadm -Ln lists counters', () => {
    const v = new Ipvs();
    const e = eps(1, 1);
    v.setService({ proto: 'tcp', vip, port: 80, scheduler: 'rr', persistence: null, servers: e });
    const first = v.schedule('tcp', c(1), vip, 80, 0, SYN);
    expect(v.connState('tcp', c(1), vip, 80, 0)).toBe('SR');
    expect(v.schedule('tcp', c(1), vip, 80, 1e9, ACK)).toBe(first);
    expect(v.schedule('tcp', c(2), vip, 80, 1e9, SYN)).not.toBe(first);
    v.schedule('tcp', c(2), vip, 80, 1e9, ACK);
    expect(v.schedule('udp', c(2), vip, 80, 1e9)).toBeNull();
    v.schedule('tcp', c(1), vip, 80, 2e9, FIN | ACK); // ESTABLISHED → CLOSE_WAIT: counted inactive
    expect(v.list()).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.96.0.50:80 rr\n' +
        '  -> 10.244.1.2:8080              Masq    1      0          1         \n' +
        '  -> 10.244.1.3:8080              Masq    1      1          0         \n',
    );
  });

  /** Drives one connection through a FIN close (client FIN, server FIN, client ACK) to TIME_WAIT. */
  function closeToTimeWait(v: Ipvs, cl: ReturnType<typeof c>, t: number): void {
    v.schedule('tcp', cl, vip, 80, t, FIN | ACK);
    v.reply('tcp', cl, vip, 80, t, FIN | ACK);
    v.schedule('tcp', cl, vip, 80, t, ACK);
  }

  it('conn_reuse_mode 1: a SYN reusing a client port whose connection is in TIME_WAIT is scheduled again (ip_vs_in, Linux ≥ 5.9)', () => {
    const v = new Ipvs();
    v.setService({ proto: 'tcp', vip, port: 80, scheduler: 'rr', persistence: null, servers: eps(1, 1) });
    const first = v.schedule('tcp', c(1), vip, 80, 0, SYN)!;
    v.schedule('tcp', c(1), vip, 80, 0, ACK);
    closeToTimeWait(v, c(1), 1e9);
    expect(v.connState('tcp', c(1), vip, 80, 1e9)).toBe('TW');
    // A retransmitted or stray SYN on a live connection keeps it; a SYN in TIME_WAIT starts over (rr: the other server).
    const again = v.schedule('tcp', c(1), vip, 80, 61e9, SYN)!;
    expect(again).not.toBe(first);
    expect(v.connState('tcp', c(1), vip, 80, 61e9)).toBe('SR');
    expect(v.schedule('tcp', c(1), vip, 80, 61.5e9, SYN)).toBe(again);
    // The expired connection left the counters: one connection in SYN_RECV (inactive) remains.
    expect(v.list()).toContain('  -> 10.244.1.2:8080              Masq    1      0          0         \n');
    expect(v.list()).toContain('  -> 10.244.1.3:8080              Masq    1      0          1         \n');
  });

  it('conn_reuse_mode 0 keeps the old server for a SYN in TIME_WAIT; TIME_WAIT lasts 120 s', () => {
    const v = new Ipvs({ connReuseMode: 0 });
    v.setService({ proto: 'tcp', vip, port: 80, scheduler: 'rr', persistence: null, servers: eps(1, 1) });
    const first = v.schedule('tcp', c(1), vip, 80, 0, SYN)!;
    v.schedule('tcp', c(1), vip, 80, 0, ACK);
    closeToTimeWait(v, c(1), 1e9);
    expect(v.schedule('tcp', c(1), vip, 80, 60e9, SYN)).toBe(first);
    closeToTimeWait(v, c(1), 61e9);
    expect(v.connState('tcp', c(1), vip, 80, 180e9)).toBe('TW');
    expect(v.connState('tcp', c(1), vip, 80, 181e9)).toBeNull();
  });

  it('expire_nodest_conn: a SYN on a connection to a quiesced server (weight 0) is scheduled to a live one', () => {
    const v = new Ipvs();
    const e = eps(1, 1);
    v.setService({ proto: 'tcp', vip, port: 80, scheduler: 'rr', persistence: null, servers: e });
    const first = v.schedule('tcp', c(1), vip, 80, 0, SYN)!;
    v.schedule('tcp', c(1), vip, 80, 0, ACK);
    first.weight = 0;
    expect(v.schedule('tcp', c(1), vip, 80, 1e9, ACK)).toBe(first); // mid-stream packets stay
    expect(v.schedule('tcp', c(1), vip, 80, 2e9, SYN)).not.toBe(first);
  });

  it('persistence (-p, kube-proxy ClientIP affinity) sends a client to the same server until the template expires', () => {
    const v = new Ipvs();
    v.setService({ proto: 'tcp', vip, port: 80, scheduler: 'rr', persistence: 10800, servers: eps(1, 1, 1) });
    const a = v.schedule('tcp', { src: ip('10.0.0.9'), sport: 1 }, vip, 80, 0);
    for (let p = 2; p < 10; p++) expect(v.schedule('tcp', { src: ip('10.0.0.9'), sport: p }, vip, 80, p * 1e9)).toBe(a);
    expect(v.list()).toContain('TCP  10.96.0.50:80 rr persistent 10800\n');
    // The template is refreshed on each use (last at 9 s, then 10805 s), so it lasts until 21605 s.
    expect(v.schedule('tcp', { src: ip('10.0.0.9'), sport: 98 }, vip, 80, 10805e9)).toBe(a);
    const later = v.schedule('tcp', { src: ip('10.0.0.9'), sport: 99 }, vip, 80, 30000e9);
    expect(later).not.toBe(a);
  });
});
