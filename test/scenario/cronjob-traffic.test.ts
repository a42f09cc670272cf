// Traffic `from: cronjob/NAME` (scenario/workloads): the pods of every Job the CronJob creates send the
// flow's traffic (each pod its own count), and each pod's run ends when its share is done, as with job/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';

const yaml = (from: string, type = 'http', to = 'svc/web:80') => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: cron-traffic }
spec:
  duration: 130s
  capture: { interfaces: [] }
  cluster:
    network: { cidr: 10.100.12.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: ticks, type: ${type}, from: ${from}, to: "${to}", rate: 20, count: 5, start: 1s }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http } }
    spec:
      nodeName: node2
      containers: [{ name: web, image: nginx, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: http }] }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: tick }
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      completions: 2
      parallelism: 2
      template:
        spec:
          restartPolicy: Never
          nodeSelector: { kubernetes.io/hostname: node1 }
          containers: [{ name: hey, image: williamyeh/hey }]
`;

describe('traffic from: cronjob/NAME', () => {
  it("each Job's pods send their count when the CronJob creates them, then exit 0; the Jobs complete; their veths are deleted", () => {
    const w = buildWorld(loadScenarioText(yaml('cronjob/tick'), 'cron-traffic.yaml'), 1);
    const dir = mkdtempSync(join(tmpdir(), 'pw-cron-traffic-'));
    try {
      runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = (re: RegExp) => w.timeline.filter((t) => re.test(t.what)).map((t) => `${Math.floor(t.atNs / 1e9)}s ${t.what}`);
    expect(lines(/^cronjob tick: created job/)).toEqual(['60s cronjob tick: created job tick-28928161 (scheduled 2025-01-01 00:01 UTC)', '120s cronjob tick: created job tick-28928162 (scheduled 2025-01-01 00:02 UTC)']);
    // 2 Jobs x 2 pods x 5 requests, nothing before the first Job (no pod at the start).
    const flow = w.flows.find((f) => f.name === 'ticks')!;
    expect(flow.counts).toMatchObject({ sent: 20, received: 20, errors: 0 });
    // Each pod exits when its 5 requests are answered (at 20/s: within a second), not after the default run time.
    const exits = lines(/^kubelet: tick-\d+-\w+\/hey terminated \(exit code 0, reason Completed\)$/);
    expect(exits).toHaveLength(4);
    expect(exits.map((l) => l.split(' ')[0])).toEqual(['60s', '60s', '120s', '120s']);
    expect(lines(/^job tick-\d+: Complete; 2 succeeded, 0 failed$/)).toHaveLength(2);
    // The pods that sent are the CronJob's Jobs' pods.
    const jobPods = w.cluster!.pods.filter((p) => p.owner?.kind === 'Job');
    expect(new Set(jobPods.map((p) => p.owner!.cronJob))).toEqual(new Set(['tick']));
    // CNI DEL of each finished pod: its host veth left cni0 and the node (ip link shows it no more).
    const node1 = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    expect(jobPods).toHaveLength(4);
    for (const p of jobPods) {
      expect(node1.ns.device(p.hostVeth!.name)).toBeUndefined();
      expect(node1.ns.devices).not.toContain(p.hostVeth);
      expect(node1.cni0!.ports).not.toContain(p.hostVeth);
      expect(p.hostVeth!.master).toBeNull();
    }
    // The web pods (never terminated) keep theirs.
    for (const p of w.cluster!.pods.filter((x) => x.labels['app'] === 'web')) expect(p.node.ns.device(p.hostVeth!.name)).toBe(p.hostVeth);
  });

  it('a CronJob that does not exist, or non-http traffic from one, is an error naming the field', () => {
    expect(() => buildWorld(loadScenarioText(yaml('cronjob/nope'), 'cron-traffic.yaml'), 1)).toThrow(/traffic\.0\.from.*no CronJob "nope"|no CronJob "nope"/);
    expect(() => buildWorld(loadScenarioText(yaml('cronjob/tick', 'tcp', 'web:80'), 'cron-traffic.yaml'), 1)).toThrow(/cronjob\/ sends http traffic only/);
  });
});
