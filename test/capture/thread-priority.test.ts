// capture/thread-priority and the writer thread's priority (capture/async-sink): the writer thread lowers
// its own priority, not the simulation thread's, and where that is not possible it runs on unchanged.
import { mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { niceThisThread } from '../../src/capture/thread-priority.js';
import { udpFrame } from '../helpers/frames.js';

const linux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'podwire-prio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A thread's nice value as the kernel has it (/proc/self/task/TID/stat, field 19). */
function niceOf(tid: number): number {
  const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]);
}

const thisTid = (): number => Number(readlinkSync('/proc/thread-self').split('/').pop());

/** Runs niceThisThread(by, self) in a fresh thread (as the writer thread does, from its source text). */
function inThread(by: number, self?: string): Promise<{ tid: number; got: number; kernel: number }> {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readlinkSync, readFileSync } = require('node:fs');
    const { getPriority, setPriority } = require('node:os');
    var __name = (f) => f;
    const niceThisThread = ${niceThisThread.toString()};
    const calls = { readlinkSync, getPriority, setPriority };
    const got = workerData.self === undefined ? niceThisThread(workerData.by, calls) : niceThisThread(workerData.by, calls, workerData.self);
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const st = readFileSync('/proc/thread-self/stat', 'utf8');
    parentPort.postMessage({ tid, got, kernel: Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]) });`;
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: { by, self } });
    w.once('message', (m) => {
      resolve(m as { tid: number; got: number; kernel: number });
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('thread priority', () => {
  it.skipIf(!linux)('niceThisThread lowers the calling thread alone, capped at 19', async () => {
    const mine = niceOf(thisTid());
    const r = await inThread(5);
    expect(r.got).toBe(Math.min(19, mine + 5));
    expect(r.kernel).toBe(r.got);
    expect(r.tid).not.toBe(thisTid());
    expect(niceOf(thisTid())).toBe(mine); // the caller's thread (here: the test's) is untouched
    const capped = await inThread(40);
    expect(capped.got).toBe(19);
    expect(capped.kernel).toBe(19);
  });

  it('falls back silently: NaN and the inherited priority where the thread id cannot be had', async () => {
    const before = linux ? niceOf(thisTid()) : 0;
    // No such link, and a link whose target does not end in a thread id: nothing is changed, nothing thrown.
    // (A link made here, not one whose target this test does not choose: a target ending in a number
    // would name some thread, and the real setPriority would lower it for good.)
    symlinkSync('x/word', join(dir, 'word'));
    expect(niceThisThread(5, undefined, join(dir, 'no-such-link'))).toBeNaN();
    expect(niceThisThread(5, undefined, join(dir, 'word'))).toBeNaN();
    if (linux) {
      expect(niceOf(thisTid())).toBe(before);
      const r = await inThread(5, join(dir, 'no-such-link'));
      expect(r.got).toBeNaN();
      expect(r.kernel).toBe(before);
      // A link ending in 0: setpriority(2) would take 0 as "the calling thread"; no id, no change.
      symlinkSync('x/0', join(dir, 'zero'));
      const z = await inThread(5, join(dir, 'zero'));
      expect(z.got).toBeNaN();
      expect(z.kernel).toBe(before);
    }
  });

  /** A capture past its first chunk, so that its writer thread runs; waits (bounded) until the thread has said its tid. */
  function started(name: string, opts: { writerNice?: number }): PcapngWriter {
    const w = new PcapngWriter(join(dir, name), { slots: 4, slotSize: 4096, ...opts });
    const id = w.addInterface('a/eth0');
    const f = udpFrame();
    for (let i = 0; i < 200; i++) w.writePacketRecord(id, i * 1000, f);
    const ts = w.asyncSink!.threadStats;
    const gate = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 500 && !(ts[11]! > 0); i++) Atomics.wait(gate, 0, 0, 10);
    expect(ts[11]).toBeGreaterThan(0);
    return w;
  }

  it.skipIf(!linux)('a capture writer thread asked to runs at the lowered priority, the simulation thread at its own', () => {
    const main = niceOf(process.pid);
    const mine = niceOf(thisTid());
    const w = started('p.pcapng', { writerNice: 7 });
    const ts = w.asyncSink!.threadStats;
    expect(ts[12]).toBe(Math.min(19, mine + 7));
    expect(niceOf(ts[11]!)).toBe(ts[12]);
    expect(niceOf(process.pid)).toBe(main);
    expect(niceOf(thisTid())).toBe(mine);
    w.close();
  });

  it.skipIf(!linux)('by default the writer thread keeps the priority it inherits (writerNice is a bench setting)', () => {
    const mine = niceOf(thisTid());
    const w = started('d.pcapng', {});
    const ts = w.asyncSink!.threadStats;
    expect(ts[12]).toBeNaN();
    expect(niceOf(ts[11]!)).toBe(mine);
    w.close();
  });
});
