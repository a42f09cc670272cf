// The pcapng writer's writer thread (capture/async-sink): same bytes as the synchronous writer, bounded
// memory with back-pressure, whole-or-absent files; and snaplen: cut frames keep their original length
// and are not malformed for tshark.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASYNC_MAX_SYNCS, ASYNC_SYNC_EVERY, AsyncChunkSink } from '../../src/capture/async-sink.js';
import { tempPathFor } from '../../src/capture/atomic.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { icmpEchoFrame, tcpSynFrame, udpFrame, vxlanFrame } from '../helpers/frames.js';
import { hasTshark, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { ROOT } from '../integration/run-scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-async-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeAll(w: PcapngWriter, n: number): void {
  const ids = ['a/eth0', 'b/eth0', 'c/flannel.1'].map((name) => w.addInterface(name));
  const frames = [udpFrame(), tcpSynFrame(), icmpEchoFrame(8, 3), vxlanFrame()];
  for (let i = 0; i < n; i++) w.writePacketRecord(ids[i % 3]!, i * 1000 + 7, frames[i % 4]!);
}

describe('async capture writer', () => {
  it('writes the same bytes as the synchronous writer, through a ring smaller than the file (back-pressure)', () => {
    const syncPath = join(dir, 'sync.pcapng');
    const asyncPath = join(dir, 'async.pcapng');
    const s = new PcapngWriter(syncPath, { sync: true });
    writeAll(s, 20_000);
    s.close();
    // 2 slots of 4 KiB: the file is ~2.6 MB, so the simulation thread must wait for the disk many times.
    const a = new PcapngWriter(asyncPath, { slots: 2, slotSize: 4096 });
    writeAll(a, 20_000);
    expect(existsSync(asyncPath)).toBe(false);
    expect(a.bytes).toBe(s.bytes);
    a.close();
    const want = readFileSync(syncPath);
    expect(want.length).toBeGreaterThan(2_000_000);
    expect(readFileSync(asyncPath).equals(want)).toBe(true);
    // The waits and the thread's own figures are reported (the thread boots while two 4 KiB chunks fill).
    const sink = a.asyncSink!;
    expect(sink.stalls).toBeGreaterThan(0);
    expect(sink.stallMs).toBeGreaterThan(0);
    expect(sink.threadStats[4]).toBeGreaterThan(0); // expanding and writing
    expect(sink.threadStats[0]).toBeGreaterThan(0); // write(2)
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a capture smaller than one chunk (written at finish, no thread) has the same bytes too', () => {
    const s = new PcapngWriter(join(dir, 'small-sync.pcapng'), { sync: true });
    writeAll(s, 50);
    s.close();
    const a = new PcapngWriter(join(dir, 'small-async.pcapng'));
    writeAll(a, 50);
    a.close();
    expect(readFileSync(join(dir, 'small-async.pcapng')).equals(readFileSync(join(dir, 'small-sync.pcapng')))).toBe(true);
  });

  it('a file 250 times the ring (2 × 1 KiB) arrives whole and in order', () => {
    const sink = new AsyncChunkSink(join(dir, 'raw.bin'), { slots: 2, slotSize: 1024 });
    for (let i = 0; i < 5000; i++) {
      const o = sink.reserve(100);
      sink.buf.fill(i & 0xff, o, o + 100);
      sink.pos = o + 100;
    }
    sink.commit();
    const got = readFileSync(join(dir, 'raw.bin'));
    expect(got.length).toBe(500_000);
    for (let i = 0; i < 5000; i++) expect(got[i * 100 + 50]).toBe(i & 0xff);
  });

  it('an idle writer thread is woken once per 4 chunks handed over, not per chunk, and still writes them all', () => {
    const sink = new AsyncChunkSink(join(dir, 'wake.bin'), { slots: 16, slotSize: 1024, startAt: 0 });
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 12; i++) {
      const o = sink.reserve(100);
      sink.buf.fill(i + 1, o, o + 100);
      sink.pos = o + 100;
      sink.flush(); // one chunk handed over
      Atomics.wait(nap, 0, 0, 5); // the writer thread is idle by now (or still booting)
    }
    // A wake-up per chunk would be 12. Only a hand-over that leaves 4 or more chunks waiting wakes the
    // thread, so the first 3 never do: at most 9, typically 3 (more while the thread boots, or when it
    // waits for a core after its wake-up and chunks keep arriving: 6-9 seen at load 12).
    expect(sink.wakes).toBeLessThanOrEqual(9);
    sink.commit();
    const got = readFileSync(join(dir, 'wake.bin'));
    expect(got.length).toBe(1200);
    for (let i = 0; i < 12; i++) expect(got[i * 100 + 50]).toBe(i + 1);
  });

  it('a chunk fills a slot the writer thread has written out before a slot never used (memory in use = the backlog)', () => {
    const sink = new AsyncChunkSink(join(dir, 'reuse.bin'), { slots: 16, slotSize: 1024, startAt: 0 });
    const ctrl = (sink as unknown as { ctrl: Int32Array }).ctrl;
    for (let i = 0; i < 40; i++) {
      const o = sink.reserve(100);
      sink.buf.fill(i + 1, o, o + 100);
      sink.pos = o + 100;
      sink.flush(); // chunk i handed over
      // Wait until the writer thread has written it: the next chunk finds its slot free.
      while (Atomics.load(ctrl, 1) < i + 1) Atomics.wait(ctrl, 1, Atomics.load(ctrl, 1), 50);
    }
    // Chunk 0 in slot 0; chunk 1 in slot 1 (slot 0 was still waiting when it was taken); then the two in turn.
    expect(sink.slotsUsed).toBe(2);
    sink.commit();
    const got = readFileSync(join(dir, 'reuse.bin'));
    expect(got.length).toBe(4000);
    for (let i = 0; i < 40; i++) expect(got[i * 100 + 50]).toBe(i + 1);
  });

  it('the small first chunks share slot 0 (session 35); free once the last of them is written, it is taken after a new slot the writer thread has faulted in, before one it has not', () => {
    // No thread before the 15th hand-over: the writer thread's progress is played here through the control
    // words (ctrl[1] chunks written, ctrl[5] slots faulted in), so the file is aborted, not finished.
    const sink = new AsyncChunkSink(join(dir, 'cold.bin'), { slots: 16, slotSize: 1024, startChunk: 15, primeChunks: 4, primeSize: 256 });
    const ctrl = (sink as unknown as { ctrl: Int32Array }).ctrl;
    const slot = (): number => sink.slotBase / sink.slotSize;
    const chunk = (): void => {
      const o = sink.reserve(100);
      sink.pos = o + 100;
      sink.flush();
    };
    // Chunks 0-3 (small) one after the other in slot 0; the place of each in the control words (bytes / 8).
    for (let i = 1; i < 4; i++) {
      chunk();
      expect(sink.slotBase).toBe(i * 256);
      expect(ctrl[6 + 16 + (i - 1)]).toBe(((i - 1) * 256) / 8);
      expect(sink.slotsUsed).toBe(1);
    }
    chunk();
    expect(slot()).toBe(1); // chunk 4: a new slot
    chunk();
    expect(slot()).toBe(2);
    ctrl[1] = 3; // chunks 0-2 written: slot 0 still holds chunk 3
    ctrl[5] = 3;
    chunk();
    expect(slot()).toBe(3); // not slot 0
    ctrl[1] = 4; // the 4 small chunks written: slot 0 is free but mostly untouched
    ctrl[5] = 5; // slots 0-4 faulted in: slot 4 is new and faulted in ahead
    chunk();
    expect(slot()).toBe(4); // the new slot faulted in ahead before slot 0
    chunk();
    expect(sink.slotBase).toBe(0); // then slot 0 (slot 5 is not faulted in)
    ctrl[1] = 6; // chunks 4 and 5 written: their slots (1, 2) are taken before any other, the last freed first
    chunk();
    expect(slot()).toBe(2);
    chunk();
    expect(slot()).toBe(1);
    expect(sink.slotsUsed).toBe(5);
    sink.abort();
  });

  it('with the writer thread behind, slots are taken new and freed out of their order; the file stays in order', () => {
    // 4 slots of 1 KiB, chunks of 1 to 9 records: the free slots come back in the writer's order, the
    // simulation takes the last freed first, so chunk n's slot is not n % 4.
    const sink = new AsyncChunkSink(join(dir, 'order.bin'), { slots: 4, slotSize: 1024, startAt: 0 });
    let n = 0;
    for (let i = 0; i < 300; i++) {
      for (let k = 0; k <= i % 9; k++) {
        const o = sink.reserve(100);
        sink.buf.fill(n & 0xff, o, o + 100);
        sink.pos = o + 100;
        n++;
      }
      sink.flush();
    }
    expect(sink.slotsUsed).toBeLessThanOrEqual(4);
    sink.commit();
    const got = readFileSync(join(dir, 'order.bin'));
    expect(got.length).toBe(n * 100);
    for (let i = 0; i < n; i++) expect(got[i * 100 + 50]).toBe(i & 0xff);
  });

  it('recordHere gives a place in the current chunk, or −1 without handing the chunk over', () => {
    const sink = new AsyncChunkSink(join(dir, 'here.bin'), { slots: 4, slotSize: 1024, startAt: 0 });
    try {
      sink.pos = 1016; // 8-aligned: 1016 + 16 > 1024
      const start = sink.chunkStart;
      expect(sink.recordHere(16)).toBe(-1);
      expect(sink.chunkStart).toBe(start);
      expect(sink.pos).toBe(1016);
      expect(sink.recordHere(8)).toBe(1016);
      sink.pos = 1017; // a record starts 8-aligned: at 1024, the chunk's end
      expect(sink.recordHere(8)).toBe(-1);
      sink.pos = 1000;
      expect(sink.recordHere(24)).toBe(1000);
      expect(sink.chunkStart).toBe(start); // nothing was handed over (record()'s hand-over: the tests above;
      // here the chunk holds no records the writer thread could expand)
    } finally {
      sink.pos = 0;
      sink.abort();
    }
  });

  it('threadStats[16] is when the last write(2) returned, on the monotonic clock, inside finish() (bench/capture-cost ns-3 window)', () => {
    // The thread's stamp is process.hrtime's CLOCK_MONOTONIC in ms, comparable with this thread's: a stamp on the
    // thread's performance.now() (its own origin) or none at all falls outside [before, after].
    const ms = (): number => Number(process.hrtime.bigint()) / 1e6;
    for (const small of [false, true]) {
      const p = join(dir, `last-write-${small}.bin`);
      const sink = new AsyncChunkSink(p, { primeChunks: 0 });
      for (let i = 0; i < (small ? 64 : 3 * 1024); i++) {
        const o = sink.reserve(1024);
        sink.buf.fill(i & 0xff, o, o + 1024);
        sink.pos = o + 1024;
      }
      const before = ms();
      sink.finish();
      const after = ms();
      // small: 64 KiB, expanded and written by finish() itself without a thread.
      expect(sink.threadStarted).toBe(!small);
      expect(sink.threadStats[16]).toBeGreaterThanOrEqual(before);
      expect(sink.threadStats[16]).toBeLessThanOrEqual(after);
      sink.publish();
      expect(readFileSync(p).length).toBe((small ? 64 : 3 * 1024) * 1024);
      rmSync(p);
    }
  });

  it('the writer thread fdatasyncs every 8 MiB by default, so finish() has at most that much left to flush', () => {
    const sink = new AsyncChunkSink(join(dir, 'sync.bin'));
    for (let i = 0; i < 20 * 1024; i++) {
      const o = sink.reserve(1024);
      sink.buf.fill(i & 0xff, o, o + 1024);
      sink.pos = o + 1024;
    }
    sink.commit();
    expect(readFileSync(join(dir, 'sync.bin')).length).toBe(20 << 20);
    // 20 MiB written: syncs after 256 KiB, 8.25 and 16.25 MiB (one at a time: fewer if one was still out), then the final fsync.
    expect(sink.threadStats[2]).toBeGreaterThanOrEqual(1);
    expect(sink.threadStats[2]).toBeLessThanOrEqual(3);
    rmSync(join(dir, 'sync.bin'));
  });

  it('what is left at finish() is fdatasynced every 2 MiB as it is written, the first at once (session 38)', () => {
    // The thread starts at the 15th hand-over, so finish() finds ~14 MiB to write: syncs beside the writes, so
    // the final fsync has little left to flush. They count in threadStats[15] (not [2], the run's periodic ones).
    const sink = new AsyncChunkSink(join(dir, 'sync-late.bin'), { slots: 16, slotSize: 1 << 20, startChunk: 15, primeChunks: 0 });
    for (let i = 0; i < 14 * 1024; i++) {
      const o = sink.reserve(1024);
      sink.buf.fill(i & 0xff, o, o + 1024);
      sink.pos = o + 1024;
    }
    expect(sink.threadStarted).toBe(false);
    sink.commit();
    expect(readFileSync(join(dir, 'sync-late.bin')).length).toBe(14 << 20);
    expect(sink.threadStats[2]).toBe(0);
    expect(sink.threadStats[15]).toBeGreaterThanOrEqual(3);
    rmSync(join(dir, 'sync-late.bin'));
  });

  it('the writer thread has up to ASYNC_MAX_SYNCS fdatasyncs out at once, not one (session 31), and the file is whole', () => {
    // A 4 KiB output buffer and a sync every 4 KiB: a 1 MiB chunk is 256 writes, each due a sync, and a
    // sync's end is seen only between chunks (its callback needs the thread's event loop): the chunk's
    // first writes start syncs until ASYNC_MAX_SYNCS are out, whatever the disk's speed.
    const p = join(dir, 'syncs.bin');
    const want = Buffer.alloc(4 << 20);
    const sink = new AsyncChunkSink(p, { syncEvery: 4096, outSize: 4096 });
    for (let i = 0; i < 4 * 1024; i++) {
      const o = sink.reserve(1024);
      sink.buf.fill(i & 0xff, o, o + 1024);
      want.fill(i & 0xff, i * 1024, i * 1024 + 1024);
      sink.pos = o + 1024;
    }
    sink.commit();
    expect(ASYNC_MAX_SYNCS).toBeGreaterThan(1);
    expect(sink.threadStats[13]).toBe(ASYNC_MAX_SYNCS);
    expect(readFileSync(p).equals(want)).toBe(true);
    // One at a time when asked (maxSyncs: 1).
    const one = new AsyncChunkSink(join(dir, 'syncs1.bin'), { syncEvery: 4096, outSize: 4096, maxSyncs: 1 });
    for (let i = 0; i < 2 * 1024; i++) {
      const o = one.reserve(1024);
      one.pos = o + 1024;
    }
    one.commit();
    expect(one.threadStats[13]).toBe(1);
    rmSync(p);
    rmSync(join(dir, 'syncs1.bin'));
  });

  it('the first fdatasync comes after the first 256 KiB (its path runs early), then every 8 MiB', () => {
    const sink = new AsyncChunkSink(join(dir, 'sync1.bin'));
    for (let i = 0; i < 1024; i++) {
      const o = sink.reserve(1024);
      sink.buf.fill(i & 0xff, o, o + 1024);
      sink.pos = o + 1024;
    }
    sink.commit();
    expect(readFileSync(join(dir, 'sync1.bin')).length).toBe(1 << 20);
    // 1 MiB: one periodic sync after 256 KiB, the next not before 256 KiB + ASYNC_SYNC_EVERY; then the final fsync.
    // (Session 38: a sync started once finish() was called counts in [15], not [2]; most of this file is written then.)
    expect(sink.threadStats[2]! + sink.threadStats[15]!).toBeGreaterThanOrEqual(1);
    expect(sink.threadStats[2]).toBeLessThanOrEqual(1 + Math.floor(((1 << 20) - (256 << 10)) / ASYNC_SYNC_EVERY));
    rmSync(join(dir, 'sync1.bin'));
  });

  it('abort stops the writer thread and leaves no file; finish then abort keeps nothing either', () => {
    const p = join(dir, 'aborted.pcapng');
    const w = new PcapngWriter(p, { slots: 2, slotSize: 4096 });
    writeAll(w, 2000);
    w.abort();
    expect(existsSync(p)).toBe(false);
    const q = join(dir, 'finished-aborted.pcapng');
    const v = new PcapngWriter(q);
    writeAll(v, 10);
    v.finish();
    v.abort();
    expect(existsSync(q)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it.skipIf(!existsSync('/dev/full'))('a write error in the writer thread (ENOSPC) is thrown on the simulation thread with the target path; abort leaves nothing', () => {
    const p = join(dir, 'full.pcapng');
    symlinkSync('/dev/full', tempPathFor(p)); // the temporary file is the full device
    const w = new PcapngWriter(p, { slots: 2, slotSize: 4096 });
    let err: NodeJS.ErrnoException | null = null;
    try {
      writeAll(w, 20_000);
      w.close();
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err?.code).toBe('ENOSPC');
    expect(err?.path).toBe(p);
    w.abort();
    expect(existsSync(p)).toBe(false);
    expect(existsSync(tempPathFor(p))).toBe(false);
  });

  it('the same error when the capture fits in one chunk (written at finish, no thread)', () => {
    const p = join(dir, 'full-small.pcapng');
    symlinkSync('/dev/full', tempPathFor(p));
    const w = new PcapngWriter(p);
    writeAll(w, 10);
    expect(() => w.finish()).toThrow(expect.objectContaining({ code: 'ENOSPC', path: p }));
    w.abort();
    expect(existsSync(tempPathFor(p))).toBe(false);
  });

  it('a record larger than a chunk is refused with a message, not written half', () => {
    const w = new PcapngWriter(join(dir, 'big.pcapng'), { slots: 2, slotSize: 1024 });
    const id = w.addInterface('x');
    expect(() => w.writePacket(id, 0, new Uint8Array(2000))).toThrow(/exceeds the capture chunk/);
    w.abort();
  });
});

describe.skipIf(!hasTshark())('snaplen', () => {
  it('frames cut at snaplen keep their original length and are not malformed for tshark', () => {
    const file = join(ROOT, 'scenarios', 'fragmentation.yaml');
    const res = runWorld(buildWorld(loadScenarioFile(file), 1), { outDir: join(dir, 'snap'), format: 'pcapng', snaplen: 96 });
    const recs = tsharkRecords(res.files.capture, ['frame.len', 'frame.cap_len']);
    const cut = recs.filter((r) => Number(r['frame.len']) > 96);
    expect(cut.length).toBeGreaterThan(0);
    for (const r of recs) expect(Number(r['frame.cap_len'])).toBe(Math.min(96, Number(r['frame.len'])));
    const check = tsharkCheck(res.files.capture);
    expect(check.frames).toBe(recs.length);
    expect(check.malformed).toBe(0);
    expect(check.badChecksums).toBe(0);
  });
});
