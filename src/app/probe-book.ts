// app/probe-book — bookkeeping shared by probe-style clients (ping, UDP probes): which probes are
// outstanding, their timeout timers, the counters shown in the summary, and the flow recorder.
// Layer: app (imports core, stats interfaces).
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { FlowRecorder } from '../stats/flow.js';

/** How a probe ended badly. */
export type ProbeFailure = 'timeout' | 'refused' | 'no-route' | 'msgsize';

/** Outstanding probes by sequence number. */
export class ProbeBook {
  private readonly outstanding = new Map<number, { sent: TimeNs; timer: SimEvent }>();
  /** Probes sent, replies received, probes lost (timed out) and failed with an error. */
  readonly counts = { sent: 0, received: 0, lost: 0, errors: 0 };

  constructor(
    private readonly sim: Simulator,
    private readonly rec: FlowRecorder,
    private readonly timeoutNs: TimeNs,
  ) {}

  /** A probe `seq` leaves now; it fails as 'timeout' unless answered within the timeout. */
  sent(seq: number): void {
    this.counts.sent++;
    this.rec.requestStarted();
    const timer = this.sim.schedule(this.timeoutNs, probeTimeout, this, seq);
    this.outstanding.set(seq, { sent: this.sim.now, timer });
  }

  /** The reply to `seq` arrived (late or duplicate replies are ignored: false). */
  answered(seq: number, bytes: number): boolean {
    const o = this.outstanding.get(seq);
    if (o === undefined) return false;
    this.outstanding.delete(seq);
    o.timer.cancel();
    this.counts.received++;
    this.rec.requestSucceeded(this.sim.now - o.sent, null, bytes);
    return true;
  }

  /** Probe `seq` failed. */
  failed(seq: number, kind: ProbeFailure): void {
    const o = this.outstanding.get(seq);
    if (o === undefined) return;
    this.outstanding.delete(seq);
    o.timer.cancel();
    if (kind === 'timeout') this.counts.lost++;
    else this.counts.errors++;
    this.rec.requestFailed(kind, this.sim.now - o.sent);
  }

  /** The oldest probe still outstanding, or undefined. */
  oldest(): number | undefined {
    return this.outstanding.keys().next().value;
  }
}

function probeTimeout(book: ProbeBook, seq: number): void {
  book.failed(seq, 'timeout');
}
