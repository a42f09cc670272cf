// app/ping — ICMP echo, as iputils `ping` sends it. Layer: app (imports core, wire, packet, net, stats
// interfaces). The kernel's ping socket (net/ipv4/ping.c) delivers replies by echo identifier.
// On the wire, as captured from a real `ping` on Linux: DF set when the request fits the path MTU
// (ping's default `-M want`: a bigger one leaves in fragments without DF; `-M do` always sets DF and a
// request above the path MTU fails locally with EMSGSIZE, "local error: message too long"; `-M dont`
// never sets it), an IP ID from the kernel's hashed ip_idents counter (ping's raw socket is not connected),
// identifier from the process, sequence from 1, and 56 data bytes = a 16-byte struct timeval (64-bit
// little-endian seconds and microseconds of the send time) followed by the bytes 0x10, 0x11, ...
// A probe with no reply within `timeout` counts as lost ('timeout'); an ICMP error fails it as the
// kernel's icmp_err_convert names it: fragmentation needed as 'msgsize' (EMSGSIZE; the path MTU is
// learned, ipv4_sk_update_pmtu, unless `-M dont`), port or protocol unreachable as 'refused', others
// (host unreachable after ARP failure, net unreachable, time exceeded) as 'no-route'.
import type { TimeNs } from '../core/time.js';
import type { Namespace } from '../net/namespace.js';
import { Packet } from '../packet/packet.js';
import type { FlowRecorder } from '../stats/flow.js';
import { ProbeBook, type ProbeFailure } from './probe-book.js';

/** IP and ICMP headers of an echo request: 20 + 8 bytes before its data. */
const ICMP_ECHO_OVERHEAD = 28;
import { IcmpType, IcmpUnreachCode, IP_DF, IpProto, type Ipv4 } from '../wire/types.js';
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
  /** ping -M: IP_PMTUDISC_WANT (default), DO or DONT. */
  pmtudisc?: 'want' | 'do' | 'dont';
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
    this.book.sent(seq);
    // ip_append_data / __ip_make_skb: DF as the socket's PMTU discovery mode says, against the path MTU.
    const mode = o.pmtudisc ?? 'want';
    const mtu = mode === 'dont' ? null : this.ns.mtuFor(o.dst);
    const fits = mtu === null || ICMP_ECHO_OVERHEAD + o.size <= mtu;
    if (mode === 'do' && !fits) this.book.failed(seq, 'msgsize');
    else this.sendEcho(seq, now, mode === 'do' || (mode === 'want' && fits));
    if (seq < o.count) this.ns.sim.schedule(o.intervalNs, pingSend, this);
  }

  private sendEcho(seq: number, now: number, df: boolean): void {
    const o = this.opts;
    const pkt = new Packet();
    pkt.ip = ipv4Header(IpProto.ICMP, 0, o.dst, df ? IP_DF : 0, o.tos, o.ttl);
    pkt.icmp = { type: IcmpType.ECHO_REQUEST, code: 0, checksum: null, rest: ((this.id << 16) | seq) >>> 0 };
    pkt.payload = pingData(o.size, now);
    pkt.payloadLength = o.size;
    pkt.flowId = o.flowId;
    if (!this.ns.ipLocalOut(pkt)) this.book.failed(seq, this.ns.sendError);
  }

  private onReply(pkt: Packet): void {
    if (!this.book.answered(pkt.icmp!.rest & 0xffff, pkt.payloadLength)) return;
    // The reply comes from the address pinged; its owner is the endpoint (ping prints the address).
    const by = this.opts.endpointOf?.(pkt.ip!.src) ?? null;
    if (by !== null) this.rec.servedBy?.(by, pkt.payloadLength, false);
  }

  private onError(icmp: Packet): void {
    const e = icmp.icmp!;
    let kind: ProbeFailure = 'no-route';
    if (e.type === IcmpType.DEST_UNREACH && e.code === IcmpUnreachCode.FRAG_NEEDED) {
      // raw_err / ping_err: the path MTU is learned; the error counts unless the socket ignores PMTU.
      this.ns.updatePmtu(icmp.inner!.ip!.dst, e.rest & 0xffff);
      if (this.opts.pmtudisc === 'dont') return;
      kind = 'msgsize';
    } else if (e.type === IcmpType.DEST_UNREACH && (e.code === IcmpUnreachCode.PORT || e.code === IcmpUnreachCode.PROTOCOL)) kind = 'refused';
    this.book.failed(icmp.inner!.icmp!.rest & 0xffff, kind);
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
