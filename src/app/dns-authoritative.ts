// app/dns-authoritative — the zone data of a public authoritative DNS server (a provider's DNS such as
// Route 53, or BIND with `recursion no`), as a DnsZone for app/dns-server. Layer: app (imports core,
// wire).
//
// Data: the scenario's zones (origin, $TTL, the SOA minimum as negative TTL, A and CNAME records) plus
// records that change while the simulation runs (external-dns's DNSEndpoint objects, read on every
// query through `dynamic()`). A dynamic record inside a declared zone joins it (replacing a static
// record of the same name and type: the provider API's UPSERT); one outside every declared zone is
// served from an implicit zone at its parent domain (as a cloud provider serves its load balancers'
// names, e.g. xyz.elb.us-east-1.amazonaws.com).
// Answers (RFC 1034 §4.3.2, RFC 2308, RFC 6604):
// - AA set on every answer from a zone; names in no zone fall through (the server then REFUSES, as an
//   authoritative-only BIND does).
// - A with several addresses: the order rotates by one on every answer (BIND `rrset-order cyclic`), so
//   clients that take the first address (getaddrinfo) spread over them. Route 53 shuffles instead.
// - CNAME: the chain is followed inside the zone and every record returned in the answer section; a
//   target in another zone this server serves is chased through the server (dns-server.ts `chase`),
//   standing in for the recursive resolver a real user's query would go through.
// - NXDOMAIN (also when a CNAME's in-zone target does not exist, RFC 6604) and NODATA carry the zone's
//   SOA in the authority section with TTL min(SOA TTL, SOA minimum) (RFC 2308 §3); a name that only has
//   names below it (an empty non-terminal) is NODATA, not NXDOMAIN (RFC 8020).
// - TTLs on the wire: the record's, else the zone's $TTL.
// Not modelled: NS/MX/TXT/AAAA data (AAAA queries get NODATA), wildcards, delegation, DNSSEC, zone
// transfers, SOA serial changes (serial stays 1), weighted / latency / health-checked routing policies.
import { DnsClass, DnsRcode, DnsType, type DnsQuestion, type DnsResourceRecord } from '../wire/dns.js';
import { parseIpv4 } from '../wire/ipv4-addr.js';
import { rr, type DnsZone, type ZoneAnswer } from './dns-server.js';

/** One record set: A with addresses, or CNAME with one target. Names absolute, lower case, no trailing dot. */
export interface PublicRecord {
  name: string;
  type: 'A' | 'CNAME';
  values: string[];
  ttl: number;
}

/** A declared zone. */
export interface ZoneData {
  origin: string;
  /** $TTL: records without their own TTL. */
  ttl: number;
  /** SOA minimum (negative caching TTL). */
  negativeTtl: number;
  records: PublicRecord[];
}

/** Counters of the zone data (answers by outcome). */
export interface AuthoritativeCounters {
  answers: number;
  nxdomain: number;
  nodata: number;
  /** Questions for names in no zone (the server refuses them). */
  notAuthoritative: number;
}

interface Zone {
  origin: string;
  ttl: number;
  negativeTtl: number;
  /** name → record sets by type. */
  table: Map<string, { A?: PublicRecord; CNAME?: PublicRecord }>;
}

/** Longest CNAME chain followed (BIND follows up to 16; 8 is plenty for a model). */
const MAX_CHAIN = 8;

/**
 * A name of a zone's record made absolute: "@" is the origin; a trailing dot, or a name ending in the
 * origin, is absolute; any other owner name is relative to the origin (zone-file style). A CNAME target
 * (`target`) with a dot is taken as absolute as Route 53 takes it (elb.amazonaws.com needs no final dot).
 */
export function absoluteName(name: string, origin: string, target = false): string {
  const o = origin.toLowerCase().replace(/\.$/, '');
  const n = name.toLowerCase();
  if (n === '@') return o;
  if (n.endsWith('.')) return n.slice(0, -1);
  if (n === o || n.endsWith(`.${o}`) || (target && n.includes('.'))) return n;
  return `${n}.${o}`;
}

/** Is `name` at or below `origin`? */
function under(name: string, origin: string): boolean {
  return name === origin || name.endsWith(`.${origin}`);
}

/** Authoritative data: declared zones plus dynamic records; `zone` is the DnsServer callback. */
export class AuthoritativeZones {
  readonly counters: AuthoritativeCounters = { answers: 0, nxdomain: 0, nodata: 0, notAuthoritative: 0 };
  /** Answers given per A record set (the cyclic rotation's position). */
  private readonly rotation = new Map<string, number>();
  private readonly zones: ZoneData[];

  constructor(
    zones: ZoneData[],
    private readonly dynamic: () => readonly PublicRecord[],
    /** The server's host name, for the SOA's MNAME. */
    private readonly serverName: string,
  ) {
    this.zones = zones.map((z) => ({ ...z, origin: z.origin.toLowerCase().replace(/\.$/, '') }));
  }

  /** The DnsServer zone callback. */
  readonly zone: DnsZone = (q) => this.answer(q);

