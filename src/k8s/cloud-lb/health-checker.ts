// k8s/cloud-lb/health-checker — the load balancer's health checks: for every Service and every target
// (node), a TCP connect or an HTTP GET from the load-balancer machine every interval, failing when no
// answer (or no matching status) comes within the timeout. After `unhealthyThreshold` consecutive
// failures a healthy target turns unhealthy, after `healthyThreshold` consecutive successes an
// unhealthy one turns healthy; the first verdict of a target is taken at once (it stands for the checks
// the load balancer ran before the scenario started). New connections follow the state
// (model.ts pickTarget); each change is a timeline entry. Checks are housekeeping: background events,
// so a run without a duration still ends. Layer: k8s (imports core, wire, transport, app, k8s).
// Not modelled: the spread of check sources (every LB node / Google front end probes independently),
// jitter of the first check, HTTP keep-alive of GCP's checks.
import type { Simulator } from '../../core/simulator.js';
import type { TimeNs } from '../../core/time.js';
import { HttpClient } from '../../app/http-client.js';
import type { TcpLayer, TcpSocket } from '../../transport/tcp/index.js';
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { HealthCheckParams } from './config.js';
import { probesOf, type LbService, type LbTarget } from './model.js';

/** Runs the checks of every load balancer of the cluster. */
export class HealthChecker {
  private readonly clients = new Map<string, HttpClient>();
  private stopped = false;

  constructor(
    private readonly sim: Simulator,
    private readonly tcp: TcpLayer,
    private readonly record: (what: string) => void,
    /** A TCP check's connection to a target's port was established from `sock` (stats: whose pod it reached). */
    private readonly onConnected: ((target: LbTarget, port: number, sock: TcpSocket) => void) | null = null,
  ) {}

  /** Starts every probe of `svc` against every target (the first check now, then every interval). */
  start(svc: LbService): void {
    for (const { check: hc, targets } of probesOf(svc)) {
      for (const t of targets) {
        let inFlight = false;
        const tick = (): void => {
          if (this.stopped) return;
          if (!inFlight) {
            inFlight = true;
            this.check(hc, t, (ok, what) => {
              inFlight = false;
              this.result(svc, hc, t, ok, what);
            });
          }
          this.sim.scheduleBackground(hc.intervalNs, tick);
        };
        this.sim.inBackground(tick);
      }
    }
  }

  /** Stops every check (no further ticks). */
  stop(): void {
    this.stopped = true;
  }

  /** One check of one target: `done(ok, description)` exactly once. */
  private check(hc: HealthCheckParams, t: LbTarget, done: (ok: boolean, what: string) => void): void {
    const ip = t.node.ip;
    if (hc.protocol === 'HTTP') {
      this.clientOf(hc).request({ addr: ip, port: hc.port, host: `${formatIpv4(ip)}:${hc.port}`, path: hc.path }, hc.timeoutNs, (r) => {
        if (r.response !== null) done(hc.okStatus(r.status), `HTTP ${r.status}`);
        else done(false, r.error ?? 'error');
      });
      return;
    }
    tcpCheck(this.sim, this.tcp, ip, hc.port, hc.timeoutNs, done, this.onConnected === null ? null : (sock) => this.onConnected!(t, hc.port, sock));
  }

  private clientOf(hc: HealthCheckParams): HttpClient {
    let c = this.clients.get(hc.userAgent);
    if (!c) this.clients.set(hc.userAgent, (c = new HttpClient(this.tcp, { keepAlive: false, userAgent: hc.userAgent })));
    return c;
  }

  /** Applies one result: thresholds, state change, timeline. */
  private result(svc: LbService, hc: HealthCheckParams, t: LbTarget, ok: boolean, what: string): void {
    t.lastResult = what;
    t.run = t.lastOk === ok ? t.run + 1 : 1;
    t.lastOk = ok;
    const next = targetTransition(t.state, ok, t.run, hc);
    if (next === t.state) return;
    const from = t.state;
    t.state = next;
    t.since = this.sim.now;
    const why = from === 'initial' ? `first check ${ok ? 'passed' : 'failed'}` : `${t.run} consecutive ${ok ? 'successes' : 'failures'}`;
    this.record(`${svc.provider}: ${svc.namespace}/${svc.name} target ${t.node.name} ${formatIpv4(t.node.ip)} ${next} (${why}; ${hc.protocol}:${hc.port}${hc.path} ${what})`);
  }
}

/** The state after a result: the first verdict at once, then the thresholds. */
export function targetTransition(state: LbTarget['state'], ok: boolean, run: number, hc: Pick<HealthCheckParams, 'healthyThreshold' | 'unhealthyThreshold'>): LbTarget['state'] {
  if (state === 'initial') return ok ? 'healthy' : 'unhealthy';
  if (state === 'healthy' && !ok && run >= hc.unhealthyThreshold) return 'unhealthy';
  if (state === 'unhealthy' && ok && run >= hc.healthyThreshold) return 'healthy';
  return state;
}

/** A TCP check: the connect completes within the timeout (then closed), else a failure. */
function tcpCheck(sim: Simulator, tcp: TcpLayer, ip: number, port: number, timeoutNs: TimeNs, done: (ok: boolean, what: string) => void, connected: ((sock: TcpSocket) => void) | null): void {
  const sock = tcp.connect(ip, port);
  const timer = sim.schedule(timeoutNs, () => {
    sock.abort();
    done(false, 'timeout');
  });
  sock.onConnect = () => {
    timer.cancel();
    connected?.(sock);
    sock.close();
    done(true, 'connected');
  };
  sock.onError = (k) => {
    timer.cancel();
    done(false, k);
  };
}
