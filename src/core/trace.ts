// core/trace — trace sources (ns-3 TracedCallback) and the frame hook. Layer: core.
// The datapath fires a source; observers (stats, faults, tests) subscribe. With no subscriber a fire
// is one length check, so an untraced run pays almost nothing. The capture writer does not subscribe:
// it hangs one FrameHook per captured interface on the device, which calls it directly.

/**
 * A direct observer of one device's frames: the device calls it itself (link/device.ts `capture`), with no
 * subscriber list and no closure between (the capture writer's point, capture/point.ts; two calls per
 * frame per captured interface, the most frequent observer call of a captured run). It sees the packet
 * only during the call and copies what it keeps: packets are recycled after their flight (the ownership
 * rule in packet/packet.ts), and a hook is not a trace subscriber that would turn that off.
 */
export interface FrameHook<P> {
  /** A frame leaves the device (after the qdisc, where tcpdump sees it: dev_hard_start_xmit). */
  departed(p: P): void;
  /** A frame arrives (before tc ingress, the bridge and the stack). */
  arrived(p: P): void;
}

let subscribed = false;
/**
 * True once any source in this process got a subscriber: a subscriber may keep what it was handed
 * (a packet, say), so whoever recycles objects it passed through a source checks this first.
 */
export function traceEverSubscribed(): boolean {
  return subscribed;
}

/**
 * The sink list of every source with no subscriber (most of them: a big cluster has ~8 per pod), never
 * written: connect gives a source its own list, and the last unsubscribe puts this one back, so
 * "connected" is one compare of the one field a source has (40 → 32 bytes a source).
 */
const NO_SINKS: never[] = [];

/** A list of subscribers called in subscription order. */
export class TraceSource<A extends unknown[]> {
  private sinks: ((...args: A) => void)[] = NO_SINKS;
  /** Subscribes; returns an unsubscribe function. */
  connect(sink: (...args: A) => void): () => void {
    if (this.sinks === NO_SINKS) this.sinks = [sink];
    else this.sinks.push(sink);
    subscribed = true;
    return () => {
      const rest = this.sinks.filter((s) => s !== sink);
      this.sinks = rest.length > 0 ? rest : NO_SINKS;
    };
  }
  /** True while something is subscribed (one field read and compare on the hot path). */
  get connected(): boolean {
    return this.sinks !== NO_SINKS;
  }
  fire(...args: A): void {
    const s = this.sinks;
    for (let i = 0; i < s.length; i++) s[i]!(...args);
  }
  /**
   * fire for a three-argument source without the rest array and the spread (the device taps: two per
   * frame per captured device; the spread was most of what a connected tap cost).
   */
  fire3<X, Y, Z>(this: TraceSource<[X, Y, Z]>, a: X, b: Y, c: Z): void {
    const s = this.sinks;
    for (let i = 0; i < s.length; i++) s[i]!(a, b, c);
  }
}
