// A copied arrival is an 8-byte SCOPY record (session 39): no interface word, its time an int32 offset from its
// capture point's last long COPY (RingPoint.t0); the writer thread takes both from the last COPY whose departure
// left the same interface. So that COPY must be the point's own: another arrival interface's long COPY of the same
// departures (writePacketRecord with that link) ends the point's base, a second point with the same peer makes both
// write long COPYs only, and a time that is no int32 offset (a gap past 2^31 ns, a fraction of a ns) is a long COPY.
// The writer-thread files must equal the synchronous writer's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-scopy-base-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** X (1) departs; P (0) arrives through its point, Q (2) now and then through writePacketRecord; R (3) takes X as its peer too from round `contestAt` on. */
function write(file: string, opts: object, contestAt: number): { bytes: Buffer; hits: number } {
  const w = new PcapngWriter(join(dir, file), opts as never);
  const p = w.addInterface('n/p');
  const x = w.addInterface('n/x');
  const q = w.addInterface('n/q');
  const r = w.addInterface('n/r');
  const clock = { now: 1000 };
  const dep = w.point(x, clock, p, null);
  const arr = w.point(p, clock, x, null);
  let arrR = null as ReturnType<PcapngWriter['point']> | null;
  const pkts = [udpFrame(53, null, 20), udpFrame(54, null, 20), udpFrame(55, null, 30)];
  // The third carries IP options: serialized into the chunk, its arrivals copy frame bytes (COPY_RAW's kind of source).
  pkts[2]!.ip!.options = new Uint8Array([1, 1, 1, 1]);
  pkts[2]!.ip!.totalLength = 20 + 4 + 8 + 30;
  pkts[2]!.udp!.length = 8 + 30;
  for (let round = 0; round < 400; round++) {
    if (round === contestAt) arrR = w.point(r, clock, x, null);
    for (const [i, pkt] of pkts.entries()) {
      pkt.ip!.ttl = 64 - (round % 50);
      // Now and then a gap no int32 offset spans, or a time that is no integer (for one packet).
      clock.now += round % 37 === 5 && i === 0 ? 3e9 : round % 41 === 7 && i === 1 ? 10.5 : round % 41 === 7 && i === 2 ? 9.5 : 10;
      dep.departed(pkt);
      clock.now += 7;
      if ((round + i) % 9 === 4) {
        // Q's arrival copies X's departure (a long COPY of X's departures at another interface), then X departs
        // again and P's arrival follows: it may not be expanded with Q's interface or time.
        w.writePacketRecord(q, clock.now, pkt, x);
        clock.now += 3;
        dep.departed(pkt);
        clock.now += 7;
      }
      arr.arrived(pkt);
      if (arrR !== null && i === 2) {
        clock.now += 5;
        dep.departed(pkt);
        clock.now += 7;
        arrR.arrived(pkt);
      }
    }
  }
  const hits = w.memoHits;
  w.close();
  return { bytes: readFileSync(join(dir, file)), hits };
}

it("an SCOPY's interface and time are its point's: another interface's COPY, a second copier, a gap or a fraction of a ns make long COPYs", () => {
  for (const contestAt of [200, 1000]) {
    const want = write(`sync-${contestAt}.pcapng`, { sync: true }, contestAt);
    for (const [name, opts] of [['async', {}], ['small', { slotSize: 4096, slots: 2 }]] as const) {
      const got = write(`${name}-${contestAt}.pcapng`, opts, contestAt);
      expect(got.hits, `${name} ${contestAt}`).toBeGreaterThan(1000); // most arrivals were copied
      expect(got.bytes.equals(want.bytes), `${name} ${contestAt}`).toBe(true);
    }
  }
});
