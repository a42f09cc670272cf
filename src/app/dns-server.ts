// app/dns-server — an authoritative + forwarding DNS server on UDP 53, shaped like CoreDNS's default
// Corefile for Kubernetes (`kubernetes cluster.local …`, `forward . /etc/resolv.conf`, `cache 30`,
// `loadbalance`). Layer: app (imports core, wire, packet, net, transport, stats).
//
// A query runs through the plugin chain as CoreDNS orders it:
//   cache → zone (the `kubernetes` plugin; any DnsZone callback) → forward.
// - zone: a callback answers the names it owns (RFC 1034 §4.3.2 authoritative answers: AA set,
//   NXDOMAIN / NODATA with the zone's SOA in the authority section, RFC 2308 §2.1/§2.2) or returns
//   null to fall through to forward. CoreDNS never sets RA on its own answers (miekg/dns SetReply
//   leaves it clear: `dig` prints "recursion requested but not available"), so `recursionAvailable`
//   defaults to false; RD and CD are copied from the query (SetReply).
//   An answer ending in a CNAME to a name outside the zone asks the server to chase it (CoreDNS
//   plugin/backend_lookup.go A(): `b.Lookup(ctx, state, target, qtype)` through the server's own chain),
//   and the chased answer records are appended after the CNAME.
// - forward (CoreDNS plugin/forward + pkg/proxy, v1.11+): policy random (the upstream list shuffled
//   per query), a fresh random message ID toward the upstream ("originId" restored on the reply), a
//   2 s read timeout per attempt, further attempts round the list until the 5 s deadline, then
//   SERVFAIL. The upstream's reply is relayed as it is (its AA/RA/rcode), with the client's ID; a reply
//   whose question does not match becomes FORMERR (forward.go `!state.Match(ret)`). Connections are
//   pooled per upstream: a connected UDP socket is reused by the next query once idle and closed
//   after 10 s idle (pkg/proxy persistent.go `expire 10s`), so source ports repeat like CoreDNS's.
// - cache (plugin/cache, `cache 30`): NOERROR / NXDOMAIN answers keyed by (lowercased qname, qtype);
//   every record's TTL is set to min(message's minimal TTL, 30) when stored and to the remaining
//   seconds when served; a cached reply has AA set ("some DNS clients discard the *entire* packet when
//   it's non-authoritative", item.toMsg). SERVFAIL is not cached (it is written outside the chain).
// - loadbalance (plugin/loadbalance roundRobinShuffle): A/AAAA records of an answer shuffled with
//   dns.Id() draws, CNAMEs kept first.
// - UDP size: a reply to a query without EDNS is cut to 512 octets (RFC 1035 §4.2.1, CoreDNS
//   request.Scrub → miekg Truncate): answers, then authority, then additional are kept while they
//   fit; TC is set when an answer record was dropped.
// A per-query processing delay is drawn from a distribution (stream `<ns>/dns-server/<port>`).
// With `identity` (CoreDNS: its pod), each reply notes the client's address and port → identity in
// app/answered-by, so the stub resolver can say which server answered (a dns flow's endpoints).
//
// - TCP (with `tcp`, as CoreDNS 1.11 sets up miekg/dns serveTCPConn): the same port on TCP; queries
//   framed by their length are read one at a time, each served (chaos, delay, plugin chain) before the
//   next is read; the first must arrive within 3 s of the accept, each next within 10 s of the last
//   reply, else the server closes; at the client's FIN it closes too. Replies are not cut to 512 octets.
// Not modelled: forwarding over TCP (CoreDNS's forward uses the client's transport; here every upstream
// query goes over UDP), EDNS(0) (OPT records are ignored and never added), forward's health checks and max_fails, prefetch / serve_stale, DNSSEC, zone transfers,
// the `errors`/`log`/`loop`/`reload` plugins, CoreDNS's concurrency limit (max_concurrent).
import { sample, type Distribution } from '../core/distributions.js';
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import { SEC, type TimeNs } from '../core/time.js';
import type { TcpLayer, TcpSocket } from '../transport/tcp/index.js';
import type { UdpLayer, UdpSocket } from '../transport/udp.js';
import {
  decodeDns,
  DnsClass,
  DnsFlag,
  dnsQuery,
  dnsRcode,
  DnsRcode,
  DnsType,
  encodeDnsMessage,
  dnsMessageLength,
  type DnsMessage,
  type DnsQuestion,
  type DnsResourceRecord,
} from '../wire/dns.js';
import { IpProto, type Ipv4 } from '../wire/types.js';
import { answeredBy } from './answered-by.js';
import { DNS_TCP_MAX, DnsStreamReader, frameDns } from './dns-stream.js';
import { errorReply, minimalTtl, OPCODE_MASK, replyFlags, roundRobin, truncate, withOpt, withTtl } from './dns-reply.js';


