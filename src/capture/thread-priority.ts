// capture/thread-priority — lowering the calling thread's CPU priority, so that on a machine with fewer
// free cores than busy threads the scheduler runs the simulation thread first (the capture's writer
// thread takes the time the simulation leaves). Layer: capture (node:fs, node:os only).
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The node calls niceThisThread makes (given, so that its source text runs as it is in the writer thread). */
export interface PriorityCalls {
  readlinkSync(path: string): string;
  getPriority(pid: number): number;
  setPriority(pid: number, priority: number): void;
}

const NODE_CALLS: PriorityCalls = { readlinkSync: (p) => readlinkSync(p, 'utf8'), getPriority, setPriority };

/**
 * Raises the calling thread's nice value by `by` (at most to 19) and returns the nice value it then has;
 * NaN where that is not possible, the thread keeping the priority it inherited. Linux only: the thread's
 * id (from `self`, /proc/thread-self → "PID/task/TID") is a valid setpriority(2) target naming that one
 * thread; elsewhere a thread id is not, so nothing is tried. Reads nothing but its arguments and
 * `process.platform`: capture/async-sink runs its source text in the writer thread.
 */
export function niceThisThread(by: number, calls: PriorityCalls = NODE_CALLS, self = '/proc/thread-self'): number {
  if (process.platform !== 'linux') return NaN;
  try {
    const tid = Number(calls.readlinkSync(self).split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return NaN;
    calls.setPriority(tid, Math.min(19, calls.getPriority(tid) + by));
    return calls.getPriority(tid);
  } catch {
    return NaN;
  }
}

