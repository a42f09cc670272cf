// app/dns-reply — the message operations of the DNS server's reply path, shaped as miekg/dns and CoreDNS
// do them: SetReply's flags, SetRcode's error replies, dnsutil.MinimalTTL, the cache's TTL rewrite,
// loadbalance's shuffle, SizeAndDo's OPT echo and Msg.Truncate. Layer: app (imports wire).
import { DnsFlag, dnsMessageLength, dnsRcode, DnsRcode, DnsType, type DnsMessage, type DnsResourceRecord } from '../wire/dns.js';

/** Opcode field mask of the flags word. */
export const OPCODE_MASK = 0x7800;

/** Reply flags as miekg/dns SetReply + the given bits: QR, opcode, RD and CD copied, AA/RA as given. */
export function replyFlags(q: DnsMessage, rcode: number, aa: boolean, ra: boolean): number {
  return DnsFlag.QR | (q.flags & OPCODE_MASK) | (aa ? DnsFlag.AA : 0) | (q.flags & DnsFlag.RD) | (ra ? DnsFlag.RA : 0) | (q.flags & DnsFlag.CD) | (rcode & 0xf);
}

/** An empty reply with an rcode (SetRcode): the question echoed, no records. */
export function errorReply(q: DnsMessage, rcode: number): DnsMessage {
  return { id: q.id, flags: replyFlags(q, rcode, false, false), questions: q.questions.slice(0, 1), answers: [], authority: [], additional: [] };
}

/** dnsutil.MinimalTTL: NOERROR with answers → least TTL of all records; denial → min(SOA TTL, SOA minimum). */
export function minimalTtl(m: DnsMessage): number {
  const rc = dnsRcode(m);
  if (rc === DnsRcode.NXDOMAIN || (rc === DnsRcode.NOERROR && m.answers.length === 0)) {
    const soa = m.authority.find((r) => r.data.kind === 'SOA');
    if (soa === undefined || soa.data.kind !== 'SOA') return 0;
    return Math.min(soa.ttl, soa.data.minimum);
  }
  let min = Infinity;
  for (const r of [...m.answers, ...m.authority, ...m.additional]) if (r.type !== DnsType.OPT) min = Math.min(min, r.ttl);
  return min === Infinity ? 0 : min;
}

/** filterRRSlice: every record's TTL set to `ttl` (OPT dropped), as the cache writes replies. */
export function withTtl(m: DnsMessage, ttl: number): DnsMessage {
  const f = (rs: DnsResourceRecord[]): DnsResourceRecord[] => rs.filter((r) => r.type !== DnsType.OPT).map((r) => ({ ...r, ttl }));
  return { ...m, answers: f(m.answers), authority: f(m.authority), additional: f(m.additional) };
}

/** plugin/loadbalance roundRobin: CNAMEs first, then the address records shuffled, then the rest. */
export function roundRobin(rs: DnsResourceRecord[], rng: { int(n: number): number }): DnsResourceRecord[] {
  const cname = rs.filter((r) => r.type === DnsType.CNAME);
  const addr = rs.filter((r) => r.type === DnsType.A || r.type === DnsType.AAAA);
  const rest = rs.filter((r) => r.type !== DnsType.CNAME && r.type !== DnsType.A && r.type !== DnsType.AAAA);
  const l = addr.length;
  if (l === 2) {
    if (rng.int(0x10000) % 2 === 0) [addr[0], addr[1]] = [addr[1]!, addr[0]!];
  } else if (l > 2) {
    for (let j = 0; j < l; j++) {
      const p = j + (rng.int(0x10000) % (l - j));
      if (p !== j) [addr[j], addr[p]] = [addr[p]!, addr[j]!];
    }
  }
  return [...cname, ...addr, ...rest];
}

/** SizeAndDo: the reply's OPT record set to the request's (root owner, its UDP size, version 0, no flags). */
export function withOpt(m: DnsMessage, reqOpt: DnsResourceRecord): DnsMessage {
  const opt: DnsResourceRecord = { name: '', type: DnsType.OPT, class: reqOpt.class, ttl: reqOpt.ttl & 0x8000, data: { kind: 'unknown', data: new Uint8Array(0) } };
  return { ...m, additional: [...m.additional.filter((r) => r.type !== DnsType.OPT), opt] };
}

/** miekg/dns Msg.Truncate: keep answers, then authority, then additional while they fit (the OPT record always kept); TC when an answer is cut. */
export function truncate(m: DnsMessage, size: number): DnsMessage {
  const opt = m.additional.find((r) => r.type === DnsType.OPT);
  if (opt !== undefined) {
    const cut = truncate({ ...m, additional: m.additional.filter((r) => r !== opt) }, size - dnsMessageLength({ id: 0, flags: 0, questions: [], answers: [], authority: [], additional: [opt] }) + 12);
    return { ...cut, additional: [...cut.additional, opt] };
  }
  const out: DnsMessage = { ...m, answers: [], authority: [], additional: [] };
  let cut = false;
  for (const [from, to] of [
    [m.answers, out.answers],
    [m.authority, out.authority],
    [m.additional, out.additional],
  ] as const) {
    for (const r of from) {
      to.push(r);
      if (dnsMessageLength(out) > size) {
        to.pop();
        cut = true;
        break;
      }
    }
    if (cut) break;
  }
  if (out.answers.length < m.answers.length) out.flags |= DnsFlag.TC;
  return out;
}
