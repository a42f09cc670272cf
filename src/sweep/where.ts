// sweep/where — where a problem found in a variant's scenario text comes from: the value a variants file
// set (its file:line:col), or the scenario file itself. Layer: sweep (the yaml package only).
//
// A variant's text is the scenario re-printed by the yaml package with values replaced, so its lines are
// not the file's (a flow map set as a block one adds lines). A position in it is turned into a trail of
// keys (`spec`, `cluster`, `kubeProxy`, `scheduler`), and the trail is looked up where the value came from.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';

export type Key = string | number;

/** Keys from a node down to the deepest node holding an offset; `onKey`: the offset is on a map key. */
export interface Trail {
  keys: Key[];
  onKey: boolean;
}

type Ranged = { range?: [number, number, number] | null };
const holds = (n: unknown, off: number): boolean => {
  const r = (n as Ranged | null)?.range;
  return !!r && off >= r[0] && off < Math.max(r[1], r[0] + 1);
};
const keyOf = (k: unknown): Key | null => {
  const v = isScalar(k) ? k.value : k;
  return typeof v === 'string' || typeof v === 'number' ? v : null;
};

/** The trail from `node` down to `offset` (null when `node` does not hold it). */
export function trailTo(node: unknown, offset: number): Trail | null {
  if (!holds(node, offset)) return null;
  const keys: Key[] = [];
  let cur = node;
  for (;;) {
    let next: unknown = null;
    if (isMap(cur)) {
      for (const p of cur.items) {
        const k = keyOf(p.key);
        if (k === null) continue;
        if (holds(p.key, offset)) return { keys: [...keys, k], onKey: true };
        if (holds(p.value, offset)) {
          keys.push(k);
          next = p.value;
          break;
        }
      }
    } else if (isSeq(cur)) {
      const i = cur.items.findIndex((it) => holds(it, offset));
      if (i >= 0) {
        keys.push(i);
        next = cur.items[i];
      }
    }
    if (next === null) return { keys, onKey: false };
    cur = next;
  }
}

/** The offset of what `trail` names under `node` (its key when `onKey`), or of the deepest part of it there is. */
export function offsetOf(node: unknown, trail: Trail): number | null {
  let cur = node;
  let at = (node as Ranged | null)?.range?.[0] ?? null;
  for (let i = 0; i < trail.keys.length; i++) {
    const k = trail.keys[i]!;
    const pair = isMap(cur) ? cur.items.find((p) => keyOf(p.key) === k) : undefined;
    const next = isSeq(cur) && typeof k === 'number' ? cur.items[k] : pair?.value;
    if (pair && trail.onKey && i === trail.keys.length - 1) return (pair.key as Ranged).range?.[0] ?? at;
    if (next === undefined || next === null || isPair(next)) return at;
    cur = next;
    at = (cur as Ranged).range?.[0] ?? at;
  }
  return at;
}

/** A YAML stream parsed with its line counter: offsets ⇄ line:col and the document holding an offset. */
export class PositionedYaml {
  readonly lc = new LineCounter();
  readonly docs: Document.Parsed[];

  constructor(text: string) {
    const docs = parseAllDocuments(text, { lineCounter: this.lc, uniqueKeys: false });
    this.docs = Array.isArray(docs) ? docs : [];
  }

  /** The offset of 1-based `line`:`col` (null past the end). */
  offset(line: number, col: number): number | null {
    const start = this.lc.lineStarts[line - 1];
    return start === undefined ? null : start + col - 1;
  }

  /** The document holding `offset` and the trail to it in that document. */
  locate(offset: number): { doc: number; trail: Trail } | null {
    for (let i = 0; i < this.docs.length; i++) {
      const trail = trailTo(this.docs[i]!.contents, offset);
      if (trail !== null) return { doc: i, trail };
    }
    return null;
  }

  /** 1-based line and column of `offset`. */
  pos(offset: number): { line: number; col: number } {
    return this.lc.linePos(offset);
  }
}
