// netfilter/ipvs — IP Virtual Server: virtual services with real servers, the schedulers kube-proxy's
// IPVS mode offers, a connection table so a connection sticks to its pick, persistence templates, and
// an `ipvsadm -Ln` listing. Layer: netfilter (imports core only here).
// Mirrors net/netfilter/ipvs/: ip_vs_rr.c, ip_vs_wrr.c (gcd/max-weight interleaving), ip_vs_lc.c and
// ip_vs_wlc.c (overhead = activeconns*256 + inactconns), ip_vs_sh.c (256-bucket source hash, weights
// as consecutive buckets, multiplicative hash 2654435761), ip_vs_mh.c (Maglev lookup table),
// ip_vs_conn.c (connection entries, persistence templates), ip_vs_proto_tcp.c (TCP state table and
// timeouts), ip_vs_core.c ip_vs_in (conn_reuse_mode, expire_nodest_conn) and ipvsadm.c's list format.
// Every scheduler is also an EndpointSelector, the interface the iptables statistic-random selector
// implements too, so one conformance suite covers them all.
//
// Not modelled: forwarding methods other than masquerading (NAT), the packet path itself (the net layer
// DNATs with the server picked here), sh/mh port hashing flags, overload thresholds (u/l-threshold),
// the conn_reuse_mode drop when the old conntrack entry is still confirmed (podwire's conntrack kills
// a TIME_WAIT entry on the new SYN first, so the case does not arise), per-entry expiry timers (expired
// connections are collected at most once per simulated second, so counters may lag by up to a
// second), LISTEN/SYNACK states and the secure_tcp table. Kernel differences: sh
// never maps a bucket to a weight-0 server (the kernel does and then needs sh-fallback); mh hashes
// server names with FNV-1a rather than the kernel's keyed siphash, so tables are Maglev-correct but
// not bucket-identical to a kernel's; the default mh table size is 65537 (the Maglev paper's; the
// kernel's CONFIG_IP_VS_MH_TAB_INDEX=12 gives 4093) and is a parameter.
import type { Rng } from '../core/rng.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';

/** An endpoint as a selector sees it. */
export interface Endpoint {
  ip: number;
  port: number;
  /** 0 = do not send new connections (IPVS quiesced server; kube-proxy: terminating endpoint). */
  weight: number;
}

/** The client of a new connection. */
export interface SelectClient {
  src: number;
  sport: number;
}

/** Picks the endpoint of a new connection: IPVS schedulers and the iptables statistic chain implement it. */
export interface EndpointSelector {
  /** Scheduler name ("rr", "mh", "iptables-random", ...). */
  readonly name: string;
  /** The endpoint for a new connection, or null when none can take it (empty, or every weight 0). */
  pick(client: SelectClient): Endpoint | null;
  /** A connection to `ep` became inactive (lc/wlc bookkeeping; others ignore it). */
  release(ep: Endpoint): void;
  /** An inactive connection to `ep` expired (its inactconns drops). */
  forget?(ep: Endpoint): void;
  /** An inactive connection to `ep` became ESTABLISHED again (inactconns → activeconns). */
  reactivate?(ep: Endpoint): void;
}

/** Builds a selector over endpoints; `rng` is a named stream (only random selectors draw from it). */
export type SelectorFactory = (endpoints: readonly Endpoint[], rng: Rng) => EndpointSelector;

/** IPVS scheduler names podwire implements. */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'] as const;
/** One IPVS scheduler. */
export type IpvsScheduler = (typeof IPVS_SCHEDULERS)[number];

/** Per-endpoint connection counters (struct ip_vs_dest activeconns / inactconns). */
interface DestState {
  ep: Endpoint;
  active: number;
  inactive: number;
}

const overhead = (d: DestState): number => d.active * 256 + d.inactive;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

