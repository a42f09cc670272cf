// scenario/faults-k8s — the Kubernetes failures a scenario's fault timeline may name, as zod variants
// of spec.faults[] (schema.ts adds them to FaultSpec), and spec.recovery (how stats.json judges
// recovery). The names and fields of pod-kill, pod-failure, container-kill and dns-chaos are Chaos
// Mesh's PodChaos / DNSChaos actions (a Chaos Mesh manifest translates into them); the others are
// podwire's. Layer: scenario.
import { z } from 'zod';
import { Duration } from './schema-base.js';
import { SelectorTarget } from './selectors.js';

const NAME = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
/** `pod/NAME` (NAME or NAME.NAMESPACE). */
export const POD_REF = new RegExp(`^pod/${NAME}$`);
/** `node/NAME`. */
export const NODE_REF = new RegExp(`^node/${NAME}$`);

/** `deployment/NAME`, `replicaset/NAME`, `statefulset/NAME` (NAME or NAME.NAMESPACE). */
export const SCALABLE_REF = new RegExp(`^(deployment|replicaset|statefulset)/${NAME}$`);
/** `deployment/NAME`, `statefulset/NAME`, `daemonset/NAME` (NAME or NAME.NAMESPACE). */
export const RESTARTABLE_REF = new RegExp(`^(deployment|statefulset|daemonset)/${NAME}$`);
/** The most replicas a `scale` may ask for (a guard: the nodes' maxPods bounds what runs). */
export const MAX_SCALE_REPLICAS = 100_000;

// A shorthand, or a Chaos Mesh selector resolved when the fault fires (scenario/selectors.ts).
const pod = z.union([z.string().regex(POD_REF, 'expected pod/NAME or a selector'), SelectorTarget]);
const node = z.union([z.string().regex(NODE_REF, 'expected node/NAME or a selector'), SelectorTarget]);

