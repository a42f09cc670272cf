// Selectors: Chaos Mesh-style pod/node selection and podwire's shorthands, resolved against a built
// cluster.
//
//   node1 (zone=a): web-0 (app=web), db-0 (app=db, ns shop), client
//   node2 (zone=b): web-1 (app=web), web-2 (app=web, tier=canary)
//   svc/web → web-0, web-1, web-2        external host ext
import { describe, expect, it } from 'vitest';
import { RngFactory } from '../../src/core/rng.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { resolveTarget, SelectorTarget, selectorWorld, Target, type Selection } from '../../src/scenario/selectors.js';

const pod = (name: string, node: string, labels: string, ns = 'default') => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}, labels: { ${labels} }, annotations: { podwire.dev/app: http } }
spec: { nodeName: ${node}, containers: [{ name: c, image: nginx, ports: [{ containerPort: 8080 }] }] }
`;

const YAML = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: sel }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, labels: { zone: a } }, { name: node2, labels: { zone: b } }]
    externalHosts: [{ name: ext }]
---
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
${pod('web-0', 'node1', 'app: web')}${pod('web-1', 'node2', 'app: web')}${pod('web-2', 'node2', 'app: web, tier: canary')}${pod('db-0', 'node1', 'app: db', 'shop')}${pod('client', 'node1', 'app: client')}`;

function world() {
  const w = buildWorld(loadScenarioText(YAML, 'sel.yaml'), 1);
  w.sim.run({ until: 3e9 }); // the EndpointSlice controller has published web's endpoints
  const labels = new Map([
    ['node1', { 'kubernetes.io/hostname': 'node1', zone: 'a' }],
    ['node2', { 'kubernetes.io/hostname': 'node2', zone: 'b' }],
  ]);
  return selectorWorld(w.cluster, new Map(), () => w.services, labels);
}

const names = (s: Selection) => (s.ok ? s.selected.map((x) => `${x.kind}/${x.name}`) : s.error);
const rng = (name = 'sel') => new RngFactory(1).stream(name);
const sel = (v: unknown) => SelectorTarget.parse(v);

describe('selectors', () => {
  const w = world();

  it('shorthands name one pod, node or host; svc/NAME is its endpoints now', () => {
    expect(names(resolveTarget(w, 'pod/web-1', rng()))).toEqual(['pod/web-1']);
    expect(names(resolveTarget(w, 'pod/db-0.shop', rng()))).toEqual(['pod/db-0']);
    expect(names(resolveTarget(w, 'node/node2', rng()))).toEqual(['node/node2']);
    expect(names(resolveTarget(w, 'host/ext', rng()))).toEqual(['host/ext']);
    expect(names(resolveTarget(w, 'svc/web', rng()))).toEqual(['pod/web-0', 'pod/web-1', 'pod/web-2']);
    expect(names(resolveTarget(w, 'pod/nope', rng()))).toBe('no pod "nope"');
    expect(names(resolveTarget(w, 'svc/nope', rng()))).toBe('no Service "nope"');
  });

  it('labels, namespaces, annotations and nodes are ANDed; pods by name short-circuit the rest', () => {
    expect(names(resolveTarget(w, sel({ selector: { labelSelectors: { app: 'web' } } }), rng()))).toEqual(['pod/web-0', 'pod/web-1', 'pod/web-2']);
    expect(names(resolveTarget(w, sel({ selector: { labelSelectors: { app: 'web' }, nodeSelectors: { zone: 'b' } } }), rng()))).toEqual(['pod/web-1', 'pod/web-2']);
    expect(names(resolveTarget(w, sel({ selector: { labelSelectors: { app: 'web', tier: 'canary' } } }), rng()))).toEqual(['pod/web-2']);
    expect(names(resolveTarget(w, sel({ selector: { namespaces: ['shop'] } }), rng()))).toEqual(['pod/db-0']);
    expect(names(resolveTarget(w, sel({ selector: { nodes: ['node1'], namespaces: ['default'] } }), rng()))).toEqual(['pod/web-0', 'pod/client']);
    expect(names(resolveTarget(w, sel({ selector: { pods: { default: ['web-2', 'client'] }, labelSelectors: { app: 'nothing' } } }), rng()))).toEqual(['pod/web-2', 'pod/client']);
    expect(names(resolveTarget(w, sel({ selector: { nodeSelectors: { zone: 'a' } }, select: 'nodes' }), rng()))).toEqual(['node/node1']);
    expect(names(resolveTarget(w, sel({ selector: { labelSelectors: { app: 'nothing' } } }), rng()))).toBe('the selector matches no pod');
  });

  it('modes: one, fixed, fixed-percent, random-max-percent draw from the stream; the same seed picks the same pods', () => {
    const web = { selector: { labelSelectors: { app: 'web' } } };
    const one = names(resolveTarget(w, sel({ ...web, mode: 'one' }), rng()));
    expect(one).toHaveLength(1);
    expect(names(resolveTarget(w, sel({ ...web, mode: 'one' }), rng()))).toEqual(one);
    expect(names(resolveTarget(w, sel({ ...web, mode: 'fixed', value: '2' }), rng()))).toHaveLength(2);
    expect(names(resolveTarget(w, sel({ ...web, mode: 'fixed', value: '9' }), rng()))).toHaveLength(3);
    expect(names(resolveTarget(w, sel({ ...web, mode: 'fixed-percent', value: '67' }), rng()))).toHaveLength(2); // ⌊3·0.67⌋
    expect(names(resolveTarget(w, sel({ ...web, mode: 'fixed-percent', value: '30' }), rng()))).toMatch(/keeps none of 3/);
    // random-max-percent 100: ⌊3·U/100⌋ for U uniform in 0..100 → every count 0..3 occurs over many draws.
    const r = rng('rmp');
    const counts = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const s = resolveTarget(w, sel({ ...web, mode: 'random-max-percent', value: 100 }), r);
      counts.add(s.ok ? s.selected.length : 0);
    }
    expect([...counts].sort()).toEqual([0, 1, 2, 3]);
    // Every pod is picked by `one` over many draws (no bias to the first).
    const r2 = rng('one');
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) for (const n of names(resolveTarget(w, sel({ ...web, mode: 'one' }), r2)) as string[]) seen.add(n);
    expect([...seen].sort()).toEqual(['pod/web-0', 'pod/web-1', 'pod/web-2']);
  });

  it('schema: fixed needs a value, percentages are 1..100, shorthands are checked', () => {
    expect(SelectorTarget.safeParse({ mode: 'fixed' }).success).toBe(false);
    expect(SelectorTarget.safeParse({ mode: 'fixed-percent', value: '150' }).success).toBe(false);
    expect(Target.safeParse('pod/web-0').success).toBe(true);
    expect(Target.safeParse('deployment/web').success).toBe(false);
    expect(SelectorTarget.safeParse({ selector: { labelSelector: {} } }).success).toBe(false); // a typo is an unknown field
  });
});
