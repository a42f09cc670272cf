// link/netem — `tc qdisc add dev X root netem loss P delay D J` (net/sched/sch_netem.c): a qdisc on
// the egress of one NIC. Layer: link (imports core, packet, link/). As in Linux, it acts before the
// device transmits: a lost frame is dropped at enqueue (netem_enqueue) and a delayed one waits in
// netem's queue, so tcpdump on X — which sees a frame only when the qdisc hands it to the driver
// (dev_hard_start_xmit → dev_queue_xmit_nit) — never sees a lost frame and sees a delayed one late.
// The other direction of the link is untouched. Loss is an independent Bernoulli draw per frame
// (netem's default, no correlation); delay adds a constant plus a uniform jitter in [-jitter, +jitter]
// (clamped at 0), so jitter can reorder frames as netem does without a rate. Draws come from the
// stream `netem/QUALIFIED-IFNAME`.
// Not modelled: correlation, duplication, corruption, reordering by gap, rate, slot, limit.
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import type { Channel } from './channel.js';
import type { EgressQdisc, NicDevice } from './nic.js';

/** netem parameters. */
export interface NetemConfig {
  /** Probability in [0, 1] that a frame is lost. */
  loss: number;
  delayNs: TimeNs;
  jitterNs: TimeNs;
}

/**
 * `tc qdisc replace dev DEV root netem …`: updates DEV's netem in place, or installs one whose draws
 * come from the stream `netem/QUALIFIED-IFNAME`.
 */
export function setNetemOn(dev: NicDevice, cfg: NetemConfig, sim: Simulator): Netem {
  if (dev.qdisc instanceof Netem) {
    dev.qdisc.cfg = cfg;
    return dev.qdisc;
  }
  const n = new Netem(cfg, sim, sim.rng.stream(`netem/${dev.qualifiedName}`));
  dev.qdisc = n;
  return n;
}

/** netem on both ends of a link (each end's egress): what a network-wide `loss`/`jitter` means. */
export function setNetem(ch: Channel, cfg: NetemConfig, sim: Simulator): void {
  setNetemOn(ch.a, cfg, sim);
  setNetemOn(ch.b, cfg, sim);
}

/** True when a netem configuration changes anything. */
export function netemActive(cfg: NetemConfig): boolean {
  return cfg.loss > 0 || cfg.delayNs > 0 || cfg.jitterNs > 0;
}

/** A netem root qdisc on one NIC's egress. */
export class Netem implements EgressQdisc {
  readonly counters = { lost: 0, delayed: 0 };
  constructor(
    public cfg: NetemConfig,
    private readonly sim: Simulator,
    private readonly rng: Rng,
  ) {}

  /** netem_enqueue: drop (loss), hold for the delay, or pass straight to the device. */
  enqueue(dev: NicDevice, pkt: Packet): void {
    const c = this.cfg;
    if (c.loss > 0 && this.rng.next() < c.loss) {
      this.counters.lost++;
      return dev.drop(pkt, 'fault-loss');
    }
    if (c.delayNs === 0 && c.jitterNs === 0) return dev.transmit(pkt);
    this.counters.delayed++;
    const j = c.jitterNs > 0 ? (this.rng.next() * 2 - 1) * c.jitterNs : 0;
    this.sim.schedule(Math.max(0, Math.round(c.delayNs + j)), dequeue, dev, pkt);
  }
}

/** netem_dequeue: the frame's time has come; the device transmits it (and the capture tap sees it). */
function dequeue(dev: NicDevice, pkt: Packet): void {
  dev.transmit(pkt);
}
