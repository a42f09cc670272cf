// k8s/pod-termination — what happens to a pod between its graceful delete (`kubectl delete pod`, a
// scale-down, a rollout) and its end, as the kubelet runs it (pkg/kubelet killPod → killContainer):
//   1. each container's preStop hook runs (lifecycle.preStop): the sleep action (`sleep: {seconds: N}`)
//      or an exec whose command is a `sleep N` (`["sleep","5"]`, `["/bin/sh","-c","sleep 5"]`) takes
//      its N seconds; any other hook is taken to return at once;
//   2. the runtime sends SIGTERM; what the process does is the app's business, which the pod says with
//      the annotation `podwire.dev/sigterm`:
//        exit   (default) it exits at once, as a process without a SIGTERM handler does (Go, Node.js,
//               nginx's fast shutdown): its sockets close (connections reset), its container ends, the
//               kubelet removes the sandbox (the pod's network goes down)
//        drain  graceful shutdown (Go's Server.Shutdown, nginx's graceful quit, Spring's
//               server.shutdown=graceful): it stops listening at once (a new connection kube-proxy still
//               sends there is refused: RST), closes its idle connections, answers the requests in flight
//               with `Connection: close`, and exits once no connection is left (HTTP servers; another
//               server of the pod stops at once)
//        ignore it goes on serving until the grace period ends
//   3. whatever still runs when terminationGracePeriodSeconds (the delete's grace period) ends is
//      killed (SIGKILL) and the sandbox removed.
// Meanwhile the Pod is terminating: the EndpointSlice controller marks its endpoint not ready (after
// its watch delay) and kube-proxy stops choosing it (after its sync delay): traffic DNATed to it in
// between meets whatever step 1–3 left, which is why real deployments add a preStop sleep.
// Layer: k8s (imports k8s).
// Not modelled: the 2 s the kubelet adds once when a preStop hook outlives the grace period, hooks of
// several containers taking different times (the longest counts), httpGet hooks' requests on the wire.
import type { ClusterPod } from './cluster.js';

/** What the app does on SIGTERM (`podwire.dev/sigterm`). */
export type SigtermAction = 'exit' | 'drain' | 'ignore';

export const SIGTERM_ANNOTATION = 'podwire.dev/sigterm';
export const SIGTERM_ACTIONS: readonly SigtermAction[] = ['exit', 'drain', 'ignore'];

/** The default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_SECONDS = 30;

/** How a pod ends once deleted gracefully. */
export interface TerminationPlan {
  /** The longest preStop hook (ns). */
  preStopNs: number;
  sigterm: SigtermAction;
}

/** `sleep N` (N seconds, decimals allowed, an optional `s`) anywhere in an exec hook's command line; null for none. */
function sleepSeconds(command: readonly unknown[]): number | null {
  const text = command.filter((x): x is string => typeof x === 'string').join(' ');
  const m = /(?:^|[\s;&|(])(?:\/(?:usr\/)?bin\/)?sleep\s+(\d+(?:\.\d+)?)s?(?=$|[\s;&|)])/.exec(text);
  return m ? Number(m[1]) : null;
}

/** The time a container's preStop hook takes (ns). */
export function preStopNs(container: unknown): number {
  const hook = (container as { lifecycle?: { preStop?: unknown } }).lifecycle?.preStop as { sleep?: { seconds?: unknown }; exec?: { command?: unknown } } | undefined;
  if (!hook || typeof hook !== 'object') return 0;
  const s = hook.sleep?.seconds;
  if (typeof s === 'number' && Number.isFinite(s) && s > 0) return Math.round(s * 1e9);
  const cmd = hook.exec?.command;
  const n = Array.isArray(cmd) ? sleepSeconds(cmd) : null;
  return n === null ? 0 : Math.round(n * 1e9);
}

/** The pod's termination: its longest preStop hook and its app's SIGTERM action. */
export function terminationPlan(pod: Pick<ClusterPod, 'spec' | 'annotations'>): TerminationPlan {
  let longest = 0;
  for (const c of pod.spec.containers) longest = Math.max(longest, preStopNs(c));
  const a = pod.annotations[SIGTERM_ANNOTATION];
  return { preStopNs: longest, sigterm: a === 'ignore' || a === 'drain' ? a : 'exit' };
}

/** The pod's terminationGracePeriodSeconds (default 30). */
export function graceSecondsOf(pod: Pick<ClusterPod, 'spec'>): number {
  const g = (pod.spec as { terminationGracePeriodSeconds?: unknown }).terminationGracePeriodSeconds;
  return typeof g === 'number' && Number.isFinite(g) && g >= 0 ? g : DEFAULT_GRACE_SECONDS;
}
