// app/udp-probe — a UDP request/echo pair: the client sends `count` datagrams at an interval to an
// address and port; the echo server (RFC 862 style) sends each back. Layer: app (imports core, wire,
// packet, net, transport, stats interfaces). Each datagram carries an 8-byte header (sequence number
// and a magic) so replies match requests; round-trip time is recorded per reply, a datagram without
// reply within `timeout` counts as lost ('timeout'), and ICMP port unreachable as 'refused'.
import type { SimEvent } from '../core/scheduler.js';
import type { TimeNs } from '../core/time.js';
import type { FlowRecorder } from '../stats/flow.js';
import type { UdpLayer, UdpSocket } from '../transport/udp.js';
import type { Ipv4 } from '../wire/types.js';

const MAGIC = 0x70770001; // "pw" + version

/** Options of one UDP probe flow. */
export interface UdpProbeOptions {
  dst: Ipv4;
  port: number;
  count: number;
  intervalNs: TimeNs;
  startNs: TimeNs;
  /** Payload bytes (at least 8 are used for the sequence header when size >= 8). */
  size: number;
  timeoutNs: TimeNs;
  flowId: number;
}

/** A UDP echo server bound to `port` (answers every datagram to its sender). */
export class UdpEchoServer {
  readonly sock: UdpSocket;
  served = 0;
  constructor(udp: UdpLayer, port: number) {
    this.sock = udp.socket().bind(port);
    this.sock.onMessage = (data, length, src, sport) => {
      this.served++;
      this.sock.sendTo(src, sport, data ?? length);
    };
  }
}

/** The client side: sends probes and matches echoes. */
export class UdpProbeClient {
  private readonly sock: UdpSocket;
  private seq = 0;
  private readonly outstanding = new Map<number, { sent: TimeNs; timer: SimEvent }>();
  readonly counts = { sent: 0, received: 0, lost: 0, errors: 0 };

  constructor(
    private readonly udp: UdpLayer,
    private readonly opts: UdpProbeOptions,
    private readonly rec: FlowRecorder,
  ) {
    this.sock = udp.socket().connect(opts.dst, opts.port);
    this.sock.flowId = opts.flowId;
    this.sock.onMessage = (data) => this.onReply(data);
    this.sock.onError = (kind) => this.onError(kind);
    const sim = udp.stack.sim;
    sim.scheduleAt(Math.max(opts.startNs, sim.now), probeSend, this);
  }

  /** Sends the next probe and schedules the one after. */
  send(): void {
    const o = this.opts;
    const sim = this.udp.stack.sim;
    const seq = ++this.seq;
    const data = new Uint8Array(o.size);
    if (o.size >= 8) {
      const dv = new DataView(data.buffer);
      dv.setUint32(0, MAGIC);
      dv.setUint32(4, seq);
    }
    this.counts.sent++;
    this.rec.requestStarted();
    const timer = sim.schedule(o.timeoutNs, probeTimeout, this, seq);
    this.outstanding.set(seq, { sent: sim.now, timer });
    if (!this.sock.send(data)) this.finish(seq, 'no-route');
    if (seq < o.count) sim.schedule(o.intervalNs, probeSend, this);
  }

  private onReply(data: Uint8Array | null): void {
    if (data === null || data.length < 8) return;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (dv.getUint32(0) !== MAGIC) return;
    const seq = dv.getUint32(4);
    const o = this.outstanding.get(seq);
    if (o === undefined) return;
    this.outstanding.delete(seq);
    o.timer.cancel();
    this.counts.received++;
    this.rec.requestSucceeded(this.udp.stack.sim.now - o.sent, null, data.length);
  }

  private onError(kind: string): void {
    // The error concerns the oldest outstanding datagram (a connected UDP socket reports it once).
    const first = this.outstanding.keys().next();
    if (first.done) return;
    this.finish(first.value, kind === 'refused' ? 'refused' : 'no-route');
  }

  /** Ends probe `seq` with an error. */
  finish(seq: number, kind: 'timeout' | 'refused' | 'no-route'): void {
    const o = this.outstanding.get(seq);
    if (o === undefined) return;
    this.outstanding.delete(seq);
    o.timer.cancel();
    if (kind === 'timeout') this.counts.lost++;
    else this.counts.errors++;
    this.rec.requestFailed(kind, this.udp.stack.sim.now - o.sent);
  }
}

function probeSend(c: UdpProbeClient): void {
  c.send();
}
function probeTimeout(c: UdpProbeClient, seq: number): void {
  c.finish(seq, 'timeout');
}
