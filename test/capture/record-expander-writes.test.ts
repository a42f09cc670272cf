// capture/record-expander's output writes: small (16 KiB; 4 KiB until session 30) while the first 256 KiB go out, so the write path
// runs early (session 29: type feedback before TurboFan compiles the expander), then the whole buffer; the
// bytes are the same whatever the write sizes.
import { describe, expect, it } from 'vitest';
import { LAYOUT, R_VERBATIM } from '../../src/capture/epb-records.js';
import { RecordExpander } from '../../src/capture/record-expander.js';

/** A ring of VERBATIM records of `size` bytes each (record i's bytes: (i + k) & 0xff), and their bytes in order. */
function verbatimRing(records: number, size: number): { ring: ArrayBuffer; len: number; want: Uint8Array } {
  const step = (8 + size + 7) & ~7;
  const ring = new ArrayBuffer(records * step);
  const i32 = new Int32Array(ring);
  const u8 = new Uint8Array(ring);
  const want = new Uint8Array(records * size);
  for (let i = 0; i < records; i++) {
    const at = i * step;
    i32[at >> 2] = R_VERBATIM;
    i32[(at >> 2) + 1] = size;
    for (let k = 0; k < size; k++) u8[at + 8 + k] = want[i * size + k] = (i + k) & 0xff;
  }
  return { ring, len: records * step, want };
}

function expand(outSize: number, records: number, size: number): { sizes: number[]; bytes: Uint8Array; want: Uint8Array } {
  const { ring, len, want } = verbatimRing(records, size);
  const sizes: number[] = [];
  const parts: Uint8Array[] = [];
  const ex = new RecordExpander(ring, LAYOUT, outSize, (b, n) => {
    sizes.push(n);
    parts.push(b.slice(0, n));
  });
  ex.chunk(0, len);
  ex.flush();
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { sizes, bytes, want };
}

describe('RecordExpander output writes', () => {
  it('writes at most 16 KiB at a time until 256 KiB are out, then up to its buffer; same bytes', () => {
    const { sizes, bytes, want } = expand(64 << 10, 1000, 1000);
    expect(Buffer.from(bytes).equals(Buffer.from(want))).toBe(true);
    let out = 0;
    let early = 0;
    for (const n of sizes) {
      if (out < 256 << 10) {
        expect(n).toBeLessThanOrEqual(16384);
        early++;
      } else expect(n).toBeLessThanOrEqual(64 << 10);
      out += n;
    }
    expect(early).toBeGreaterThanOrEqual(16); // 256 KiB in writes of 16 records (16,000 bytes)
    // After the early writes: whole buffers (65 records of 1,000 bytes in 64 KiB), not 16 KiB ones.
    expect(sizes.filter((n) => n > 16384).length).toBeGreaterThan(5);
    expect(Math.max(...sizes)).toBe(65_000);
  });

  it('a buffer smaller than 16 KiB is written whole from the start', () => {
    const { sizes, bytes, want } = expand(1024, 300, 100);
    expect(Buffer.from(bytes).equals(Buffer.from(want))).toBe(true);
    expect(sizes[0]).toBe(1000);
  });
});
