// app/dns-send — glibc's __res_context_send for one query pair (resolv/res_send.c): the rounds over the
// nameservers, send_dg (UDP: both queries with sendmmsg, replies matched by ID and question, the
// single-request fallbacks, SERVFAIL / REFUSED / referral → next server, TC → TCP) and send_vc (TCP:
// both queries in one write, framed by app/dns-stream, replies matched by ID). Used by app/dns-resolver's
// StubResolver; the behaviour is described there. Layer: app (imports core, wire, transport).
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import { SEC } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import type { SocketErrorKind } from '../transport/api.js';
import type { TcpSocket } from '../transport/tcp/index.js';
import type { UdpSocket } from '../transport/udp.js';
import { decodeDns, DnsFlag, dnsRcode, DnsRcode, encodeDnsMessage, type DnsMessage } from '../wire/dns.js';
import { IpProto } from '../wire/types.js';
import { answeredBy } from './answered-by.js';
import type { LookupResult, StubResolver } from './dns-resolver.js';
import { DnsStreamReader, frameDns } from './dns-stream.js';

export type ExchangeResult = { kind: 'answer'; a: DnsMessage | null; aaaa: DnsMessage | null; aBy: string | null } | { kind: 'error'; refused: boolean; servfail: boolean };

/** One __res_context_send: rounds over the nameservers, send_dg to each. */
export class Exchange {
  private readonly socks = new Map<number, UdpSocket>();
  private readonly nscount: number;
  private readonly nsOffset: number;
  private tries = 0;
  private shift = 0;
  private gotSomewhere = false;
  private servfail = false;
  // send_dg state
  private ns = 0;
  private sock: UdpSocket | null = null;
  private timer: SimEvent | null = null;
  private seconds = 0;
  private nwritten = 0;
  private recv1 = false;
  private recv2 = false;
  private ans1: DnsMessage | null = null;
  private ans2: DnsMessage | null = null;
  /** The server that sent ans1 (app/answered-by). */
  private ans1By: string | null = null;
  private done = false;
  // send_vc state: v_circuit (once set, every server left in this round is asked over TCP, once)
  private vc = false;
  private vcSock: TcpSocket | null = null;
  private connreset = false;
  /** errno of the last TCP failure (terrno): what the lookup fails with when no server answered over TCP. */
  private terrno: SocketErrorKind = 'timeout';

  constructor(
    private readonly r: StubResolver,
    private readonly q1: DnsMessage,
    private readonly q2: DnsMessage | null,
    private readonly result: LookupResult,
    private readonly cb: (x: ExchangeResult) => void,
  ) {
    this.nscount = r.conf.nameservers.length;
    this.nsOffset = r.conf.rotate ? r.simulator.rng.stream(`${r.udp.stack.name}/dns-rotate`).int(this.nscount) : 0;
    this.vc = r.conf.useVc === true && r.opts.tcp !== undefined;
    this.nextServer();
  }

  private get sim(): Simulator {
    return this.r.simulator;
  }

  /** The loop of __res_context_send: for tries, for each nameserver, send_dg. */
  private nextServer(): void {
    if (this.shift >= this.nscount) {
      this.shift = 0;
      this.tries++;
      // "Use VC; at most one attempt per server": the round that went over TCP is the last.
      if (this.vc) this.tries = this.r.conf.attempts;
    }
    if (this.tries >= this.r.conf.attempts) {
      this.closeAll();
      // errno: over TCP the last connection's (terrno); else ETIMEDOUT when some server answered or timed out, else ECONNREFUSED.
      if (this.vc) return this.finish({ kind: 'error', refused: this.terrno === 'refused', servfail: false });
      return this.finish({ kind: 'error', refused: !this.gotSomewhere && !this.servfail, servfail: this.servfail });
    }
    this.ns = (this.shift + this.nsOffset) % this.nscount;
    this.shift++;
    if (this.vc) return this.sendVc();
    // send_dg: seconds = (retrans << ns) / nscount for ns > 0.
    let seconds = this.r.conf.timeout << this.ns;
    if (this.ns > 0) seconds = Math.floor(seconds / this.nscount);
    this.seconds = Math.max(1, seconds);
    this.sock = this.socks.get(this.ns) ?? this.reopen();
    this.begin();
  }

