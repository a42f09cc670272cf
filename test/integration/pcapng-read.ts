// test/integration/pcapng-read — a minimal pcapng reader for tests: interface names (IDB if_name) and
// Enhanced Packet Blocks (interface id, timestamp in ticks, bytes). Little-endian sections only.
import { readFileSync } from 'node:fs';

export interface PcapngContents {
  interfaces: string[];
  packets: { ifId: number; ts: bigint; data: Uint8Array }[];
}

export function readPcapng(path: string): PcapngContents {
  const buf = readFileSync(path);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: PcapngContents = { interfaces: [], packets: [] };
  let off = 0;
  while (off + 12 <= buf.length) {
    const type = dv.getUint32(off, true);
    const len = dv.getUint32(off + 4, true);
    if (len < 12 || off + len > buf.length) throw new Error(`bad block length ${len} at ${off}`);
    if (dv.getUint32(off + len - 4, true) !== len) throw new Error(`trailing length mismatch at ${off}`);
    if (type === 1) {
      let o = off + 16;
      let name = '';
      while (o + 4 <= off + len - 4) {
        const code = dv.getUint16(o, true);
        const olen = dv.getUint16(o + 2, true);
        if (code === 0) break;
        if (code === 2) name = buf.subarray(o + 4, o + 4 + olen).toString('utf8');
        o += 4 + ((olen + 3) & ~3);
      }
      out.interfaces.push(name);
    } else if (type === 6) {
      const ifId = dv.getUint32(off + 8, true);
      const ts = (BigInt(dv.getUint32(off + 12, true)) << 32n) | BigInt(dv.getUint32(off + 16, true));
      const cap = dv.getUint32(off + 20, true);
      out.packets.push({ ifId, ts, data: buf.subarray(off + 28, off + 28 + cap) });
    }
    off += len;
  }
  return out;
}