/** DNS port (RFC 1035 §4.2). */
export const DNS_PORT = 53;
/** Largest UDP reply without EDNS (RFC 1035 §4.2.1). */
export const DNS_UDP_MAX = 512;

/** What a zone answers for one question. */
export interface ZoneAnswer {
  /** NOERROR (with answers, or NODATA without) or NXDOMAIN. */
  rcode: number;
  /** Sets AA (CoreDNS's kubernetes plugin always does). */
  authoritative: boolean;
  answers: DnsResourceRecord[];
  /** SOA for NXDOMAIN / NODATA (RFC 2308). */
  authority: DnsResourceRecord[];
  additional: DnsResourceRecord[];
  /** The answers end in a CNAME to this out-of-zone name: resolve it through the server and append. */
  chase: DnsQuestion | null;
}

/** A zone: answers a question it owns, or null to fall through to the forwarders. */
export type DnsZone = (q: DnsQuestion) => ZoneAnswer | null;

/** Server behaviour. */
export interface DnsServerOptions {
  /** UDP port (default 53). */
  port?: number;
  /** Authoritative data; null forwards everything. */
  zone: DnsZone | null;
  /** Upstream servers for names the zone does not own (`forward . <upstream>`); empty → REFUSED. */
  upstream: Ipv4[];
  /** Per-query processing time in ns (default none). */
  processingDelay?: Distribution;
  /** Sets RA on answers the server makes itself (CoreDNS: false; a recursive resolver: true). */
  recursionAvailable?: boolean;
  /** `cache N`: cap of cached TTLs in seconds; null disables the cache (default null). */
  cacheMaxTtl?: number | null;
  /** `loadbalance`: shuffle A/AAAA records in answers (default false). */
  loadbalance?: boolean;
  /** Per-attempt read timeout toward an upstream (CoreDNS 2 s). */
  forwardReadTimeoutNs?: TimeNs;
  /** Overall forward deadline (CoreDNS 5 s). */
  forwardDeadlineNs?: TimeNs;
  /** Idle upstream connections are closed after this (CoreDNS `expire 10s`). */
  forwardExpireNs?: TimeNs;
  /** The pod (or host) the server runs in: noted per client address and port with each reply (app/answered-by) so DNS flows can name it. */
  identity?: string;
  /** Also serve DNS over TCP on the same port, in this namespace's TCP layer (CoreDNS listens on both). */
  tcp?: TcpLayer;
  /** TCP: the time to read a connection's first query, and to wait for each next one (CoreDNS 1.11: 3 s, 10 s). */
  tcpReadTimeoutNs?: TimeNs;
  tcpIdleTimeoutNs?: TimeNs;
}

/** Server counters (CoreDNS exports the like as coredns_dns_requests_total, _responses_total{rcode}, …). */
export interface DnsServerCounters {
  queries: number;
  /** Responses sent, by rcode name. */
  responses: Record<RcodeName, number>;
  /** Queries sent to upstream servers (every attempt). */
  forwarded: number;
  /** Upstream attempts that timed out. */
  forwardTimeouts: number;
  /** Queries answered from the cache. */
  cacheHits: number;
  /** Datagrams that did not decode as a DNS query (dropped). */
  malformed: number;
  /** Replies truncated to 512 octets (TC set). */
  truncated: number;
  /** TCP connections accepted, and the queries read from them (counted in `queries` too). */
  tcpConnections: number;
  tcpQueries: number;
}

/** One client's TCP connection: its queries are read and answered one at a time (miekg/dns serveTCPConn). */
interface TcpConn {
  sock: TcpSocket;
  reader: DnsStreamReader;
  /** A query is being served: the next is read once its reply is written. */
  busy: boolean;
  /** The client has closed its side (a read would return EOF). */
  eof: boolean;
  closed: boolean;
  /** The read deadline: the first query's, then the idle timeout between queries. */
  timer: SimEvent | null;
}

