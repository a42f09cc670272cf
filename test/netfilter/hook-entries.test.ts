// Netfilter's per-hook entry points (hookPre, hookIn, hookFwd, hookOut, hookPost: the net layer's call
// sites, one function each): each runs its own hook's tables, in the kernel's order, with the device
// names in the right places, conntrack's in at PREROUTING / OUTPUT and confirm at INPUT / POSTROUTING,
// and DNAT / SNAT at their hooks; and each releases the shared hook state on its error path.
import { describe, expect, it } from 'vitest';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import type { Packet } from '../../src/packet/packet.js';
import { FakeHost, ip, ipStr, rules, tcp } from './helpers.js';
import { nfNameId } from '../../src/netfilter/x-tables.js';

const IN0 = nfNameId('in0');
const OUT0 = nfNameId('out0');

const NODE = '10.0.0.1';
/** Every built-in chain of raw, mangle, nat and filter counts a packet only with its hook's device names (-i in, -o out). */
const RULES = `*raw
  :PREROUTING ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  -A PREROUTING -i in0 -j ACCEPT
  -A OUTPUT -o out0 -j ACCEPT
  COMMIT
  *mangle
  :PREROUTING ACCEPT [0:0]
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  -A PREROUTING -i in0 -j ACCEPT
  -A INPUT -i in0 -j ACCEPT
  -A FORWARD -i in0 -o out0 -j ACCEPT
  -A OUTPUT -o out0 -j ACCEPT
  -A POSTROUTING -o out0 -j ACCEPT
  COMMIT
  *nat
  :PREROUTING ACCEPT [0:0]
  :INPUT ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  -A PREROUTING -i in0 -p tcp --dport 80 -j DNAT --to-destination 10.9.9.9:8080
  -A INPUT -i in0 -j ACCEPT
  -A OUTPUT -o out0 -j ACCEPT
  -A POSTROUTING -o out0 -j SNAT --to-source 10.0.0.1
  COMMIT
  *filter
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -i in0 -j ACCEPT
  -A FORWARD -i in0 -o out0 -j ACCEPT
  -A OUTPUT -o out0 -j ACCEPT
  COMMIT`;

/** Packets counted by the first rule of each built-in chain, as "table/CHAIN": n (0 left out). */
function counted(nf: Netfilter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of nf.ruleset().tables)
    for (const c of t.chains) {
      const n = c.rules[0]?.counters.packets ?? 0;
      if (n !== 0) out[`${t.name}/${c.name}`] = n;
    }
  return out;
}

function fresh(): Netfilter {
  const nf = new Netfilter(new FakeHost([ip(NODE)]));
  nf.load(rules(RULES));
  return nf;
}

