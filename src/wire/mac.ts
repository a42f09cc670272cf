// wire/mac — MAC address text <-> integer. Layer: wire (imports core, wire/types).
// A MAC is a 48-bit integer held exactly in a double; text is lower-case colon-separated hex
// ("02:42:ac:11:00:02"), the spelling of `ip link`.
import type { Mac } from './types.js';

const HEX = '0123456789abcdef';
const TWO32 = 0x1_0000_0000;

/** Formats a MAC integer as "02:42:ac:11:00:02". */
export function formatMac(mac: Mac): string {
  let s = '';
  for (let i = 5; i >= 0; i--) {
    const b = Math.floor(mac / 2 ** (8 * i)) & 0xff;
    s += HEX[b >> 4]! + HEX[b & 15]!;
    if (i > 0) s += ':';
  }
  return s;
}

/** Parses "02:42:ac:11:00:02" (or with '-' separators) into a MAC integer; null when malformed. */
export function parseMac(text: string): Mac | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + parseInt(m[i]!, 16);
  return v;
}

/** High 16 bits of a MAC (bytes 0-1). */
export function macHigh16(mac: Mac): number {
  return Math.floor(mac / TWO32) & 0xffff;
}

/** Low 32 bits of a MAC (bytes 2-5), unsigned. */
export function macLow32(mac: Mac): number {
  return mac >>> 0;
}

/** Builds a MAC from its high 16 and low 32 bits. */
export function macFromParts(high16: number, low32: number): Mac {
  return (high16 & 0xffff) * TWO32 + (low32 >>> 0);
}

/** Writes a MAC as 6 big-endian bytes at buf[off]. */
export function writeMac(buf: Uint8Array, off: number, mac: Mac): void {
  const hi = Math.floor(mac / TWO32);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/** Reads 6 big-endian bytes at buf[off] as a MAC integer (caller checks bounds). */
export function readMac(buf: Uint8Array, off: number): Mac {
  const hi = (buf[off]! << 8) | buf[off + 1]!;
  const lo = ((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0;
  return hi * TWO32 + lo;
}

/** True for a group (multicast or broadcast) address: the I/G bit, least significant bit of the first byte. */
export function isMulticastMac(mac: Mac): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}