/** Rcode names as dig prints them. */
export type RcodeName = keyof typeof DnsRcode | 'OTHER';

/** The name dig prints for an rcode. */
export function rcodeName(rcode: number): RcodeName {
  for (const [k, v] of Object.entries(DnsRcode)) if (v === rcode) return k as RcodeName;
  return 'OTHER';
}

interface CacheItem {
  msg: DnsMessage;
  stored: TimeNs;
  ttl: number;
}

interface Conn {
  sock: UdpSocket;
  idleSince: TimeNs;
  /** The in-flight attempt using this connection, or null when idle. */
  attempt: Attempt | null;
}

interface Attempt {
  fwd: Forwarding;
  conn: Conn;
  upstream: Ipv4;
  id: number;
  timer: SimEvent | null;
}

interface Forwarding {
  query: DnsMessage;
  order: Ipv4[];
  next: number;
  attempts: number;
  deadline: TimeNs;
  cb: (resp: DnsMessage) => void;
}

/**
 * A fault on a server's answers for one query (k8s/ sets it: a CoreDNS outage, Chaos Mesh DNSChaos,
 * whose k8s_dns_chaos plugin answers the selected pods' queries itself): drop it (the client times
 * out), answer with an rcode (SERVFAIL, NXDOMAIN), answer A queries with a random address, or serve
 * it late.
 */
export type DnsChaosAction = { kind: 'drop' } | { kind: 'rcode'; rcode: number } | { kind: 'random' } | { kind: 'delay'; ns: TimeNs };
/** Decides the chaos for a query from `src` (null: serve it normally). */
export type DnsChaosHook = (q: DnsQuestion, src: Ipv4) => DnsChaosAction | null;

/** An authoritative + forwarding DNS server (CoreDNS-like) bound to one UDP port. */
export class DnsServer {
  /** A fault acting on queries (null: none). */
  chaos: DnsChaosHook | null = null;
  readonly sock: UdpSocket;
  readonly counters: DnsServerCounters = {
    queries: 0,
    responses: { NOERROR: 0, FORMERR: 0, SERVFAIL: 0, NXDOMAIN: 0, NOTIMP: 0, REFUSED: 0, OTHER: 0 },
    forwarded: 0,
    forwardTimeouts: 0,
    cacheHits: 0,
    malformed: 0,
    truncated: 0,
    tcpConnections: 0,
    tcpQueries: 0,
  };
  private readonly sim: Simulator;
  private readonly name: string;
  private readonly cache = new Map<string, CacheItem>();
  private readonly pools = new Map<Ipv4, Conn[]>();

  constructor(
    readonly udp: UdpLayer,
    readonly opts: DnsServerOptions,
  ) {
    this.sim = udp.stack.sim;
    this.name = udp.stack.name;
    const port = opts.port ?? DNS_PORT;
    this.sock = udp.socket().bind(port);
    this.sock.onMessage = (data, _len, src, sport) => this.onQuery(data, src, sport);
    if (opts.tcp !== undefined) opts.tcp.listen(port, (s) => this.acceptTcp(s));
  }

  private stream(what: string) {
    return this.sim.rng.stream(`${this.name}/${what}`);
  }

  private onQuery(data: Uint8Array | null, src: Ipv4, sport: number): void {
    const q = this.decodeQuery(data);
    if (q !== null) this.handle(q, src, (resp) => this.send(resp, q, src, sport), NOTHING);
  }

  /** A query's bytes decoded, or null (counted as malformed): undecodable, or a response sent to the server port (dropped, as miekg/dns does). */
  private decodeQuery(data: Uint8Array | null): DnsMessage | null {
    let q: DnsMessage;
    try {
      if (data === null) throw new Error('no payload bytes');
      q = decodeDns(data, 0).msg;
    } catch {
      this.counters.malformed++;
      return null;
    }
    if (q.flags & DnsFlag.QR) {
      this.counters.malformed++;
      return null;
    }
    this.counters.queries++;
    return q;
  }

