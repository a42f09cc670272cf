// app/dns-resolver — a glibc-style stub resolver (getaddrinfo → nss_dns → res_nsearch → res_nquery →
// res_send) implementing http-client's Resolver. Layer: app (imports core, wire, packet, net,
// transport, stats). Mirrors glibc resolv/ (2.3x): res_init.c (resolv.conf: nameserver ×3, search,
// domain, options ndots/timeout/attempts/rotate/single-request/single-request-reopen; defaults ndots 1,
// timeout 5, attempts 2), res_query.c (__res_context_search: a name with ≥ ndots dots or a trailing dot
// is tried as is first; otherwise each search domain, then the name as is; NXDOMAIN / NODATA / SERVFAIL
// go on to the next domain, a timeout ends the search list but the as-is query still runs;
// __res_context_query's A+AAAA verdict), res_send.c (__res_context_send: `attempts` rounds over the
// nameservers; send_dg: one connected UDP socket per nameserver, A and AAAA sent back to back with
// sendmmsg, different random IDs, replies matched by ID and question; per-server timeout
// `(timeout << ns) / nscount` (so 5 s for the first server on every round); SERVFAIL / NOTIMP / REFUSED
// → next server; after a timeout with one of two replies in hand, switch to single-request (A, then
// AAAA after its reply) and then single-request-reopen (a new socket for the second query); ICMP port
// unreachable (ECONNREFUSED) → next server; sockets closed after each res_send (no RES_STAYOPEN), so
// every search candidate leaves from a new ephemeral port).
// Randomness: query IDs from `<ns>/dns-id`, the rotate offset from `<ns>/dns-rotate`, ports from the UDP
// layer's ephemeral stream. glibc itself caches nothing; with `cache: true` (hosts outside the cluster)
// a host cache stands in front of it as nscd's hosts cache or systemd-resolved would: a lookup's answer
// is kept for the least TTL of the records used (A and the CNAMEs leading to them), a NXDOMAIN / NODATA
// for min(SOA TTL, SOA minimum) of the reply's SOA (RFC 2308 §5), and served without a packet until it
// expires. The cache keeps the answer's address order (the first address stays first until expiry).
// Not modelled in that cache: per-record expiry, serve-stale, the 127.0.0.53 stub hop, cache size limits.
//
// send_vc (DNS over TCP, app/dns-stream framing): a reply with TC set (after the SERVFAIL / referral
// checks) closes the datagram sockets and asks the same server again over TCP, both queries in one
// write, replies matched by ID in any order, the connection closed after them; from then on every
// server left in the round is asked over TCP, once ("at most one attempt per server"); `options use-vc`
// uses TCP from the start. connect and read have no timeout of their own (the kernel's SYN retries); a
// reset while reading reconnects once; refused / EOF / timed out → next server, and with none left the
// lookup fails with the last error (refused: ECONNREFUSED). Without a TCP layer (StubResolverOptions.tcp)
// a truncated answer is used as it is.
//
// getaddrinfo (family 'unspec') also runs the whole lookup again when the addresses and the name do not
// fit its scratch buffer (1 KiB, doubled each time: ERANGE from the NSS module), as measured with glibc 2.36.
//
// Not modelled: EDNS0 (`options edns0`), `trust-ad`, HOSTALIASES, /etc/hosts, RFC 6724 address sorting
// (addresses are returned in answer order), AI_ADDRCONFIG (use family 'inet' for A-only lookups).
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import { SEC } from '../core/time.js';
import type { TcpLayer, TcpSocket } from '../transport/tcp/index.js';
import type { SocketErrorKind } from '../transport/api.js';
import type { UdpLayer, UdpSocket } from '../transport/udp.js';
import { decodeDns, DnsFlag, dnsNameProblem, dnsQuery, dnsRcode, DnsRcode, DnsType, encodeDnsMessage, type DnsMessage } from '../wire/dns.js';
import { parseIpv4 } from '../wire/ipv4-addr.js';
import { IpProto, type Ipv4 } from '../wire/types.js';
import type { Packet } from '../packet/packet.js';
import { answeredBy } from './answered-by.js';
import { DnsStreamReader, frameDns } from './dns-stream.js';
import type { Resolver } from './http-client.js';

/** glibc's MAXNS: nameservers beyond the third are ignored. */
export const MAXNS = 3;
/** getaddrinfo's first scratch buffer for NSS results (scratch_buffer: 1,024 bytes on the stack). */
const GAI_SCRATCH_BYTES = 1024;
/** sizeof (struct gaih_addrtuple) on 64-bit: next, name, family, addr[4], scopeid. */
const GAIH_ADDRTUPLE_BYTES = 40;