  /** reopen(): a socket connected to nameserver `ns` (autobound to an ephemeral port). */
  private reopen(): UdpSocket {
    const addr = this.r.conf.nameservers[this.ns]!;
    const sock = this.r.udp.socket().connect(addr, 53);
    sock.onMessage = (data, _len, _src, _sport, pkt) => this.onReply(sock, data, pkt);
    // POLLERR (ICMP port/host unreachable on the connected socket) → close_and_return_error.
    sock.onError = () => {
      if (sock === this.sock && !this.done) this.errorNextServer();
    };
    this.socks.set(this.ns, sock);
    return sock;
  }

  /** `retry:` — fresh deadline, nothing received, send the first (or both) queries. */
  private begin(): void {
    this.timer?.cancel();
    this.timer = this.sim.schedule(this.seconds * SEC, () => this.onTimeout());
    this.nwritten = 0;
    this.recv1 = false;
    this.recv2 = this.q2 === null;
    this.ans1 = null;
    this.ans2 = null;
    this.ans1By = null;
    if (this.q2 !== null && !this.r.single) {
      this.write(this.q1);
      this.write(this.q2); // sendmmsg: both back to back
    } else this.write(this.q1);
  }

  private write(q: DnsMessage): void {
    this.nwritten++;
    this.r.noteQuery(this.result);
    if (!this.sock!.send(encodeDnsMessage(q))) {
      // send fails (no route): close_and_return_error → next server.
      this.sim.schedule(0, () => {
        if (!this.done) this.errorNextServer();
      });
    }
  }

  private onReply(sock: UdpSocket, data: Uint8Array | null, pkt: Packet): void {
    if (this.done || sock !== this.sock || data === null || data.length < 12) return;
    let m: DnsMessage;
    try {
      m = decodeDns(data, 0).msg;
    } catch {
      return; // unparsable: res_queriesmatch fails → spurious, keep waiting
    }
    this.gotSomewhere = true;
    let which = 0;
    if (!this.recv1 && m.id === this.q1.id && questionsMatch(this.q1, m)) which = 1;
    if (!this.recv2 && this.q2 !== null && m.id === this.q2.id && questionsMatch(this.q2, m)) which = 2;
    if (which === 0) return; // spurious UDP packet: dropped, keep waiting
    const rc = dnsRcode(m);
    const lame = rc === DnsRcode.NOERROR && m.answers.length === 0 && (m.flags & (DnsFlag.AA | DnsFlag.RA)) === 0 && m.additional.length === 0;
    if (rc === DnsRcode.SERVFAIL || rc === DnsRcode.NOTIMP || rc === DnsRcode.REFUSED || lame) {
      if (rc === DnsRcode.SERVFAIL) this.servfail = true;
      // next_ns: with one reply already in hand, return it; else wait for the other one.
      if (this.ans1 !== null || this.ans2 !== null) return this.answer();
      if (this.recv1 || this.recv2 || this.q2 === null) return this.errorNextServer();
      if (which === 1) this.recv1 = true;
      else this.recv2 = true;
      this.maybeSendSecond();
      return;
    }
    if ((m.flags & DnsFlag.TC) !== 0 && this.r.opts.tcp !== undefined) {
      // "To get the rest of answer, use TCP with same server": both queries again, over one connection.
      this.closeAll();
      this.vc = true;
      this.sendVc();
      return;
    }
    if (which === 1) {
      this.recv1 = true;
      this.ans1 = m;
      // The server that answered, as it noted our address and port (after NAT; not on the wire).
      this.ans1By = answeredBy(this.sim).lookup(IpProto.UDP, pkt.ip!.dst, pkt.udp!.dstPort);
    } else {
      this.recv2 = true;
      this.ans2 = m;
    }
    if (this.recv1 && this.recv2) return this.answer();
    this.maybeSendSecond();
  }

  /** Single-request mode: the second query goes once the first reply is in (reopen: from a new socket). */
  private maybeSendSecond(): void {
    if (!this.r.single || this.q2 === null || this.nwritten >= 2) return;
    if (this.r.reopen) {
      this.sock!.close();
      this.socks.delete(this.ns);
      this.sock = this.reopen();
    }
    this.write(this.q2);
  }