  /** A query from `src`: chaos, the processing delay, then the plugin chain; `reply` writes the answer, `unanswered` runs when none is written. */
  private handle(q: DnsMessage, src: Ipv4, reply: (resp: DnsMessage) => void, unanswered: () => void): void {
    const d = this.opts.processingDelay;
    let delay = d ? Math.max(0, Math.round(sample(d, this.stream(`dns-server/${this.sock.localPort}`)))) : 0;
    const chaos = this.chaos !== null && q.questions.length === 1 ? this.chaos(q.questions[0]!, src) : null;
    if (chaos !== null) {
      if (chaos.kind === 'drop') return unanswered();
      if (chaos.kind === 'rcode') return reply(errorReply(q, chaos.rcode));
      if (chaos.kind === 'random' && q.questions[0]!.type === DnsType.A) return reply(this.randomAnswer(q));
      if (chaos.kind === 'delay') delay += chaos.ns;
    }
    this.sim.schedule(delay, () => this.serve(q, reply));
  }

  private serve(q: DnsMessage, reply: (resp: DnsMessage) => void): void {
    const opcode = (q.flags & OPCODE_MASK) >> 11;
    if (opcode !== 0) return reply(errorReply(q, DnsRcode.NOTIMP));
    if (q.questions.length !== 1) return reply(errorReply(q, DnsRcode.FORMERR));
    this.process(q, reply);
  }

  // --- TCP (miekg/dns serveTCPConn, as CoreDNS 1.11 configures it) -------------------------------

  /**
   * A connection accepted: queries are read one at a time (each framed by its length), the first within
   * the read timeout, each next within the idle timeout of the last reply; a query is served before the
   * next is read, with no limit on their number (CoreDNS: MaxTCPQueries -1). The server closes the
   * connection when a deadline passes or the client's side is closed. Replies are not cut to 512 octets.
   */
  private acceptTcp(sock: TcpSocket): void {
    this.counters.tcpConnections++;
    const c: TcpConn = { sock, reader: new DnsStreamReader(), busy: false, eof: false, closed: false, timer: null };
    this.armRead(c, this.opts.tcpReadTimeoutNs ?? 3 * SEC);
    sock.onData = (data) => {
      if (data !== null) c.reader.push(data);
      this.readTcp(c);
    };
    sock.onEnd = () => {
      c.eof = true;
      this.readTcp(c);
    };
    sock.onError = () => this.dropTcp(c);
    sock.onClose = () => this.dropTcp(c);
  }

  private armRead(c: TcpConn, ns: TimeNs): void {
    c.timer?.cancel();
    c.timer = this.sim.schedule(ns, () => {
      c.timer = null;
      this.closeTcp(c);
    });
  }

  /** Reads and serves the next whole query, if no other is being served; at EOF with none left, closes. */
  private readTcp(c: TcpConn): void {
    while (!c.busy && !c.closed) {
      const m = c.reader.next();
      if (m === null) {
        if (c.eof) this.closeTcp(c);
        return;
      }
      const q = this.decodeQuery(m);
      this.counters.tcpQueries++;
      if (q === null) continue; // "let client hang, they are sending crap": read on
      c.busy = true;
      c.timer?.cancel();
      c.timer = null;
      const done = (): void => {
        c.busy = false;
        if (c.closed) return;
        this.armRead(c, this.opts.tcpIdleTimeoutNs ?? 10 * SEC);
        this.readTcp(c);
      };
      this.handle(
        q,
        c.sock.remoteAddr,
        (resp) => {
          if (!c.closed) this.sendTcp(c, resp, q);
          done();
        },
        done,
      );
    }
  }

  private closeTcp(c: TcpConn): void {
    if (c.closed) return;
    this.dropTcp(c);
    c.sock.close();
  }

  private dropTcp(c: TcpConn): void {
    c.closed = true;
    c.timer?.cancel();
    c.timer = null;
  }