/** A parsed /etc/resolv.conf. */
export interface ResolvConf {
  nameservers: Ipv4[];
  search: string[];
  /** Names with at least this many dots are tried as is first (default 1, max 15). */
  ndots: number;
  /** `timeout:` seconds (retrans; default 5, max 30). */
  timeout: number;
  /** `attempts:` rounds over the nameservers (default 2, max 5). */
  attempts: number;
  rotate: boolean;
  singleRequest: boolean;
  singleRequestReopen: boolean;
  /** `options use-vc` (RES_USEVC): every query over TCP. */
  useVc?: boolean;
  /** `options edns0` (RES_USE_EDNS0): an OPT record advertising 1,200-byte UDP replies on every query. */
  edns0?: boolean;
  /** `options no-aaaa` (RES_NOAAAA, glibc 2.36): no AAAA queries. */
  noAaaa?: boolean;
  /** `options no-tld-query` (RES_NOTLDQUERY): a name without dots is not tried as it is after the search list. */
  noTldQuery?: boolean;
}

/** res_init defaults. */
export function defaultResolvConf(): ResolvConf {
  return { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2, rotate: false, singleRequest: false, singleRequestReopen: false };
}

/** Parses resolv.conf text as res_init does (later `search`/`domain` lines replace earlier ones). */
export function parseResolvConf(text: string): ResolvConf {
  const c = defaultResolvConf();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [key, ...args] = line.split(/\s+/) as [string, ...string[]];
    switch (key) {
      case 'nameserver': {
        const ip = args[0] !== undefined ? parseIpv4(args[0]) : null;
        if (ip !== null && c.nameservers.length < MAXNS) c.nameservers.push(ip);
        break;
      }
      case 'search':
        c.search = args.map((d) => d.replace(/\.$/, ''));
        break;
      case 'domain':
        c.search = args[0] !== undefined ? [args[0].replace(/\.$/, '')] : [];
        break;
      case 'options':
        for (const o of args) {
          const [name, val] = o.split(':') as [string, string | undefined];
          const n = val !== undefined ? Number(val) : NaN;
          if (name === 'ndots' && Number.isInteger(n) && n >= 0) c.ndots = Math.min(n, 15);
          else if (name === 'timeout' && Number.isInteger(n) && n >= 1) c.timeout = Math.min(n, 30);
          else if (name === 'attempts' && Number.isInteger(n) && n >= 1) c.attempts = Math.min(n, 5);
          else if (name === 'rotate') c.rotate = true;
          else if (name === 'single-request') c.singleRequest = true;
          else if (name === 'single-request-reopen') c.singleRequestReopen = true;
          else if (name === 'use-vc') c.useVc = true;
          else if (name === 'edns0') c.edns0 = true;
          else if (name === 'no-aaaa') c.noAaaa = true;
          else if (name === 'no-tld-query') c.noTldQuery = true;
        }
        break;
      default:
        break; // sortlist, lookup, …: ignored
    }
  }
  return c;
}

/** The list of names res_nsearch queries for `name`, in order. */
export function searchCandidates(name: string, conf: ResolvConf): string[] {
  const trailing = name.endsWith('.');
  const bare = trailing ? name.slice(0, -1) : name;
  const dots = (bare.match(/\./g) ?? []).length;
  const out: string[] = [];
  let triedAsIs = false;
  if (dots >= conf.ndots || trailing) {
    out.push(bare);
    if (trailing) return out;
    triedAsIs = true;
  }
  const before = out.length;
  for (const d of conf.search) if (d !== '' && d !== '.') out.push(`${bare}.${d}`);
  // __res_context_search: the name as is last, unless no-tld-query and it has no dot (after a search).
  if (!triedAsIs && !(conf.noTldQuery === true && dots === 0 && out.length > before)) out.push(bare);
  return out;
}

/** The outcome of one getaddrinfo-style lookup. */
export interface LookupResult {
  name: string;
  /** IPv4 addresses in answer order (empty on failure). */
  addresses: Ipv4[];
  /** The name that answered (search candidate), then the CNAME target when one was followed. */
  answeredName: string | null;
  canonicalName: string | null;
  /**
   * Why addresses is empty (h_errno): nxdomain = HOST_NOT_FOUND, nodata = NO_DATA, servfail = TRY_AGAIN
   * after SERVFAIL replies, timeout = TRY_AGAIN (ETIMEDOUT: no usable reply in any round, REFUSED /
   * NOTIMP replies included), refused = ECONNREFUSED (ICMP unreachable from every server), norecovery
   * = NO_RECOVERY (FORMERR / NOTIMP / REFUSED as the verdict of a received reply).
   */
  error: 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'refused' | 'norecovery' | null;
  /** Query datagrams sent (retries included). */
  queries: number;
  /** Served from the host cache (StubResolverOptions.cache) without a query on the wire. */
  cached: boolean;
  /**
   * The server (its pod) whose A reply answered the lookup — after retries, the one that answered the
   * query used (app/answered-by: noted by the server, never on the wire); null when no query was
   * answered, when the server noted nothing, or from the host cache.
   */
  servedBy: string | null;
}

