// test/helpers/garbage — buffers pre-filled with 0xa5, so a field an encoder forgets shows up.

/** A buffer of `n` bytes filled with 0xa5. */
export function garbage(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}
