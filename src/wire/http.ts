// wire/http — HTTP/1.1 message builders and an incremental parser. Layer: wire (imports core, wire).
// Mirrors RFC 9112 (HTTP/1.1 message syntax) and RFC 9110 (semantics of Content-Length).
//
//   start-line CRLF                 request-line = method SP request-target SP HTTP-version
//   *( field-line CRLF )            status-line  = HTTP-version SP status-code SP [ reason-phrase ]
//   CRLF                            field-line   = field-name ":" OWS field-value OWS
//   [ message-body ]
//
// | part        | framing |
// |-------------|---------|
// | head        | up to and including the first CRLF CRLF |
// | body        | exactly Content-Length bytes (RFC 9112 §6.3 rule 6) |
//
// RFC 9112 §6.3: "If this is a request message and none of the above are true, then the message body
// length is zero" — a request without Content-Length has no body. Responses to HEAD and 1xx/204/304
// responses have no body either (§6.3 rule 1); the parser knows 1xx/204/304, and `expectHeadResponse()`
// tells it the next response answers a HEAD.
// Builders write fields in the order given and add Content-Length when the caller did not.
//
// Not modelled: Transfer-Encoding: chunked and close-delimited response bodies (rejected with a
// WireError), obsolete line folding, trailers, HTTP/2. Header bytes are treated as latin1.
import { WireError } from './error.js';
// This module's own exported functions called in it, as module constants: an export is read from its
// module cell at each use, a constant is folded (bench/README.md, session 38: s38-cells).
const httpHeaderHere = httpHeader;
const hashBytesHere = hashBytes;

/** A header field as [name, value], order kept. */
export type HttpHeader = [string, string];

export interface HttpRequest {
  kind: 'request';
  method: string;
  target: string;
  version: string;
  headers: HttpHeader[];
  body: Uint8Array;
}

export interface HttpResponse {
  kind: 'response';
  version: string;
  status: number;
  reason: string;
  headers: HttpHeader[];
  body: Uint8Array;
}

export type HttpMessage = HttpRequest | HttpResponse;

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** What push returns when no message completed (frozen: shared by every parser). */
const NO_MESSAGES: HttpMessage[] = Object.freeze([]) as unknown as HttpMessage[];

function toBody(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return EMPTY;
  return typeof body === 'string' ? utf8.encode(body) : body;
}

/** Case-insensitive value of the first header named `name`, or undefined. */
export function httpHeader(headers: HttpHeader[], name: string): string | undefined {
  const n = name.toLowerCase();
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    // The length test first: most names differ in length; then a compare folding A-Z (no lower-case copy).
    if (h[0].length === n.length && sameLowerCase(h[0], n)) return h[1];
  }
  return undefined;
}

/** True when `s` lower-cased is `lower` (same length): A-Z folded in place, toLowerCase for anything beyond ASCII. */
function sameLowerCase(s: string, lower: string): boolean {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 128) return s.toLowerCase() === lower;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** True when a field name holds CR, LF or ':' (or a value holds CR or LF): `assemble` refuses it. */
function badChars(s: string, colonToo: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10 || (colonToo && c === 58)) return true;
  }
  return false;
}

function assemble(startLine: string, headers: HttpHeader[], body: Uint8Array, addLength: boolean): Uint8Array {
  let head = startLine + '\r\n';
  for (let i = 0; i < headers.length; i++) {
    const [k, v] = headers[i]!;
    if (badChars(k, true) || badChars(v, false)) throw new WireError('http', 0, `invalid header field ${JSON.stringify(k)}`);
    head += k + ': ' + v + '\r\n';
  }
  if (addLength && httpHeaderHere(headers, 'content-length') === undefined) head += 'Content-Length: ' + body.length + '\r\n';
  head += '\r\n';
  // Latin-1 bytes of the head written straight into the message (one byte per code unit).
  const n = head.length;
  const out = new Uint8Array(n + body.length);
  for (let i = 0; i < n; i++) out[i] = head.charCodeAt(i) & 0xff;
  out.set(body, n);
  return out;
}

