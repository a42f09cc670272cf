// wire/dns — DNS message codec. Layer: wire (imports core, wire). Mirrors RFC 1035 §4 (header,
// question, resource records, name compression), RFC 3596 (AAAA), RFC 2782 (SRV), RFC 3597 (unknown
// types).
//
//                                 1  1  1  1  1  1
//   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                      ID                       |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                    QDCOUNT                    |
// |                    ANCOUNT                    |
// |                    NSCOUNT                    |
// |                    ARCOUNT                    |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// then QDCOUNT questions (QNAME, QTYPE, QCLASS) and ANCOUNT + NSCOUNT + ARCOUNT resource records
// (NAME, TYPE, CLASS, TTL(32), RDLENGTH, RDATA).
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 2    | id    |
// | 2      | 2    | flags (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode; kept raw) |
// | 4      | 2    | qdcount (derived from questions on encode) |
// | 6      | 2    | ancount |
// | 8      | 2    | nscount |
// | 10     | 2    | arcount |
// | 12     | ...  | questions, answers, authority, additional |
//
// Names are dotted text without the trailing dot ("kubernetes.default.svc.cluster.local", root "");
// a '.' or '\' inside a label and bytes outside printable ASCII are escaped as "\." "\\" "\DDD".
// Encoding compresses names as a real server does (CoreDNS / miekg/dns): every name suffix already
// written at an offset < 0x4000 is replaced by a pointer, compared case-insensitively. RFC 1035 §4.1.4:
// "the entire domain name, a list of labels ending in a pointer, or a list of labels ending with a zero
// octet". Compression is used in owner names and in the RDATA of the RFC 1035 types (CNAME, NS, PTR,
// SOA); not in SRV targets — RFC 2782: "name compression is not to be used for this field".
// Decoding follows pointers with loop protection: a pointer must point strictly before the label it
// replaces (RFC 1035: "a pointer to a prior occurance of the same name"), so it always terminates;
// names longer than 255 octets are rejected.
// TXT strings and unknown RDATA are carried as bytes (TXT as latin1 strings, one char per byte).
//
// Not modelled: DNSSEC record types (kept as unknown), EDNS option semantics (OPT is an unknown record
// whose class/ttl hold the payload size and extended flags), the 2-byte length prefix of DNS over TCP.
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { requireBytes, WireError } from './error.js';
import type { Ipv4 } from './types.js';

/** Resource record types. */
export const DnsType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
/** Classes. */
export const DnsClass = { IN: 1 } as const;
/** Header flag bits. */
export const DnsFlag = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const;
/** Response codes (low 4 bits of flags). */
export const DnsRcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

/** Typed RDATA; `unknown` keeps the raw bytes of any other type (RFC 3597). */
export type DnsRecordData =
  | { kind: 'A'; address: Ipv4 }
  | { kind: 'AAAA'; address: Uint8Array }
  | { kind: 'CNAME'; target: string }
  | { kind: 'NS'; target: string }
  | { kind: 'PTR'; target: string }
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { kind: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'TXT'; strings: string[] }
  | { kind: 'unknown'; data: Uint8Array };

export interface DnsResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: DnsRecordData;
}

/** A DNS message; the four counts are derived from the arrays on encode. */
export interface DnsMessage {
  id: number;
  flags: number;
  questions: DnsQuestion[];
  answers: DnsResourceRecord[];
  authority: DnsResourceRecord[];
  additional: DnsResourceRecord[];
}

/** Length of the DNS header. */
export const DNS_HEADER_LENGTH = 12;
const MAX_NAME = 255;
const MAX_POINTER = 0x3fff;

// ---------------------------------------------------------------------------------------------------
// names