abstract class BaseScheduler implements EndpointSelector {
  protected readonly dests: DestState[];
  abstract readonly name: string;
  constructor(endpoints: readonly Endpoint[]) {
    this.dests = endpoints.map((ep) => ({ ep, active: 0, inactive: 0 }));
  }
  protected abstract choose(client: SelectClient): DestState | null;
  pick(client: SelectClient): Endpoint | null {
    const d = this.choose(client);
    if (!d) return null;
    d.active++;
    return d.ep;
  }
  release(ep: Endpoint): void {
    const d = this.dests.find((x) => x.ep === ep);
    if (d && d.active > 0) {
      d.active--;
      d.inactive++;
    }
  }
  reactivate(ep: Endpoint): void {
    const d = this.dests.find((x) => x.ep === ep);
    if (d && d.inactive > 0) {
      d.inactive--;
      d.active++;
    }
  }
  forget(ep: Endpoint): void {
    const d = this.dests.find((x) => x.ep === ep);
    if (d && d.inactive > 0) d.inactive--;
  }
  /** Counts a new connection to `ep` chosen outside the scheduler (a persistence template hit). */
  charge(ep: Endpoint): void {
    const d = this.dests.find((x) => x.ep === ep);
    if (d) d.active++;
  }
  /** Counters for listing. */
  counters(ep: Endpoint): { active: number; inactive: number } {
    const d = this.dests.find((x) => x.ep === ep);
    return { active: d?.active ?? 0, inactive: d?.inactive ?? 0 };
  }
}

/** ip_vs_rr: round robin over servers with weight > 0. */
class RoundRobin extends BaseScheduler {
  readonly name = 'rr';
  private last = -1;
  protected choose(): DestState | null {
    const n = this.dests.length;
    for (let k = 1; k <= n; k++) {
      const i = (this.last + k) % n;
      if (this.dests[i]!.ep.weight > 0) {
        this.last = i;
        return this.dests[i]!;
      }
    }
    return null;
  }
}

/** ip_vs_wrr: interleaved weighted round robin (current weight steps down by the gcd). */
class WeightedRoundRobin extends BaseScheduler {
  readonly name = 'wrr';
  private i = -1;
  private cw = 0;
  private readonly mw: number;
  private readonly di: number;
  constructor(endpoints: readonly Endpoint[]) {
    super(endpoints);
    this.mw = Math.max(0, ...endpoints.map((e) => e.weight));
    this.di = endpoints.reduce((g, e) => (e.weight > 0 ? gcd(g, e.weight) : g), 0) || 1;
  }
  protected choose(): DestState | null {
    const n = this.dests.length;
    if (n === 0 || this.mw === 0) return null;
    for (;;) {
      this.i = (this.i + 1) % n;
      if (this.i === 0) {
        this.cw -= this.di;
        if (this.cw <= 0) this.cw = this.mw;
      }
      const d = this.dests[this.i]!;
      if (d.ep.weight > 0 && d.ep.weight >= this.cw) return d;
    }
  }
}

/** ip_vs_lc: least connections (overhead = active*256 + inactive); ties go to the first server. */
class LeastConn extends BaseScheduler {
  readonly name = 'lc';
  protected choose(): DestState | null {
    let best: DestState | null = null;
    for (const d of this.dests) if (d.ep.weight > 0 && (!best || overhead(d) < overhead(best))) best = d;
    return best;
  }
}

/** ip_vs_wlc: weighted least connections (min overhead/weight, compared by cross-multiplication). */
class WeightedLeastConn extends BaseScheduler {
  readonly name = 'wlc';
  protected choose(): DestState | null {
    let best: DestState | null = null;
    for (const d of this.dests) {
      if (d.ep.weight <= 0) continue;
      if (!best || overhead(best) * d.ep.weight > overhead(d) * best.ep.weight) best = d;
    }
    return best;
  }
}

const SH_TAB_BITS = 8;
const SH_TAB_SIZE = 1 << SH_TAB_BITS;

