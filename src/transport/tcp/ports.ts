// transport/tcp/ports — which ephemeral ports are taken toward one destination, searched in the
// order __inet_hash_connect scans them (net/ipv4/inet_hashtables.c) without walking the range: the
// scan visits the even offsets from a perturbed start, wrapping, then the odd ones, and takes the
// first port that is not bound by a listener and carries no socket (TIME_WAIT included) to this
// destination. One bitmap per parity with a summary word per 32 words makes finding that port a few
// word operations, so connect() costs the same with 10 or 28,000 ports in use (the kernel's scan is
// linear in the ports it skips). Layer: transport.

/** A set of indices [0, size) with "first clear index at or after i" in O(size / 1024) word reads. */
class FreeBits {
  private readonly words: Uint32Array;
  /** Bit w set: words[w] is full. */
  private readonly full: Uint32Array;
  constructor(readonly size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
    this.full = new Uint32Array((this.words.length + 31) >>> 5);
    // Indices past `size` in the last word are permanently set so they are never found.
    const tail = size & 31;
    if (tail !== 0) this.words[this.words.length - 1] = ~((1 << tail) - 1) >>> 0;
  }
  set(i: number): void {
    const w = i >>> 5;
    this.words[w]! |= 1 << (i & 31);
    if (this.words[w] === 0xffffffff) this.full[w >>> 5]! |= 1 << (w & 31);
  }
  clear(i: number): void {
    const w = i >>> 5;
    this.words[w]! &= ~(1 << (i & 31));
    this.full[w >>> 5]! &= ~(1 << (w & 31));
  }
  /** The first clear index in [from, size), or -1. */
  nextClear(from: number): number {
    if (from >= this.size) return -1;
    let w = from >>> 5;
    const first = ~this.words[w]! & (0xffffffff << (from & 31));
    if (first !== 0) return (w << 5) + ctz(first);
    // The next word that is not full, through the summary.
    w++;
    const nw = this.words.length;
    while (w < nw) {
      const s = ~this.full[w >>> 5]! & (0xffffffff << (w & 31));
      if (s === 0) {
        w = ((w >>> 5) + 1) << 5;
        continue;
      }
      const cand = ((w >>> 5) << 5) + ctz(s);
      if (cand >= nw) return -1;
      return (cand << 5) + ctz(~this.words[cand]!);
    }
    return -1;
  }
}

/** Count of trailing zero bits of a non-zero 32-bit value. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** The ports taken toward one destination (address, port), by parity, for a range [low, low + size). */
export class PortSearch {
  /** __inet_hash_connect's per-destination perturbation (the next scan's offset); -1 before the first connect. */
  perturb = -1;
  private readonly half: number;
  private readonly bits: [FreeBits, FreeBits];
  constructor(
    readonly low: number,
    readonly size: number,
  ) {
    // With an even size the parity of (offset + i + parity) survives the wrap, so each parity is one bitmap.
    if (size % 2 !== 0) throw new Error('PortSearch: the port range must hold an even number of ports');
    this.half = size >>> 1;
    this.bits = [new FreeBits(this.half), new FreeBits(this.half)];
  }
  /** Marks `port` taken (or free again). Ports outside the range are ignored. */
  mark(port: number, taken: boolean): void {
    const j = port - this.low;
    if (j < 0 || j >= this.size) return;
    const b = this.bits[j & 1]!;
    if (taken) b.set(j >>> 1);
    else b.clear(j >>> 1);
  }
  /**
   * The scan of __inet_hash_connect from the even `offset`: for parity 0 then 1, the steps i = 0, 2, 4, …
   * over ports low + (offset + i + parity) mod size. Returns the port and the step i at which the
   * scan stops, or null when every port is taken.
   */
  first(offset: number): { port: number; step: number } | null {
    const start = offset >>> 1;
    for (let parity = 0; parity < 2; parity++) {
      const b = this.bits[parity]!;
      let h = b.nextClear(start);
      if (h < 0) h = start > 0 ? b.nextClear(0) : -1;
      if (h < 0) continue;
      const step = 2 * ((h - start + this.half) % this.half);
      return { port: this.low + 2 * h + parity, step };
    }
    return null;
  }
}
