// Packet.renewKeepingIpTcp (transport/tcp's renewed segments): every field but `ip` and `tcp` as a new
// Packet has it, the uid a new packet would take, and the two records left in place (the same objects).
import { describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';

function fields(p: Packet): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(p)) if (k !== 'uid') o[k] = (p as unknown as Record<string, unknown>)[k];
  return o;
}

describe('Packet.renewKeepingIpTcp', () => {
  it('sets every field but ip and tcp as new Packet() does, field by field, and keeps those two', () => {
    const p = new Packet();
    // Every own field (whatever fields Packet gains later) set to something a new packet never holds.
    const stale: Record<string, unknown> = {};
    for (const k of Object.keys(p)) (p as unknown as Record<string, unknown>)[k] = stale[k] = { stale: k };
    p.renewKeepingIpTcp();
    const fresh = new Packet();
    expect(p.ip).toBe(stale['ip']);
    expect(p.tcp).toBe(stale['tcp']);
    const a = fields(p);
    const b = fields(fresh);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const k of Object.keys(b)) {
      if (k === 'ip' || k === 'tcp') continue;
      expect([k, a[k]]).toEqual([k, b[k]]);
    }
    expect(fresh.uid).toBe(p.uid + 1);
  });

  it('renew() after it nulls ip and tcp as well', () => {
    const p = new Packet();
    p.ip = {} as Packet['ip'];
    p.tcp = {} as Packet['tcp'];
    p.renewKeepingIpTcp();
    p.renew();
    expect(p.ip).toBeNull();
    expect(p.tcp).toBeNull();
  });
});
