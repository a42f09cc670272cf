// HTTPS probes (k8s/prober.ts): httpGet.scheme HTTPS is a TLS 1.3 handshake (app/tls) that verifies
// nothing, then the GET, from the node's cni0 address. A port an HTTPS probe targets serves HTTPS when
// podwire picks the pod's server (no podwire.dev/app); a `podwire.dev/app: http` server without
// podwire.dev/tls speaks plain HTTP, so an HTTPS probe of it fails as the kubelet's would.
//
//   node1 cni0 10.244.0.1 ──TLS──▶ sec 10.244.0.2:8443 (probe passes)
//                         ──TLS──▶ plain 10.244.0.3:8080 (plain HTTP answers 400: liveness fails, restart)
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

  it('a plain-HTTP server answers the ClientHello with 400 and closes; the probe fails as the kubelet reports it', () => {
    // nginx rejects the ClientHello's first byte as a method (400, close); Go's crypto/tls sees "HTTP/"
    // as the first record header and net/http reports it as a scheme mismatch: no timeout, each probe
    // fails within its tick (0 s, 1 s), so failureThreshold 2 restarts the container at 1 s.
    const msgs = w.timeline.map((t) => `${t.atNs / 1e9}s ${t.what}`).filter((m) => m.includes('plain'));
    const out = 'Get "https://10.244.0.3:8080/healthz": http: server gave HTTP response to HTTPS client';
    expect(msgs.slice(0, 2)).toEqual([`1.00002s kubelet: plain/p liveness probe failed 2 times: ${out}`, `1.00002s kubelet: plain containers restarted (restart 1: p liveness probe failed 2 times: ${out})`]);
    // On the wire, per probe: ClientHello in the clear TCP stream, then the server's 400 with FIN.
    const plain = pod('plain');
    const hellos = toPort('plain', 8080).filter((f) => f.pkt.payload![0] === 0x16);
    expect(hellos.length).toBeGreaterThanOrEqual(2);
    const fromServer = frames.filter((f) => f.pkt.ip?.src === plain.ip && f.pkt.tcp?.srcPort === 8080);
    const answers = fromServer.filter((f) => (f.pkt.payload?.length ?? 0) > 0);
    expect(answers.length).toBe(hellos.length);
    for (const a of answers) expect(new TextDecoder().decode(a.pkt.payload!)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    // The server's FIN follows each 400 (Connection: close), not a timeout later: same instant or within a ms.
    for (const a of answers) expect(fromServer.some((f) => f.tNs >= a.tNs && f.tNs - a.tNs < 1e6 && (f.pkt.tcp!.flags & 0x01) !== 0)).toBe(true);
    // The client sends no TLS alert (Go gives up on the first record header silently) — only the ClientHello carries payload.
    expect(toPort('plain', 8080).length).toBe(hellos.length);
  });

  it.skipIf(!hasTshark())('the capture decodes cleanly in tshark', () => {
    const c = tsharkCheck(capture);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames).toEqual([]);
  });
});
