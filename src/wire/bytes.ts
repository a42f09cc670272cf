// wire/bytes — big-endian integer reads and writes on Uint8Array. Layer: wire (imports nothing).
// Manual byte ops (no DataView allocation); callers check bounds first (see requireBytes).

/** Writes a uint32 big-endian at buf[off]. */
export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = v >>> 16;
  buf[off + 2] = v >>> 8;
  buf[off + 3] = v;
}

/** Reads a big-endian uint32 at buf[off] (caller checks bounds). */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

/** Writes a uint16 big-endian at buf[off]. */
export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 8;
  buf[off + 1] = v;
}

/** Reads a big-endian uint16 at buf[off] (caller checks bounds). */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}