  /** The plugin chain: cache → zone → forward; `cb` gets the reply (its ID is the query's). */
  process(q: DnsMessage, cb: (resp: DnsMessage) => void): void {
    const question = q.questions[0]!;
    const key = `${question.name.toLowerCase()}|${question.type}`;
    const cap = this.opts.cacheMaxTtl ?? null;
    if (cap !== null) {
      const hit = this.cache.get(key);
      if (hit !== undefined) {
        const left = hit.ttl - Math.floor((this.sim.now - hit.stored) / SEC);
        if (left > 0) {
          this.counters.cacheHits++;
          const m = withTtl(hit.msg, left);
          // item.toMsg: AA always set on cached replies; RA and rcode as stored.
          m.flags = replyFlags(q, dnsRcode(hit.msg), true, (hit.msg.flags & DnsFlag.RA) !== 0);
          m.id = q.id;
          m.questions = [question];
          return cb(m);
        }
        this.cache.delete(key);
      }
    }
    const store = (resp: DnsMessage): void => {
      const rc = dnsRcode(resp);
      if (cap !== null && (rc === DnsRcode.NOERROR || rc === DnsRcode.NXDOMAIN)) {
        const ttl = Math.min(minimalTtl(resp), cap);
        const out = withTtl(resp, ttl);
        if (ttl > 0) this.cache.set(key, { msg: out, stored: this.sim.now, ttl });
        return cb(out);
      }
      cb(resp);
    };
    const za = this.opts.zone ? this.opts.zone(question) : null;
    if (za !== null) {
      if (za.chase === null) return store(this.zoneReply(q, za, []));
      // CoreDNS upstream.Lookup: a fresh query through the whole chain, answer records appended.
      this.process(dnsQuery(0, za.chase.name, za.chase.type), (r) => store(this.zoneReply(q, za, r.answers)));
      return;
    }
    if (this.opts.upstream.length === 0) return cb(errorReply(q, DnsRcode.REFUSED));
    this.forward(q, store);
  }

  private zoneReply(q: DnsMessage, za: ZoneAnswer, chased: DnsResourceRecord[]): DnsMessage {
    const answers = this.opts.loadbalance ? roundRobin([...za.answers, ...chased], this.stream('coredns/loadbalance')) : [...za.answers, ...chased];
    return {
      id: q.id,
      flags: replyFlags(q, za.rcode, za.authoritative, this.opts.recursionAvailable ?? false),
      questions: [q.questions[0]!],
      answers,
      authority: za.authority,
      additional: za.additional,
    };
  }

  // --- forward ---------------------------------------------------------------------------------

  private forward(q: DnsMessage, cb: (resp: DnsMessage) => void): void {
    // policy random: a fresh permutation of the upstream list per query (forward/policy.go random).
    const order = [...this.opts.upstream];
    const rng = this.stream('coredns/forward');
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const fwd: Forwarding = { query: q, order, next: 0, attempts: 0, deadline: this.sim.now + (this.opts.forwardDeadlineNs ?? 5 * SEC), cb };
    this.attempt(fwd);
  }

  private attempt(fwd: Forwarding): void {
    // Loop while before the deadline; a pass where every upstream refused at once ends it too (the
    // real loop would spin until the deadline: health checks, not modelled, mark such upstreams down).
    if (this.sim.now >= fwd.deadline || fwd.attempts >= 3 * fwd.order.length) {
      return fwd.cb(errorReply(fwd.query, DnsRcode.SERVFAIL));
    }
    const upstream = fwd.order[fwd.next % fwd.order.length]!;
    fwd.next++;
    fwd.attempts++;
    const conn = this.dial(upstream);
    const id = this.stream('coredns/forward-id').int(0x10000);
    const a: Attempt = { fwd, conn, upstream, id, timer: null };
    conn.attempt = a;
    const msg: DnsMessage = { ...fwd.query, id };
    this.counters.forwarded++;
    a.timer = this.sim.schedule(this.opts.forwardReadTimeoutNs ?? 2 * SEC, () => {
      this.counters.forwardTimeouts++;
      this.fail(a);
    });
    if (!conn.sock.send(encodeDnsMessage(msg))) {
      a.timer.cancel();
      this.sim.schedule(0, () => this.fail(a));
    }
  }

  private fail(a: Attempt): void {
    a.timer?.cancel();
    // An error closes the connection (pkg/proxy connect.go); the next attempt dials afresh.
    a.conn.attempt = null;
    a.conn.sock.close();
    const pool = this.pools.get(a.upstream);
    const at = pool ? pool.indexOf(a.conn) : -1;
    if (at >= 0) pool!.splice(at, 1);
    this.attempt(a.fwd);
  }