  private onTimeout(): void {
    if (this.done) return;
    this.r.noteTimeout();
    if (this.ans1 !== null || this.ans2 !== null) {
      // "If we time out after having received one answer switch to the mode where we send the
      // second request only once we have received the first answer."
      if (!this.r.single) {
        this.r.setSingle();
        return this.begin();
      }
      if (!this.r.reopen) {
        this.r.setReopen();
        this.closeAll();
        this.sock = this.reopen();
        return this.begin();
      }
      return this.answer();
    }
    this.gotSomewhere = true;
    this.nextServer(); // the socket stays open for the next round
  }

  /** close_and_return_error: all sockets closed, on to the next server. */
  private errorNextServer(): void {
    this.timer?.cancel();
    this.closeAll();
    this.nextServer();
  }

  private answer(): void {
    this.closeAll();
    this.finish({ kind: 'answer', a: this.ans1, aaaa: this.ans2, aBy: this.ans1By });
  }

  /**
   * send_vc to server `ns`: connect (no timeout of its own: the kernel's SYN retries), both queries in one
   * write, each framed by its length, then the replies in any order, matched by ID only (one of an earlier
   * query is skipped); a reply's rcode is final over TCP. A reset while reading reconnects once; any other
   * failure (refused, timed out, EOF) moves on to the next server.
   */
  private sendVc(): void {
    this.r.noteTcp();
    this.recv1 = false;
    this.recv2 = this.q2 === null;
    this.ans1 = null;
    this.ans2 = null;
    this.ans1By = null;
    const addr = this.r.conf.nameservers[this.ns]!;
    const reader = new DnsStreamReader();
    const sock = this.r.opts.tcp!().connect(addr, 53, (s) => {
      this.r.noteQuery(this.result);
      if (this.q2 !== null) this.r.noteQuery(this.result);
      s.send(this.q2 !== null ? frameDns(this.q1, this.q2) : frameDns(this.q1));
    });
    this.vcSock = sock;
    sock.onData = (data) => {
      if (sock !== this.vcSock || this.done || data === null) return;
      reader.push(data);
      for (let b = reader.next(); b !== null && !this.done; b = reader.next()) this.onVcReply(sock, b);
    };
    // EOF before both replies: close_and_return_error → next server.
    sock.onEnd = () => {
      if (sock === this.vcSock && !this.done) this.vcFailed('timeout');
    };
    sock.onError = (kind) => {
      if (sock !== this.vcSock || this.done) return;
      // (a reset: the connection was up — a RST answering the SYN is 'refused')
      if (kind === 'reset' && !this.connreset) {
        this.connreset = true;
        this.closeVc();
        return this.sendVc();
      }
      this.vcFailed(kind);
    };
  }

  private onVcReply(sock: TcpSocket, data: Uint8Array): void {
    if (data.length < 12) return this.vcFailed('timeout'); // undersized: EMSGSIZE → next server
    let m: DnsMessage;
    try {
      m = decodeDns(data, 0).msg;
    } catch {
      return; // an answer glibc's parser later rejects; the exchange waits for one it matches
    }
    let which = 0;
    if (!this.recv1 && m.id === this.q1.id) which = 1;
    else if (!this.recv2 && this.q2 !== null && m.id === this.q2.id) which = 2;
    if (which === 0) return; // "old answer (unexpected)": read the next
    if (which === 1) {
      this.recv1 = true;
      this.ans1 = m;
      this.ans1By = answeredBy(this.sim).lookup(IpProto.TCP, sock.localAddr, sock.localPort);
    } else {
      this.recv2 = true;
      this.ans2 = m;
    }
    if (this.recv1 && this.recv2) this.answer();
  }

  private vcFailed(kind: SocketErrorKind): void {
    this.terrno = kind;
    this.closeVc();
    this.nextServer();
  }

  private closeVc(): void {
    const s = this.vcSock;
    this.vcSock = null;
    if (s !== null && !s.isClosed()) s.close();
  }

  private closeAll(): void {
    this.timer?.cancel();
    for (const s of this.socks.values()) s.close();
    this.socks.clear();
    this.closeVc();
  }

  private finish(x: ExchangeResult): void {
    if (this.done) return;
    this.done = true;
    this.timer?.cancel();
    this.cb(x);
  }
}

/** res_queriesmatch: same question (name case-insensitively, type, class). */
function questionsMatch(q: DnsMessage, r: DnsMessage): boolean {
  if (r.questions.length !== q.questions.length) return false;
  return q.questions.every((a, i) => {
    const b = r.questions[i]!;
    return a.type === b.type && a.class === b.class && a.name.toLowerCase() === b.name.toLowerCase();
  });
}