/** Resolver behaviour beyond resolv.conf. */
export interface StubResolverOptions {
  /** 'unspec' sends A and AAAA (getaddrinfo AF_UNSPEC, the default); 'inet' sends A only. */
  family?: 'unspec' | 'inet';
  /** A host cache honouring TTLs (nscd / systemd-resolved) in front of the stub; default off (glibc alone). */
  cache?: boolean;
  /** The namespace's TCP layer, for send_vc (a truncated reply, `options use-vc`); made on first use. Without it a truncated reply is used as it is. */
  tcp?: () => TcpLayer;
}

/** Resolver counters. */
export interface StubResolverCounters {
  lookups: number;
  queries: number;
  timeouts: number;
  succeeded: number;
  failed: number;
  /** Lookups answered from the host cache. */
  cacheHits: number;
  /** send_vc runs: queries repeated over TCP after a truncated reply, or sent so by `use-vc`. */
  tcpExchanges: number;
  /** Lookups run again by getaddrinfo with a doubled buffer (ERANGE: the addresses did not fit). */
  erangeRetries: number;
}

type QueryVerdict = { kind: 'success'; a: DnsMessage | null } | { kind: 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'refused' | 'norecovery'; negativeTtl?: number };

/** A glibc-style stub resolver bound to one namespace's UDP layer. */
export class StubResolver implements Resolver {
  readonly counters: StubResolverCounters = { lookups: 0, queries: 0, timeouts: 0, succeeded: 0, failed: 0, cacheHits: 0, tcpExchanges: 0, erangeRetries: 0 };
  private readonly sim: Simulator;
  /** The host cache: lookup name → result and when it expires (opts.cache). */
  private readonly cache = new Map<string, { result: LookupResult; expires: number }>();
  /** RES_SNGLKUP / RES_SNGLKUPREOP once set by a timeout stay set (they live in the thread's _res). */
  private singleRequest: boolean;
  private singleRequestReopen: boolean;

  constructor(
    readonly udp: UdpLayer,
    readonly conf: ResolvConf,
    readonly opts: StubResolverOptions = {},
  ) {
    this.sim = udp.stack.sim;
    this.singleRequest = conf.singleRequest;
    this.singleRequestReopen = conf.singleRequestReopen;
  }

  /** Resolver: the first address, or null. */
  resolve(name: string, cb: (addr: Ipv4 | null) => void): void {
    this.lookup(name, (r) => cb(r.addresses[0] ?? null));
  }

