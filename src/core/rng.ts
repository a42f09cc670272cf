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

/** The generator is seeded on its first draw: a build makes a few streams per namespace that most runs never draw from (alea's seeding hashes the name). */
class AleaRng implements Rng {
  private prng: seedrandom.PRNG | null = null;
  /** The seed string is made on the first draw too (the name is the factory's Map key already). */
  constructor(
    private readonly factorySeed: number,
    private readonly name: string,
  ) {}
  private gen(): seedrandom.PRNG {
    return (this.prng ??= seedrandom.alea(`podwire:${this.factorySeed}:${this.name}`));
  }
  next(): number {
    return this.gen().quick();
  }
  int(n: number): number {
    return Math.floor(this.gen().quick() * n);
  }
  uint32(): number {
    return this.gen().int32() >>> 0;
  }
}

/** Hands out one independent stream per name, derived from the seed and the name only. */
export class RngFactory {
  private readonly streams = new Map<string, Rng>();
  constructor(readonly seed: number) {}
  /** The stream called `name`; the same name always gives the same stream object. */
  stream(name: string): Rng {
    let s = this.streams.get(name);
    if (!s) {
      s = new AleaRng(this.seed, name);
      this.streams.set(name, s);
    }
    return s;
  }
}
