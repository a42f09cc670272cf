// scenario/yaml-fast — a fast reader for the plain subset of YAML that scenario files and generated
// clusters use (block mappings and sequences, one-line flow collections, plain and one-line quoted
// scalars, comments), giving the same JS values as the `yaml` package's parseAllDocuments + toJS with
// the YAML 1.2 core schema. It keeps no positions. A document outside the subset — anchors, aliases,
// tags, merge keys, block scalars, multi-line scalars or flow collections, explicit keys, escapes,
// duplicate keys, anything the `yaml` package might reject — is left unread (load.ts reads that
// document's text with the `yaml` package); a stream with tabs, CR, directives or `...` is refused
// as a whole. Documents are split at `---` lines as the `yaml` package splits them (it ends a
// document there even inside a block or quoted scalar). Layer: scenario (no imports).

/** One document of the stream: its source range (from its `---` line) and its value (null when empty). */
export interface FastDocument {
  start: number;
  end: number;
  /** False when the document is outside the subset: `value` is then undefined and `refusedAt` the line (0-based) where the reader left it. */
  read: boolean;
  value: unknown;
  refusedAt?: number;
}

/** Thrown inside the reader when the text leaves the subset; caught by fastParseStream. */
class Bail extends Error {}
const BAIL = new Bail('outside the fast subset');

// The core schema's scalar tests, in the order the `yaml` package tries them (schema/core/schema.js).
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const INT_HEX_RE = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar's value under the YAML 1.2 core schema (as the `yaml` package resolves it). */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // Letters other than n N t T f F start only strings (null, true, false are the only words).
  if (s.length > 0 && ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) && c !== 110 && c !== 78 && c !== 116 && c !== 84 && c !== 102 && c !== 70) return s;
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT_RE.test(s)) return parseInt(s.substring(2), 8);
  if (INT_RE.test(s)) return parseInt(s, 10);
  if (INT_HEX_RE.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN_RE.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP_RE.test(s) || FLOAT_RE.test(s)) return parseFloat(s);
  return s;
}

/** Characters that may not start a plain scalar here (indicators; `-` is checked apart). */
const NOT_PLAIN_START = new Set(['?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', ' ']);

