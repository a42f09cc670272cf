// app/ping — ICMP echo, as iputils `ping` sends it. Layer: app (imports core, wire, packet, net, stats
// interfaces). The kernel's ping socket (net/ipv4/ping.c) delivers replies by echo identifier.
// On the wire, as captured from a real `ping` on Linux: DF set, an IP ID from the kernel's hashed
// ip_idents counter (ping's raw socket is not connected),
// identifier from the process, sequence from 1, and 56 data bytes = a 16-byte struct timeval (64-bit
// little-endian seconds and microseconds of the send time) followed by the bytes 0x10, 0x11, ...
// A probe with no reply within `timeout` counts as lost ('timeout'); an ICMP error (host unreachable
// after ARP failure, net unreachable) fails it as 'no-route'.
import type { TimeNs } from '../core/time.js';
import type { Namespace } from '../net/namespace.js';
import { Packet } from '../packet/packet.js';
import type { FlowRecorder } from '../stats/flow.js';
import { ProbeBook } from './probe-book.js';
import { IcmpType, IP_DF, IpProto, type Ipv4 } from '../wire/types.js';
import { ipv4Header } from '../wire/ipv4.js';

/** What one ping flow does. */
export interface PingOptions {
  dst: Ipv4;
  count: number;
  intervalNs: TimeNs;
  startNs: TimeNs;
  /** Data bytes after the ICMP header (ping -s; default 56). */
  size: number;
  timeoutNs: TimeNs;
  ttl: number;
  tos: number;
  flowId: number;
  /** Who owns an address that answered (a pod's name), from the simulator's side; null: not named. */
  endpointOf?: ((addr: Ipv4) => string | null) | null;
}

/** One `ping` process. */
export class PingApp {
  private readonly id: number;
  private seq = 0;
  private readonly book: ProbeBook;
  /** Probes sent, replies received, and errors, for tests and summaries. */
  readonly counts: ProbeBook['counts'];

  constructor(
    private readonly ns: Namespace,
    private readonly opts: PingOptions,
    private readonly rec: FlowRecorder,
    name: string,
  ) {
    this.book = new ProbeBook(ns.sim, rec, opts.timeoutNs);
    this.counts = this.book.counts;
    const rng = ns.sim.rng.stream(`${ns.name}/ping/${name}`);
    this.id = rng.int(65536);
    ns.openPing(this.id, { reply: (p) => this.onReply(p), error: (p) => this.onError(p) });
    ns.sim.scheduleAt(Math.max(opts.startNs, ns.sim.now), pingSend, this);
  }

  /** Sends the next echo request and schedules the one after. */
  send(): void {
    const o = this.opts;
    const seq = ++this.seq;
    const now = this.ns.sim.now;
    const pkt = new Packet();
    pkt.ip = ipv4Header(IpProto.ICMP, 0, o.dst, IP_DF, o.tos, o.ttl);
    pkt.icmp = { type: IcmpType.ECHO_REQUEST, code: 0, checksum: null, rest: ((this.id << 16) | seq) >>> 0 };
    pkt.payload = pingData(o.size, now);
    pkt.payloadLength = o.size;
    pkt.flowId = o.flowId;
    this.book.sent(seq);
    if (!this.ns.ipLocalOut(pkt)) this.book.failed(seq, 'no-route');
    if (seq < o.count) this.ns.sim.schedule(o.intervalNs, pingSend, this);
  }

  private onReply(pkt: Packet): void {
    if (!this.book.answered(pkt.icmp!.rest & 0xffff, pkt.payloadLength)) return;
    // The reply comes from the address pinged; its owner is the endpoint (ping prints the address).
    const by = this.opts.endpointOf?.(pkt.ip!.src) ?? null;
    if (by !== null) this.rec.servedBy?.(by, pkt.payloadLength, false);
  }

  private onError(icmp: Packet): void {
    this.book.failed(icmp.inner!.icmp!.rest & 0xffff, 'no-route');
  }
}

function pingSend(app: PingApp): void {
  app.send();
}

/** iputils' data: a 16-byte timeval of the send time, then 0x10, 0x11, ... */
function pingData(size: number, now: TimeNs): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i + 0x10 - 16) & 0xff;
  if (size >= 16) {
    const dv = new DataView(b.buffer);
    const sec = Math.floor(now / 1e9);
    const usec = Math.floor((now % 1e9) / 1e3);
    dv.setUint32(0, sec, true);
    dv.setUint32(4, 0, true);
    dv.setUint32(8, usec, true);
    dv.setUint32(12, 0, true);
  }
  return b;
}