/** Splits a dotted name into label byte arrays, honouring "\." "\\" "\DDD" escapes; other characters as UTF-8. */
export function nameToLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = [];
  if (name === '' || name === '.') return labels;
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c /* \ */) {
      const d = /^[0-9]{3}/.exec(name.slice(i + 1, i + 4));
      if (d) {
        cur.push(Number(d[0]) & 0xff);
        i += 3;
      } else if (i + 1 < name.length) {
        cur.push(name.charCodeAt(++i) & 0xff);
      }
    } else if (ch === 0x2e /* . */) {
      if (i === name.length - 1) break; // trailing dot
      labels.push(Uint8Array.from(cur));
      cur = [];
    } else if (ch < 0x80) cur.push(ch);
    else {
      // A non-ASCII character goes as its UTF-8 octets, as glibc sends a name a program passed without
      // AI_IDN (the scenario's names are converted to their IDNA xn-- form at load time; this is for the rest).
      const cp = name.codePointAt(i)!;
      for (const b of UTF8.encode(String.fromCodePoint(cp))) cur.push(b);
      if (cp > 0xffff) i++;
    }
  }
  labels.push(Uint8Array.from(cur));
  return labels;
}

const UTF8 = new TextEncoder();

/**
 * Why `name` cannot be put in a query, or null: a label past 63 octets or a name past 255 octets on the
 * wire (glibc's res_nmkquery fails on such a name, dn_comp returning -1, and no query is sent).
 */
export function dnsNameProblem(name: string): string | null {
  let total = 1;
  for (const l of nameToLabels(name)) {
    if (l.length > 63) return `a label of ${l.length} octets (at most 63)`;
    total += l.length + 1;
  }
  return total > MAX_NAME ? `${total} octets on the wire (at most ${MAX_NAME})` : null;
}

function labelToText(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x21 || c > 0x7e) s += '\\' + String(c).padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s;
}

/** Decodes a (possibly compressed) name at buf[off] within message buf[msg...]; returns the name and bytes used at off. */
export function decodeDnsName(buf: Uint8Array, off: number, msg = 0): { name: string; bytesRead: number } {
  const parts: string[] = [];
  let pos = off;
  let bytesRead = -1;
  let total = 1;
  let limit = pos; // a pointer must go strictly before the start of the labels it ends
  for (;;) {
    requireBytes('dns', buf, pos, 1);
    const len = buf[pos]!;
    if (len === 0) {
      if (bytesRead < 0) bytesRead = pos + 1 - off;
      break;
    }
    const tag = len & 0xc0;
    if (tag === 0xc0) {
      requireBytes('dns', buf, pos, 2);
      const ptr = msg + (((len & 0x3f) << 8) | buf[pos + 1]!);
      if (bytesRead < 0) bytesRead = pos + 2 - off;
      if (ptr >= limit) throw new WireError('dns', pos, `compression pointer to ${ptr - msg} does not point backwards (loop)`);
      pos = ptr;
      limit = ptr;
      continue;
    }
    if (tag !== 0) throw new WireError('dns', pos, `label type 0x${tag.toString(16)} not supported`);
    requireBytes('dns', buf, pos, 1 + len);
    total += len + 1;
    if (total > MAX_NAME) throw new WireError('dns', off, `name longer than ${MAX_NAME} octets`);
    parts.push(labelToText(buf, pos + 1, len));
    pos += 1 + len;
  }
  return { name: parts.join('.'), bytesRead };
}

