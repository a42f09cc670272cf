// The namespace of a scenario's manifests, as kubectl puts them: `spec.namespace` is the namespace of
// kubectl's context (objects naming none go there, the others stay), `--namespace` / `-n` is
// `kubectl apply -n` (the same, and an object naming another namespace is refused with kubectl's
// message: cli-runtime's RequireNamespace). Cluster-scoped kinds are left alone, built-in ones and those a
// CustomResourceDefinition in the file declares `scope: Cluster`. Without either, everything is as before.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText, loadScenarioTextYaml, type LoadOptions } from '../../src/scenario/load.js';
import { ensureBuilt, ROOT } from './dist.js';
import { podwire } from './cli-run.js';

const HEAD = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: ns }\nspec:\n  cluster:\n    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.96.0.0/12\n    cni: flannel-vxlan\n    nodes: [{ name: node1 }]\n';
const OBJECTS = [
  'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 1\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: web, image: nginx }] }\n',
  'apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: tools }\nspec: { selector: { app: web }, ports: [{ port: 80 }] }\n',
  'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: { name: x }\nspec: { controller: example.com/x }\n',
  'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: widgets.example.com }\nspec:\n  group: example.com\n  scope: Cluster\n  names: { kind: Widget, plural: widgets }\n  versions: [{ name: v1, served: true, storage: true }]\n',
  'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n',
  'apiVersion: example.com/v1\nkind: Gadget\nmetadata: { name: g }\n',
];
const text = (spec = ''): string => [HEAD + spec, ...OBJECTS].join('---\n');
const namespaces = (opts: LoadOptions, spec = ''): Record<string, unknown> => Object.fromEntries(loadScenarioText(text(spec), 'ns.yaml', opts).manifests.map((m) => [m.kind, (m.value['metadata'] as { namespace?: unknown }).namespace]));

describe('where manifests without a namespace go', () => {
  it('without spec.namespace or --namespace: nowhere said (the default namespace), as before', () => {
    expect(namespaces({})).toEqual({ Deployment: undefined, Service: 'tools', IngressClass: undefined, CustomResourceDefinition: undefined, Widget: undefined, Gadget: undefined });
  });
  it("spec.namespace (kubectl's context): the namespaced ones without one go there, the others stay", () => {
    expect(namespaces({}, '  namespace: shop\n')).toEqual({ Deployment: 'shop', Service: 'tools', IngressClass: undefined, CustomResourceDefinition: undefined, Widget: undefined, Gadget: 'shop' });
  });
  it('--namespace (kubectl apply -n) wins over spec.namespace and refuses an object naming another, at its metadata.namespace', () => {
    const t = text('  namespace: shop\n');
    for (const load of [loadScenarioText, loadScenarioTextYaml]) {
      try {
        load(t, 'ns.yaml', { namespace: 'prod' });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        const line = t.split('\n').findIndex((l) => l.includes('namespace: tools')) + 1;
        expect((e as ScenarioError).errors).toEqual([
          { file: 'ns.yaml', line, col: t.split('\n')[line - 1]!.indexOf('tools') + 1, field: 'metadata.namespace', message: `the namespace from the provided object "tools" does not match the namespace "prod". You must pass '--namespace=tools' to perform this operation` },
        ]);
      }
    }
    expect(namespaces({ namespace: 'tools' }, '  namespace: shop\n')).toEqual({ Deployment: 'tools', Service: 'tools', IngressClass: undefined, CustomResourceDefinition: undefined, Widget: undefined, Gadget: 'tools' });
  });
  it('spec.namespace must be a namespace name', () => {
    expect(() => loadScenarioText(text('  namespace: Shop_1\n'), 'ns.yaml')).toThrow(/spec\.namespace: expected a namespace name/);
  });
});

describe('podwire run -n', () => {
  beforeAll(() => ensureBuilt());

  it("puts http-clusterip's Deployments and Service in the namespace: its traffic reaches svc/web.shop", () => {
    const dir = mkdtempSync(join(tmpdir(), 'podwire-ns-')); // under the test run's scratch TMPDIR (test/global-setup)
    const file = join(dir, 'shop.yaml');
    writeFileSync(file, readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8').replace('to: "svc/web:80"', 'to: "svc/web.shop:80"'));
    const r = podwire('run', file, '-n', 'shop', '--out', join(dir, 'out'), '--quiet', '--no-report');
    expect(r.code, r.err).toBe(0);
    const stats = JSON.parse(readFileSync(join(dir, 'out', 'stats.json'), 'utf8')) as { flows: { name: string; successes: number }[] };
    expect(stats.flows.find((f) => f.name === 'client-to-web')?.successes).toBe(100);
    // Without -n the Service is in default, and the traffic's svc/web.shop names nothing.
    expect(podwire('validate', file).errLines).toEqual([`${file}:31:11: spec.traffic[0].to: no Service web in namespace shop (did you mean svc/web.default?)`]);
  });
  it('a bad --namespace is a flag error (exit 2)', () => {
    const r = podwire('validate', join(ROOT, 'scenarios/http-clusterip.yaml'), '--namespace', 'Bad_NS');
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['podwire: --namespace: expected a namespace name (a DNS label: a-z, 0-9 and "-", at most 63), got "Bad_NS"']);
  });
});
