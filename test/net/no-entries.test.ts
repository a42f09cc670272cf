// net/no-entries: a namespace's rarely written tables start as one shared empty table that refuses
// writes; a writer gives the namespace its own first, so what one namespace learns stays its own.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { Namespace } from '../../src/net/namespace.js';
import { NO_ENTRIES, NO_MEMBERS } from '../../src/net/no-entries.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';

const ip = (s: string): number => parseIpv4(s)!;

describe('shared empty namespace tables', () => {
  it('refuse writes', () => {
    expect(() => (NO_ENTRIES as Map<number, number>).set(1, 2)).toThrow(/shared empty table/);
    expect(() => (NO_MEMBERS as Set<number>).add(1)).toThrow(/shared empty set/);
    expect(NO_ENTRIES.size).toBe(0);
    expect(NO_MEMBERS.size).toBe(0);
  });

  it('an ARP announcement and a ping socket are the namespace’s own, the others keep the shared empty ones', () => {
    const sim = new Simulator(1);
    const a = new Namespace(sim, 'a');
    const b = new Namespace(sim, 'b');
    expect(a.arpAnnounce).toBe(b.arpAnnounce);
    a.announceArp(ip('192.168.1.240'));
    expect([...a.arpAnnounce]).toEqual([ip('192.168.1.240')]);
    expect(b.arpAnnounce.size).toBe(0);
    expect(b.arpAnnounce).toBe(NO_MEMBERS);
    a.announceArp(ip('192.168.1.241'));
    expect(a.arpAnnounce.size).toBe(2);
    expect(a.pmtu).toBe(NO_ENTRIES);
    expect(b.pingHandlers).toBe(NO_ENTRIES);
  });
});