  private dial(upstream: Ipv4): Conn {
    let pool = this.pools.get(upstream);
    if (!pool) this.pools.set(upstream, (pool = []));
    const expire = this.opts.forwardExpireNs ?? 10 * SEC;
    for (let i = pool.length - 1; i >= 0; i--) {
      const c = pool[i]!;
      if (c.attempt !== null) continue;
      if (this.sim.now - c.idleSince >= expire) {
        c.sock.close();
        pool.splice(i, 1);
        continue;
      }
      return c;
    }
    const sock = this.udp.socket().connect(upstream, DNS_PORT);
    const conn: Conn = { sock, idleSince: this.sim.now, attempt: null };
    sock.onMessage = (data) => this.onUpstreamReply(conn, data);
    sock.onError = () => {
      if (conn.attempt) this.fail(conn.attempt);
    };
    pool.push(conn);
    return conn;
  }

  private onUpstreamReply(conn: Conn, data: Uint8Array | null): void {
    const a = conn.attempt;
    if (a === null || data === null) return;
    let r: DnsMessage;
    try {
      r = decodeDns(data, 0).msg;
    } catch {
      return; // ReadMsg error: keep reading until the timeout
    }
    if (r.id !== a.id) return; // out-of-order reply of an earlier query: dropped (connect.go)
    a.timer?.cancel();
    conn.attempt = null;
    conn.idleSince = this.sim.now;
    const q = a.fwd.query;
    const want = q.questions[0]!;
    const got = r.questions[0];
    if (got === undefined || got.type !== want.type || got.class !== want.class || got.name.toLowerCase() !== want.name.toLowerCase()) {
      return a.fwd.cb(errorReply(q, DnsRcode.FORMERR));
    }
    a.fwd.cb({ ...r, id: q.id });
  }

  /** DNSChaos `random`: an A record with an address drawn from `<ns>/dns-chaos` (TTL 30, not authoritative). */
  private randomAnswer(q: DnsMessage): DnsMessage {
    const question = q.questions[0]!;
    const address = this.stream('dns-chaos').uint32() >>> 0;
    return { id: q.id, flags: replyFlags(q, DnsRcode.NOERROR, false, false), questions: [question], answers: [rr(question.name, 30, { kind: 'A', address })], authority: [], additional: [] };
  }

  // --- output ----------------------------------------------------------------------------------

  /** A reply on a TCP connection: framed, cut only past what a length field can say. */
  private sendTcp(c: TcpConn, resp: DnsMessage, q: DnsMessage): void {
    const opt = q.additional.find((r) => r.type === DnsType.OPT);
    let out = opt !== undefined ? withOpt(resp, opt) : resp;
    if (dnsMessageLength(resp) > DNS_TCP_MAX) out = truncate(resp, DNS_TCP_MAX);
    this.counters.responses[rcodeName(dnsRcode(out))]++;
    if (this.opts.identity !== undefined) answeredBy(this.sim).note(IpProto.TCP, c.sock.remoteAddr, c.sock.remotePort, this.opts.identity);
    c.sock.send(frameDns(out));
  }

  private send(resp: DnsMessage, q: DnsMessage, dst: Ipv4, dport: number): void {
    // request.Size: the client's advertised EDNS(0) UDP size, not below 512; Scrub cuts the reply to it
    // and SizeAndDo echoes the OPT record (owner root, version 0, the requested size).
    const opt = q.additional.find((r) => r.type === DnsType.OPT);
    const size = opt !== undefined ? Math.max(DNS_UDP_MAX, opt.class) : DNS_UDP_MAX;
    let out = opt !== undefined ? withOpt(resp, opt) : resp;
    if (dnsMessageLength(out) > size) {
      out = truncate(out, size);
      this.counters.truncated++;
    }
    this.counters.responses[rcodeName(dnsRcode(out))]++;
    if (this.opts.identity !== undefined) answeredBy(this.sim).note(IpProto.UDP, dst, dport, this.opts.identity);
    this.sock.sendTo(dst, dport, encodeDnsMessage(out));
  }
}

const NOTHING = (): void => {};

/** A zone answer of NXDOMAIN or NODATA with the given SOA (RFC 2308). */
export function denial(rcode: number, soa: DnsResourceRecord): ZoneAnswer {
  return { rcode, authoritative: true, answers: [], authority: [soa], additional: [], chase: null };
}

/** Helper for zones: an IN-class record. */
export function rr(name: string, ttl: number, data: DnsResourceRecord['data']): DnsResourceRecord {
  const type = data.kind === 'unknown' ? 0 : DnsType[data.kind];
  return { name, type, class: DnsClass.IN, ttl, data };
}