/** Whole-file refusals: tabs, CR, BOM, control characters (the `yaml` package's lexer decides those). */
const REFUSED_CHARS = /[\t\r\ufeff\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/;

/** Longest implicit key accepted (the `yaml` package refuses implicit keys past 1024 characters). */
const MAX_KEY = 1000;

/**
 * Deepest nesting of collections (block and flow together) a scenario file may have; load.ts refuses
 * deeper documents at the first node past it, so no reader recurses far enough to exhaust the stack.
 * The fast reader leaves a deeper document to the `yaml` package (and load.ts's guard).
 */
export const MAX_NESTING = 256;

/**
 * The documents of `text` (each read, or left for the `yaml` package), or null when the stream as a
 * whole is outside the subset. Documents are counted as parseAllDocuments counts them: text before
 * the first `---` is a document only if it holds content; each `---` starts one.
 */
export function fastParseStream(text: string): FastDocument[] | null {
  if (REFUSED_CHARS.test(text)) return null;
  try {
    return new Reader(text).stream();
  } catch (e) {
    if (e instanceof Bail) return null;
    throw e;
  }
}

class Reader {
  private readonly lines: string[];
  /** Offset of each line's first character. */
  private readonly starts: number[];
  /** Current line of the document being read and the document's end (exclusive line index). */
  private i = 0;
  private end = 0;
  /** Collections open around the node being read (block and flow); past MAX_NESTING the document is left unread. */
  private depth = 0;

  constructor(private readonly text: string) {
    this.lines = text.split('\n');
    this.starts = new Array<number>(this.lines.length);
    let off = 0;
    for (let k = 0; k < this.lines.length; k++) {
      this.starts[k] = off;
      off += this.lines[k]!.length + 1;
    }
  }

  stream(): FastDocument[] {
    const { lines } = this;
    // Document boundaries: `---` lines (alone or followed by a comment).
    const markers: number[] = [];
    for (let k = 0; k < lines.length; k++) {
      const l = lines[k]!;
      const c = l.charCodeAt(0);
      if (c === 45 /* - */ && l.startsWith('---')) {
        if (l.length === 3) markers.push(k);
        else if (l[3] === ' ') {
          const rest = l.slice(skipSpaces(l, 4));
          if (rest !== '' && rest[0] !== '#') throw BAIL; // content on the marker line
          markers.push(k);
        }
      } else if ((c === 46 /* . */ && l.startsWith('...')) || c === 37 /* % */) throw BAIL; // document end, directive
    }
    const docs: FastDocument[] = [];
    const firstMarker = markers.length > 0 ? markers[0]! : lines.length;
    if (this.hasContent(0, firstMarker)) docs.push(this.document(0, firstMarker, 0));
    for (let m = 0; m < markers.length; m++) {
      const from = markers[m]!;
      const to = m + 1 < markers.length ? markers[m + 1]! : lines.length;
      docs.push(this.document(from + 1, to, from));
    }
    return docs;
  }

  private hasContent(from: number, to: number): boolean {
    for (let k = from; k < to; k++) if (this.indentOf(k) >= 0) return true;
    return false;
  }

  private document(from: number, to: number, startLine: number): FastDocument {
    this.i = from;
    this.end = to;
    this.depth = 0;
    const start = this.starts[startLine]!;
    const end = to < this.lines.length ? this.starts[to]! : this.text.length;
    try {
      const ind = this.nextContent();
      if (ind < 0) return { start, end, read: true, value: null };
      const value = this.blockNode(ind, -1);
      if (this.nextContent() >= 0) throw BAIL; // content left after the root node
      return { start, end, read: true, value };
    } catch (e) {
      if (e instanceof Bail) return { start, end, read: false, value: undefined, refusedAt: this.i };
      throw e;
    }
  }

  /** Indent of line k if it holds content (not blank, not only a comment), else -1. */
  private indentOf(k: number): number {
    const l = this.lines[k]!;
    let n = 0;
    while (n < l.length && l.charCodeAt(n) === 32) n++;
    if (n === l.length || l.charCodeAt(n) === 35 /* # */) return -1;
    return n;
  }

  /** Skips blank and comment lines; the indent of the next content line, or -1 at the document's end. */
  private nextContent(): number {
    while (this.i < this.end) {
      const n = this.indentOf(this.i);
      if (n >= 0) return n;
      this.i++;
    }
    return -1;
  }

  /**
   * A block node whose first line (this.i) starts at column `ind`, below a parent at column `parent`
   * (-1 for the root): a sequence, a mapping, or a scalar or flow collection alone on its line.
   */
  private blockNode(ind: number, parent: number): unknown {
    const l = this.lines[this.i]!;
    if (isSeqItem(l, ind)) return this.blockSeq(ind, false);
    const entry = this.entryAt(l, ind);
    if (entry !== null) return this.blockMap(ind, entry);
    const v = this.inlineValue(l, ind);
    this.i++;
    this.noContinuation(parent);
    return v;
  }

  /**
   * A block sequence of items `- ` at column `ind`, from line this.i; `underKey`: it is the value of
   * a key at the same column (`key:` then `- a`), so a line at that column that is no item ends it.
   */
  private blockSeq(ind: number, underKey: boolean): unknown[] {
    const out: unknown[] = [];
    if (++this.depth > MAX_NESTING) throw BAIL;
    for (;;) {
      const l = this.lines[this.i]!;
      // l has "-" at ind followed by a space or the line's end.
      let c = ind + 1;
      while (c < l.length && l.charCodeAt(c) === 32) c++;
      if (c === l.length || l.charCodeAt(c) === 35 /* # */) {
        if (c < l.length && c === ind + 1) throw BAIL; // "-#": not a comment
        this.i++;
        out.push(this.nestedOrNull(ind, false));
      } else {
        if (isSeqItem(l, c)) throw BAIL; // "- - x": compact nested sequence
        const entry = this.entryAt(l, c);
        if (entry !== null) out.push(this.blockMap(c, entry));
        else {
          out.push(this.inlineValue(l, c));
          this.i++;
          this.noContinuation(ind);
        }
      }
      const n = this.nextContent();
      if (n < ind) return this.close(out);
      if (n > ind) throw BAIL;
      if (!isSeqItem(this.lines[this.i]!, ind)) {
        if (underKey) return this.close(out);
        throw BAIL;
      }
    }
  }

  /** A block mapping at column `ind`; `first` is the parsed key of its first line (this.i). */
  private blockMap(ind: number, first: Entry): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let entry: Entry | null = first;
    if (++this.depth > MAX_NESTING) throw BAIL;
    for (;;) {
      const l = this.lines[this.i]!;
      const key = entry.key;
      if (key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) throw BAIL; // duplicate: the `yaml` package reports it
      let value: unknown;
      if (entry.valueAt < 0) {
        this.i++;
        value = this.nestedOrNull(ind, true);
      } else {
        value = this.inlineValue(l, entry.valueAt);
        this.i++;
        this.noContinuation(ind);
      }
      out[key] = value;
      const n = this.nextContent();
      if (n < ind) return this.close(out);
      if (n > ind) throw BAIL;
      entry = this.entryAt(this.lines[this.i]!, ind);
      if (entry === null) throw BAIL; // a sequence item or scalar among the keys
    }
  }

  /** Leaves a block collection: one level less open. */
  private close<T>(out: T): T {
    this.depth--;
    return out;
  }

  /** After `key:` or `-` with nothing on the line: the block node below (deeper, or a sequence at the key's column), else null. */
  private nestedOrNull(ind: number, allowSameIndentSeq: boolean): unknown {
    const n = this.nextContent();
    if (n > ind) return this.blockNode(n, ind);
    if (n === ind && allowSameIndentSeq && isSeqItem(this.lines[this.i]!, ind)) return this.blockSeq(ind, true);
    return null;
  }

  /** After a value written on its line: the next content line may not be deeper (a multi-line scalar or an error). */
  private noContinuation(ind: number): void {
    const n = this.nextContent();
    if (n > ind) throw BAIL;
  }

  /**
   * The mapping entry starting at column c of line l: its key and the column of its value (-1 when
   * nothing follows the colon), or null when the line is not `key: ...`.
   */
  private entryAt(l: string, c: number): Entry | null {
    const ch = l[c]!;
    if (ch === '"' || ch === "'") {
      const q = quoted(l, c);
      let k = q.next;
      while (k < l.length && l.charCodeAt(k) === 32) k++;
      if (l.charCodeAt(k) !== 58 /* : */) return null;
      if (k + 1 < l.length && l.charCodeAt(k + 1) !== 32) throw BAIL; // '"a":b'
      if (q.value === '__proto__' || q.value === '<<' || q.value.length > MAX_KEY) throw BAIL;
      return { key: q.value, valueAt: afterColon(l, k + 1) };
    }
    if (!plainStart(l, c)) return null;
    // The key ends at the first ": " or a ":" ending the line (before any " #" comment).
    let k = c;
    for (; k < l.length; k++) {
      const x = l.charCodeAt(k);
      if (x === 58 /* : */ && (k + 1 === l.length || l.charCodeAt(k + 1) === 32)) break;
      if (x === 35 /* # */ && l.charCodeAt(k - 1) === 32) return null;
    }
    if (k === l.length) return null;
    const raw = trimSpaces(l.slice(c, k));
    if (raw.length === 0 || raw.length > MAX_KEY || raw === '<<') throw BAIL; // '<<': a merge key
    const key = resolvePlain(raw);
    if (typeof key !== 'string') throw BAIL; // numbers, booleans, null as keys: let the `yaml` package stringify them
    return { key, valueAt: afterColon(l, k + 1) };
  }

  /** A value written on its line from column c: a flow collection, a quoted or a plain scalar. */
  private inlineValue(l: string, c: number): unknown {
    const ch = l[c]!;
    if (ch === '{' || ch === '[') {
      const r = flow(l, c, this.depth + 1);
      lineEnd(l, r.next);
      return r.value;
    }
    if (ch === '"' || ch === "'") {
      const q = quoted(l, c);
      lineEnd(l, q.next);
      return q.value;
    }
    if (!plainStart(l, c)) throw BAIL;
    let k = c;
    for (; k < l.length; k++) {
      const x = l.charCodeAt(k);
      if (x === 35 /* # */ && l.charCodeAt(k - 1) === 32) break;
      if (x === 58 /* : */ && (k + 1 === l.length || l.charCodeAt(k + 1) === 32)) throw BAIL; // "a: b: c"
    }
    return resolvePlain(trimSpaces(l.slice(c, k)));
  }
}