/** Encoder state: output (null = measure only), message start and the compression table. */
class DnsWriter {
  pos: number;
  readonly table = new Map<string, number>();
  constructor(
    readonly buf: Uint8Array | null,
    readonly msg: number,
  ) {
    this.pos = msg;
  }
  need(n: number): void {
    if (this.buf !== null) requireBytes('dns', this.buf, this.pos, n);
  }
  u8(v: number): void {
    this.need(1);
    if (this.buf) this.buf[this.pos] = v;
    this.pos += 1;
  }
  u16(v: number): void {
    this.need(2);
    if (this.buf) writeU16(this.buf, this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.need(4);
    if (this.buf) writeU32(this.buf, this.pos, v);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    if (this.buf) this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  name(name: string, compress: boolean): void {
    const labels = nameToLabels(name);
    let total = 1;
    for (const l of labels) {
      if (l.length > 63) throw new WireError('dns', this.pos, `label of ${l.length} octets in "${name}" (max 63)`);
      total += l.length + 1;
    }
    if (total > MAX_NAME) throw new WireError('dns', this.pos, `name "${name}" longer than ${MAX_NAME} octets`);
    for (let i = 0; i < labels.length; i++) {
      const key = suffixKey(labels, i);
      if (compress) {
        const at = this.table.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
        const rel = this.pos - this.msg;
        if (rel <= MAX_POINTER) this.table.set(key, rel);
      }
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }
}

function suffixKey(labels: Uint8Array[], from: number): string {
  let k = '';
  for (let i = from; i < labels.length; i++) {
    const l = labels[i]!;
    for (let j = 0; j < l.length; j++) {
      const c = l[j]!;
      k += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
    }
    k += '\u0000.';
  }
  return k;
}

// ---------------------------------------------------------------------------------------------------
// messages

/** Decodes a DNS message occupying buf[off, end) (end defaults to buf.length). */
export function decodeDns(buf: Uint8Array, off: number, end: number = buf.length): { msg: DnsMessage; bytesRead: number } {
  const b = end < buf.length ? buf.subarray(0, end) : buf;
  requireBytes('dns', b, off, DNS_HEADER_LENGTH);
  const qd = readU16(b, off + 4);
  const an = readU16(b, off + 6);
  const ns = readU16(b, off + 8);
  const ar = readU16(b, off + 10);
  const msg: DnsMessage = { id: readU16(b, off), flags: readU16(b, off + 2), questions: [], answers: [], authority: [], additional: [] };
  let pos = off + DNS_HEADER_LENGTH;
  for (let i = 0; i < qd; i++) {
    const n = decodeDnsName(b, pos, off);
    pos += n.bytesRead;
    requireBytes('dns', b, pos, 4);
    msg.questions.push({ name: n.name, type: readU16(b, pos), class: readU16(b, pos + 2) });
    pos += 4;
  }
  const sections = [msg.answers, msg.authority, msg.additional];
  const counts = [an, ns, ar];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const r = decodeRecord(b, pos, off);
      sections[s]!.push(r.rr);
      pos += r.bytesRead;
    }
  }
  return { msg, bytesRead: pos - off };
}

function decodeRecord(b: Uint8Array, pos: number, msgOff: number): { rr: DnsResourceRecord; bytesRead: number } {
  const start = pos;
  const n = decodeDnsName(b, pos, msgOff);
  pos += n.bytesRead;
  requireBytes('dns', b, pos, 10);
  const type = readU16(b, pos);
  const klass = readU16(b, pos + 2);
  const ttl = readU32(b, pos + 4);
  const rdlen = readU16(b, pos + 8);
  pos += 10;
  requireBytes('dns', b, pos, rdlen);
  const rd = b.subarray(0, pos + rdlen); // names inside RDATA may point anywhere before, but not past it
  const end = pos + rdlen;
  let data: DnsRecordData;
  const exact = (len: number): boolean => rdlen === len;
  switch (type) {
    case DnsType.A:
      data = exact(4) ? { kind: 'A', address: readU32(rd, pos) } : { kind: 'unknown', data: rd.slice(pos, end) };
      break;
    case DnsType.AAAA:
      data = exact(16) ? { kind: 'AAAA', address: rd.slice(pos, end) } : { kind: 'unknown', data: rd.slice(pos, end) };
      break;
    case DnsType.CNAME:
    case DnsType.NS:
    case DnsType.PTR: {
      const t = decodeDnsName(rd, pos, msgOff);
      if (t.bytesRead !== rdlen) throw new WireError('dns', pos, `RDATA length ${rdlen} but name uses ${t.bytesRead}`);
      data = { kind: type === DnsType.CNAME ? 'CNAME' : type === DnsType.NS ? 'NS' : 'PTR', target: t.name };
      break;
    }
    case DnsType.SRV: {
      requireBytes('dns', rd, pos, 7);
      const t = decodeDnsName(rd, pos + 6, msgOff);
      if (6 + t.bytesRead !== rdlen) throw new WireError('dns', pos, `SRV RDATA length ${rdlen} mismatch`);
      data = { kind: 'SRV', priority: readU16(rd, pos), weight: readU16(rd, pos + 2), port: readU16(rd, pos + 4), target: t.name };
      break;
    }
    case DnsType.SOA: {
      const m = decodeDnsName(rd, pos, msgOff);
      const r = decodeDnsName(rd, pos + m.bytesRead, msgOff);
      const p = pos + m.bytesRead + r.bytesRead;
      requireBytes('dns', rd, p, 20);
      if (p + 20 !== end) throw new WireError('dns', pos, `SOA RDATA length ${rdlen} mismatch`);
      data = { kind: 'SOA', mname: m.name, rname: r.name, serial: readU32(rd, p), refresh: readU32(rd, p + 4), retry: readU32(rd, p + 8), expire: readU32(rd, p + 12), minimum: readU32(rd, p + 16) };
      break;
    }
    case DnsType.TXT: {
      const strings: string[] = [];
      let p = pos;
      while (p < end) {
        const l = rd[p]!;
        if (p + 1 + l > end) throw new WireError('dns', p, `TXT string of ${l} octets runs past RDATA`);
        let s = '';
        for (let i = p + 1; i < p + 1 + l; i++) s += String.fromCharCode(rd[i]!);
        strings.push(s);
        p += 1 + l;
      }
      data = { kind: 'TXT', strings };
      break;
    }
    default:
      data = { kind: 'unknown', data: rd.slice(pos, end) };
  }
  return { rr: { name: n.name, type, class: klass, ttl, data }, bytesRead: end - start };
}

function writeMessage(w: DnsWriter, m: DnsMessage): void {
  w.u16(m.id);
  w.u16(m.flags);
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authority.length);
  w.u16(m.additional.length);
  for (const q of m.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const sec of [m.answers, m.authority, m.additional]) for (const rr of sec) writeRecord(w, rr);
}