/** ip_vs_sh: source hashing over a 256-bucket table; a server of weight w owns w consecutive buckets. */
class SourceHash extends BaseScheduler {
  readonly name = 'sh';
  private readonly table: (DestState | null)[] = new Array(SH_TAB_SIZE).fill(null);
  constructor(endpoints: readonly Endpoint[]) {
    super(endpoints);
    const live = this.dests.filter((d) => d.ep.weight > 0);
    if (live.length === 0) return;
    let p = 0;
    let count = 0;
    for (let b = 0; b < SH_TAB_SIZE; b++) {
      const d = live[p]!;
      this.table[b] = d;
      if (++count >= d.ep.weight) {
        p = (p + 1) % live.length;
        count = 0;
      }
    }
  }
  /** ip_vs_sh_hashkey: multiplicative hash of the source address, top 8 bits. */
  static bucket(src: number): number {
    return Number((BigInt(src >>> 0) * 2654435761n) & 0xffffffffn) >>> (32 - SH_TAB_BITS);
  }
  protected choose(client: SelectClient): DestState | null {
    return this.table[SourceHash.bucket(client.src)] ?? null;
  }
}

function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The default Maglev lookup table size (a prime). */
export const MH_DEFAULT_TABLE_SIZE = 65537;

/** ip_vs_mh: Maglev hashing; each server walks its permutation, weights give extra turns per round. */
class Maglev extends BaseScheduler {
  readonly name = 'mh';
  readonly table: Int32Array;
  constructor(endpoints: readonly Endpoint[], readonly size = MH_DEFAULT_TABLE_SIZE) {
    super(endpoints);
    this.table = new Int32Array(size).fill(-1);
    const live = this.dests.map((d, i) => ({ d, i })).filter((x) => x.d.ep.weight > 0);
    if (live.length === 0) return;
    const g = live.reduce((a, x) => gcd(a, x.d.ep.weight), 0);
    const perm = live.map((x) => {
      const key = `${x.d.ep.ip}:${x.d.ep.port}`;
      return { offset: fnv1a(key, 0) % size, skip: (fnv1a(key, 0x5bd1e995) % (size - 1)) + 1, next: 0, turns: x.d.ep.weight / g, i: x.i };
    });
    let filled = 0;
    while (filled < size) {
      for (const p of perm) {
        for (let t = 0; t < p.turns && filled < size; t++) {
          let c = (p.offset + p.next * p.skip) % size;
          while (this.table[c]! >= 0) {
            p.next++;
            c = (p.offset + p.next * p.skip) % size;
          }
          this.table[c] = p.i;
          p.next++;
          filled++;
        }
      }
    }
  }
  protected choose(client: SelectClient): DestState | null {
    const idx = this.table[fnv1a(`${client.src >>> 0}`, 0x9747b28c) % this.size]!;
    return idx >= 0 ? this.dests[idx]! : null;
  }
}

/** An IPVS scheduler: an EndpointSelector that also keeps per-server connection counters. */
export interface IpvsSelector extends EndpointSelector {
  charge(ep: Endpoint): void;
  counters(ep: Endpoint): { active: number; inactive: number };
}

/** Builds an IPVS scheduler as an EndpointSelector. */
export function ipvsScheduler(name: IpvsScheduler, endpoints: readonly Endpoint[], opts: { mhTableSize?: number } = {}): IpvsSelector {
  switch (name) {
    case 'rr':
      return new RoundRobin(endpoints);
    case 'wrr':
      return new WeightedRoundRobin(endpoints);
    case 'lc':
      return new LeastConn(endpoints);
    case 'wlc':
      return new WeightedLeastConn(endpoints);
    case 'sh':
      return new SourceHash(endpoints);
    case 'mh':
      return new Maglev(endpoints, opts.mhTableSize);
    default: {
      const never: never = name;
      throw new Error(`unknown scheduler ${String(never)}`);
    }
  }
}

/**
 * The selector kube-proxy's iptables mode builds: endpoints with weight > 0 in order, rule i matching
 * with probability 1/(n-i) (rounded to the kernel's u32 as xt_statistic stores it), the last always.
 */
export function iptablesRandomSelector(endpoints: readonly Endpoint[], rng: Rng): EndpointSelector {
  const live = endpoints.filter((e) => e.weight > 0);
  const probs = live.map((_, i) => Math.round(0x80000000 * (1 / (live.length - i))));
  return {
    name: 'iptables-random',
    pick() {
      for (let i = 0; i < live.length - 1; i++) if ((rng.uint32() & 0x7fffffff) < probs[i]!) return live[i]!;
      return live[live.length - 1] ?? null;
    },
    release() {},
  };
}

