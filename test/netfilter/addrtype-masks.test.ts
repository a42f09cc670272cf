// -m addrtype compiled to bit masks (ext/addrtype.ts): the same answers as testing the address's type name against
// the lists, for every list of the types addrtype can return (the empty list too), negated or not, on each side.
import { describe, expect, it } from 'vitest';
import { addrtype, type AddrtypeMatch } from '../../src/netfilter/ext/addrtype.js';
import type { AddrTypeName } from '../../src/netfilter/rules.js';
import type { EvalCtx, MatchEnv } from '../../src/netfilter/x-tables.js';

const LOCAL_IP = 0x0a000001;
const IPS = [0, LOCAL_IP, 0xffffffff, 0xe0000001, 0xefffffff, 0x0a000002, 0xc0a80101];
const TYPES: AddrTypeName[] = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'MULTICAST', 'NAT'];

/** The type names addrtype gives (its documented order: UNSPEC, LOCAL, BROADCAST, MULTICAST, UNICAST). */
function typeOf(ip: number): AddrTypeName {
  if (ip === 0) return 'UNSPEC';
  if (ip === LOCAL_IP) return 'LOCAL';
  if (ip === 0xffffffff) return 'BROADCAST';
  if (ip >>> 28 === 14) return 'MULTICAST';
  return 'UNICAST';
}

describe('addrtype masks', () => {
  it('match as the type name lists do, for every list, negation and side', () => {
    const env = { isLocalAddress: (ip: number) => ip === LOCAL_IP } as unknown as MatchEnv;
    const lists: (AddrTypeName[] | null)[] = [null];
    for (let m = 0; m < 1 << TYPES.length; m++) lists.push(TYPES.filter((_, i) => (m >> i) & 1));
    let checked = 0;
    for (const side of ['src', 'dst'] as const) {
      for (const value of lists) {
        for (const neg of [false, true]) {
          const m: AddrtypeMatch = { ...addrtype.init(), [side === 'src' ? 'srcType' : 'dstType']: value === null ? null : { neg, value } };
          const fn = addrtype.compile(m, env)!;
          for (const a of IPS) {
            const c = { ip: side === 'src' ? { src: a, dst: 0x0b000001 } : { src: 0x0b000001, dst: a } } as unknown as EvalCtx;
            const want = value === null || value.includes(typeOf(a)) !== neg;
            expect(fn(c), `${side} ${neg ? '!' : ''}${value?.join(',')} ${a.toString(16)}`).toBe(want);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(2 * 65 * 2 * IPS.length);
  });

  it('tests both sides', () => {
    const env = { isLocalAddress: (ip: number) => ip === LOCAL_IP } as unknown as MatchEnv;
    const fn = addrtype.compile(
      { ...addrtype.init(), srcType: { neg: false, value: ['LOCAL'] }, dstType: { neg: true, value: ['LOCAL', 'BROADCAST'] } },
      env,
    )!;
    const at = (src: number, dst: number) => fn({ ip: { src, dst } } as unknown as EvalCtx);
    expect(at(LOCAL_IP, 0x0a000002)).toBe(true);
    expect(at(LOCAL_IP, LOCAL_IP)).toBe(false);
    expect(at(LOCAL_IP, 0xffffffff)).toBe(false);
    expect(at(0x0a000002, 0x0a000002)).toBe(false);
  });
});