describe('the per-hook entry points', () => {
  it('PREROUTING then INPUT: raw, mangle and nat at PREROUTING (DNAT), mangle, filter and nat at INPUT, then confirmed', () => {
    const nf = fresh();
    const p = tcp('10.1.0.5', 1234, NODE, 80);
    expect(nf.hookPre(p, IN0).kind).toBe('accept');
    expect(ipStr(p.ip!.dst)).toBe('10.9.9.9');
    expect(p.tcp!.dstPort).toBe(8080);
    expect(counted(nf)).toEqual({ 'raw/PREROUTING': 1, 'mangle/PREROUTING': 1, 'nat/PREROUTING': 1 });
    expect(nf.conntrack.count).toBe(0); // not confirmed before the last hook
    expect(nf.hookIn(p, IN0).kind).toBe('accept');
    expect(counted(nf)).toEqual({ 'raw/PREROUTING': 1, 'mangle/PREROUTING': 1, 'nat/PREROUTING': 1, 'mangle/INPUT': 1, 'filter/INPUT': 1, 'nat/INPUT': 1 });
    expect(nf.conntrack.count).toBe(1);
  });

  it('PREROUTING, FORWARD, POSTROUTING: both device names at FORWARD, SNAT at POSTROUTING, then confirmed', () => {
    const nf = fresh();
    const p = tcp('10.1.0.5', 1234, '10.2.0.7', 443);
    expect(nf.hookPre(p, IN0).kind).toBe('accept');
    expect(nf.hookFwd(p, IN0, OUT0).kind).toBe('accept');
    expect(nf.conntrack.count).toBe(0);
    expect(nf.hookPost(p, OUT0).kind).toBe('accept');
    expect(ipStr(p.ip!.src)).toBe(NODE);
    expect(counted(nf)).toEqual({ 'raw/PREROUTING': 1, 'mangle/PREROUTING': 1, 'mangle/FORWARD': 1, 'filter/FORWARD': 1, 'mangle/POSTROUTING': 1, 'nat/POSTROUTING': 1 });
    expect(nf.conntrack.count).toBe(1);
    // FORWARD with the devices swapped matches neither rule
    const q = tcp('10.1.0.6', 1234, '10.2.0.7', 443);
    nf.hookPre(q, IN0);
    nf.hookFwd(q, OUT0, IN0);
    expect(counted(nf)['filter/FORWARD']).toBe(1);
  });

  it('OUTPUT then POSTROUTING: raw, mangle, nat and filter at OUTPUT with the out device only', () => {
    const nf = fresh();
    const p = tcp(NODE, 5555, '10.2.0.7', 443);
    expect(nf.hookOut(p, OUT0).kind).toBe('accept');
    expect(counted(nf)).toEqual({ 'raw/OUTPUT': 1, 'mangle/OUTPUT': 1, 'nat/OUTPUT': 1, 'filter/OUTPUT': 1 });
    expect(nf.hookPost(p, OUT0).kind).toBe('accept');
    expect(counted(nf)).toEqual({ 'raw/OUTPUT': 1, 'mangle/OUTPUT': 1, 'nat/OUTPUT': 1, 'filter/OUTPUT': 1, 'mangle/POSTROUTING': 1, 'nat/POSTROUTING': 1 });
    expect(nf.conntrack.count).toBe(1);
    // no in device at OUTPUT, no in device at POSTROUTING
    const q = tcp(NODE, 5556, '10.2.0.7', 443);
    nf.hookOut(q, IN0);
    nf.hookPost(q, IN0);
    expect(counted(nf)['filter/OUTPUT']).toBe(1);
    expect(counted(nf)['mangle/POSTROUTING']).toBe(1);
  });

  it('hook(NfHook.X, …) is the entry point of X', () => {
    const a = fresh();
    const b = fresh();
    const steps: [NfHook, (nf: Netfilter, p: Packet) => unknown, string | null, string | null][] = [
      [NfHook.PREROUTING, (nf, p) => nf.hookPre(p, IN0), 'in0', null],
      [NfHook.FORWARD, (nf, p) => nf.hookFwd(p, IN0, OUT0), 'in0', 'out0'],
      [NfHook.POSTROUTING, (nf, p) => nf.hookPost(p, OUT0), null, 'out0'],
      [NfHook.OUTPUT, (nf, p) => nf.hookOut(p, OUT0), null, 'out0'],
      [NfHook.INPUT, (nf, p) => nf.hookIn(p, IN0), 'in0', null],
    ];
    for (const [h, entry, i, o] of steps) {
      const p = tcp('10.1.0.5', 1000 + h, NODE, 80);
      const q = tcp('10.1.0.5', 1000 + h, NODE, 80);
      expect(a.hook(h, p, i, o)).toEqual(entry(b, q));
      expect(counted(a)).toEqual(counted(b));
    }
  });

  it('each entry point releases the shared state when a rule cannot be evaluated', () => {
    const nf = new Netfilter(new FakeHost([ip(NODE)]));
    nf.load(rules(`*mangle
  :PREROUTING ACCEPT [0:0]
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  -A PREROUTING -m set --match-set X src -j ACCEPT
  -A INPUT -m set --match-set X src -j ACCEPT
  -A FORWARD -m set --match-set X src -j ACCEPT
  -A OUTPUT -m set --match-set X src -j ACCEPT
  -A POSTROUTING -m set --match-set X src -j ACCEPT
  COMMIT`));
    const entries = [(p: Packet) => nf.hookPre(p, IN0), (p: Packet) => nf.hookIn(p, IN0), (p: Packet) => nf.hookFwd(p, IN0, OUT0), (p: Packet) => nf.hookOut(p, OUT0), (p: Packet) => nf.hookPost(p, OUT0)];
    for (const e of entries) {
      expect(e(tcp('10.1.0.5', 1, NODE, 2))).toMatchObject({ kind: 'drop', reason: 'rule-error' });
      expect(e(tcp('10.1.0.5', 1, NODE, 2))).toMatchObject({ kind: 'drop', reason: 'rule-error' }); // not "a hook ran inside another"
    }
  });

  it('devices given as ifindexes match -i / -o by the names the running namespace gives them, each namespace its own', () => {
    /** A host naming its devices by ifindex (as Namespace.deviceName): 7 is in0 and 9 out0 here. */
    class NamedHost extends FakeHost {
      constructor(readonly names: Record<number, string>) {
        super([ip(NODE)]);
      }
      deviceName(ifindex: number): string {
        return this.names[ifindex] ?? '';
      }
    }
    const a = new Netfilter(new NamedHost({ 7: 'in0', 9: 'out0' }));
    const b = new Netfilter(new NamedHost({ 7: 'out0', 9: 'in0' })); // the same numbers, the other names
    a.load(rules(RULES));
    b.load(rules(RULES));
    let port = 1000;
    const viaIds = (nf: Netfilter, i: number, o: number): Record<string, number> => {
      const p = tcp('10.1.0.5', port++, '10.2.0.7', 443); // a new connection each time (NAT runs for new ones only)
      nf.hookPre(p, i);
      nf.hookFwd(p, i, o);
      nf.hookPost(p, o);
      return counted(nf);
    };
    const all = { 'raw/PREROUTING': 1, 'mangle/PREROUTING': 1, 'mangle/FORWARD': 1, 'filter/FORWARD': 1, 'mangle/POSTROUTING': 1, 'nat/POSTROUTING': 1 };
    expect(viaIds(a, 7, 9)).toEqual(all);
    expect(viaIds(b, 7, 9)).toEqual({}); // in b, 7 is out0: no rule matches
    expect(viaIds(b, 9, 7)).toEqual(all);
    // bare names keep their ids; an unknown ifindex is no device ('' never matches -i in0)
    expect(nfNameId('in0')).toBe(IN0);
    expect(nfNameId('')).toBe(-1);
    const c = new Netfilter(new NamedHost({}));
    c.load(rules(RULES));
    expect(viaIds(c, 7, 9)).toEqual({});
  });
});