  /** getaddrinfo(name): runs the search list and reports the outcome. */
  lookup(name: string, cb: (r: LookupResult) => void): void {
    this.counters.lookups++;
    if (this.opts.cache) {
      const hit = this.cache.get(name);
      if (hit !== undefined && this.sim.now < hit.expires) {
        this.counters.cacheHits++;
        if (hit.result.addresses.length > 0) this.counters.succeeded++;
        else this.counters.failed++;
        const r: LookupResult = { ...hit.result, addresses: [...hit.result.addresses], queries: 0, cached: true, servedBy: null };
        this.sim.schedule(0, () => cb(r));
        return;
      }
      this.cache.delete(name);
    }
    const cands = searchCandidates(name, this.conf);
    const trailing = name.endsWith('.');
    const bare = trailing ? name.slice(0, -1) : name;
    const dots = (bare.match(/\./g) ?? []).length;
    const asIsFirst = dots >= this.conf.ndots || trailing;
    const searchFrom = asIsFirst ? 1 : 0;
    const searchTo = searchFrom + this.conf.search.filter((d) => d !== '' && d !== '.').length;
    const result: LookupResult = { name, addresses: [], answeredName: null, canonicalName: null, error: null, queries: 0, cached: false, servedBy: null };
    /** Seconds the outcome may be cached (null: not cacheable). */
    let ttl: number | null = null;
    let gotNodata = false;
    let lastError: LookupResult['error'] = 'nxdomain';
    let firstError: LookupResult['error'] = null;
    /** getaddrinfo's scratch buffer for the NSS module's results (gaih_inet: 1024 bytes, doubled on ERANGE). */
    let scratch = GAI_SCRATCH_BYTES;
    const finish = (): void => {
      // _nss_dns_gethostbyname4_r stores the name and one gaih_addrtuple per address in the caller's
      // buffer; when they do not fit it fails with ERANGE, and getaddrinfo doubles the buffer and runs
      // the whole lookup again — every query again (measured with glibc 2.36: 25 addresses of
      // big.example fit in 1,024 bytes, 26 do not; 24 of big.default.svc.cluster.local).
      if (result.addresses.length > 0 && this.opts.family !== 'inet') {
        const owner = result.canonicalName ?? result.answeredName ?? bare;
        if (GAIH_ADDRTUPLE_BYTES * result.addresses.length + owner.length + 1 > scratch) {
          scratch *= 2;
          this.counters.erangeRetries++;
          result.addresses = [];
          result.answeredName = result.canonicalName = result.servedBy = null;
          ttl = null;
          gotNodata = false;
          lastError = 'nxdomain';
          firstError = null;
          return step(0);
        }
      }
      if (result.addresses.length > 0) this.counters.succeeded++;
      else {
        this.counters.failed++;
        // res_nsearch: the as-is query's error if it ran first, else NO_DATA if seen, else the last one.
        result.error = firstError ?? (gotNodata ? 'nodata' : lastError);
      }
      if (this.opts.cache && ttl !== null && ttl > 0) this.cache.set(name, { result: { ...result, addresses: [...result.addresses] }, expires: this.sim.now + ttl * SEC });
      cb(result);
    };
    const step = (i: number): void => {
      if (i >= cands.length || this.conf.nameservers.length === 0) {
        if (this.conf.nameservers.length === 0) lastError = 'refused';
        return finish();
      }
      const qname = cands[i]!;
      this.query(qname, result, (v) => {
        ttl = v.kind === 'success' ? null : (v.negativeTtl ?? null);
        if (v.kind === 'success') {
          const { addresses, canonical, minTtl } = addressesOf(v.a, qname);
          ttl = minTtl;
          result.addresses = addresses;
          result.answeredName = qname;
          result.canonicalName = canonical;
          if (addresses.length === 0) lastError = 'nodata';
          return finish();
        }
        if (trailing) {
          lastError = v.kind;
          return finish();
        }
        if (asIsFirst && i === 0) {
          firstError = v.kind;
          return step(1);
        }
        const inSearch = i >= searchFrom && i < searchTo;
        if (!inSearch) {
          lastError = v.kind;
          return finish(); // the final as-is query
        }
        if (v.kind === 'refused') {
          lastError = 'refused';
          return finish(); // ECONNREFUSED: return at once
        }
        lastError = v.kind;
        if (v.kind === 'nodata') gotNodata = true;
        if (v.kind === 'nxdomain' || v.kind === 'nodata' || v.kind === 'servfail') return step(i + 1);
        // timeout / no recovery: "anything else implies that we're done" — then the as-is query, if not tried.
        return step(asIsFirst ? cands.length : searchTo);
      });
    };
    step(0);
  }

  /** __res_context_query for one name: A (+ AAAA) through __res_context_send, then the verdict. */
  private query(qname: string, result: LookupResult, cb: (v: QueryVerdict) => void): void {
    // res_nmkquery cannot encode the name (a label past 63 octets, a name past 255): NO_RECOVERY, nothing sent.
    if (dnsNameProblem(qname) !== null) {
      this.sim.schedule(0, () => cb({ kind: 'norecovery' }));
      return;
    }
    const idRng = this.sim.rng.stream(`${this.udp.stack.name}/dns-id`);
    const q1 = withEdns(dnsQuery(idRng.int(0x10000), qname, DnsType.A), this.conf);
    const q2 = this.opts.family === 'inet' || this.conf.noAaaa === true ? null : withEdns(dnsQuery(idRng.int(0x10000), qname, DnsType.AAAA), this.conf);
    new Exchange(this, q1, q2, result, (x) => {
      if (x.kind === 'error') return cb({ kind: x.refused ? 'refused' : x.servfail ? 'servfail' : 'timeout' });
      const v = verdict(x.a, x.aaaa);
      // The lookup's answer (its addresses) comes from the A reply: that reply's server.
      if (v.kind === 'success') result.servedBy = x.aBy;
      if (v.kind === 'nxdomain' || v.kind === 'nodata') {
        const neg = negativeTtlOf(x.a ?? x.aaaa);
        if (neg !== undefined) v.negativeTtl = neg;
      }
      cb(v);
    });
  }

