// -m physdev (netfilter/ext/physdev.ts) as xt_physdev.c physdev_mt decides it: a packet without bridge
// information matches only options that are all negated; a frame br_netfilter runs the hooks of has
// its in port, and when bridged its out port (--physdev-is-bridged); names with a trailing + are prefixes.
import { describe, expect, it } from 'vitest';
import { compileMatch, type EvalCtx, type MatchEnv } from '../../src/netfilter/matches.js';
import { HookCtx } from '../../src/netfilter/x-tables.js';
import { rules, tcp } from './helpers.js';

/** The physdev match of `spec`, run with the bridge ports `inId` / `outId` (0: none): veth1 is 3, veth2 is 4. */
function physdev(spec: string, inId: number, outId: number): boolean {
  const r = rules(`*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m physdev ${spec} -j ACCEPT\nCOMMIT\n`).tables[0]!.chains[0]!.rules[0]!;
  const fn = compileMatch(r.matches[0]!, {} as MatchEnv)!;
  const nameOf = HookCtx.nameOf;
  [HookCtx.physIn, HookCtx.physOut, HookCtx.nameOf] = [inId, outId, (id: number) => (id === 3 ? 'veth1' : id === 4 ? 'veth2' : '')];
  try {
    return fn({ pkt: tcp('10.0.0.1', 1, '10.0.0.2', 2) } as unknown as EvalCtx);
  } finally {
    [HookCtx.physIn, HookCtx.physOut, HookCtx.nameOf] = [0, 0, nameOf];
  }
}

describe('-m physdev', () => {
  it('no bridge information: only negated options match', () => {
    expect([physdev('--physdev-is-bridged', 0, 0), physdev('! --physdev-is-bridged', 0, 0), physdev('--physdev-in veth1', 0, 0), physdev('! --physdev-in veth1', 0, 0)]).toEqual([false, true, false, true]);
  });

  it('bridged between two ports: --physdev-is-bridged, is-in, is-out, the port names (+ a prefix)', () => {
    expect([physdev('--physdev-is-bridged', 3, 4), physdev('! --physdev-is-bridged', 3, 4)]).toEqual([true, false]);
    expect([physdev('--physdev-is-in', 3, 4), physdev('--physdev-is-out', 3, 4), physdev('! --physdev-is-out', 3, 4)]).toEqual([true, true, false]);
    expect([physdev('--physdev-in veth1', 3, 4), physdev('--physdev-in veth2', 3, 4), physdev('--physdev-in veth+', 3, 4), physdev('! --physdev-in veth1', 3, 4)]).toEqual([true, false, true, false]);
    expect([physdev('--physdev-out veth2', 3, 4), physdev('--physdev-out veth1', 3, 4), physdev('! --physdev-out veth1', 3, 4)]).toEqual([true, false, true]);
  });

  it('in by a port, not (yet) bridged out (PREROUTING): not is-bridged, and an out-port name test passes', () => {
    expect([physdev('--physdev-is-bridged', 3, 0), physdev('! --physdev-is-bridged', 3, 0), physdev('--physdev-is-out', 3, 0), physdev('--physdev-out veth2', 3, 0)]).toEqual([false, true, false, true]);
  });
});
