// app/udp-probe — a UDP request/echo pair: the client sends `count` datagrams at an interval to an
// address and port; the echo server (RFC 862 style) sends each back. Layer: app (imports core, wire,
// packet, net, transport, stats interfaces). Each datagram carries an 8-byte header (sequence number
// and a magic) so replies match requests; round-trip time is recorded per reply, a datagram without
// reply within `timeout` counts as lost ('timeout'), and ICMP port unreachable as 'refused'.
import type { TimeNs } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import type { FlowRecorder } from '../stats/flow.js';
import { ProbeBook } from './probe-book.js';
import type { UdpLayer, UdpSocket } from '../transport/udp.js';
import type { Ipv4 } from '../wire/types.js';
import { answeredBy, type AnsweredBy } from './answered-by.js';

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
  /** `identity`: the pod (or host) it runs in, noted per peer (app/answered-by) so clients' flows can name it. */
  constructor(udp: UdpLayer, port: number, identity: string | null = null) {
    this.sock = udp.socket().bind(port);
    const book = identity !== null ? answeredBy(udp.stack.sim) : null;
    this.sock.onMessage = (data, length, src, sport) => {
      this.served++;
      book?.noteDatagram(src, sport, data, identity!);
      this.sock.sendTo(src, sport, data ?? length);
    };
  }
}

/** The client side: sends probes and matches echoes. */
export class UdpProbeClient {
  private readonly sock: UdpSocket;
  private seq = 0;
  private readonly book: ProbeBook;
  readonly counts: ProbeBook['counts'];
  private readonly answered: AnsweredBy;

  constructor(
    private readonly udp: UdpLayer,
    private readonly opts: UdpProbeOptions,
    private readonly rec: FlowRecorder,
  ) {
    this.book = new ProbeBook(udp.stack.sim, rec, opts.timeoutNs);
    this.counts = this.book.counts;
    this.answered = answeredBy(udp.stack.sim);
    this.sock = udp.socket().connect(opts.dst, opts.port);
    this.sock.flowId = opts.flowId;
    this.sock.onMessage = (data, _len, _src, _sport, pkt) => this.onReply(data, pkt);
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
    this.book.sent(seq);
    if (!this.sock.send(data)) this.book.failed(seq, this.sock.sendError);
    if (seq < o.count) sim.schedule(o.intervalNs, probeSend, this);
  }

  private onReply(data: Uint8Array | null, pkt: Packet): void {
    if (data === null || data.length < 8) return;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (dv.getUint32(0) !== MAGIC) return;
    if (!this.book.answered(dv.getUint32(4), data.length)) return;
    // The echo server that answered after NAT (noted by it against our address and port; not on the wire).
    const by = this.answered.lookupDatagram(pkt.ip!.dst, pkt.udp!.dstPort, data);
    if (by !== null) this.rec.servedBy?.(by, data.length, false);
  }

  private onError(kind: string): void {
    // The error concerns the oldest outstanding datagram (a connected UDP socket reports it once).
    const seq = this.book.oldest();
    if (seq !== undefined) this.book.failed(seq, kind === 'refused' ? 'refused' : 'no-route');
  }
}

function probeSend(c: UdpProbeClient): void {
  c.send();
}
