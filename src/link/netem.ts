// link/netem — link impairments as `tc qdisc add dev X root netem loss P delay D J` sets them,
// installed on a Channel as its ChannelImpairment (a decorator: the channel never imports it).
// Layer: link. Loss is an independent Bernoulli draw per frame (netem's default, no correlation);
// delay adds a constant plus a uniform jitter in [-jitter, +jitter] (clamped at 0), so jitter can
// reorder frames as netem does without a rate. Draws come from one named stream per link direction.
import type { Rng } from '../core/rng.js';
import type { TimeNs } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import type { Simulator } from '../core/simulator.js';
import type { Channel, ChannelImpairment } from './channel.js';
import type { NicDevice } from './nic.js';

/** netem parameters. */
export interface NetemConfig {
  /** Probability in [0, 1] that a frame is lost. */
  loss: number;
  delayNs: TimeNs;
  jitterNs: TimeNs;
}

/**
 * `tc qdisc replace dev X root netem …` on a channel: updates the channel's netem in place, or
 * installs one whose draws come from the stream `netem/QUALIFIED-IFNAME` of the sending end.
 */
export function setNetem(ch: Channel, cfg: NetemConfig, sim: Simulator): Netem {
  if (ch.impairment instanceof Netem) {
    ch.impairment.cfg = cfg;
    return ch.impairment;
  }
  const n = new Netem(cfg, (from) => sim.rng.stream(`netem/${from.qualifiedName}`));
  ch.impairment = n;
  return n;
}

/** True when a netem configuration changes anything. */
export function netemActive(cfg: NetemConfig): boolean {
  return cfg.loss > 0 || cfg.delayNs > 0 || cfg.jitterNs > 0;
}

/** A netem qdisc on one channel (both directions, one stream each). */
export class Netem implements ChannelImpairment {
  readonly counters = { lost: 0, delayed: 0 };
  constructor(
    public cfg: NetemConfig,
    private readonly rngFor: (from: NicDevice) => Rng,
  ) {}

  judge(_pkt: Packet, from: NicDevice, _now: TimeNs): number {
    const c = this.cfg;
    if (c.loss > 0 && this.rngFor(from).next() < c.loss) {
      this.counters.lost++;
      return -1;
    }
    if (c.delayNs === 0 && c.jitterNs === 0) return 0;
    this.counters.delayed++;
    const j = c.jitterNs > 0 ? (this.rngFor(from).next() * 2 - 1) * c.jitterNs : 0;
    return Math.max(0, Math.round(c.delayNs + j));
  }
}