  /** Every record set served now (declared merged with dynamic), by zone origin. */
  snapshot(): Map<string, PublicRecord[]> {
    const out = new Map<string, PublicRecord[]>();
    for (const z of this.build()) out.set(z.origin, [...z.table.values()].flatMap((s) => [s.CNAME, s.A].filter((r): r is PublicRecord => r !== undefined)));
    return out;
  }

  private build(): Zone[] {
    const zones: Zone[] = this.zones.map((z) => ({ origin: z.origin, ttl: z.ttl, negativeTtl: z.negativeTtl, table: new Map() }));
    const put = (z: Zone, r: PublicRecord): void => {
      const name = r.name.toLowerCase().replace(/\.$/, '');
      let set = z.table.get(name);
      if (!set) z.table.set(name, (set = {}));
      set[r.type] = { ...r, name };
    };
    this.zones.forEach((z, i) => z.records.forEach((r) => put(zones[i]!, r)));
    for (const r of this.dynamic()) {
      const name = r.name.toLowerCase().replace(/\.$/, '');
      let z = longest(zones, name);
      if (!z) {
        const dot = name.indexOf('.');
        const origin = dot > 0 ? name.slice(dot + 1) : name;
        zones.push((z = { origin, ttl: r.ttl, negativeTtl: 60, table: new Map() }));
      }
      put(z, r);
    }
    return zones;
  }

  private answer(q: DnsQuestion): ZoneAnswer | null {
    const zones = this.build();
    const qn = q.name.toLowerCase();
    const zone = longest(zones, qn);
    if (!zone) {
      this.counters.notAuthoritative++;
      return null;
    }
    const answers: DnsResourceRecord[] = [];
    let name = qn;
    let owner = q.name;
    for (let hop = 0; hop < MAX_CHAIN; hop++) {
      const set = zone.table.get(name);
      if (!set) {
        const nonTerminal = name === zone.origin || [...zone.table.keys()].some((k) => k.endsWith(`.${name}`));
        if (nonTerminal && q.type === DnsType.SOA && name === zone.origin) return this.ok([this.soa(zone, zone.ttl)]);
        return this.denial(zone, nonTerminal ? DnsRcode.NOERROR : DnsRcode.NXDOMAIN, answers);
      }
      const c = set.CNAME;
      if (c !== undefined && q.type !== DnsType.CNAME) {
        const target = c.values[0]!.toLowerCase().replace(/\.$/, '');
        answers.push(rr(owner, c.ttl, { kind: 'CNAME', target }));
        if (!under(target, zone.origin)) {
          // Out of this zone: chase it through the server when another zone here holds it.
          const other = longest(zones, target);
          const chase = other ? { name: target, type: q.type, class: DnsClass.IN } : null;
          this.counters.answers++;
          return { rcode: DnsRcode.NOERROR, authoritative: true, answers, authority: [], additional: [], chase };
        }
        name = target;
        owner = target;
        continue;
      }
      if (q.type === DnsType.CNAME && c !== undefined) return this.ok([...answers, rr(owner, c.ttl, { kind: 'CNAME', target: c.values[0]!.toLowerCase().replace(/\.$/, '') })]);
      const a = set.A;
      if (q.type === DnsType.A && a !== undefined) return this.ok([...answers, ...this.rotated(owner, a)]);
      return this.denial(zone, DnsRcode.NOERROR, answers);
    }
    return this.ok(answers); // chain too long: what was followed
  }

  /** The A set in cyclic order: each answer starts one address further. */
  private rotated(owner: string, a: PublicRecord): DnsResourceRecord[] {
    const addrs = a.values.map((v) => parseIpv4(v)).filter((x): x is number => x !== null);
    const n = this.rotation.get(a.name) ?? 0;
    this.rotation.set(a.name, n + 1);
    const off = addrs.length > 0 ? n % addrs.length : 0;
    const order = [...addrs.slice(off), ...addrs.slice(0, off)];
    return order.map((address) => rr(owner, a.ttl, { kind: 'A', address }));
  }

  private ok(answers: DnsResourceRecord[]): ZoneAnswer {
    this.counters.answers++;
    return { rcode: DnsRcode.NOERROR, authoritative: true, answers, authority: [], additional: [], chase: null };
  }

  private denial(zone: Zone, rcode: number, answers: DnsResourceRecord[]): ZoneAnswer {
    if (rcode === DnsRcode.NXDOMAIN) this.counters.nxdomain++;
    else this.counters.nodata++;
    return { rcode, authoritative: true, answers, authority: [this.soa(zone, Math.min(zone.ttl, zone.negativeTtl))], additional: [], chase: null };
  }

  private soa(zone: Zone, ttl: number): DnsResourceRecord {
    return rr(zone.origin, ttl, {
      kind: 'SOA',
      mname: `${this.serverName}.${zone.origin}`,
      rname: `hostmaster.${zone.origin}`,
      serial: 1,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: zone.negativeTtl,
    });
  }
}

/** The zone with the longest origin that `name` is at or below. */
function longest(zones: Zone[], name: string): Zone | undefined {
  let best: Zone | undefined;
  for (const z of zones) if (under(name, z.origin) && (best === undefined || z.origin.length > best.origin.length)) best = z;
  return best;
}
