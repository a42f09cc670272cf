// Queueing theory as the reference for podwire's HTTP servers: Poisson arrivals (the load
// generator's `arrival: poisson`), exponential service (podwire.dev/service-time: exponential:1ms),
// a new connection per request, W workers per pod (podwire.dev/workers). The mean response time
// a client measures, minus the network floor (the same path with zero service time: handshake,
// request, response), must match the model within the run's own confidence interval:
//
//   M/M/1      one pod, 1 worker:                       W = 1/(μ − λ)
//   M/M/c      one pod, c = 3 workers (Erlang C):       W = C(c, λ/μ)/(cμ − λ) + 1/μ
//   E_N/M/1    N = 3 pods of 1 worker, IPVS round robin: each pod sees Erlang-N gaps (GI/M/1):
//              σ = A*(μ(1 − σ)) with A*(s) = (λ/(λ + s))^N, W = 1/(μ(1 − σ))
//   M/M/1 × N  N = 3 pods of 1 worker, random (iptables): each pod is M/M/1 at λ/N
//
// Tolerance, derived from the run: successive response times are correlated, so the interval comes
// from batch means (B = 20 batches of consecutive requests, after a warm-up of 5 %): mean ± t(0.995,
// B−1) · s/√B, a 99 % interval. The floor's own interval (its runs are short and nearly constant)
// is added. Each check is one seeded, deterministic run; the intervals are printed with the test name.
//
//   client pod (node1) ──HTTP, new connection per request──▶ svc/web:80 ──▶ web pod(s) (node1)
import jStat from 'jstat';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const MU = 1000; // per worker: exponential service, mean 1 ms

interface Setup {
  mode: 'iptables' | 'ipvs';
  replicas: number;
  workers: number;
  rate: number;
  count: number;
  serviceTime: string;
}

function scenario(s: Setup): string {
  return `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: queueing }
spec:
  cluster:
    kubeProxy: { mode: ${s.mode}, scheduler: rr }
    network: { cidr: 10.100.11.0/24, rate: 10Gbps, delay: 10us }
    nodes: [{ name: node1 }]
  traffic:
    - { name: load, type: http, from: pod/client, to: "svc/web:80", rate: ${s.rate}, arrival: poisson, count: ${s.count}, start: 1s, connection: new, timeout: 30s }
  capture: { interfaces: [] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${s.replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      annotations: { podwire.dev/app: http, podwire.dev/service-time: "${s.serviceTime}", podwire.dev/workers: "${s.workers}", podwire.dev/response-size: "256" }
    spec: { nodeName: node1, containers: [{ name: web, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: 10.96.0.50, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: curl }] }
`;
}

/** Response times (s) of the successful requests, in completion order. */
function responseTimes(s: Setup, seed: number): number[] {
  const w = buildWorld(loadScenarioText(scenario(s), 'queueing.yaml'), seed);
  const flow = w.stats.flow('load');
  const out: number[] = [];
  const orig = flow.requestSucceeded.bind(flow);
  flow.requestSucceeded = (latency, connect, bytes) => {
    out.push(latency / 1e9);
    orig(latency, connect, bytes);
  };
  w.sim.run();
  expect(out).toHaveLength(s.count);
  return out;
}

/** Batch-means 99 % interval of the mean, after dropping a 5 % warm-up. */
function batchMeans(x: number[], batches = 20): { mean: number; half: number } {
  const rest = x.slice(Math.floor(x.length * 0.05));
  const size = Math.floor(rest.length / batches);
  const means: number[] = [];
  for (let b = 0; b < batches; b++) means.push(jStat.mean(rest.slice(b * size, (b + 1) * size)));
  const mean = jStat.mean(means);
  const half = jStat.studentt.inv(0.995, batches - 1) * (jStat.stdev(means, true) / Math.sqrt(batches));
  return { mean, half };
}

/** The network floor: the same path and load shape with zero service time. */
function floor(s: Setup): { mean: number; half: number } {
  return batchMeans(responseTimes({ ...s, serviceTime: 'constant:0', rate: 50, count: 400 }, 99));
}

/** Erlang C: the probability an arrival waits, c servers, offered load a = λ/μ. */
function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const last = (term * a) / c / (1 - a / c);
  return last / (sum + last);
}

/** GI/M/1 with Erlang-N gaps of rate λ per stage: the root σ in (0, 1) of σ = (λ/(λ + μ(1 − σ)))^N. */
function erlangGapsSigma(n: number, lambda: number, mu: number): number {
  let s = 0.5;
  for (let i = 0; i < 10_000; i++) s = (lambda / (lambda + mu * (1 - s))) ** n;
  return s;
}

function check(name: string, s: Setup, theory: number, seed = 1): void {
  const f = floor(s);
  const m = batchMeans(responseTimes(s, seed));
  const measured = m.mean - f.mean;
  const tol = m.half + f.half;
  const line = `${name}: measured ${(measured * 1e3).toFixed(4)} ms ± ${(tol * 1e3).toFixed(4)} (floor ${(f.mean * 1e3).toFixed(4)} ms), theory ${(theory * 1e3).toFixed(4)} ms`;
  console.log(line);
  expect(Math.abs(measured - theory), line).toBeLessThanOrEqual(tol);
}

describe('HTTP servers against queueing theory (mean response time minus the network floor)', () => {
  it('M/M/1: one worker, λ = 600/s, μ = 1000/s → W = 1/(μ − λ) = 2.5 ms', () => {
    const lambda = 600;
    check('M/M/1', { mode: 'iptables', replicas: 1, workers: 1, rate: lambda, count: 8_000, serviceTime: 'exponential:1ms' }, 1 / (MU - lambda));
  }, 180_000);

  it('M/M/3 (Erlang C): three workers, λ = 2100/s, μ = 1000/s per worker', () => {
    const lambda = 2100;
    const c = 3;
    const w = erlangC(c, lambda / MU) / (c * MU - lambda) + 1 / MU;
    check('M/M/3', { mode: 'iptables', replicas: 1, workers: c, rate: lambda, count: 10_000, serviceTime: 'exponential:1ms' }, w);
  }, 180_000);

  it('E_3/M/1: IPVS round robin over three one-worker pods, λ = 2100/s; random (iptables) is M/M/1 at λ/3 and slower', () => {
    const lambda = 2100;
    const n = 3;
    const sigma = erlangGapsSigma(n, lambda, MU);
    const rr = 1 / (MU * (1 - sigma));
    const random = 1 / (MU - lambda / n);
    expect(rr).toBeLessThan(random);
    check('E_3/M/1 (ipvs rr)', { mode: 'ipvs', replicas: n, workers: 1, rate: lambda, count: 10_000, serviceTime: 'exponential:1ms' }, rr);
    check('M/M/1 per pod (iptables random)', { mode: 'iptables', replicas: n, workers: 1, rate: lambda, count: 10_000, serviceTime: 'exponential:1ms' }, random);
  }, 300_000);
});
