// A departure on an interface whose snaplen cuts it, then its arrival on uncut interfaces: the arrival
// is a COPY record whose source the writer expanded cut (its time word then holds -1, not an offset),
// so the expander lays the arrival out again in full. Every sink shape must write the sync writer's bytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LINK_SAVE } from '../../src/capture/frame-memo.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { tcpSynFrame, udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-copy-cut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(file: string, opts: object): { bytes: Buffer; hits: number } {
  const w = new PcapngWriter(join(dir, file), opts as never);
  w.addInterface('c/eth0', { snaplen: 60 });
  w.addInterface('b/eth0');
  w.addInterface('d/eth0', { snaplen: 200 });
  let t = 0;
  for (let round = 0; round < 400; round++) {
    const frames = [udpFrame(53, new Uint8Array(100).fill(round & 0xff), 100), udpFrame(9, null, 300), tcpSynFrame()];
    const corrupt = udpFrame(53, null, 300);
    corrupt.corruptBit = (20 + 8 + 250) * 8 + 3; // netem's bit in the zero payload
    frames.push(corrupt);
    for (const p of frames) {
      w.writePacketRecord(0, (t += 10), p, LINK_SAVE);
      w.writePacketRecord(round % 2 === 0 ? 1 : 2, (t += 10), p, 0);
    }
  }
  const hits = w.memoHits;
  w.close();
  return { bytes: readFileSync(join(dir, file)), hits };
}

it('a cut departure and its uncut arrivals: async, inline and small-slot writers write the sync bytes', () => {
  const want = write('sync.pcapng', { sync: true });
  for (const [name, opts] of [['async', {}], ['inline', { slotSize: 1 << 22 }], ['small', { slotSize: 4096, slots: 2 }]] as const) {
    const got = write(`${name}.pcapng`, opts);
    expect(got.hits, name).toBeGreaterThan(0); // the arrivals went as COPY records of their departures
    expect(got.bytes.equals(want.bytes), name).toBe(true);
  }
});
