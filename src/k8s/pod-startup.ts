// k8s/pod-startup — the kubelet's time from a pod bound to its node to its containers running, when a
// scenario asks for it (`spec.cluster.podStartup`; without it containers run the instant the pod is
// bound, as before): RunPodSandbox (`sandbox`), then each container's image as EnsureImageExists decides
// by imagePullPolicy — the API server's default is Always for an image tagged `:latest` or untagged,
// else IfNotPresent —
//   IfNotPresent  pulled only when the node does not have it ("Container image … already present on machine")
//   Always        asked of the registry every time; with the layers on the node only the manifest comes,
//                 which takes no time here, else a full pull
//   Never         used if present, else the container never starts (ErrImageNeverPull)
// Pulls on a node are serialized (serializeImagePulls, the default): a pull waits for the node's previous
// one, and a pod needing an image another pod is pulling waits for that pull. A pull takes `imagePull`, or
// `images[IMAGE]` for that image. The images of the pods a node runs when the scenario starts are present
// on it (they were pulled before). Deterministic: no draw from any stream. Layer: k8s (imports core, k8s).
// Not modelled: image sizes and registry bandwidth, pull failures and ImagePullBackOff, image GC, parallel
// pulls (maxParallelImagePulls), container create / start time beyond `sandbox`, init containers running
// before the others pull (their images are pulled first, in order, then everything starts together).
import type { TimeNs } from '../core/time.js';
import type { ClusterNode, ClusterPod } from './cluster.js';

/** spec.cluster.podStartup, in ns. */
export interface PodStartupConfig {
  sandboxNs: TimeNs;
  imagePullNs: TimeNs;
  /** A pull time per image reference. */
  imagesNs: Record<string, TimeNs>;
}

/** One kubectl-style event of the start, at its time. */
export interface StartupEvent {
  atNs: TimeNs;
  what: string;
}

/** When the pod's containers run (null: never) and the events before. */
export interface StartupPlan {
  startAt: TimeNs | null;
  events: StartupEvent[];
}

type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The API server's default imagePullPolicy: Always for `:latest` or no tag, else IfNotPresent. */
export function defaultPullPolicy(image: string): PullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = colon > slash ? image.slice(colon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The image of each container, init containers first, with its pull policy. */
function imagesOf(pod: Pick<ClusterPod, 'spec'>): { image: string; policy: PullPolicy }[] {
  const spec = pod.spec as { initContainers?: { image?: string; imagePullPolicy?: string }[]; containers: { image?: string; imagePullPolicy?: string }[] };
  const out: { image: string; policy: PullPolicy }[] = [];
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const image = c.image ?? '';
    if (image === '' || out.some((x) => x.image === image)) continue;
    const p = c.imagePullPolicy;
    out.push({ image, policy: p === 'Always' || p === 'IfNotPresent' || p === 'Never' ? p : defaultPullPolicy(image) });
  }
  return out;
}

/** The nodes' image stores and pull queues. */
export class PodStartup {
  /** Per node: each image and the time it is (or will be) present. */
  private readonly images = new Map<string, Map<string, TimeNs>>();
  /** Per node: when its last pull ends. */
  private readonly pullFreeAt = new Map<string, TimeNs>();

  constructor(
    private readonly cfg: PodStartupConfig,
    /** The pods running when the scenario starts: their images are on their nodes. */
    initial: readonly ClusterPod[],
  ) {
    for (const p of initial) for (const { image } of imagesOf(p)) this.store(p.node).set(image, 0);
  }

  private store(node: ClusterNode): Map<string, TimeNs> {
    let m = this.images.get(node.name);
    if (!m) this.images.set(node.name, (m = new Map()));
    return m;
  }

  /** The start of a pod bound to `pod.node` at `now`: its sandbox, then its images' pulls in order. */
  plan(pod: ClusterPod, now: TimeNs): StartupPlan {
    const events: StartupEvent[] = [];
    const node = pod.node;
    const store = this.store(node);
    const sandboxed = now + this.cfg.sandboxNs;
    let ready = sandboxed;
    for (const { image, policy } of imagesOf(pod)) {
      const have = store.get(image);
      if (policy === 'Never' && have === undefined) {
        events.push({ atNs: sandboxed, what: `kubelet: Warning ErrImageNeverPull pod/${pod.name}: Container image "${image}" is not present with pull policy of Never` });
        return { startAt: null, events };
      }
      if (have !== undefined && policy !== 'Always') {
        // Present (or being pulled for another pod: this one waits for that pull).
        events.push({ atNs: Math.max(have, sandboxed), what: `kubelet: Normal Pulled pod/${pod.name}: Container image "${image}" already present on machine` });
        ready = Math.max(ready, have);
        continue;
      }
      const start = Math.max(ready, this.pullFreeAt.get(node.name) ?? 0);
      const took = have !== undefined ? 0 : (this.cfg.imagesNs[image] ?? this.cfg.imagePullNs);
      const end = start + took;
      this.pullFreeAt.set(node.name, end);
      if (have === undefined) store.set(image, end);
      events.push({ atNs: start, what: `kubelet: Normal Pulling pod/${pod.name}: Pulling image "${image}"` });
      events.push({ atNs: end, what: `kubelet: Normal Pulled pod/${pod.name}: Successfully pulled image "${image}" in ${took / 1e9}s` });
      ready = Math.max(ready, end);
    }
    return { startAt: ready, events };
  }
}
