// wire/error — the one error type codecs throw. Layer: wire (imports nothing).

/** Thrown by a codec on truncated or invalid input; the message names the protocol, offset and reason. */
export class WireError extends Error {
  override readonly name = 'WireError';
  /** Protocol whose codec rejected the input (e.g. "ipv4"). */
  readonly protocol: string;
  /** Byte offset in the buffer where the header started. */
  readonly offset: number;
  constructor(protocol: string, offset: number, message: string) {
    super(`${protocol} at offset ${offset}: ${message}`);
    this.protocol = protocol;
    this.offset = offset;
  }
}

/** Throws WireError unless `need` bytes are available at `off` in `buf`. */
export function requireBytes(protocol: string, buf: Uint8Array, off: number, need: number): void {
  if (off < 0 || off + need > buf.length) {
    throw new WireError(protocol, off, `truncated: need ${need} bytes, have ${Math.max(0, buf.length - off)}`);
  }
}