  /** Internal: counts a sent query. */
  noteQuery(result: LookupResult): void {
    this.counters.queries++;
    result.queries++;
  }
  noteTimeout(): void {
    this.counters.timeouts++;
  }
  noteTcp(): void {
    this.counters.tcpExchanges++;
  }
  get single(): boolean {
    return this.singleRequest;
  }
  get reopen(): boolean {
    return this.singleRequestReopen;
  }
  setSingle(): void {
    this.singleRequest = true;
  }
  setReopen(): void {
    this.singleRequestReopen = true;
  }
  get simulator(): Simulator {
    return this.sim;
  }
}

type ExchangeResult = { kind: 'answer'; a: DnsMessage | null; aaaa: DnsMessage | null; aBy: string | null } | { kind: 'error'; refused: boolean; servfail: boolean };

/** One __res_context_send: rounds over the nameservers, send_dg to each. */
class Exchange {
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

/** RESOLV_EDNS_BUFFER_SIZE: the UDP payload size glibc advertises with `options edns0`. */
const RESOLV_EDNS_BUFFER_SIZE = 1200;

/** __res_nopt: with `edns0`, an OPT record (root owner, class = UDP payload size, version 0, no DO) in the additional section. */
function withEdns(q: DnsMessage, conf: ResolvConf): DnsMessage {
  if (conf.edns0 !== true) return q;
  q.additional.push({ name: '', type: DnsType.OPT, class: RESOLV_EDNS_BUFFER_SIZE, ttl: 0, data: { kind: 'unknown', data: new Uint8Array(0) } });
  return q;
}

/** res_queriesmatch: same question (name case-insensitively, type, class). */
function questionsMatch(q: DnsMessage, r: DnsMessage): boolean {
  if (r.questions.length !== q.questions.length) return false;
  return q.questions.every((a, i) => {
    const b = r.questions[i]!;
    return a.type === b.type && a.class === b.class && a.name.toLowerCase() === b.name.toLowerCase();
  });
}

/** __res_context_query's verdict on the A (hp) and AAAA (hp2) replies. */
function verdict(a: DnsMessage | null, aaaa: DnsMessage | null): QueryVerdict {
  const bad = (m: DnsMessage | null): boolean => m === null || dnsRcode(m) !== DnsRcode.NOERROR || m.answers.length === 0;
  if (!(bad(a) && bad(aaaa))) return { kind: 'success', a };
  const first = a ?? aaaa;
  if (first === null) return { kind: 'timeout' };
  const noerror = (m: DnsMessage | null): boolean => m !== null && dnsRcode(m) === DnsRcode.NOERROR;
  switch (dnsRcode(first)) {
    case DnsRcode.NXDOMAIN:
      return noerror(a) || noerror(aaaa) ? { kind: 'success', a } : { kind: 'nxdomain' };
    case DnsRcode.SERVFAIL:
      return { kind: 'servfail' };
    case DnsRcode.NOERROR:
      return { kind: 'nodata' };
    case DnsRcode.FORMERR:
    case DnsRcode.NOTIMP:
      return noerror(a) || noerror(aaaa) ? { kind: 'success', a } : { kind: 'norecovery' };
    default:
      return { kind: 'norecovery' };
  }
}

/** getanswer: A records owned by the query name or a CNAME alias of it, following the chain. */
function addressesOf(m: DnsMessage | null, qname: string): { addresses: Ipv4[]; canonical: string | null; minTtl: number | null } {
  const addresses: Ipv4[] = [];
  if (m === null) return { addresses, canonical: null, minTtl: null };
  let owner = qname.toLowerCase();
  let canonical: string | null = null;
  let minTtl = Infinity;
  for (const r of m.answers) {
    if (r.name.toLowerCase() !== owner) continue;
    if (r.data.kind === 'CNAME') {
      owner = r.data.target.toLowerCase();
      canonical = r.data.target;
      minTtl = Math.min(minTtl, r.ttl);
    } else if (r.data.kind === 'A') {
      addresses.push(r.data.address);
      minTtl = Math.min(minTtl, r.ttl);
    }
  }
  return { addresses, canonical, minTtl: addresses.length > 0 && minTtl !== Infinity ? minTtl : null };
}

/** RFC 2308 §5: a denial is cached for min(SOA TTL, SOA minimum) of the SOA in the authority section. */
function negativeTtlOf(m: DnsMessage | null): number | undefined {
  const soa = m?.authority.find((r) => r.data.kind === 'SOA');
  return soa !== undefined && soa.data.kind === 'SOA' ? Math.min(soa.ttl, soa.data.minimum) : undefined;
}