/** Builds an HTTP/1.1 request; Content-Length is added when there is a body (or for POST/PUT/PATCH). */
export function buildHttpRequest(req: { method: string; target: string; headers?: HttpHeader[]; body?: Uint8Array | string; version?: string }): Uint8Array {
  const body = toBody(req.body);
  const m = req.method.toUpperCase();
  const needsLength = body.length > 0 || m === 'POST' || m === 'PUT' || m === 'PATCH';
  return assemble(`${req.method} ${req.target} ${req.version ?? 'HTTP/1.1'}`, req.headers ?? [], body, needsLength);
}

/** Standard reason phrases for the status codes the simulator uses. */
export const HTTP_REASON: Readonly<Record<number, string>> = {
  100: 'Continue', 200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function bodyless(status: number): boolean {
  return (status >= 100 && status < 200) || status === 204 || status === 304;
}

/** Builds an HTTP/1.1 response; Content-Length is always added (except for 1xx/204/304). */
export function buildHttpResponse(res: { status: number; reason?: string; headers?: HttpHeader[]; body?: Uint8Array | string; version?: string }): Uint8Array {
  const body = toBody(res.body);
  const reason = res.reason ?? HTTP_REASON[res.status] ?? '';
  return assemble(`${res.version ?? 'HTTP/1.1'} ${res.status} ${reason}`, res.headers ?? [], body, !bodyless(res.status));
}

/** Encodes a parsed message back to bytes (fields as held, no Content-Length added). */
export function encodeHttpMessage(msg: HttpMessage): Uint8Array {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.target} ${msg.version}` : `${msg.version} ${msg.status} ${msg.reason}`;
  return assemble(start, msg.headers, msg.body, false);
}

/** Offset just past the first CRLF CRLF at or after `from` in buf[0, end), or -1. */
function findHeadEnd(buf: Uint8Array, from: number, end: number): number {
  // j is where a CRLF CRLF would end. A byte that is neither CR nor LF ends no match in the four
  // windows holding it, so j skips past it; after an LF the next possible end is two on, after a CR one on.
  for (let j = from + 3; j < end; ) {
    const c = buf[j]!;
    if (c === 10) {
      if (buf[j - 1] === 13 && buf[j - 2] === 10 && buf[j - 3] === 13) return j + 1;
      j += 2;
    } else if (c === 13) j += 1;
    else j += 4;
  }
  return -1;
}

/** Incremental HTTP/1.1 parser for one direction of a connection: push bytes, get complete messages. */
export class HttpParser {
  // Allocated on the first partial message and grown on demand: a simulation holds thousands of idle
  // connections' parsers, and a message that arrives whole is parsed straight from its chunk.
  private buf: Uint8Array = EMPTY;
  private len = 0;
  private scanFrom = 0;
  private headCount = 0;
  /** The messages completed by the push under way (a list of one is built at its length). */
  private out: HttpMessage[] = NO_MESSAGES;
  /** Total bytes consumed by complete messages. */
  bytesConsumed = 0;
  /**
   * The last message completed (by the last push, or an earlier one): its head's memo entry (an opaque
   * key, the same object for every message with the same head bytes while the owner's cache keeps it,
   * and one head's messages have one header list), its status (-1: a request) and its body's length.
   * A reader may take these instead of reading the message, a line of its own (and its body view
   * another), which a shared parser hands out again from the head's entry cold by a big world's next
   * response there (app/http-client.ts).
   */
  lastHead: object | null = null;
  lastStatus = -1;
  lastBodyLength = 0;

  /** The heads this parser's owner saw lately (shared by its parsers: one per connection). */
  private readonly recent: HttpHeadCache;

  /**
   * `heads`: the owner's cache of recent heads (an application passes one to all its parsers); default
   * one per kind. `shared`: the owner only reads what it gets (an HTTP server's requests, a client's
   * responses): a message's head fields and header list are then the parsed head's own, shared by every
   * message with the same head bytes and frozen (writing to them throws), and a message without a body
   * is that shared message itself: no copy of the head per message; a body that arrived whole in one
   * pushed chunk is a view of that chunk, in a frozen message that the next message with the same head
   * over the same bytes of the same array is again (`bodied`: the head keeps its last such message),
   * else a new message over the frozen head. Without it every message is the caller's to change.
   */
  constructor(
    readonly kind: 'request' | 'response',
    heads?: HttpHeadCache,
    private readonly shared = false,
  ) {
    this.recent = heads ?? (kind === 'request' ? requestHeads : responseHeads);
  }

  /** Marks that the next response answers a HEAD request (no body, whatever Content-Length says). */
  expectHeadResponse(): void {
    this.headCount++;
  }

  /** Bytes buffered that do not yet form a complete message. */
  get pending(): number {
    return this.len;
  }

  /**
   * Appends bytes; returns the messages completed by them, in order (a shared frozen empty list when
   * none: most pushes complete one message or none). Throws WireError on malformed input.
   */
  push(chunk: Uint8Array): HttpMessage[] {
    this.out = NO_MESSAGES;
    if (this.len === 0) {
      // Nothing buffered: parse from the chunk itself and keep only what is left of it.
      const used = this.parse(chunk, chunk.length, true);
      const rest = chunk.length - used;
      if (rest > 0) {
        if (this.buf.length < rest) this.buf = new Uint8Array(Math.max(256, rest));
        this.buf.set(used === 0 ? chunk : chunk.subarray(used), 0);
        this.len = rest;
        this.scanFrom -= used;
        if (this.scanFrom < 0) this.scanFrom = 0;
      } else this.scanFrom = 0;
      return this.taken();
    }
    if (this.len + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + chunk.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    const start = this.parse(this.buf, this.len, false);
    if (start > 0) {
      this.buf.copyWithin(0, start, this.len);
      this.len -= start;
      this.scanFrom -= start;
      if (this.scanFrom < 0) this.scanFrom = 0;
    }
    return this.taken();
  }

  /** The messages the last push completed (the parser lets go of them). */
  private taken(): HttpMessage[] {
    const out = this.out;
    this.out = NO_MESSAGES;
    return out;
  }

  /**
   * Parses the complete messages of buf[0, len) into `out`; returns the bytes they took (scanFrom is left
   * relative to buf). `chunk`: buf is the pushed chunk itself (not this parser's buffer, which later
   * pushes overwrite).
   */
  private parse(buf: Uint8Array, len: number, chunk: boolean): number {
    let start = 0;
    for (;;) {
      // Nothing left (a chunk that ended with a message's last byte: most do): no head to look for.
      // (The search below finds none in no bytes; it read the owner's cache, its ring and its entries
      // first, each a line cold at a big world's server or client by its next message.)
      if (start === len) {
        this.scanFrom = len;
        break;
      }
      // One of the owner's recent heads, when the bytes at `start` are it (a client's connections
      // receive its Service's few response heads, a server's the same request head): no scan for its
      // end, no hash. A head ends at its first CRLF CRLF, so a match is the whole head.
      let head = this.recent.find(buf, start, len, this.kind);
      if (head === null) {
        const end = findHeadEnd(buf, Math.max(start, this.scanFrom - 3), len);
        if (end < 0) {
          this.scanFrom = len;
          break;
        }
        head = headOf(buf, start, end, this.kind);
        this.recent.add(head);
        if (chunk && start === 0 && sealed.get(buf) === NOT_MET) sealed.set(buf, head);
      }
      // (the entry's own fields: the message and the head's bytes are lines of their own, cold by the
      // next message of a big world's client or server, and the message's are read by its reader anyway)
      const headEnd = start + head.size;
      const parsed = head.msg;
      let bodyLen = head.length;
      if (head.kind === 'response' && (bodyless(head.status) || (this.headCount > 0 && head.status >= 200))) bodyLen = 0;
      else if (bodyLen < 0) {
        if (head.kind === 'request') bodyLen = 0;
        else throw new WireError('http', start, 'response without Content-Length (close-delimited bodies are not modelled)');
      }
      if (headEnd + bodyLen > len) {
        this.scanFrom = start; // the head is parsed again when the body is complete
        break;
      }
      if (head.status >= 200 && this.headCount > 0) this.headCount--;
      // A shared parser's body straight from the pushed chunk is a view of it (sent bytes are never
      // written to: a TCP receiver is handed the sender's own array, too); else a copy.
      let msg: HttpMessage;
      if (!this.shared) msg = copyHead(parsed, bodyLen === 0 ? EMPTY : buf.slice(headEnd, headEnd + bodyLen));
      else if (bodyLen === 0) msg = parsed;
      else if (chunk) msg = bodied(head, buf, headEnd, bodyLen);
      else msg = withBody(parsed, buf.slice(headEnd, headEnd + bodyLen));
      if (this.out.length === 0) this.out = [msg];
      else this.out.push(msg);
      this.lastHead = head;
      this.lastStatus = head.status;
      this.lastBodyLength = bodyLen;
      this.bytesConsumed += headEnd + bodyLen - start;
      start = headEnd + bodyLen;
      this.scanFrom = start;
    }
    return start;
  }
}

/**
 * Heads parsed lately, per kind: a client sends the same request head on every connection and a
 * server the same response head, so a head whose bytes equal a remembered one is answered from it
 * (a fresh message and fresh field tuples, the same strings) instead of being parsed again.
 */
interface HeadMemo {
  bytes: Uint8Array;
  msg: HttpMessage;
  /** Content-Length of the head (-1: none). */
  length: number;
  /** The message's kind, the head's length (bytes.length) and a response's status (-1: a request), read without the message or the bytes. */
  kind: 'request' | 'response';
  size: number;
  status: number;
  /**
   * bodied(): the last message a shared parser made with this head and a body straight from a pushed
   * chunk, and where that body is (the array and the offset; its length is the head's). Kept in the
   * entry, which the parser has just read, so that a response met again (a server's cached response
   * array at its client) is answered without reading the message, the array or the head's message.
   */
  bodiedMsg: HttpMessage | null;
  bodiedBuf: Uint8Array | null;
  bodiedAt: number;
}

/** What a sealed array (sealHttpBytes) holds at its start once a parser has met it: its head's memo entry. */
const NOT_MET: HeadMemo = Object.freeze({ bytes: EMPTY, msg: Object.freeze({ kind: 'request', method: '', target: '', version: '', headers: [], body: EMPTY }), length: -1, kind: 'request', size: 0, status: -1, bodiedMsg: null, bodiedBuf: null, bodiedAt: -1 }) as HeadMemo;
/** Arrays whose owner never writes them again → the head at their start (NOT_MET until a parser meets it). */
const sealed = new WeakMap<Uint8Array, HeadMemo>();

/**
 * Marks `bytes` as never written again by anyone (an application's cached request or response,
 * sent over and over): a parser that meets a head at the same place of the same array again takes it
 * as the same head without comparing its bytes. Returns `bytes`.
 */
export function sealHttpBytes(bytes: Uint8Array): Uint8Array {
  if (!sealed.has(bytes)) sealed.set(bytes, NOT_MET);
  return bytes;
}

/** Heads remembered per kind before the memo starts again (a client with a flow to each of hundreds of Services, a server per pod). */
const HEAD_MEMO_MAX = 4096;

/**
 * Remembered heads of one kind by a hash of their bytes (one head per hash: a head whose hash
 * another holds replaces it). Emptied when it holds HEAD_MEMO_MAX heads.
 */
class HeadMemoTable {
  private readonly byHash = new Map<number, HeadMemo>();
  get(hash: number): HeadMemo | undefined {
    return this.byHash.get(hash);
  }
  add(hash: number, e: HeadMemo): void {
    if (this.byHash.size >= HEAD_MEMO_MAX) this.byHash.clear();
    this.byHash.set(hash, e);
  }
}

const requestMemo = new HeadMemoTable();
const responseMemo = new HeadMemoTable();

/** Recent heads kept per owner: a client's Service has a few backends, each with its own response head. */
const RECENT_HEADS = 4;

/**
 * The heads an application parsed lately, most recent first tried (a ring of RECENT_HEADS memo
 * entries). HttpParser tries them at each message start before it looks for the head's end.
 */
export class HttpHeadCache {
  private readonly heads: (HeadMemo | null)[] = new Array<HeadMemo | null>(RECENT_HEADS).fill(null);
  private next = 0;
  /** The recent head of `kind` that buf[start, len) begins with, or null. */
  find(buf: Uint8Array, start: number, len: number, kind: 'request' | 'response'): HeadMemo | null {
    const avail = len - start;
    // A sealed array met before begins with the head it began with then (nobody writes it): no compare.
    // (Senders' arrays alternate at a server, so the array, not the ring entry, remembers.)
    const at0 = start === 0 ? sealed.get(buf) : undefined;
    if (at0 !== undefined && at0 !== NOT_MET && at0.kind === kind && avail >= at0.size) return at0;
    for (let k = 1; k <= RECENT_HEADS; k++) {
      const e = this.heads[(this.next - k) & (RECENT_HEADS - 1)]!;
      if (e === null) return null;
      if (e.kind === kind && avail >= e.size && sameBytes(e.bytes, buf, start, start + e.size)) {
        if (at0 === NOT_MET) sealed.set(buf, e);
        return e;
      }
    }
    return null;
  }

  /** Remembers a head (the oldest goes). */
  add(e: HeadMemo): void {
    this.heads[this.next] = e;
    this.next = (this.next + 1) & (RECENT_HEADS - 1);
  }
}

/**
 * A shared parser's message of `head` with the body buf[start, start + len) of a pushed chunk: the
 * head's last one again when it was made over the same bytes of the same array (the message is frozen,
 * as a bodyless one is; its body a view of the sender's array, which nobody writes to), else a new one,
 * which the head then keeps. `len` is the head's Content-Length, so the array and the offset decide. A
 * server's responses of one size are all one message at their clients.
 */
function bodied(head: HeadMemo, buf: Uint8Array, start: number, len: number): HttpMessage {
  const last = head.bodiedMsg;
  if (last !== null && head.bodiedBuf === buf && head.bodiedAt === start) return last;
  const msg = Object.freeze(withBody(head.msg, buf.subarray(start, start + len)));
  head.bodiedMsg = msg;
  head.bodiedBuf = buf;
  head.bodiedAt = start;
  return msg;
}

/** The caches of parsers made without one. */
const requestHeads = new HttpHeadCache();
const responseHeads = new HttpHeadCache();

/** FNV-1a of buf[start, end), in 30 bits (a small integer as a Map key); the head memo's key (exported for its tests). */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

/** True when buf[start, end) holds exactly `bytes`. */
function sameBytes(bytes: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (bytes.length !== end - start) return false;
  for (let i = 0, j = start; j < end; i++, j++) if (bytes[i] !== buf[j]) return false;
  return true;
}

/** A copy of a remembered message with `body`: new object and header tuples (the caller's to change). */
function copyHead(m: HttpMessage, body: Uint8Array): HttpMessage {
  const src = m.headers;
  const headers: HttpHeader[] = new Array<HttpHeader>(src.length);
  for (let i = 0; i < src.length; i++) headers[i] = [src[i]![0], src[i]![1]];
  if (m.kind === 'request') return { kind: 'request', method: m.method, target: m.target, version: m.version, headers, body };
  return { kind: 'response', version: m.version, status: m.status, reason: m.reason, headers, body };
}

/** A remembered message with `body`: a new object over the same (frozen) header list, for a `shared` parser. */
function withBody(m: HttpMessage, body: Uint8Array): HttpMessage {
  if (m.kind === 'request') return { kind: 'request', method: m.method, target: m.target, version: m.version, headers: m.headers, body };
  return { kind: 'response', version: m.version, status: m.status, reason: m.reason, headers: m.headers, body };
}

/** Freezes a parsed head (its tuples, its list, the message): `shared` parsers hand it out as is. */
function frozenHead(m: HttpMessage): HttpMessage {
  for (let i = 0; i < m.headers.length; i++) Object.freeze(m.headers[i]!);
  Object.freeze(m.headers);
  return Object.freeze(m);
}

/**
 * The memo entry of the head buf[start, end) (parseHead and contentLength), found when the same bytes
 * were parsed before, else added. Throws as parseHead and contentLength do.
 */
function headOf(buf: Uint8Array, start: number, end: number, kind: 'request' | 'response'): HeadMemo {
  const memo = kind === 'request' ? requestMemo : responseMemo;
  const hash = hashBytesHere(buf, start, end);
  const e = memo.get(hash);
  if (e !== undefined && sameBytes(e.bytes, buf, start, end)) return e;
  const msg = frozenHead(parseHead(buf, start, end, kind));
  const added: HeadMemo = { bytes: buf.slice(start, end), msg, length: contentLength(msg.headers, start), kind: msg.kind, size: end - start, status: msg.kind === 'response' ? msg.status : -1, bodiedMsg: null, bodiedBuf: null, bodiedAt: -1 };
  memo.add(hash, added);
  return added;
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/\d\.\d)$/;
const STATUS_LINE = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/;

/** Latin-1 text of buf[start, end) (one code unit per byte), in slices small enough for fromCharCode's argument list. */
function latin1Text(buf: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i += 4096) text += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return text;
}

/** The message of the head buf[start, end) (`end` just past its CRLF CRLF), its body still empty. */
function parseHead(buf: Uint8Array, start: number, end: number, kind: 'request' | 'response'): HttpMessage {
  const text = latin1Text(buf, start, end - 4);
  const lines = text.split('\r\n');
  const first = lines[0] ?? '';
  const headers: HttpHeader[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const c0 = line.charCodeAt(0);
    if (colon <= 0 || c0 === 32 || c0 === 9) throw new WireError('http', start, `malformed header line ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  if (httpHeaderHere(headers, 'transfer-encoding') !== undefined) throw new WireError('http', start, 'Transfer-Encoding is not modelled');
  if (kind === 'request') {
    const m = REQUEST_LINE.exec(first);
    if (!m) throw new WireError('http', start, `malformed request line ${JSON.stringify(first)}`);
    return { kind: 'request', method: m[1]!, target: m[2]!, version: m[3]!, headers, body: EMPTY };
  }
  const m = STATUS_LINE.exec(first);
  if (!m) throw new WireError('http', start, `malformed status line ${JSON.stringify(first)}`);
  return { kind: 'response', version: m[1]!, status: Number(m[2]), reason: m[3]!, headers, body: EMPTY };
}

/** Content-Length of a header list, -1 when absent; throws on an invalid or conflicting value. */
function contentLength(headers: HttpHeader[], at: number): number {
  let v = -1;
  for (let i = 0; i < headers.length; i++) {
    const [k, val] = headers[i]!;
    if (k.length !== 14 || k.toLowerCase() !== 'content-length') continue;
    if (!/^\d+$/.test(val)) throw new WireError('http', at, `invalid Content-Length ${JSON.stringify(val)}`);
    const n = Number(val);
    // RFC 9112 §6.3: differing Content-Length values make the message invalid.
    if (v >= 0 && v !== n) throw new WireError('http', at, 'conflicting Content-Length values');
    v = n;
  }
  return v;
}

/** Parses exactly one complete message from bytes (throws if incomplete or if bytes remain). */
export function parseHttpMessage(bytes: Uint8Array, kind: 'request' | 'response'): HttpMessage {
  const p = new HttpParser(kind);
  const msgs = p.push(bytes);
  if (msgs.length !== 1 || p.pending !== 0) throw new WireError('http', 0, `expected one complete ${kind}, got ${msgs.length} and ${p.pending} bytes left`);
  return msgs[0]!;
}
