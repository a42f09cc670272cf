// A writer thread booted before its capture is open (session 35, capture/async-sink prestartWriterThread): the
// next sink takes it in its constructor with a message (no `new Worker`), or at its startChunk-th hand-over when
// given one; the file is the synchronous writer's, byte for byte; abort() still removes the temporary file.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASYNC_SLOT_SIZE, dropSpareWriterThread, prestartWriterThread, spareWarmUpKiB, spareWriterThreadUp } from '../../src/capture/async-sink.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { icmpEchoFrame, tcpSynFrame, udpFrame, vxlanFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-wspare-'));
afterAll(async () => {
  await dropSpareWriterThread();
  rmSync(dir, { recursive: true, force: true });
});

function writeAll(w: PcapngWriter, n: number): void {
  const ids = ['a/eth0', 'b/eth0', 'c/flannel.1'].map((name) => w.addInterface(name));
  const frames = [udpFrame(), tcpSynFrame(), icmpEchoFrame(8, 3), vxlanFrame()];
  for (let i = 0; i < n; i++) w.writePacketRecord(ids[i % 3]!, i * 1000 + 7, frames[i % 4]!);
}

function syncFile(name: string, n: number): Buffer {
  const s = new PcapngWriter(join(dir, name), { sync: true });
  writeAll(s, n);
  s.close();
  return readFileSync(join(dir, name));
}

describe('a spare capture writer thread', () => {
  it('boots before any capture, opens nothing, and the next sink runs on it from its constructor: same bytes', () => {
    prestartWriterThread();
    expect(spareWriterThreadUp(20_000)).toBe(true);
    // Before it said it was up it expanded its warm-up records (session 36), into no file.
    expect(spareWarmUpKiB()).toBeGreaterThan(1024);
    expect(readdirSync(dir)).toEqual([]);
    for (const n of [200, 6000]) {
      const a = new PcapngWriter(join(dir, `spare-${n}.pcapng`));
      const sink = a.asyncSink!;
      expect(sink.usedSpare).toBe(true);
      expect(sink.threadStarted).toBe(true);
      // Taken: there is no spare left until the next prestart.
      expect(spareWriterThreadUp(0)).toBe(false);
      writeAll(a, n);
      if (n === 6000) expect(sink.chunkStart).toBeGreaterThanOrEqual(4 * ASYNC_SLOT_SIZE);
      a.close();
      expect(readFileSync(join(dir, `spare-${n}.pcapng`)).equals(syncFile(`sync-${n}.pcapng`, n))).toBe(true);
      // The thread wrote everything: its chunk time and CPU are counted (a capture finish() wrote itself has none).
      expect(sink.threadStats[6]).toBeGreaterThan(0);
      prestartWriterThread();
    }
    // Without a spare, a sink starts its own thread at the 4th hand-over as before.
    void dropSpareWriterThread();
    const b = new PcapngWriter(join(dir, 'own.pcapng'));
    expect(b.asyncSink!.threadStarted).toBe(false);
    writeAll(b, 6000);
    b.close();
    expect(b.asyncSink!.usedSpare).toBe(false);
    expect(readFileSync(join(dir, 'own.pcapng')).equals(readFileSync(join(dir, 'sync-6000.pcapng')))).toBe(true);
  });

  it('a thread started with its sink faults in slot 0 and the next 5 slots at its start (ASYNC_START_AHEAD), one started at a hand-over 1 and slot 0 after its first chunk', () => {
    prestartWriterThread();
    const a = new PcapngWriter(join(dir, 'ahead.pcapng'));
    const sink = a.asyncSink!;
    const ctrl = (sink as unknown as { ctrl: Int32Array }).ctrl;
    // The thread is idle once it has looked for a chunk (threadStats[9]: its waits); ctrl[5]: slots faulted in.
    const t0 = Date.now();
    while (sink.threadStats[9] === 0 && Date.now() - t0 < 20_000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    expect(ctrl[5]).toBe(1 + 5);
    expect(sink.threadStats[14]).toBe(0); // slot 0's rest before any chunk
    a.close();
    const b = new PcapngWriter(join(dir, 'ahead-late.pcapng'), { startChunk: 4 });
    writeAll(b, 6000);
    const sb = b.asyncSink!;
    b.close();
    // Started at the 4th hand-over: one slot ahead of those taken (ctrl[4]) at each look, never 5.
    const cb = (sb as unknown as { ctrl: Int32Array }).ctrl;
    expect(cb[5]).toBeLessThanOrEqual(cb[4]! + 1);
    // Slot 0's rest once the first chunk waiting for it is written, not before (session 36).
    expect(sb.threadStats[14]).toBe(1);
  });

  it('a sink given startChunk takes the spare at that hand-over; abort() stops it and removes the temporary file', () => {
    prestartWriterThread();
    const a = new PcapngWriter(join(dir, 'late.pcapng'), { startChunk: 4 });
    const sink = a.asyncSink!;
    expect(sink.threadStarted).toBe(false);
    writeAll(a, 6000);
    expect(sink.threadStarted).toBe(true);
    expect(sink.usedSpare).toBe(true);
    a.close();
    expect(readFileSync(join(dir, 'late.pcapng')).equals(syncFile('late-sync.pcapng', 6000))).toBe(true);
    prestartWriterThread();
    const c = new PcapngWriter(join(dir, 'aborted.pcapng'));
    expect(c.asyncSink!.usedSpare).toBe(true);
    writeAll(c, 3000);
    const tmp = c.asyncSink!.tempPath;
    expect(existsSync(tmp)).toBe(true);
    c.abort();
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(join(dir, 'aborted.pcapng'))).toBe(false);
  });
});