/** The Kubernetes fault variants. */
export const K8S_FAULTS = [
  z.strictObject({
    kind: z.literal('pod-kill'),
    at: Duration,
    /** Chaos Mesh pod-kill: the pod is deleted with this grace period (default 0); a ReplicaSet's pod is replaced by a new one. */
    target: pod,
    gracePeriod: Duration.optional(),
  }),
  z.strictObject({
    kind: z.literal('pod-failure'),
    at: Duration,
    /** Chaos Mesh pod-failure: for `duration` the container runs a pause image (the app is gone, connections reset; probes fail). */
    target: pod,
    duration: Duration,
  }),
  z.strictObject({
    kind: z.literal('container-kill'),
    at: Duration,
    /** Chaos Mesh container-kill: SIGKILL; restarted per restartPolicy after the CrashLoopBackOff delay (10 s doubling to 300 s). */
    target: pod,
    container: z.string().min(1),
  }),
  z.strictObject({
    kind: z.literal('dns-chaos'),
    at: Duration,
    duration: Duration,
    /** Chaos Mesh DNSChaos: error → SERVFAIL, random → a random A record, for names matching `patterns` (globs; none = every name). */
    action: z.enum(['error', 'random']),
    patterns: z.array(z.string().min(1)).default([]),
    /** The pods whose queries are affected (default: every client). */
    target: pod.optional(),
  }),
  z.strictObject({
    kind: z.literal('dns-outage'),
    at: Duration,
    duration: Duration,
    /** CoreDNS down: timeout (no answer), servfail, nxdomain, or delay (answers `delay` late). */
    mode: z.enum(['timeout', 'servfail', 'nxdomain', 'delay']).default('timeout'),
    delay: Duration.default('2s'),
  }),
  z.strictObject({
    kind: z.literal('node-crash'),
    at: Duration,
    /** The machine stops for good: NotReady after the node monitor grace period, pods evicted after tolerationSeconds and replaced elsewhere. */
    target: node,
  }),
  z.strictObject({
    kind: z.literal('node-delete'),
    at: Duration,
    /**
     * `kubectl delete node`: the Node object goes. flanneld on every other node removes its subnet's
     * route (at once), the pod GC force-deletes its pods 40-60 s later and their ReplicaSets replace them
     * on other nodes. The Node does not come back by itself.
     */
    target: node,
    /**
     * running (default, a live node deleted): the machine, its kubelet and its pods go on until the pod
     * GC deletes the pods, then the kubelet kills them; the kubelet does not register the Node again.
     * stopped: the machine was shut down (or drained and shut down) before the delete.
     */
    kubelet: z.enum(['running', 'stopped']).default('running'),
    /** `systemctl restart kubelet` this long after the delete (kubelet running): it registers the Node again. */
    kubeletRestart: Duration.optional(),
  }),
  z.strictObject({
    kind: z.literal('node-reboot'),
    at: Duration,
    /** The machine is down for `duration`, then boots: its pods' containers start again. */
    target: node,
    duration: Duration,
  }),
  z.strictObject({
    kind: z.literal('kube-proxy-stall'),
    at: Duration,
    /** kube-proxy on the node stops syncing its rules for `duration`, then resyncs in full. */
    target: node,
    duration: Duration,
  }),
  z.strictObject({
    kind: z.literal('conntrack-full'),
    at: Duration,
    /**
     * The node's nf_conntrack_max becomes `max` (default: the entries it has then, so the table is
     * full): a new connection is dropped unless early_drop can evict an entry that is not ASSURED
     * (e.g. a UDP flow that never saw a reply, as flannel's VXLAN flows on a node).
     */
    target: node,
    max: z.number().int().nonnegative().optional(),
    /** Then back to the old maximum (default: never). */
    duration: Duration.optional(),
  }),
  z.strictObject({
    kind: z.literal('scale'),
    at: Duration,
    /**
     * `kubectl scale deployment/NAME --replicas=N`: the ReplicaSet controller creates pods (scheduled and
     * started at once) or deletes the ones it ranks first, gracefully (their preStop hooks, SIGTERM,
     * terminationGracePeriodSeconds: k8s/pod-termination.ts). `statefulset/NAME`: the StatefulSet
     * controller creates the missing ordinals and deletes the highest first (OrderedReady: one at a time).
     */
    target: z.string().regex(SCALABLE_REF, 'expected deployment/NAME, replicaset/NAME or statefulset/NAME'),
    replicas: z.number().int().min(0).max(MAX_SCALE_REPLICAS),
  }),
  z.strictObject({
    kind: z.literal('rollout-restart'),
    at: Duration,
    /**
     * `kubectl rollout restart deployment/NAME`: a new ReplicaSet (the template with its restartedAt
     * annotation), rolled out per spec.strategy (RollingUpdate maxSurge / maxUnavailable, default 25 %;
     * Recreate), old pods deleted gracefully as new ones turn Ready. `statefulset/NAME`: a new revision,
     * ordinals replaced from the highest down to the partition, one at a time (OnDelete: none).
     * `daemonset/NAME`: node by node per maxUnavailable / maxSurge (OnDelete: none).
     */
    target: z.string().regex(RESTARTABLE_REF, 'expected deployment/NAME, statefulset/NAME or daemonset/NAME'),
  }),
  z.strictObject({
    kind: z.literal('drain'),
    at: Duration,
    /**
     * `kubectl drain --ignore-daemonsets`: cordon, then evict every pod but DaemonSet ones through the
     * Eviction API (PodDisruptionBudgets: a refused eviction is retried every 5 s); their controllers
     * replace them on other nodes. A pod without a controller stops the drain unless `force`.
     */
    target: z.string().regex(NODE_REF, 'expected node/NAME'),
    force: z.boolean().default(false),
    /** --grace-period (default: each pod's terminationGracePeriodSeconds). */
    gracePeriod: Duration.optional(),
  }),
  z.strictObject({
    kind: z.literal('cordon'),
    at: Duration,
    /** `kubectl cordon`: new pods are not scheduled on the node (the unschedulable taint). */
    target: z.string().regex(NODE_REF, 'expected node/NAME'),
  }),
  z.strictObject({
    kind: z.literal('uncordon'),
    at: Duration,
    /** `kubectl uncordon`. */
    target: z.string().regex(NODE_REF, 'expected node/NAME'),
  }),
  z.strictObject({
    kind: z.literal('toxic'),
    at: Duration,
    /** A Toxiproxy toxic on a Service's connections (svc/NAME[.NS]: its endpoint pods when it fires; or pods), applied by each pod's HTTP server to its connections. */
    target: z.union([z.string().regex(new RegExp(`^(svc|pod)/${NAME}$`), 'expected svc/NAME or pod/NAME'), SelectorTarget]),
    toxic: z.enum(['latency', 'timeout', 'reset_peer', 'slicer']),
    duration: Duration.optional(),
    /** latency: added to each response; jitter: ± uniform. */
    latency: Duration.default('0'),
    jitter: Duration.default('0'),
    /** timeout / reset_peer: after this long the connection is closed (timeout 0: held open with no data). */
    timeout: Duration.default('0'),
    /** slicer: response bytes per slice and the delay between slices. */
    averageSize: z.number().int().min(1).default(64),
    delay: Duration.default('10ms'),
  }),
] as const;

/** spec.recovery: when stats.json calls a fault recovered (the defaults are justified in stats/recovery.ts). */
export const RecoverySpec = z.strictObject({
  /** Errors / completed requests in a second at or below which the second is healthy (default 0.01). */
  errorThreshold: z.number().min(0).max(1).default(0.01),
  /** Healthy seconds in a row that make a recovery (default 5s). */
  window: Duration.default('5s'),
});
