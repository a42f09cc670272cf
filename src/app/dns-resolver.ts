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
// Not modelled: `trust-ad`, HOSTALIASES, /etc/hosts, RFC 6724 address sorting
// (addresses are returned in answer order), AI_ADDRCONFIG (use family 'inet' for A-only lookups).
import type { Simulator } from '../core/simulator.js';
import { SEC } from '../core/time.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import type { UdpLayer } from '../transport/udp.js';
import { dnsNameProblem, dnsQuery, dnsRcode, DnsRcode, DnsType, type DnsMessage } from '../wire/dns.js';
import { parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import { Exchange } from './dns-send.js';
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
    if (this.opts.cache && this.fromCache(name, cb)) return;
    const result: LookupResult = { name, addresses: [], answeredName: null, canonicalName: null, error: null, queries: 0, cached: false, servedBy: null };
    const bare = name.endsWith('.') ? name.slice(0, -1) : name;
    /** getaddrinfo's scratch buffer for the NSS module's results (gaih_inet: 1024 bytes, doubled on ERANGE). */
    let scratch = GAI_SCRATCH_BYTES;
    const attempt = (): void =>
      this.search(name, result, (ttl) => {
        // _nss_dns_gethostbyname4_r stores the name and one gaih_addrtuple per address in the caller's
        // buffer; when they do not fit it fails with ERANGE, and getaddrinfo doubles the buffer and runs
        // the whole lookup again — every query again (measured with glibc 2.36: 25 addresses of
        // big.example fit in 1,024 bytes, 26 do not; 24 of big.default.svc.cluster.local).
        if (result.addresses.length > 0 && this.opts.family !== 'inet' && overflows(result, bare, scratch)) {
          scratch *= 2;
          this.counters.erangeRetries++;
          result.addresses = [];
          result.answeredName = result.canonicalName = result.servedBy = null;
          return attempt();
        }
        if (result.addresses.length > 0) this.counters.succeeded++;
        else this.counters.failed++;
        if (this.opts.cache && ttl !== null && ttl > 0) this.cache.set(name, { result: { ...result, addresses: [...result.addresses] }, expires: this.sim.now + ttl * SEC });
        cb(result);
      });
    attempt();
  }

  /**
   * res_nsearch over the search list: fills `result`'s addresses and names, or its error (h_errno), then
   * `done` with the seconds the outcome may be cached (null: not cacheable).
   */
  private search(name: string, result: LookupResult, done: (ttl: number | null) => void): void {
    const cands = searchCandidates(name, this.conf);
    const trailing = name.endsWith('.');
    const bare = trailing ? name.slice(0, -1) : name;
    const dots = (bare.match(/\./g) ?? []).length;
    const asIsFirst = dots >= this.conf.ndots || trailing;
    const searchFrom = asIsFirst ? 1 : 0;
    const searchTo = searchFrom + this.conf.search.filter((d) => d !== '' && d !== '.').length;
    let ttl: number | null = null;
    let gotNodata = false;
    let lastError: LookupResult['error'] = 'nxdomain';
    let firstError: LookupResult['error'] = null;
    const finish = (): void => {
      // res_nsearch: the as-is query's error if it ran first, else NO_DATA if seen, else the last one.
      if (result.addresses.length === 0) result.error = firstError ?? (gotNodata ? 'nodata' : lastError);
      done(ttl);
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

  /** The host cache's answer, when it holds an unexpired one (scheduled to `cb`; true); else the entry dropped. */
  private fromCache(name: string, cb: (r: LookupResult) => void): boolean {
    const hit = this.cache.get(name);
    if (hit !== undefined && this.sim.now < hit.expires) {
      this.counters.cacheHits++;
      if (hit.result.addresses.length > 0) this.counters.succeeded++;
      else this.counters.failed++;
      const r: LookupResult = { ...hit.result, addresses: [...hit.result.addresses], queries: 0, cached: true, servedBy: null };
      this.sim.schedule(0, () => cb(r));
      return true;
    }
    this.cache.delete(name);
    return false;
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

/** Whether a lookup's addresses and name overflow getaddrinfo's buffer of `scratch` bytes (ERANGE). */
function overflows(r: LookupResult, bare: string, scratch: number): boolean {
  const owner = r.canonicalName ?? r.answeredName ?? bare;
  return GAIH_ADDRTUPLE_BYTES * r.addresses.length + owner.length + 1 > scratch;
}

/** RESOLV_EDNS_BUFFER_SIZE: the UDP payload size glibc advertises with `options edns0`. */
const RESOLV_EDNS_BUFFER_SIZE = 1200;

/** __res_nopt: with `edns0`, an OPT record (root owner, class = UDP payload size, version 0, no DO) in the additional section. */
function withEdns(q: DnsMessage, conf: ResolvConf): DnsMessage {
  if (conf.edns0 !== true) return q;
  q.additional.push({ name: '', type: DnsType.OPT, class: RESOLV_EDNS_BUFFER_SIZE, ttl: 0, data: { kind: 'unknown', data: new Uint8Array(0) } });
  return q;
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