function writeRecord(w: DnsWriter, rr: DnsResourceRecord): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.pos;
  w.u16(0);
  const d = rr.data;
  switch (d.kind) {
    case 'A':
      w.u32(d.address);
      break;
    case 'AAAA':
      if (d.address.length !== 16) throw new WireError('dns', w.pos, `AAAA address of ${d.address.length} bytes`);
      w.bytes(d.address);
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      w.name(d.target, true);
      break;
    case 'SRV':
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target, false);
      break;
    case 'SOA':
      w.name(d.mname, true);
      w.name(d.rname, true);
      w.u32(d.serial);
      w.u32(d.refresh);
      w.u32(d.retry);
      w.u32(d.expire);
      w.u32(d.minimum);
      break;
    case 'TXT':
      for (const s of d.strings) {
        if (s.length > 255) throw new WireError('dns', w.pos, `TXT string of ${s.length} octets (max 255)`);
        w.u8(s.length);
        for (let i = 0; i < s.length; i++) w.u8(s.charCodeAt(i) & 0xff);
      }
      break;
    case 'unknown':
      w.bytes(d.data);
      break;
    default: {
      const never: never = d;
      throw new Error(`unknown DNS record data ${String(never)}`);
    }
  }
  const rdlen = w.pos - lenAt - 2;
  if (w.buf) writeU16(w.buf, lenAt, rdlen);
}

/** Encodes a DNS message at buf[off] with name compression; returns bytes written. */
export function encodeDns(msg: DnsMessage, buf: Uint8Array, off: number): number {
  const w = new DnsWriter(buf, off);
  writeMessage(w, msg);
  return w.pos - off;
}

/** Encoded length of a DNS message (with compression), without writing it. */
export function dnsMessageLength(msg: DnsMessage): number {
  const w = new DnsWriter(null, 0);
  writeMessage(w, msg);
  return w.pos;
}

/** Encodes a DNS message into a new buffer. */
export function encodeDnsMessage(msg: DnsMessage): Uint8Array {
  const out = new Uint8Array(dnsMessageLength(msg));
  encodeDns(msg, out, 0);
  return out;
}

/** A standard query (RD set) for one name and type, as a stub resolver sends it. */
export function dnsQuery(id: number, name: string, type: number): DnsMessage {
  return { id, flags: DnsFlag.RD, questions: [{ name, type, class: DnsClass.IN }], answers: [], authority: [], additional: [] };
}

/** Response code of a message. */
export function dnsRcode(msg: DnsMessage): number {
  return msg.flags & 0x000f;
}
