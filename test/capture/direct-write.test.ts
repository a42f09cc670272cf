// The writer thread's O_DIRECT writes (capture/async-sink, RecordExpander's direct mode, session 24):
// whole 4 KiB blocks from an aligned buffer, the bytes past the last block carried to the next write,
// the last block padded and the file truncated to its length. The file must be the bytes the
// synchronous writer makes, whatever the buffer size, for frames larger than the buffer, and with
// page-cache writes only (`direct: false`, as where the file system refuses O_DIRECT).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LINK_SAVE } from '../../src/capture/frame-memo.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-direct-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Opts = ConstructorParameters<typeof PcapngWriter>[1];

/**
 * 3,000 UDP frames, each leaving interface 0 and arriving at 1 (a COPY of its departure): mostly 64-byte
 * zero payloads, every 7th with payload bytes present, every 500th of 20,000 bytes present (larger than a
 * small output buffer); the file's length is not a multiple of 4096.
 */
function write(path: string, opts: Opts): { bytes: Buffer; direct: number } {
  const w = new PcapngWriter(path, opts);
  w.addInterface('a/eth0');
  w.addInterface('b/eth0');
  let t = 1_000_000;
  for (let i = 0; i < 3000; i++) {
    const big = i % 500 === 499;
    const present = big || i % 7 === 0;
    const payload = present ? new Uint8Array(big ? 20_000 : 1 + (i % 37)).map((_, k) => (k * 31 + i) & 0xff) : null;
    const p = udpFrame(9, payload, payload === null ? 64 : payload.length);
    p.ip!.id = i & 0xffff;
    w.writePacketRecord(0, (t += 1000), p, LINK_SAVE);
    w.writePacketRecord(1, (t += 500), p, 0);
  }
  w.close();
  return { bytes: readFileSync(path), direct: w.asyncSink?.threadStats[8] ?? 0 };
}

describe('O_DIRECT capture writes (capture/async-sink)', () => {
  const want = write(join(dir, 'sync.pcapng'), { sync: true });

  it('the file is a length not made of whole blocks (the last write is padded, then truncated)', () => {
    expect(want.bytes.length % 4096).not.toBe(0);
    expect(want.bytes.length).toBeGreaterThan(300_000);
  });

  for (const outSize of [undefined, 5000, 8192, 100_003]) {
    it(`writes the synchronous writer's bytes with O_DIRECT (output buffer ${outSize ?? 'default'})`, () => {
      const got = write(join(dir, `direct-${outSize}.pcapng`), { startAt: 0, ...(outSize !== undefined ? { outSize } : {}) });
      expect(got.direct).toBeGreaterThan(0);
      expect(got.bytes.length).toBe(want.bytes.length);
      expect(got.bytes.equals(want.bytes)).toBe(true);
    });
  }

  it('with direct: false, no O_DIRECT write and the same bytes', () => {
    const got = write(join(dir, 'buffered.pcapng'), { startAt: 0, outSize: 5000, direct: false });
    expect(got.direct).toBe(0);
    expect(got.bytes.equals(want.bytes)).toBe(true);
  });
});