interface Entry {
  key: string;
  valueAt: number;
}

/** Is there a sequence item `-` (followed by a space or the line's end) at column c? */
function isSeqItem(l: string, c: number): boolean {
  return l.charCodeAt(c) === 45 && (c + 1 === l.length || l.charCodeAt(c + 1) === 32);
}

/** May a plain scalar start at column c? */
function plainStart(l: string, c: number, inFlow = false): boolean {
  const ch = l[c];
  if (ch === undefined || NOT_PLAIN_START.has(ch)) return false;
  if (ch === '-') {
    const nx = l[c + 1];
    return nx !== undefined && nx !== ' ' && !(inFlow && FLOW_INDICATORS.has(nx));
  }
  return true;
}

const FLOW_INDICATORS = new Set([',', '[', ']', '{', '}']);

/** s without leading and trailing spaces (only U+0020: YAML's other white space, tab, is refused). */
function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 32) a++;
  while (b > a && s.charCodeAt(b - 1) === 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Column of the value after a colon at k-1 (which is followed by a space or the line's end), or -1 if only a comment or nothing follows. */
function afterColon(l: string, k: number): number {
  while (k < l.length && l.charCodeAt(k) === 32) k++;
  if (k === l.length || l.charCodeAt(k) === 35 /* # */) return -1;
  return k;
}

/** The rest of a line after a value: spaces, then nothing or a comment. */
function lineEnd(l: string, k: number): void {
  const k0 = k;
  while (k < l.length && l.charCodeAt(k) === 32) k++;
  if (k === l.length) return;
  if (l.charCodeAt(k) === 35 && k > k0) return;
  throw BAIL;
}

/** A quoted scalar closed on this line, without escapes other than '' in single quotes. */
function quoted(l: string, c: number): { value: string; next: number } {
  const q = l[c]!;
  if (q === '"') {
    const e = l.indexOf('"', c + 1);
    if (e < 0) throw BAIL;
    const v = l.slice(c + 1, e);
    if (v.includes('\\')) throw BAIL;
    return { value: v, next: e + 1 };
  }
  let v = '';
  let k = c + 1;
  for (;;) {
    const e = l.indexOf("'", k);
    if (e < 0) throw BAIL;
    v += l.slice(k, e);
    if (l[e + 1] === "'") {
      v += "'";
      k = e + 2;
      continue;
    }
    return { value: v, next: e + 1 };
  }
}

/**
 * A plain scalar inside a flow collection from column c, ending as the `yaml` package's lexer ends
 * it: before a flow indicator, a ':' followed by a space, the line's end or a flow indicator, or a
 * " #" comment.
 */
function flowPlain(l: string, c: number): { value: unknown; next: number } {
  if (!plainStart(l, c, true)) throw BAIL;
  let k = c;
  for (; k < l.length; k++) {
    const x = l[k]!;
    if (FLOW_INDICATORS.has(x)) break;
    if (x === ':') {
      const nx = l[k + 1];
      if (nx === undefined || nx === ' ' || FLOW_INDICATORS.has(nx)) break;
    } else if (x === ' ' && l[k + 1] === '#') break;
  }
  const raw = trimSpaces(l.slice(c, k));
  if (raw.length === 0) throw BAIL;
  return { value: resolvePlain(raw), next: k };
}

function skipSpaces(l: string, k: number): number {
  while (k < l.length && l.charCodeAt(k) === 32) k++;
  return k;
}

/** A flow scalar or collection at column c (after spaces). */
function flowNode(l: string, c: number, depth: number): { value: unknown; next: number } {
  const ch = l[c];
  if (ch === '{' || ch === '[') return flow(l, c, depth + 1);
  if (ch === '"' || ch === "'") return quoted(l, c);
  return flowPlain(l, c);
}

/** A flow mapping or sequence opened at column c and closed on this line, `depth` collections deep (itself included). */
function flow(l: string, c: number, depth: number): { value: unknown; next: number } {
  if (depth > MAX_NESTING) throw BAIL;
  let k = skipSpaces(l, c + 1);
  if (l[c] === '[') {
    const out: unknown[] = [];
    if (l[k] === ']') return { value: out, next: k + 1 };
    for (;;) {
      const v = flowNode(l, k, depth);
      out.push(v.value);
      k = skipSpaces(l, v.next);
      const x = l[k];
      if (x === ']') return { value: out, next: k + 1 };
      if (x !== ',') throw BAIL; // a pair in a sequence, a comment, the line's end
      k = skipSpaces(l, k + 1);
      if (l[k] === ']' || l[k] === ',') throw BAIL; // trailing or empty entries
    }
  }
  const out: Record<string, unknown> = {};
  if (l[k] === '}') return { value: out, next: k + 1 };
  for (;;) {
    const ch = l[k];
    if (ch === '{' || ch === '[') throw BAIL;
    const kv = ch === '"' || ch === "'" ? quoted(l, k) : flowPlain(l, k);
    const key = kv.value;
    if (typeof key !== 'string' || key.length > MAX_KEY || key === '__proto__' || key === '<<' || Object.prototype.hasOwnProperty.call(out, key)) throw BAIL;
    k = skipSpaces(l, kv.next);
    if (l[k] !== ':' || l[k + 1] !== ' ') throw BAIL; // a key without a value, "a:b"
    k = skipSpaces(l, k + 1);
    const v = flowNode(l, k, depth);
    out[key] = v.value;
    k = skipSpaces(l, v.next);
    const x = l[k];
    if (x === '}') return { value: out, next: k + 1 };
    if (x !== ',') throw BAIL;
    k = skipSpaces(l, k + 1);
    if (l[k] === '}' || l[k] === ',') throw BAIL;
  }
}
