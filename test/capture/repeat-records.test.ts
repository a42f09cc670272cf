// REPEAT records (capture/point RingPoint.departed, session 27): a capture point's plain UDP departure
// equal to its previous full record but for the IP id is 16 bytes naming that record; the writer thread
// (capture/record-expander) patches the template's bytes. The file must be the synchronous writer's,
// whether the template's or the repeat's bytes are still in the expander's output buffer or written out
// already (small outSize), the template is in an earlier chunk (small slots), or an arrival copies a repeat.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import type { Packet } from '../../src/packet/packet.js';
import { arpRequestFrame, fillLengths, udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-repeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** xorshift32: the same frames on every run. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

type Opts = ConstructorParameters<typeof PcapngWriter>[1];

/**
 * Two wires (interfaces 0 → 1, 2 → 3) captured through points, as scenario/run.ts hangs them. Each side
 * sends datagrams of 1–2 flows: most differ from the side's previous one only in the IP id (every value:
 * the checksum's carries), some in one field a repeat must not reuse. Arrivals come a few frames later,
 * some out of order, some never (dropped on the wire); now and then a frame is captured on one side only.
 */
function write(file: string, opts: Opts, n: number, seed: number, ifBase = 0, twin = false): { bytes: Buffer; count: number; hits: number; records: number[] } {
  const r = prng(seed);
  const w = new PcapngWriter(join(dir, file), opts);
  // ifBase (even) interfaces before the four captured ones: the expander's per-interface tables, made for 64, grow.
  for (let i = 0; i < ifBase; i++) w.addInterface(`x/if${i}`);
  for (const name of ['a/eth0', 'b/eth0', 'c/eth0', 'd/eth0']) w.addInterface(name);
  const clock = { now: 1000 };
  const pts = [0, 1, 2, 3].map((id) => w.point(ifBase + id, clock, (ifBase + id) ^ 1));
  // twin: a second point on the first interface sends the first side's second flow (DREPEATs' time base is by interface).
  const second = twin ? w.point(ifBase, clock, ifBase ^ 1) : null;
  const ring = w.asyncSink;
  const records: number[] = [];
  const pending: { pkt: Packet; to: number }[] = [];
  const ids = [0, 0xffff, 0x8000, 0xff, 0x100, 0xfffe];
  for (let i = 0; i < n; i++) {
    const side = r(2) * 2;
    const flow = r(5) === 0 ? 1 : 0;
    const p = udpFrame(9 + flow, null, 64);
    p.ip!.src += side;
    p.ip!.id = r(3) === 0 ? ids[r(ids.length)]! : r(65536);
    const change = r(40);
    if (change === 0) p.ip!.ttl = r(256);
    else if (change === 1) p.udp!.srcPort = r(65536);
    else if (change === 2) p.eth!.dst = r(2 ** 24) * 2 ** 24 + r(2 ** 24);
    else if (change === 3) p.eth!.src = r(2 ** 24) * 2 ** 24 + r(2 ** 24);
    else if (change === 4) p.payloadLength = r(300);
    else if (change === 5) p.ip!.tos = r(256);
    else if (change === 6) p.ip!.flags ^= 2;
    else if (change === 7) p.ip!.dst = r(2 ** 32);
    else if (change === 8) p.ip!.checksum = r(65536); // not plain: the extended record
    fillLengths(p);
    if (change === 9) p.udp!.length = 65536 + r(100); // past 16 bits: the record keeps it whole
    if (change === 10) p.ip!.totalLength += 1;
    // An ARP frame just before: a VERBATIM record left open, which the next REPEAT closes (AsyncChunkSink.fitHere
    // says no, recordHere closes it: session 37).
    if (change === 11) {
      clock.now += 1;
      pts[side]!.departed(arpRequestFrame());
    }
    const at = ring === null ? 0 : (ring.pos + 7) & ~7;
    const chunk = ring === null ? 0 : ring.chunkStart;
    clock.now += 1 + r(10_000);
    (second !== null && side === 0 && flow === 1 ? second : pts[side]!).departed(p);
    if (ring !== null && ring.chunkStart === chunk) records.push(ring.pos - at);
    if (r(12) !== 0) pending.push({ pkt: p, to: side + 1 });
    while (pending.length > 0 && (pending.length > 5 || r(3) === 0)) {
      const a = pending.splice(r(5) === 0 ? r(pending.length) : 0, 1)[0]!;
      clock.now += 1 + r(1000);
      // Now and then an ARP frame leaves the arriving side first: the COPY closes its open VERBATIM record (writeCopyOpen).
      if (r(9) === 0) pts[a.to]!.departed(arpRequestFrame());
      pts[a.to]!.arrived(a.pkt);
    }
  }
  for (const a of pending) {
    clock.now += 7;
    pts[a.to]!.arrived(a.pkt);
  }
  w.close();
  return { bytes: readFileSync(join(dir, file)), count: w.packetCount, hits: w.memoHits, records };
}

describe('REPEAT records (capture points, writer thread)', () => {
  it('are the synchronous writer’s bytes: templates in or out of the output buffer, in other chunks, copied arrivals', () => {
    for (const seed of [3, 11]) {
      const want = write(`sync-${seed}.pcapng`, { sync: true }, 5000, seed);
      const cases: [string, Opts][] = [
        ['default', { startAt: 4096 }],
        ['small-out', { outSize: 1024, startAt: 4096 }],
        ['small-slots', { slots: 3, slotSize: 2048, outSize: 1536, syncEvery: 65536 }],
        ['inline', { slotSize: 1 << 22 }],
      ];
      for (const [name, opts] of cases) {
        const got = write(`${name}-${seed}.pcapng`, opts, 5000, seed);
        expect(got.count).toBe(want.count);
        expect(got.hits).toBeGreaterThan(want.count / 3);
        expect(got.bytes.equals(want.bytes), `${name} seed ${seed}`).toBe(true);
        // Most departures took a REPEAT record (8 bytes within 2^16 ns of the point's previous REPEAT, else 16); a changed
        // field, the first of a chunk, a given checksum did not.
        const repeats = got.records.filter((n) => n === 16 || n === 8).length;
        expect(repeats).toBeGreaterThan(got.records.length / 4);
        expect(got.records.filter((n) => n === 8).length).toBeGreaterThan(got.records.length / 8);
        expect(got.records.filter((n) => n === 16).length).toBeGreaterThan(50);
        expect(got.records.filter((n) => n === 64).length).toBeGreaterThan(50);
      }
    }
  });

  it('are the synchronous writer’s bytes past the 64 interfaces the expander’s tables are made for, and past 0xffff', () => {
    // RecordExpander sizes its per-interface tables for interfaces 0–63 at once (session 43) and grows them for a
    // later one; its written-out REPEAT path takes interfaces up to 0xffff (the rest go through repeatInto).
    for (const ifBase of [200, 0xfffe]) {
      const want = write(`sync-if${ifBase}.pcapng`, { sync: true }, 1500, 5, ifBase);
      for (const [name, opts] of [
        ['default', { startAt: 4096 }],
        ['small-out', { outSize: 1024, startAt: 4096 }],
      ] as [string, Opts][]) {
        const got = write(`${name}-if${ifBase}.pcapng`, opts, 1500, 5, ifBase);
        expect(got.count).toBe(want.count);
        expect(got.bytes.equals(want.bytes), `${name} ifBase ${ifBase}`).toBe(true);
        expect(got.records.filter((k) => k === 16 || k === 8).length).toBeGreaterThan(got.records.length / 4);
      }
    }
  });

  it('are the synchronous writer’s bytes with two points on one interface (REPEATs only: no DREPEAT)', () => {
    // A DREPEAT's time is an offset from its interface's last REPEAT on the writer thread, from its point's on the
    // simulation thread: with two points on an interface neither writes one (PcapngWriter.point). Fails without that.
    const want = write('sync-twin.pcapng', { sync: true }, 3000, 7, 0, true);
    const got = write('default-twin.pcapng', { startAt: 4096 }, 3000, 7, 0, true);
    expect(got.count).toBe(want.count);
    expect(got.bytes.equals(want.bytes)).toBe(true);
    expect(got.records.filter((k) => k === 8).length).toBeGreaterThan(100); // the other side's
  });
});