// ---------------------------------------------------------------------------------------------
// Virtual services and the connection table
// ---------------------------------------------------------------------------------------------

/** IPVS protocols. */
export type IpvsProto = 'tcp' | 'udp' | 'sctp';

/** A virtual service (ipvsadm -A): VIP:port, scheduler, optional persistence. */
export interface VirtualServiceSpec {
  proto: IpvsProto;
  vip: number;
  port: number;
  scheduler: IpvsScheduler;
  /** Persistence timeout in seconds (ipvsadm -p), null for none. kube-proxy uses it for ClientIP affinity. */
  persistence: number | null;
  servers: Endpoint[];
  mhTableSize?: number;
}

interface Service {
  spec: VirtualServiceSpec;
  sel: IpvsSelector;
}

interface IpvsConn {
  svc: Service;
  ep: Endpoint;
  expires: number;
  key: string;
  /** TCP: the IPVS state (IP_VS_TCP_S_*); UDP connections stay 'ES'. */
  state: IpvsTcpState;
  /** True while counted in its server's activeconns (ESTABLISHED), false once moved to inactconns. */
  active: boolean;
}

/** IPVS connection timeouts in ns (ipvsadm --set defaults: tcp 900 s, tcpfin 120 s, udp 300 s). */
export const IPVS_TIMEOUTS = { tcp: 900e9, tcpfin: 120e9, udp: 300e9 } as const;
const svcKey = (proto: IpvsProto, vip: number, port: number): string => `${proto}|${vip >>> 0}|${port}`;

/** IPVS TCP connection states (ip_vs_proto_tcp.c IP_VS_TCP_S_*, as ipvsadm -Lnc prints them abbreviated). */
export type IpvsTcpState = 'NO' | 'ES' | 'SS' | 'SR' | 'FW' | 'TW' | 'CL' | 'CW' | 'LA';
const STATES: readonly IpvsTcpState[] = ['NO', 'ES', 'SS', 'SR', 'FW', 'TW', 'CL', 'CW', 'LA'];
/** tcp_states[] of ip_vs_proto_tcp.c (LISTEN and SYNACK omitted): [direction][syn, fin, ack, rst] → next state by current state. */
const TCP_STATE_TABLE: Record<'in' | 'out', Record<IpvsTcpState, IpvsTcpState>[]> = {
  in: [
    row('SR ES ES SR SR SR SR SR SR'),
    row('CL CW SS TW TW TW CL CW LA'),
    row('ES ES SS ES FW TW CL CW CL'),
    row('CL CL CL SR CL CL CL CL LA'),
  ],
  out: [
    row('SS ES SS SR SS SS SS SS SS'),
    row('TW FW SS TW FW TW CL TW LA'),
    row('ES ES SS ES FW TW CL CW LA'),
    row('CL CL SS CL CL TW CL CL CL'),
  ],
};
function row(text: string): Record<IpvsTcpState, IpvsTcpState> {
  const next = text.split(' ') as IpvsTcpState[];
  return Object.fromEntries(STATES.map((st, i) => [st, next[i]!])) as Record<IpvsTcpState, IpvsTcpState>;
}
/** tcp_timeouts[] of ip_vs_proto_tcp.c in ns; ES and FW are the ipvsadm --set tcp / tcpfin values. */
const TCP_STATE_TIMEOUT: Record<IpvsTcpState, number> = {
  NO: 2e9, ES: IPVS_TIMEOUTS.tcp, SS: 120e9, SR: 60e9, FW: IPVS_TIMEOUTS.tcpfin, TW: 120e9, CL: 10e9, CW: 60e9, LA: 30e9,
};
const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const ACK = 0x10;
/** tcp_state_idx: rst, then syn, then fin, then ack; -1 for none of them. */
function stateIdx(flags: number): number {
  if (flags & RST) return 3;
  if (flags & SYN) return 0;
  if (flags & FIN) return 1;
  if (flags & ACK) return 2;
  return -1;
}

