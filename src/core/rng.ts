// core/rng — named random streams derived from the scenario seed. Layer: core (imports seedrandom).
// As ns-3's AssignStreams: every consumer (a link's loss, a kube-proxy's statistic match, a MAC or port
// allocator) asks for its own stream by a stable name, so adding a pod does not move the loss pattern.
import seedrandom from 'seedrandom';

/** A deterministic source of uniform doubles in [0, 1) and derived helpers. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
}

/** 2^-32. */
const TWO_M32 = 2.3283064365386963e-10;

/**
 * Every stream's Alea state of one factory, four doubles a stream side by side (c, s0, s1, s2). A draw
 * reads one line of this array and the stream object; seedrandom's generator is a closure, a function
 * object with properties, its context, the state object and three boxed doubles, each a cold line in a
 * big cluster, where each pod's streams are drawn from once a request.
 */
class AleaStates {
  a = new Float64Array(64);
  used = 0;
  /** Seeds a stream with seedrandom's own Alea (its Mash of the seed string) and returns its offset. */
  add(seed: string): number {
    const st = seedrandom.alea(seed, { state: true }).state();
    if (this.used === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const at = this.used;
    this.used += 4;
    const a = this.a;
    a[at] = st.c;
    a[at + 1] = st.s0;
    a[at + 2] = st.s1;
    a[at + 3] = st.s2;
    return at;
  }
}

/** One step of a stream whose state is at a[i] (seedrandom's Alea arithmetic, in its order): a[i + 3] is the draw. */
function aleaStep(a: Float64Array, i: number): void {
  const t = 2091639 * a[i + 1]! + a[i]! * TWO_M32;
  a[i + 1] = a[i + 2]!;
  a[i + 2] = a[i + 3]!;
  const c = t | 0;
  a[i] = c;
  a[i + 3] = t - c;
}

/**
 * seedrandom's Alea (same seeding, same draws: test/core/rng.test.ts compares them), its state kept in
 * the factory's AleaStates. The generator is seeded on its first draw: a build makes a few streams per
 * namespace that most runs never draw from (seeding hashes the name).
 */
class AleaRng implements Rng {
  /** Offset of this stream's state in states.a; −1 until the first draw. */
  private at = -1;
  constructor(
    private readonly states: AleaStates,
    private readonly factorySeed: number,
    private readonly name: string,
  ) {}
  // The array is read after step: a first draw's seeding may grow it into a new one.
  next(): number {
    const i = this.step();
    return this.states.a[i + 3]!;
  }
  int(n: number): number {
    const i = this.step();
    return Math.floor(this.states.a[i + 3]! * n);
  }
  uint32(): number {
    const i = this.step();
    return ((this.states.a[i + 3]! * 0x100000000) | 0) >>> 0;
  }
  /**
   * One step of the stream (seedrandom's Alea arithmetic, in its order): returns the offset of the state, whose
   * [3] is the draw. An offset, not the draw: a double returned from a call V8 does not inline is a new heap
   * number (16 B a draw; 2,049 draws for each namespace's first IP ID table), a small integer is not.
   */
  private step(): number {
    const i = this.at < 0 ? this.seed() : this.at;
    aleaStep(this.states.a, i);
    return i;
  }
  /** @internal (RngFactory.streamAt) The offset of this stream's state, seeded first if it was not. */
  offset(): number {
    return this.at < 0 ? this.seed() : this.at;
  }
  /** The first draw seeds the stream (kept out of step, the path every draw takes). */
  private seed(): number {
    return (this.at = this.states.add(`podwire:${this.factorySeed}:${this.name}`));
  }
  /** `count` draws of int(n) into out[start], out[start + step], …: the state in locals, written back once. */
  intsInto(n: number, out: Float64Array, start: number, step: number, count: number): void {
    const i = this.at < 0 ? this.seed() : this.at;
    const a = this.states.a;
    let c = a[i]!;
    let s0 = a[i + 1]!;
    let s1 = a[i + 2]!;
    let s2 = a[i + 3]!;
    for (let k = 0, j = start; k < count; k++, j += step) {
      const t = 2091639 * s0 + c * TWO_M32;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      out[j] = Math.floor(s2 * n);
    }
    a[i] = c;
    a[i + 1] = s0;
    a[i + 2] = s1;
    a[i + 3] = s2;
  }
}

/**
 * `count` draws of rng.int(n) stored at out[start], out[start + step], … in order: a factory's stream
 * draws them in one loop (a namespace's 2,048 IP ID counters), any other Rng by int.
 */
export function intsInto(rng: Rng, n: number, out: Float64Array, start: number, step: number, count: number): void {
  if (rng instanceof AleaRng) return rng.intsInto(n, out, start, step, count);
  for (let k = 0, j = start; k < count; k++, j += step) out[j] = rng.int(n);
}

/** Hands out one independent stream per name, derived from the seed and the name only. */
export class RngFactory {
  private readonly streams = new Map<string, Rng>();
  private readonly states = new AleaStates();
  constructor(readonly seed: number) {}
  /** The stream called `name`; the same name always gives the same stream object. */
  stream(name: string): Rng {
    let s = this.streams.get(name);
    if (!s) {
      s = new AleaRng(this.states, this.seed, name);
      this.streams.set(name, s);
    }
    return s;
  }
  /**
   * Where the stream called `name` keeps its state (seeded now if it was not), for uint32At and intAt: a
   * consumer that draws from a few streams of its own once in a long while (a big world's server, a TCP
   * layer's ISN and IP ID streams at each passive open) keeps this small integer instead of the stream
   * object, a line of its own read cold at each draw. Draws by offset and by the stream object are one
   * sequence.
   */
  streamAt(name: string): number {
    return (this.stream(name) as AleaRng).offset();
  }
  /** The stream at `at`'s next uint32() (streamAt). */
  uint32At(at: number): number {
    const a = this.states.a;
    aleaStep(a, at);
    return ((a[at + 3]! * 0x100000000) | 0) >>> 0;
  }
  /** The stream at `at`'s next int(n) (streamAt). */
  intAt(at: number, n: number): number {
    const a = this.states.a;
    aleaStep(a, at);
    return Math.floor(a[at + 3]! * n);
  }
}
