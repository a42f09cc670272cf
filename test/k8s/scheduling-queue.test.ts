// k8s/scheduling-queue: kube-scheduler's three places a waiting pod can be, the back-off (1 s doubling to
// 10 s from the last attempt), which cluster events move which pods (by the plugins that rejected them),
// and the two flushes' ticks (every 1 s for the back-off queue, every 30 s for pods unschedulable > 5 min).
import { describe, expect, it } from 'vitest';
import { SchedulingQueue, tickAtOrAfter } from '../../src/k8s/scheduling-queue.js';

const SEC = 1e9;

function queueWith(plugins: Parameters<SchedulingQueue<string>['failed']>[1], attempts: number, lastAt: number): SchedulingQueue<string> {
  const q = new SchedulingQueue<string>();
  q.add('default/p', 'p', 0);
  for (let i = 0; i < attempts; i++) q.failed('default/p', plugins, lastAt);
  return q;
}

describe('SchedulingQueue', () => {
  it('back-off: 1 s after the first failed attempt, doubling per attempt, at most 10 s', () => {
    const ends = [1, 2, 3, 4, 5, 6].map((n) => {
      const q = queueWith(['NodeResourcesFit'], n, 100 * SEC);
      return (q.backoffEnd(q.get('default/p')!) - 100 * SEC) / SEC;
    });
    expect(ends).toEqual([1, 2, 4, 8, 10, 10]);
  });

  it('an event moves only the pods a plugin registered for it rejected', () => {
    const fit = queueWith(['NodeResourcesFit'], 1, 0);
    const affinity = queueWith(['NodeAffinity'], 1, 0);
    const cordoned = queueWith(['NodeUnschedulable', 'NodeResourcesFit'], 1, 0);
    expect(fit.onEvent('AssignedPodDelete', 5 * SEC)).toBe(1);
    expect(affinity.onEvent('AssignedPodDelete', 5 * SEC)).toBe(0);
    expect(affinity.onEvent('NodeTaintChange', 5 * SEC)).toBe(0);
    expect(affinity.onEvent('NodeAdd', 5 * SEC)).toBe(1);
    expect(cordoned.onEvent('NodeTaintChange', 5 * SEC)).toBe(1);
    expect(fit.get('default/p')!.where).toBe('active');
    expect(affinity.get('default/p')!.where).toBe('active');
  });

  it('a pod moved during its back-off waits in backoffQ for the first 1 s tick at or after its end', () => {
    const q = queueWith(['NodeResourcesFit'], 2, 20 * SEC); // back-off 2 s: until 22 s
    q.onEvent('AssignedPodDelete', 21 * SEC);
    expect(q.get('default/p')!.where).toBe('backoff');
    expect(q.active()).toEqual([]);
    expect(q.nextBackoffFlush()).toBe(22 * SEC);
    q.flushBackoff(21.5 * SEC);
    expect(q.active()).toEqual([]);
    q.flushBackoff(22 * SEC);
    expect(q.active().map((p) => p.key)).toEqual(['default/p']);
  });

  it('the leftover flush: a pod unschedulable for more than 5 minutes, at the next 30 s tick', () => {
    const q = queueWith(['NodeAffinity'], 1, 10 * SEC);
    // 10 s + 300 s = 310 s: strictly more is needed, so the tick at 330 s.
    expect(q.nextLeftoverFlush()).toBe(330 * SEC);
    q.flushLeftover(310 * SEC);
    expect(q.get('default/p')!.where).toBe('unschedulable');
    q.flushLeftover(330 * SEC);
    expect(q.get('default/p')!.where).toBe('active');
  });

  it('activeQ pops in queue-timestamp order, then insertion order', () => {
    const q = new SchedulingQueue<string>();
    for (const [k, t] of [['a', 3], ['b', 1], ['c', 1]] as const) q.add(k, k, t * SEC);
    expect(q.active().map((p) => p.key)).toEqual(['b', 'c', 'a']);
    q.delete('b');
    expect(q.active().map((p) => p.key)).toEqual(['c', 'a']);
  });

  it('ticks: the first multiple of the period at or after a time', () => {
    expect([tickAtOrAfter(0, SEC), tickAtOrAfter(1, SEC), tickAtOrAfter(SEC, SEC), tickAtOrAfter(311 * SEC, 30 * SEC)]).toEqual([0, SEC, SEC, 330 * SEC]);
  });
});