/** IPVS sysctls (net.ipv4.vs.*) that decide what a SYN on a known connection does. */
export interface IpvsConfig {
  /** conn_reuse_mode (default 1): a SYN reusing a connection in TIME_WAIT or CLOSE is scheduled again. */
  connReuseMode: number;
  /** expire_nodest_conn (kube-proxy sets 1): a connection whose server is gone or quiesced (weight 0) is expired on its next SYN. */
  expireNodestConn: boolean;
}

/** The IPVS state of one namespace: services, connection entries, persistence templates. */
export class Ipvs {
  private readonly services = new Map<string, Service>();
  private readonly conns = new Map<string, IpvsConn>();
  private readonly templates = new Map<string, IpvsConn>();
  private nextGc = 0;
  readonly cfg: IpvsConfig;

  constructor(cfg: Partial<IpvsConfig> = {}) {
    this.cfg = { connReuseMode: 1, expireNodestConn: true, ...cfg };
  }

  /** Adds or replaces a virtual service (ipvsadm -A/-E with its -a lines); counters restart. */
  setService(spec: VirtualServiceSpec): void {
    this.services.set(svcKey(spec.proto, spec.vip, spec.port), { spec, sel: ipvsScheduler(spec.scheduler, spec.servers, { mhTableSize: spec.mhTableSize }) });
  }

  /** Removes a virtual service (ipvsadm -D). */
  deleteService(proto: IpvsProto, vip: number, port: number): void {
    this.services.delete(svcKey(proto, vip, port));
  }

  /** True when proto/vip/port is a virtual service. */
  has(proto: IpvsProto, vip: number, port: number): boolean {
    return this.services.has(svcKey(proto, vip, port));
  }

  /**
   * ip_vs_in / ip_vs_schedule: the real server for a client packet (`tcpFlags` its TCP flags, 0 for
   * UDP). An existing connection keeps its server, except that a new SYN on a connection in
   * TIME_WAIT or CLOSE (conn_reuse_mode, is_new_conn_expected) or whose server is gone or quiesced
   * (expire_nodest_conn) expires it and is scheduled afresh; a persistence template sends the same
   * client to the same server; otherwise the scheduler picks. Null when the service has no usable
   * server (the packet is dropped).
   */
  schedule(proto: IpvsProto, client: SelectClient, vip: number, vport: number, now: number, tcpFlags = 0): Endpoint | null {
    const svc = this.services.get(svcKey(proto, vip, vport));
    if (!svc) return null;
    if (now >= this.nextGc) this.gc(now);
    const key = `${proto}|${client.src >>> 0}|${client.sport}|${vip >>> 0}|${vport}`;
    const c = this.conns.get(key);
    if (c && c.expires > now && svc.spec.servers.includes(c.ep) && !this.reschedules(c, tcpFlags)) {
      this.transition(c, 'in', tcpFlags, now);
      return c.ep;
    }
    if (c) this.expire(c);
    let ep: Endpoint | null = null;
    const p = svc.spec.persistence;
    const tkey = `${proto}|${client.src >>> 0}|${vip >>> 0}|${vport}`;
    if (p !== null) {
      const t = this.templates.get(tkey);
      if (t && t.expires > now && t.ep.weight > 0 && svc.spec.servers.includes(t.ep)) ep = t.ep;
    }
    if (!ep) ep = svc.sel.pick(client);
    else svc.sel.charge(ep);
    if (!ep) return null;
    if (p !== null) this.templates.set(tkey, { svc, ep, expires: now + p * 1e9, key: tkey, state: 'ES', active: false });
    const conn: IpvsConn = { svc, ep, expires: now + IPVS_TIMEOUTS.udp, key, state: proto === 'udp' ? 'ES' : 'NO', active: true };
    this.conns.set(key, conn);
    if (proto !== 'udp') this.transition(conn, 'in', tcpFlags, now);
    return ep;
  }

