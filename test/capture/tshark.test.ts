import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { icmpEchoFrame, tcpSynFrame, udpFrame } from '../helpers/frames.js';
import { hasTshark, tsharkCheck, tsharkFields } from '../helpers/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFrames(name: string, frames: Uint8Array[]): string {
  const path = join(dir, name);
  const w = new PcapngWriter(path);
  const ifc = w.addInterface('t/eth0');
  frames.forEach((f, i) => w.writePacket(ifc, i, f));
  w.close();
  return path;
}

describe.skipIf(!hasTshark())('tshark helper', () => {
  const good = [serializeFrame(udpFrame()), serializeFrame(tcpSynFrame()), serializeFrame(icmpEchoFrame())];

  it('reports a clean file as clean', () => {
    const r = tsharkCheck(writeFrames('good.pcapng', good));
    expect(r).toMatchObject({ frames: 3, malformed: 0, badChecksums: 0, errors: [] });
  });

  it('catches a deliberately corrupted checksum in a written file, for each of ip/udp/tcp/icmp', () => {
    const path = writeFrames('bad.pcapng', good);
    const file = new Uint8Array(readFileSync(path));
    const corrupt = (frame: Uint8Array, at: number): void => {
      // Locate the frame inside the file by its bytes and flip one checksum byte.
      const i = Buffer.from(file).indexOf(Buffer.from(frame));
      file[i + at]! ^= 0x01;
    };
    corrupt(good[0]!, 14 + 20 + 6); // UDP checksum
    corrupt(good[1]!, 14 + 10); // IP header checksum
    corrupt(good[2]!, 14 + 20 + 2); // ICMP checksum
    writeFileSync(path, file);
    const r = tsharkCheck(path);
    expect(r.badChecksumFrames).toEqual([1, 2, 3]);
    expect(r.errors.join('\n')).toMatch(/Bad checksum/);
    // And a TCP checksum alone.
    const p2 = writeFrames('badtcp.pcapng', [good[1]!]);
    const f2 = new Uint8Array(readFileSync(p2));
    f2[Buffer.from(f2).indexOf(Buffer.from(good[1]!)) + 14 + 20 + 17]! ^= 0x80;
    writeFileSync(p2, f2);
    expect(tsharkCheck(p2).badChecksumFrames).toEqual([1]);
  });

  it('catches a malformed frame', () => {
    // A TCP header cut short: IP says 60 bytes but the frame ends after 10 bytes of TCP.
    const syn = good[1]!;
    const r = tsharkCheck(writeFrames('malformed.pcapng', [syn.subarray(0, 14 + 20 + 10), good[0]!]));
    expect(r.frames).toBe(2);
    expect(r.malformedFrames).toEqual([1]);
  });

  it('returns per-frame fields', () => {
    const rows = tsharkFields(writeFrames('fields.pcapng', good), ['ip.proto', 'udp.dstport']);
    expect(rows).toEqual([['17', '9999'], ['6', ''], ['1', '']]);
  });
});
