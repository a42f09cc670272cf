// The API object store: writes take the next resourceVersion, watchers get ADDED / MODIFIED / DELETED
// events after their own delay, in write order, one batch per commit; a zero-delay watcher is called
// synchronously and schedules nothing.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { objectMeta, type ApiObject, type Pod } from '../../src/k8s/api/objects.js';
import { ApiStore, type WatchEvent } from '../../src/k8s/api/store.js';

const pod = (name: string, ready = true): Pod => ({ kind: 'Pod', metadata: objectMeta('default', name), spec: { nodeName: 'node1', hostNetwork: false }, status: { podIP: 0, ready, reason: '' } });
const line = (e: WatchEvent<ApiObject>): string => `${e.type} ${e.object.kind}/${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;

describe('ApiStore', () => {
  it('create / update / delete: resourceVersion counts every write; get and list see the current objects in creation order', () => {
    const api = new ApiStore(new Simulator());
    api.create(pod('a'));
    api.create(pod('b'));
    const a2 = api.update({ ...api.get('Pod', 'default', 'a')!, status: { podIP: 0, ready: false, reason: 'x' } });
    expect(a2.metadata.resourceVersion).toBe('3');
    expect(api.get('Pod', 'default', 'a')!.status.ready).toBe(false);
    expect(api.list('Pod').map((p) => p.metadata.name)).toEqual(['a', 'b']);
    api.delete('Pod', 'default', 'b');
    expect(api.get('Pod', 'default', 'b')).toBeUndefined();
    expect(api.resourceVersion).toBe('4');
    expect(() => api.create(pod('a'))).toThrow(/already exists/);
    expect(() => api.update(pod('zz'))).toThrow(/not found/);
  });

  it('delivers events delayNs after the write, in write order, with the object as it was written', () => {
    const sim = new Simulator();
    const api = new ApiStore(sim);
    const got: string[] = [];
    api.watch('Pod', (evs) => got.push(...evs.map((e) => `${sim.now / 1e6}ms ${line(e)} ready=${e.object.status.ready} was=${e.old?.status.ready ?? '-'}`)), { delayNs: 1e6 });
    api.create(pod('a'));
    sim.schedule(0.5e6, () => api.update(pod('a', false)));
    sim.schedule(0.7e6, () => api.delete('Pod', 'default', 'a'));
    sim.run();
    expect(got).toEqual(['1ms ADDED Pod/a@1 ready=true was=-', '1.5ms MODIFIED Pod/a@2 ready=false was=true', '1.7ms DELETED Pod/a@3 ready=false was=false']);
  });

  it('a zero-delay watcher runs synchronously and schedules no event; watchers of other kinds see nothing', () => {
    const sim = new Simulator();
    const api = new ApiStore(sim);
    const pods: string[] = [];
    const nodes: string[] = [];
    api.watch('Pod', (evs) => pods.push(...evs.map(line)));
    api.watch('Node', (evs) => nodes.push(...evs.map(line)));
    api.create(pod('a'));
    expect(pods).toEqual(['ADDED Pod/a@1']);
    expect(nodes).toEqual([]);
    expect(sim.pending).toBe(0);
  });

  it('one commit is one batch per watcher; watchers are served in registration order; a stopped watch gets nothing more', () => {
    const sim = new Simulator();
    const api = new ApiStore(sim);
    const got: string[] = [];
    api.watch('Pod', (evs) => got.push(`slow ${sim.now} [${evs.map(line).join(', ')}]`), { delayNs: 10 });
    const fast = api.watch('Pod', (evs) => got.push(`fast ${sim.now} [${evs.map(line).join(', ')}]`), { delayNs: 10 });
    api.commit([
      { op: 'create', object: pod('a') },
      { op: 'create', object: pod('b') },
    ]);
    expect(sim.pending).toBe(2);
    sim.run();
    fast.stop();
    api.create(pod('c'));
    sim.run();
    expect(got).toEqual(['slow 10 [ADDED Pod/a@1, ADDED Pod/b@2]', 'fast 10 [ADDED Pod/a@1, ADDED Pod/b@2]', 'slow 20 [ADDED Pod/c@3]']);
  });

  it('stores any kind (an Ingress here) without a type for it', () => {
    const api = new ApiStore(new Simulator());
    const seen: string[] = [];
    api.watch('Ingress', (evs) => seen.push(...evs.map(line)));
    api.create({ kind: 'Ingress', metadata: objectMeta('default', 'web') });
    expect(seen).toEqual(['ADDED Ingress/web@1']);
    expect(api.list('Ingress')).toHaveLength(1);
  });
});
