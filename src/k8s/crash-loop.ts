// k8s/crash-loop — the kubelet's container restart back-off (CrashLoopBackOff): client-go's
// flowcontrol.Backoff as pkg/kubelet/kuberuntime doBackOff uses it, keyed by pod and container.
// Layer: k8s (imports core).
//
//   exit 1 ── no entry: Next() sets 10 s, the container starts again at once
//   exit 2 ── still in back-off: wait 10 s, then Next() doubles it (20 s) and the container starts
//   exit n ── wait min(10 s · 2^(n-2), 300 s)
//   an exit more than 2 × 300 s = 10 min after the last Next() finds the entry expired: back to exit 1.
//
// Not modelled: the kubelet's sync loop granularity (a real restart happens at the next pod sync after
// the back-off ends, up to a second or so later), the back-off GC of idle entries.
import type { TimeNs } from '../core/time.js';

const SEC = 1e9;
/** The kubelet's initial container back-off (kubelet.go backOffPeriod). */
export const INITIAL_BACKOFF_NS = 10 * SEC;
/** The kubelet's maximum container back-off (MaxContainerBackOff). */
export const MAX_BACKOFF_NS = 300 * SEC;

interface Entry {
  backoff: TimeNs;
  lastUpdate: TimeNs;
}

/** Per-container back-off entries. */
export class CrashLoopBackOff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly initialNs: TimeNs = INITIAL_BACKOFF_NS,
    private readonly maxNs: TimeNs = MAX_BACKOFF_NS,
  ) {}

  /**
   * The container `key` exited at `now`: how long to wait before starting it again (0 = at once).
   * Call `started(key, at)` when it starts (that is Next(): the back-off grows then).
   */
  delayAfterExit(key: string, now: TimeNs): TimeNs {
    const e = this.entries.get(key);
    if (e === undefined || this.expired(e, now)) return 0;
    return e.backoff;
  }

  /** flowcontrol.Backoff.Next at `now`: a new (or expired) entry gets the initial period, else it doubles up to the maximum. */
  started(key: string, now: TimeNs): void {
    const e = this.entries.get(key);
    if (e === undefined || this.expired(e, now)) this.entries.set(key, { backoff: this.initialNs, lastUpdate: now });
    else {
      e.backoff = Math.min(e.backoff * 2, this.maxNs);
      e.lastUpdate = now;
    }
  }

  /** hasExpired: the entry was last updated more than 2 × max ago. */
  private expired(e: Entry, now: TimeNs): boolean {
    return now - e.lastUpdate > 2 * this.maxNs;
  }
}
