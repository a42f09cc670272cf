// Capture points (capture/point.ts): the device calls its `capture` hook at the tap's places, and a
// CaptureGate shared by a writer's points applies the capture filter and the byte limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCaptureFilter } from '../../src/capture/filter.js';
import { CaptureGate, PcapngWriter, PcapWriter } from '../../src/capture/pcapng.js';
import { Simulator } from '../../src/core/simulator.js';
import { Channel } from '../../src/link/channel.js';
import { NicDevice } from '../../src/link/nic.js';
import { udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-point-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('capture points', () => {
  it('the device calls its point for a frame sent and for a frame received, with the time of the call', () => {
    const sim = new Simulator(1);
    const a = new NicDevice(sim, 'a', 0x020000000001);
    const b = new NicDevice(sim, 'b', 0x020000000002);
    new Channel(sim, a, b, { rateBps: 1e9, delayNs: 1000, queueLimit: 10 });
    const seen: string[] = [];
    a.capture = { departed: (p) => seen.push(`a out ${p.udp!.dstPort} @${sim.now}`), arrived: () => seen.push('a in') };
    b.capture = { departed: () => seen.push('b out'), arrived: (p) => seen.push(`b in ${p.udp!.dstPort} @${sim.now}`) };
    a.rxHandler = b.rxHandler = () => {};
    sim.scheduleAt(5, () => a.xmit(udpFrame(53, null, 64)));
    sim.run();
    // 106 bytes + 24 of framing at 1 Gb/s: 1,040 ns on the wire, then 1,000 ns of delay.
    expect(seen).toEqual(['a out 53 @5', 'b in 53 @2045']);
  });

  it('a gate keeps what its filter accepts and stops at its byte limit for every point of the writer', () => {
    for (const make of [(p: string) => new PcapngWriter(join(dir, p)), (p: string) => new PcapWriter(join(dir, p))]) {
      const w = make(`gate-${Math.random().toString(36).slice(2)}`);
      const ids = [w.addInterface('x'), w.addInterface('y')];
      const clock = { now: 0 };
      const gate = new CaptureGate(w, compileCaptureFilter('udp dst port 53'), 2000);
      const [px, py] = ids.map((id) => w.point(id, clock, -1, gate));
      px!.departed(udpFrame(53));
      px!.departed(udpFrame(54)); // refused by the filter
      py!.arrived(udpFrame(53));
      expect(w.packetCount).toBe(2);
      expect(gate.stoppedAt).toBe(-1);
      for (let i = 0; i < 30; i++) px!.departed(udpFrame(53));
      // Stopped at the first frame that found the file at 2,000 bytes or more; nothing after it.
      expect(gate.stoppedAt).toBeGreaterThanOrEqual(2000);
      const n = w.packetCount;
      expect(n).toBeLessThan(32);
      py!.arrived(udpFrame(53));
      expect(w.packetCount).toBe(n);
      w.abort();
    }
  });
});
