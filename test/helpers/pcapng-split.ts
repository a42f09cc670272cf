// test/helpers/pcapng-split — one pcapng per interface out of podwire's multi-interface capture, so
// tshark judges TCP per interface (Wireshark tracks TCP per conversation, not per interface: a merged
// file flags the same segment seen on two hops as a retransmission). Each file holds the section
// header, that interface's IDB (as interface 0) and its packets.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** if_name of an Interface Description Block ('' when it has none). */
export function idbName(idb: Buffer): string {
  let o = 16;
  while (o + 4 <= idb.length - 4) {
    const code = idb.readUInt16LE(o);
    const len = idb.readUInt16LE(o + 2);
    if (code === 0) break;
    if (code === 2) return idb.subarray(o + 4, o + 4 + len).toString('utf8');
    o += 4 + ((len + 3) & ~3);
  }
  return '';
}

/** Writes `outDir/ifN.pcapng` per interface that has packets; returns interface name → file. */
export function splitPcapngPerInterface(capture: Buffer, outDir: string): Map<string, string> {
  let shb: Buffer | null = null;
  const idbs: Buffer[] = [];
  const epbs: Buffer[][] = [];
  for (let off = 0; off + 12 <= capture.length; ) {
    const type = capture.readUInt32LE(off);
    const len = capture.readUInt32LE(off + 4);
    const block = capture.subarray(off, off + len);
    if (type === 0x0a0d0d0a) shb = block;
    else if (type === 1) {
      idbs.push(block);
      epbs.push([]);
    } else if (type === 6) {
      const copy = Buffer.from(block);
      epbs[copy.readUInt32LE(8)]!.push(copy);
      copy.writeUInt32LE(0, 8);
    }
    off += len;
  }
  const out = new Map<string, string>();
  idbs.forEach((idb, i) => {
    if (epbs[i]!.length === 0) return;
    const file = join(outDir, `if${i}.pcapng`);
    writeFileSync(file, Buffer.concat([shb!, idb, ...epbs[i]!]));
    out.set(idbName(idb), file);
  });
  return out;
}
