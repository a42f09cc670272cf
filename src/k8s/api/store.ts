// k8s/api/store — the API server's object store and watch (kube-apiserver over etcd, client-go's
// informers): objects keyed by kind, namespace and name; every write takes the next resourceVersion;
// watchers receive ADDED / MODIFIED / DELETED events `delayNs` after the write (the watch and informer
// latency a controller sees). Layer: k8s (imports core).
//
// Determinism: events reach a watcher in write order; watchers are served in the order they
// registered. A zero-delay watcher is called synchronously at the end of the write (no event is
// scheduled, so adding one never moves the simulator's event order); a delayed one gets one scheduled
// delivery per write. Writes made together with `commit` (one controller's reconcile) are delivered as
// one batch, so a reaction that touches several objects reads as one step on the timeline.
// Objects are values: a write stores a copy with a new resourceVersion; never mutate a stored object.
// Not modelled: admission, validation, optimistic concurrency (resourceVersion preconditions),
// finalizers, label-selector or field-selector watches, watch bookmarks and relists.
import type { Simulator } from '../../core/simulator.js';
import type { TimeNs } from '../../core/time.js';
import type { ApiObject, ObjectOf } from './objects.js';

/** What happened to an object. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One watch event: the object after the write (before it, for DELETED) and what it was before. */
export interface WatchEvent<T extends ApiObject = ApiObject> {
  type: WatchEventType;
  object: T;
  old: T | null;
}

/** Receives the events of one write (or one commit), in write order. */
export type WatchHandler<T extends ApiObject = ApiObject> = (events: readonly WatchEvent<T>[]) => void;

/** A registered watch. */
export interface Watch {
  stop(): void;
}

/** One write of a commit. */
export type Write = { op: 'create' | 'update'; object: ApiObject } | { op: 'delete'; kind: string; namespace: string; name: string };

interface Watcher {
  kind: string;
  handler: WatchHandler;
  delayNs: TimeNs;
  stopped: boolean;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The object store with watches. */
export class ApiStore {
  private revision = 0;
  private readonly kinds = new Map<string, Map<string, ApiObject>>();
  private readonly watchers: Watcher[] = [];

  constructor(private readonly sim: Pick<Simulator, 'schedule'>) {}

  /** The current resourceVersion (the last write's). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** The object, or undefined. */
  get<K extends string>(kind: K, namespace: string, name: string): ObjectOf<K> | undefined {
    return this.kinds.get(kind)?.get(keyOf(namespace, name)) as ObjectOf<K> | undefined;
  }

  /** Every object of a kind, in creation order. */
  list<K extends string>(kind: K): ObjectOf<K>[] {
    return [...(this.kinds.get(kind)?.values() ?? [])] as ObjectOf<K>[];
  }

  /** Creates an object; throws if it exists (the API server's AlreadyExists). */
  create<T extends ApiObject>(object: T): T {
    return this.commit([{ op: 'create', object }])[0] as T;
  }

  /** Replaces an object; throws if it does not exist (NotFound). */
  update<T extends ApiObject>(object: T): T {
    return this.commit([{ op: 'update', object }])[0] as T;
  }

  /** Deletes an object; throws if it does not exist. */
  delete(kind: string, namespace: string, name: string): void {
    this.commit([{ op: 'delete', kind, namespace, name }]);
  }

  /** Applies writes in order and delivers their events to each watcher as one batch. Returns the stored objects. */
  commit(writes: readonly Write[]): ApiObject[] {
    const events: WatchEvent[] = [];
    const stored: ApiObject[] = [];
    for (const w of writes) {
      const kind = w.op === 'delete' ? w.kind : w.object.kind;
      const ns = w.op === 'delete' ? w.namespace : w.object.metadata.namespace;
      const name = w.op === 'delete' ? w.name : w.object.metadata.name;
      let objs = this.kinds.get(kind);
      if (!objs) this.kinds.set(kind, (objs = new Map()));
      const key = keyOf(ns, name);
      const old = objs.get(key) ?? null;
      if (w.op === 'create' && old) throw new Error(`${kind} ${key} already exists`);
      if (w.op !== 'create' && !old) throw new Error(`${kind} ${key} not found`);
      this.revision++;
      if (w.op === 'delete') {
        objs.delete(key);
        const gone = { ...old!, metadata: { ...old!.metadata, resourceVersion: String(this.revision) } };
        events.push({ type: 'DELETED', object: gone, old });
        stored.push(gone);
        continue;
      }
      const obj = { ...w.object, metadata: { ...w.object.metadata, resourceVersion: String(this.revision) } };
      objs.set(key, obj);
      events.push({ type: old ? 'MODIFIED' : 'ADDED', object: obj, old });
      stored.push(obj);
    }
    for (const watcher of [...this.watchers]) {
      const mine = events.filter((e) => e.object.kind === watcher.kind);
      if (mine.length === 0 || watcher.stopped) continue;
      if (watcher.delayNs === 0) watcher.handler(mine);
      else
        this.sim.schedule(watcher.delayNs, () => {
          if (!watcher.stopped) watcher.handler(mine);
        });
    }
    return stored;
  }

  /**
   * Watches a kind from now on (list first for the current objects, as an informer does). Events are
   * delivered `delayNs` after each write; 0 means synchronously.
   */
  watch<K extends string>(kind: K, handler: WatchHandler<ObjectOf<K>>, opts: { delayNs?: TimeNs } = {}): Watch {
    const w: Watcher = { kind, handler: handler as WatchHandler, delayNs: opts.delayNs ?? 0, stopped: false };
    this.watchers.push(w);
    return {
      stop: () => {
        w.stopped = true;
        this.watchers.splice(this.watchers.indexOf(w), 1);
      },
    };
  }
}
