// A copied arrival (capture/point RingPoint.arrived) leaves the departure's mark on the packet (session 38:
// fewer bytecode bytes on the datapath's hottest inlined call). So every departure from the peer must mark the
// packet again or clear the mark: one its gate refuses (RingPoint.skipped) and one serialized but not marked
// (PcapngWriter.ringOut: cut by the snaplen) — else the same packet object coming round again would arrive as a
// COPY of its earlier departure. The writer-thread file must equal the synchronous writer's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CaptureGate, PcapngWriter } from '../../src/capture/pcapng.js';
import { udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-arrival-mark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** P (interface 0) and X (interface 1) are wire peers; the same packet objects go P → X again and again, rewritten between. */
function write(file: string, opts: object, gated: boolean): { bytes: Buffer; hits: number } {
  const w = new PcapngWriter(join(dir, file), opts as never);
  const p = w.addInterface('n/p', { snaplen: 80 });
  const x = w.addInterface('n/x');
  const clock = { now: 1000 };
  // P's gate refuses every third departure (by its TTL); X has none, so its arrivals take the one-call copy.
  const gate = gated ? new CaptureGate(w, (pkt) => pkt.ip!.ttl % 3 !== 0) : null;
  const dep = w.point(p, clock, x, gate);
  const arr = w.point(x, clock, p, null);
  const pkts = [udpFrame(53, null, 20), udpFrame(54, null, 20)];
  for (let round = 0; round < 300; round++) {
    for (const [i, pkt] of pkts.entries()) {
      // Rewritten as a router would between two passes: TTL, and now and then IP options (serialized, not a
      // fast record) on a long datagram that P's snaplen cuts (such a departure is not marked).
      pkt.ip!.ttl = 64 - (round % 60);
      const odd = (round + i) % 4 === 1;
      pkt.ip!.options = odd ? new Uint8Array([1, 1, 1, 1]) : null;
      pkt.payloadLength = odd ? 200 : 20;
      pkt.ip!.totalLength = 20 + (odd ? 4 : 0) + 8 + pkt.payloadLength;
      pkt.udp!.length = 8 + pkt.payloadLength;
      clock.now += 10;
      dep.departed(pkt);
      clock.now += 10;
      arr.arrived(pkt);
    }
  }
  const hits = w.memoHits;
  w.close();
  return { bytes: readFileSync(join(dir, file)), hits };
}

it('a departure that neither marks the packet nor is refused by a gate clears the mark: no arrival is a COPY of an earlier one', () => {
  for (const gated of [false, true]) {
    const want = write(`sync-${gated}.pcapng`, { sync: true }, gated);
    const got = write(`async-${gated}.pcapng`, {}, gated);
    expect(got.hits, `gated ${gated}`).toBeGreaterThan(200); // most arrivals were copied
    expect(got.bytes.equals(want.bytes), `gated ${gated}`).toBe(true);
  }
});
