// Issue 9: manifests as a cluster runs them. Loading (any kind, List, comment-only documents,
// removed API versions, typos with a did-you-mean), the workload controllers and the scheduler
// (StatefulSet names, DaemonSet per fitting node, nodeSelector, control-plane taint, Pending),
// declared ports served without annotations and refused connections counted per address, and the
// two scenarios written in this shape (shop, guestbook-like): every request answered, clean in tshark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryLines } from '../../src/cli/run.js';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'podwire-manifests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const head = (nodes: string, traffic = '[]') => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  cluster:
    dns: { enabled: true, replicas: 1 }
    nodes: ${nodes}
  traffic: ${traffic}
`;

function world(text: string) {
  return buildWorld(loadScenarioText(text, 'm.yaml'), 1);
}

const warningsOf = (w: ReturnType<typeof world>) => w.warnings.map(formatUserError);
const podsOf = (w: ReturnType<typeof world>) => w.cluster!.pods.filter((p) => p.namespace !== 'kube-system').map((p) => `${p.name}@${p.node.name}`);

describe('loading manifests', () => {
  it('takes the items of a kind: List and skips documents holding only comments', () => {
    const text = `${head('[{ name: n1 }]')}---
# nothing here but a comment
---
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Pod, metadata: { name: a }, spec: { containers: [{ name: c, image: x }] } }
  - { apiVersion: v1, kind: Pod, metadata: { name: b, namespace: other }, spec: { containers: [{ name: c, image: x }] } }
`;
    const w = world(text);
    expect(podsOf(w)).toEqual(['a@n1', 'b@n1']);
    expect(warningsOf(w)).toEqual([]);
  });

  it('an error inside a List item points at the item', () => {
    const text = `${head('[{ name: n1 }]')}---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: { name: a }
    spec: { containers: [] }
`;
    expect(() => world(text)).toThrow(/m\.yaml:16:25: spec\.containers: a pod needs at least one container/);
  });

  it('warns about a removed apiVersion with its replacement and runs the object as that', () => {
    const text = `${head('[{ name: n1 }]')}---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: { name: old }
spec:
  selector: { matchLabels: { app: old } }
  template: { metadata: { labels: { app: old } }, spec: { containers: [{ name: c, image: x }] } }
`;
    const w = world(text);
    expect(warningsOf(w)).toEqual(['m.yaml:10:13: apiVersion: extensions/v1beta1 Deployment was removed in Kubernetes 1.16/1.22: use apps/v1 (podwire runs it as apps/v1)']);
    expect(w.cluster!.pods.filter((p) => p.owner?.name === 'old')).toHaveLength(1);
  });

  // extensions/v1beta1 and apps/v1beta1 defaulted spec.selector (and empty metadata.labels) to the pod
  // template's labels; such manifests were refused ("spec.selector: missing").
  it('extensions/v1beta1 and apps/v1beta1 workloads without a selector select their template\'s labels; apps/v1beta2 still needs one', () => {
    const tmpl = (app: string) => `  template:\n    metadata: { labels: { app: ${app}, tier: t } }\n    spec: { containers: [{ name: c, image: nginx, ports: [{ containerPort: 80 }] }] }\n`;
    const text = `${head('[{ name: n1 }, { name: n2 }]')}---
apiVersion: apps/v1beta1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
${tmpl('web')}---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: { name: api, labels: { own: label } }
spec:
${tmpl('api')}---
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata: { name: agent }
spec:
${tmpl('agent')}---
apiVersion: extensions/v1beta1
kind: ReplicaSet
metadata: { name: rs }
spec:
${tmpl('rs')}---
apiVersion: apps/v1beta1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
${tmpl('db')}---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`;
    const w = world(text);
    const owned = (name: string) => w.cluster!.pods.filter((p) => p.owner?.name === name);
    expect([owned('web').length, owned('api').length, owned('agent').length, owned('rs').length, owned('db').length]).toEqual([2, 1, 2, 1, 1]);
    for (const p of w.cluster!.pods.filter((x) => x.owner !== null && x.namespace === 'default')) expect(p.labels['tier']).toBe('t');
    w.sim.run({ until: 2e9 });
    expect(w.services.find((s) => s.name === 'web')!.ports[0]!.endpoints.filter((e) => e.ready)).toHaveLength(2);
    const v1beta2 = text.replace('apiVersion: apps/v1beta1\nkind: Deployment', 'apiVersion: apps/v1beta2\nkind: Deployment');
    expect(() => world(v1beta2)).toThrow(/m\.yaml:14:3: spec\.selector: missing: expected a mapping/);
  });

  it('a typo in a Service warns at the field with a did-you-mean; a resolv.conf option podwire does not act on warns', () => {
    const text = `${head('[{ name: n1 }]')}---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selectr: { app: web }
  ports: [{ port: 80 }]
---
apiVersion: v1
kind: Pod
metadata: { name: p }
spec:
  dnsConfig: { options: [{ name: ndots, value: "1" }, { name: trust-ad }] }
  containers: [{ name: c, image: x }]