  /**
   * ip_vs_out: a reply from the real server (`tcpFlags` its flags) moves its connection's TCP state
   * (the output half of the state table) and refreshes its timer.
   */
  reply(proto: IpvsProto, client: SelectClient, vip: number, vport: number, now: number, tcpFlags = 0): void {
    const c = this.conns.get(`${proto}|${client.src >>> 0}|${client.sport}|${vip >>> 0}|${vport}`);
    if (c && c.expires > now) this.transition(c, 'out', tcpFlags, now);
  }

  /** The TCP state of a client's connection (ipvsadm -Lnc's state column), null when none. */
  connState(proto: IpvsProto, client: SelectClient, vip: number, vport: number, now: number): IpvsTcpState | null {
    const c = this.conns.get(`${proto}|${client.src >>> 0}|${client.sport}|${vip >>> 0}|${vport}`);
    return c && c.expires > now ? c.state : null;
  }

  /** The connection ended (FIN/RST seen or timed out): its server's active count drops. */
  endConnection(proto: IpvsProto, client: SelectClient, vip: number, vport: number): void {
    const key = `${proto}|${client.src >>> 0}|${client.sport}|${vip >>> 0}|${vport}`;
    const c = this.conns.get(key);
    if (c) this.expire(c);
  }

  /** is_new_conn + is_new_conn_expected / expire_nodest_conn: does this SYN start over? */
  private reschedules(c: IpvsConn, flags: number): boolean {
    if ((flags & (SYN | ACK | FIN | RST)) !== SYN) return false;
    if (this.cfg.expireNodestConn && c.ep.weight === 0) return true;
    return this.cfg.connReuseMode !== 0 && (c.state === 'TW' || c.state === 'CL');
  }

  /** set_tcp_state: the next state, the server's active/inactive counters, and the state's timeout. */
  private transition(c: IpvsConn, dir: 'in' | 'out', flags: number, now: number): void {
    if (c.svc.spec.proto === 'udp') {
      c.expires = now + IPVS_TIMEOUTS.udp;
      return;
    }
    const idx = stateIdx(flags);
    if (idx >= 0) c.state = TCP_STATE_TABLE[dir][idx]![c.state];
    // A connection counts in activeconns only while ESTABLISHED; a new one is active until its
    // first segment moves it (to SYN_RECV: inactive until the handshake's ACK).
    const established = c.state === 'ES';
    if (c.active && !established) {
      c.active = false;
      c.svc.sel.release(c.ep);
    } else if (!c.active && established) {
      c.active = true;
      c.svc.sel.reactivate?.(c.ep);
    }
    c.expires = now + TCP_STATE_TIMEOUT[c.state];
  }

  /** ip_vs_conn_expire: the entry goes; an active connection's server counts it as ended. */
  private expire(c: IpvsConn): void {
    if (this.conns.get(c.key) === c) this.conns.delete(c.key);
    if (c.active) {
      c.active = false;
      c.svc.sel.release(c.ep);
    }
    c.svc.sel.forget?.(c.ep);
  }

  /** The expiry timers, run at most once per simulated second (the kernel runs one timer per entry). */
  private gc(now: number): void {
    this.nextGc = now + 1e9;
    for (const c of this.conns.values()) if (c.expires <= now) this.expire(c);
  }

  /** The table as `ipvsadm -Ln` prints it. */
  list(): string {
    let out = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
    const svcs = [...this.services.values()];
    for (const s of svcs) {
      const sp = s.spec;
      out += `${sp.proto.toUpperCase()}  ${formatIpv4(sp.vip)}:${sp.port} ${sp.scheduler}${sp.persistence !== null ? ` persistent ${sp.persistence}` : ''}\n`;
      for (const ep of sp.servers) {
        const c = s.sel.counters(ep);
        out += `  -> ${`${formatIpv4(ep.ip)}:${ep.port}`.padEnd(28)} ${'Masq'.padEnd(7)} ${String(ep.weight).padEnd(6)} ${String(c.active).padEnd(10)} ${String(c.inactive).padEnd(10)}\n`;
      }
    }
    return out;
  }
}
