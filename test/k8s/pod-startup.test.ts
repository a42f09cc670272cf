// k8s/pod-startup: the kubelet's start latency when spec.cluster.podStartup asks for it — the sandbox,
// then each image by imagePullPolicy (default Always for :latest or no tag, else IfNotPresent), pulls
// serialized per node, images of the pods running at start present on their nodes.
import { describe, expect, it } from 'vitest';
import type { ClusterNode, ClusterPod } from '../../src/k8s/cluster.js';
import { defaultPullPolicy, PodStartup } from '../../src/k8s/pod-startup.js';

const SEC = 1e9;
const node = (name: string) => ({ name }) as ClusterNode;
const pod = (name: string, on: ClusterNode, containers: { image: string; imagePullPolicy?: string }[]) => ({ name, node: on, spec: { containers } }) as unknown as ClusterPod;

describe('PodStartup', () => {
  const n1 = node('node1');
  const n2 = node('node2');
  const cfg = { sandboxNs: 1 * SEC, imagePullNs: 3 * SEC, imagesNs: { 'big:1': 20 * SEC } };

  it('the API server\'s default pull policy: Always for :latest or no tag, IfNotPresent for a tag or a digest', () => {
    expect(['nginx', 'nginx:latest', 'reg:5000/app', 'reg:5000/app:1.2', 'nginx@sha256:abc'].map(defaultPullPolicy)).toEqual(['Always', 'Always', 'Always', 'IfNotPresent', 'IfNotPresent']);
  });

  it('an image on the node (a pod ran it at start) is not pulled; elsewhere it is, after the sandbox', () => {
    const st = new PodStartup(cfg, [pod('old', n1, [{ image: 'nginx:1.27' }])]);
    const here = st.plan(pod('a', n1, [{ image: 'nginx:1.27' }]), 10 * SEC);
    expect(here.startAt).toBe(11 * SEC);
    expect(here.events.map((e) => e.what)).toEqual(['kubelet: Normal Pulled pod/a: Container image "nginx:1.27" already present on machine']);
    const there = st.plan(pod('b', n2, [{ image: 'nginx:1.27' }]), 10 * SEC);
    expect(there.startAt).toBe(14 * SEC);
    expect(there.events.map((e) => [e.atNs / SEC, e.what])).toEqual([
      [11, 'kubelet: Normal Pulling pod/b: Pulling image "nginx:1.27"'],
      [14, 'kubelet: Normal Pulled pod/b: Successfully pulled image "nginx:1.27" in 3s'],
    ]);
  });

  it('pulls on a node are serialized; a pod needing an image being pulled waits for that pull', () => {
    const st = new PodStartup(cfg, []);
    expect(st.plan(pod('a', n1, [{ image: 'big:1' }]), 0).startAt).toBe(21 * SEC);
    expect(st.plan(pod('b', n1, [{ image: 'small:1' }]), 0).startAt).toBe(24 * SEC);
    const c = st.plan(pod('c', n1, [{ image: 'big:1' }]), 2 * SEC);
    expect(c.startAt).toBe(21 * SEC);
    expect(c.events.map((e) => [e.atNs / SEC, e.what])).toEqual([[21, 'kubelet: Normal Pulled pod/c: Container image "big:1" already present on machine']]);
  });

  it('Always asks the registry each time (only the manifest when the layers are there); Never without the image never starts', () => {
    const st = new PodStartup(cfg, [pod('old', n1, [{ image: 'app:1' }])]);
    const always = st.plan(pod('a', n1, [{ image: 'app:1', imagePullPolicy: 'Always' }]), 0);
    expect(always.startAt).toBe(1 * SEC);
    expect(always.events.map((e) => e.what)).toEqual(['kubelet: Normal Pulling pod/a: Pulling image "app:1"', 'kubelet: Normal Pulled pod/a: Successfully pulled image "app:1" in 0s']);
    const never = st.plan(pod('b', n2, [{ image: 'app:1', imagePullPolicy: 'Never' }]), 0);
    expect(never.startAt).toBeNull();
    expect(never.events.map((e) => e.what)).toEqual(['kubelet: Warning ErrImageNeverPull pod/b: Container image "app:1" is not present with pull policy of Never']);
  });
});
