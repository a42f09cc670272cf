// HTTPS probes (k8s/prober.ts): httpGet.scheme HTTPS is a TLS 1.3 handshake (app/tls) that verifies
// nothing, then the GET, from the node's cni0 address. A port an HTTPS probe targets serves HTTPS when
// podwire picks the pod's server (no podwire.dev/app); a `podwire.dev/app: http` server without
// podwire.dev/tls speaks plain HTTP, so an HTTPS probe of it fails as the kubelet's would.
//
//   node1 cni0 10.244.0.1 ──TLS──▶ sec 10.244.0.2:8443 (probe passes)
//                         ──TLS──▶ plain 10.244.0.3:8080 (plain HTTP: liveness fails, restart)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { parseFrame } from '../../src/packet/parse.js';
import { readPcapng } from '../integration/pcapng-read.js';
import { hasTshark, tsharkCheck } from '../helpers/tshark.js';

const YAML = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: https-probe }
spec:
  duration: 3500ms
  capture: { interfaces: [node1/cni0] }
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: sec }
spec:
  containers:
    - name: s
      image: example/api:1
      ports: [{ containerPort: 8443 }]
      readinessProbe: { httpGet: { path: /healthz, port: 8443, scheme: HTTPS }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: plain, annotations: { podwire.dev/app: http } }
spec:
  containers:
    - name: p
      image: nginx
      ports: [{ name: web, containerPort: 8080 }]
      livenessProbe: { httpGet: { path: /healthz, port: web, scheme: HTTPS }, periodSeconds: 1, failureThreshold: 2 }
`;

describe('HTTPS probes', () => {
  let w: World;
  let dir: string;
  let frames: { tNs: number; pkt: ReturnType<typeof parseFrame> }[];
  let capture: string;
  beforeAll(() => {
    w = buildWorld(loadScenarioText(YAML, 'https-probe.yaml'), 1);
    dir = mkdtempSync(join(tmpdir(), 'podwire-https-probe-'));
    const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
    capture = res.files.capture;
    frames = readPcapng(capture).packets.map((p) => ({ tNs: Number(p.ts), pkt: parseFrame(p.data) }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ready = (name: string) => w.controlPlane!.api.get('Pod', 'default', name)!.status.ready;
  const pod = (name: string) => w.cluster!.pods.find((p) => p.name === name)!;
  const toPort = (name: string, port: number) => frames.filter((f) => f.pkt.ip?.dst === pod(name).ip && f.pkt.tcp?.dstPort === port && (f.pkt.payload?.length ?? 0) > 0);

  it('a port an HTTPS probe targets serves TLS: the probe passes, its bytes are TLS records, no GET in clear', () => {
    expect(ready('sec')).toBe(true);
    const data = toPort('sec', 8443);
    expect(data.length).toBeGreaterThan(0);
    // Every client segment starts a TLS record (handshake 0x16 or application data 0x17) of TLS 1.2 framing.
    const first = data.map((f) => f.pkt.payload![0]);
    expect(first).toContain(0x16);
    expect(first).toContain(0x17);
    // Record versions: 0x0301 on the ClientHello, 0x0303 after (RFC 8446 5.1 legacy_record_version).
    for (const f of data) expect([f.pkt.payload![1], f.pkt.payload![2]]).toEqual([0x03, f.pkt.payload![5] === 0x01 && f.pkt.payload![0] === 0x16 ? 0x01 : 0x03]);
    expect(data.some((f) => new TextDecoder().decode(f.pkt.payload!).includes('GET /healthz'))).toBe(false);
    // One handshake per probe (a new connection each time): ticks at 0, 1, 2, 3 s.
    expect(data.filter((f) => f.pkt.payload![0] === 0x16 && f.pkt.payload![5] === 0x01).map((f) => Math.floor(f.tNs / 1e9))).toEqual([0, 1, 2, 3]);
  });

  it('a plain-HTTP server behind an HTTPS probe fails it: the liveness failure restarts the container', () => {
    // podwire's HTTP server waits for a request line the ClientHello never completes, so the probes
    // (ticks at 0 s and 1 s) time out; a real server would answer 400 and the kubelet report "tls:
    // first record does not look like a TLS handshake" — a failure either way.
    const msgs = w.timeline.map((t) => `${t.atNs / 1e9}s ${t.what}`).filter((m) => m.includes('plain'));
    const out = 'Get "https://10.244.0.3:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
    expect(msgs).toEqual([`2s kubelet: plain/p liveness probe failed 2 times: ${out}`, `2s kubelet: plain containers restarted (restart 1: p liveness probe failed 2 times: ${out})`]);
    // The ClientHello went to the plain server in the clear TCP stream.
    expect(toPort('plain', 8080).some((f) => f.pkt.payload![0] === 0x16)).toBe(true);
  });

  it.skipIf(!hasTshark())('the capture decodes cleanly in tshark', () => {
    const c = tsharkCheck(capture);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames).toEqual([]);
  });
});
