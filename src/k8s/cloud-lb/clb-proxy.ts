// k8s/cloud-lb/clb-proxy — the AWS Classic ELB's TCP listener: a proxy on the load-balancer machine
// that terminates the client's connection on the LB address and opens a new one from its own address
// to a healthy target's node IP:NodePort (round robin), then relays bytes both ways. The node sees the
// LB machine as the client; with the annotation
// `service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: "*"` the first bytes on the backend
// connection are a proxy protocol v1 line (`PROXY TCP4 <client> <lb> <cport> <lbport>\r\n`). A
// connection idle for the idle timeout (60 s) is closed on both sides. Layer: k8s (imports core, wire,
// transport, k8s).
// Not modelled: HTTP/HTTPS listeners (least outstanding requests, X-Forwarded-For), connection
// draining (the provider turns it off), backpressure between the two connections, SSL.
import type { Simulator } from '../../core/simulator.js';
import type { TcpLayer, TcpSocket } from '../../transport/tcp/index.js';
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { Ipv4 } from '../../wire/types.js';
import { pickTarget, type LbService } from './model.js';

/** The annotation that turns proxy protocol v1 on for every backend port. */
export const AWS_PROXY_PROTOCOL_ANNOTATION = 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol';

/** The proxy protocol v1 header for a TCP4 connection. */
export function proxyProtocolV1(client: Ipv4, cport: number, lb: Ipv4, lbPort: number): string {
  return `PROXY TCP4 ${formatIpv4(client)} ${formatIpv4(lb)} ${cport} ${lbPort}\r\n`;
}

/** Counters of the proxy (inspect --lb). */
export interface ClbCounters {
  accepted: number;
  backendConnects: number;
  refused: number;
  idleClosed: number;
}

/** The Classic ELB's listeners on the load-balancer machine. */
export class ClbProxy {
  readonly counters: ClbCounters = { accepted: 0, backendConnects: 0, refused: 0, idleClosed: 0 };
  private readonly byPort = new Map<number, LbService[]>();

  constructor(
    private readonly sim: Simulator,
    private readonly tcp: TcpLayer,
  ) {}

  /** Opens the Service's listeners (one listening socket per port, shared by every LB address on it). */
  add(svc: LbService): void {
    for (const l of svc.listeners) {
      if (l.protocol !== 'TCP') continue;
      let list = this.byPort.get(l.port);
      if (!list) {
        this.byPort.set(l.port, (list = []));
        const svcs = list;
        this.tcp.listen(l.port, (sock) => this.accept(svcs, sock));
      }
      list.push(svc);
    }
  }

  private accept(svcs: LbService[], client: TcpSocket): void {
    const svc = svcs.find((s) => s.vip === client.localAddr);
    const listener = svc?.listeners.find((l) => l.port === client.localPort);
    const target = svc ? pickTarget(svc, 0) : null;
    this.counters.accepted++;
    if (!svc || !listener || !target) {
      // No healthy instance: the ELB closes the client's connection.
      this.counters.refused++;
      client.close();
      return;
    }
    this.counters.backendConnects++;
    const backend = this.tcp.connect(target.node.ip, listener.nodePort);
    let lastActivity = this.sim.now;
    let connected = false;
    const early: (Uint8Array | number)[] = [];
    const touch = (): void => {
      lastActivity = this.sim.now;
    };
    if (svc.proxyProtocol) early.push(new TextEncoder().encode(proxyProtocolV1(client.remoteAddr, client.remotePort, client.localAddr, client.localPort)));
    backend.onConnect = () => {
      connected = true;
      for (const d of early.splice(0)) backend.send(d);
    };
    client.onData = (data, len) => {
      touch();
      if (connected) backend.send(data ?? len);
      else early.push(data ?? len);
    };
    backend.onData = (data, len) => {
      touch();
      client.send(data ?? len);
    };
    client.onEnd = () => backend.close();
    backend.onEnd = () => client.close();
    client.onError = () => backend.abort();
    backend.onError = () => client.abort();
    // The idle timeout: housekeeping (a background timer), re-armed from the last activity.
    const idle = svc.idleTimeoutNs;
    if (idle <= 0) return;
    const check = (): void => {
      if (client.isClosed() && backend.isClosed()) return;
      const quiet = this.sim.now - lastActivity;
      if (quiet < idle) {
        this.sim.scheduleBackground(idle - quiet, check);
        return;
      }
      this.counters.idleClosed++;
      client.close();
      backend.close();
    };
    this.sim.inBackground(() => this.sim.scheduleBackground(idle, check));
  }
}