`;
    expect(warningsOf(world(text))).toEqual([
      'm.yaml:21:63: spec.dnsConfig.options[1].name: resolv.conf option trust-ad is not modelled by podwire: the resolver ignores it (modelled: ndots, timeout, attempts, rotate, single-request, single-request-reopen, use-vc, edns0, no-aaaa, no-tld-query)',
      'm.yaml:14:12: spec.selectr: unknown field "selectr", ignored: did you mean "selector"?',
    ]);
  });
});

describe('workload controllers and the scheduler', () => {
  const nodes = '[{ name: cp, role: control-plane }, { name: w1, labels: { disk: ssd } }, { name: w2 }]';
  const tmpl = (labels: string, spec = '') => `template: { metadata: { labels: ${labels} }, spec: { ${spec}containers: [{ name: c, image: x, ports: [{ containerPort: 6379 }] }] } }`;

  it('names StatefulSet pods by ordinal, runs a DaemonSet pod on every node but the tainted control plane, honours nodeSelector', () => {
    const text = `${head(nodes)}---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec: { serviceName: db, replicas: 2, selector: { matchLabels: { app: db } }, ${tmpl('{ app: db }')} }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec: { selector: { matchLabels: { app: agent } }, ${tmpl('{ app: agent }')} }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: everywhere }
spec: { selector: { matchLabels: { app: e } }, ${tmpl('{ app: e }', 'tolerations: [{ key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule }], ')} }
---
apiVersion: v1
kind: Pod
metadata: { name: fast }
spec: { nodeSelector: { disk: ssd }, containers: [{ name: c, image: x }] }
`;
    const w = world(text);
    const pods = podsOf(w);
    expect(pods.filter((p) => p.startsWith('db-'))).toEqual(['db-0@w2', 'db-1@w1']) // CoreDNS took w1 first; the control plane is tainted;
    expect(pods.filter((p) => p.startsWith('agent-')).map((p) => p.split('@')[1])).toEqual(['w1', 'w2']);
    expect(pods.filter((p) => p.startsWith('everywhere-')).map((p) => p.split('@')[1])).toEqual(['cp', 'w1', 'w2']);
    expect(pods.filter((p) => p.startsWith('fast'))).toEqual(['fast@w1']);
    const db0 = w.cluster!.pods.find((p) => p.name === 'db-0')!;
    expect(db0.labels['statefulset.kubernetes.io/pod-name']).toBe('db-0');
    expect(db0.spec).toMatchObject({ hostname: 'db-0', subdomain: 'db' });
  });

  it('a pod no node fits stays Pending with the scheduler message', () => {
    const text = `${head(nodes)}---
apiVersion: v1
kind: Pod
metadata: { name: gpu }
spec: { nodeSelector: { gpu: "true" }, containers: [{ name: c, image: x }] }
`;
    const w = world(text);
    expect(podsOf(w)).toEqual([]);
    // The filters in kube-scheduler's order (TaintToleration before NodeAffinity), the reasons sorted: the control-plane node's taint first.
    expect(warningsOf(w)).toEqual(["m.yaml:13:7: spec: pod gpu stays Pending: 0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector."]);
  });
});

describe('declared ports are served; a port nothing listens on is named', () => {
  it('a TCP flow to an undeclared port is refused, counted per address in stats.json and named in the summary', () => {
    const text = `${head('[{ name: n1 }]', `
    - { name: ok, type: tcp, from: pod/client, to: "pod/redis:6379", count: 2, interval: 10ms }
    - { name: wrong-port, type: tcp, from: pod/client, to: "pod/redis:6380", count: 3, interval: 10ms }`)}---
apiVersion: v1
kind: Pod
metadata: { name: redis }
spec: { containers: [{ name: c, image: redis:7, ports: [{ containerPort: 6379 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { containers: [{ name: c, image: busybox }] }
`;
    const w = world(text);
    const res = runWorld(w, { outDir: join(dir, 'nl'), format: 'pcapng', snaplen: 262144 });
    const flows = Object.fromEntries(res.stats.flows.map((f) => [f.name, [f.successes, f.errorsByKind.refused]]));
    expect(flows).toEqual({ ok: [2, 0], 'wrong-port': [0, 3] });
    const ip = w.cluster!.pods.find((p) => p.name === 'redis')!.ip;
    const key = `${[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.')}:6380`;
    expect(res.stats.counters['no-listener']).toEqual({ [key]: 3 });
    expect(summaryLines(w, 1, res, 0)).toContain(`no listener on ${key}: 3 connection attempts refused (RST)`);
    // Counted by the TCP layer itself, the namespace's TCP receiver (no observer object between IP and TCP)
    expect(w.tcp.size).toBeGreaterThan(0);
    for (const [name, t] of w.tcp) expect([name, w.namespaces.get(name)!.tcpRx === t]).toEqual([name, true]);
  });
});

describe.each(['shop', 'guestbook-like'])('scenarios/%s.yaml', (name) => {
  const loaded = loadScenarioFile(join(ROOT, 'scenarios', `${name}.yaml`));
  const w = buildWorld(loaded, loaded.scenario.spec.seed ?? 1);
  const res = runWorld(w, { outDir: join(dir, name), format: 'pcapng', snaplen: 262144 });

  it('answers every request of every flow; nothing is refused', () => {
    for (const f of res.stats.flows) expect([f.name, f.successes, f.errors]).toEqual([f.name, f.requests, 0]);
    expect(res.stats.counters['no-listener']).toBeUndefined();
  });

  it.skipIf(!hasTshark())(hasTshark() ? 'is clean in tshark: no malformed frame, no bad checksum' : `tshark — skipped: ${NO_TSHARK}`, () => {
    // The request/response payload carries no protocol (zero bytes): tshark's port table decodes TCP
    // 5000 (shop's email service, as Online Boutique's) as GSM A-bis IPA and calls the zeros malformed.
    const c = tsharkCheck(res.files.capture!, ['--disable-protocol', 'gsm_ipa']);
    expect(c.frames).toBeGreaterThan(1000);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
  });
});
