// When capture/async-sink's writer thread starts (sessions 30, 34): the first chunks are small (their hand-overs
// run the chunk-end paths early), the thread starts at the ASYNC_START_CHUNK-th hand-over (the 4th), and finish()
// writes the chunks waiting in the ring itself for a small capture, through a thread it starts for a larger one
// (reachable with a later startChunk).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASYNC_PRIME_CHUNKS, ASYNC_PRIME_SIZE, ASYNC_SLOT_SIZE, ASYNC_START_AT, ASYNC_START_CHUNK, AsyncChunkSink } from '../../src/capture/async-sink.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { icmpEchoFrame, tcpSynFrame, udpFrame, vxlanFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-wstart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeAll(w: PcapngWriter, n: number): void {
  const ids = ['a/eth0', 'b/eth0', 'c/flannel.1'].map((name) => w.addInterface(name));
  const frames = [udpFrame(), tcpSynFrame(), icmpEchoFrame(8, 3), vxlanFrame()];
  for (let i = 0; i < n; i++) w.writePacketRecord(ids[i % 3]!, i * 1000 + 7, frames[i % 4]!);
}

describe('the capture writer thread start', () => {
  it('fills 4 small chunks, then full ones, and starts the thread at the 4th hand-over only', () => {
    expect(ASYNC_PRIME_CHUNKS).toBe(4);
    expect(ASYNC_START_CHUNK).toBe(4);
    const sink = new AsyncChunkSink(join(dir, 'start.bin'));
    const fills: number[] = [];
    const startedAt: boolean[] = [];
    let total = 0;
    let i = 0;
    while (fills.length < 7) {
      const before = sink.chunkStart;
      const was = sink.pos;
      const o = sink.reserve(56);
      if (sink.chunkStart !== before) {
        fills.push(was);
        startedAt.push(sink.threadStarted);
        // No thread to wake before it starts, nor at its start (it looks for the chunks waiting itself).
        if (fills.length === ASYNC_START_CHUNK) expect(sink.wakes).toBe(0);
      }
      sink.buf.fill(i++ & 0xff, o, o + 56);
      sink.pos = o + 56;
      total += 56;
      if (fills.length < ASYNC_START_CHUNK - 1) expect(sink.threadStarted).toBe(false);
    }
    // A chunk ends when the next 56 bytes would pass its limit (8 bytes of VERBATIM head at its start).
    for (let k = 0; k < ASYNC_PRIME_CHUNKS; k++) {
      expect(fills[k]).toBeLessThanOrEqual(ASYNC_PRIME_SIZE);
      expect(fills[k]).toBeGreaterThan(ASYNC_PRIME_SIZE - 56);
    }
    for (let k = ASYNC_PRIME_CHUNKS; k < 7; k++) expect(fills[k]).toBeGreaterThan(ASYNC_SLOT_SIZE - 56);
    expect(startedAt).toEqual([false, false, false, true, true, true, true]);
    sink.commit();
    const got = readFileSync(join(dir, 'start.bin'));
    expect(got.length).toBe(total);
    for (let k = 0; k < i; k += 997) expect(got[k * 56 + 30]).toBe(k & 0xff);
    rmSync(join(dir, 'start.bin'));
  });

  it('finish() writes a capture of several small chunks itself; a larger one without a thread (startChunk past it) through one it starts; by default the thread runs from the 4th chunk: same bytes', () => {
    const cases = [
      ['small', 200, {}, false, false],
      ['late', 6000, { startChunk: 15 }, false, true],
      ['default', 6000, {}, true, true],
    ] as const;
    for (const [name, n, opts, startedBefore, startedAfter] of cases) {
      const s = new PcapngWriter(join(dir, `${name}-sync.pcapng`), { sync: true });
      writeAll(s, n);
      s.close();
      const a = new PcapngWriter(join(dir, `${name}-async.pcapng`), opts);
      writeAll(a, n);
      const sink = a.asyncSink!;
      // Several chunks handed over; no thread yet unless the 4th was.
      expect(sink.chunkStart).toBeGreaterThanOrEqual(2 * ASYNC_SLOT_SIZE);
      if (name === 'small') expect(sink.chunkStart).toBeLessThan(ASYNC_START_CHUNK * ASYNC_SLOT_SIZE);
      expect(sink.threadStarted).toBe(startedBefore);
      a.close();
      expect(sink.threadStarted).toBe(startedAfter);
      expect(readFileSync(join(dir, `${name}-async.pcapng`)).equals(readFileSync(join(dir, `${name}-sync.pcapng`)))).toBe(true);
    }
    expect(ASYNC_START_AT).toBe(256 << 10);
  });

  it('startChunk 0 starts the thread in the constructor', () => {
    const a = new PcapngWriter(join(dir, 'eager.pcapng'), { startChunk: 0 });
    expect(a.asyncSink!.threadStarted).toBe(true);
    writeAll(a, 300);
    const s = new PcapngWriter(join(dir, 'eager-sync.pcapng'), { sync: true });
    writeAll(s, 300);
    s.close();
    a.close();
    expect(readFileSync(join(dir, 'eager.pcapng')).equals(readFileSync(join(dir, 'eager-sync.pcapng')))).toBe(true);
  });
});
