// core/zod-messages — zod's fallback wording for a value of the wrong type, in a user's words: every
// schema of a scenario, a manifest or an output file reads as `field: missing: expected a mapping` or
// `field: expected a string, got a list`, not zod's "Invalid input: expected object, received undefined".
// Messages a schema gives itself win over these (zod's precedence). Layer: core; importing this module
// installs them (k8s/manifests and scenario/schema-base import it).
import { z } from 'zod';

const NOUN: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  set: 'a list',
  null: 'null',
};

/** What a YAML value is, in the words of a message. */
export function yamlTypeOf(v: unknown): string {
  if (v === null) return 'an empty value (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? 'a number' : `${v < 0 ? '-' : ''}infinity (a number past the largest double)`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v;
}

/** A value as a message quotes it: a short string in quotes, else its type. */
function shown(v: unknown): string {
  if (typeof v === 'string') return v.length <= 40 ? JSON.stringify(v) : 'a string';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return yamlTypeOf(v);
}

interface Issue {
  code?: string;
  expected?: string;
  input?: unknown;
  values?: readonly unknown[];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  options?: readonly unknown[];
  discriminator?: string;
  errors?: readonly (readonly { code?: string; expected?: string; path?: readonly PropertyKey[] }[])[];
}

/** The message of a wrong-typed value, a value not among the allowed ones, or a number out of range; undefined leaves zod's own. */
export function typeMessage(iss: Issue): string | undefined {
  if (iss.code === 'invalid_type' && iss.expected !== undefined) {
    const want = NOUN[iss.expected] ?? iss.expected;
    if (typeof iss.input === 'number' && !Number.isFinite(iss.input) && !Number.isNaN(iss.input)) return `expected a finite number, got ${yamlTypeOf(iss.input)}`;
    return iss.input === undefined ? `missing: expected ${want}` : `expected ${want}, got ${yamlTypeOf(iss.input)}`;
  }
  if (iss.code === 'invalid_value' && iss.values !== undefined && iss.values.length > 0) {
    const want = iss.values.length === 1 ? JSON.stringify(iss.values[0]) : `one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    return iss.input === undefined ? `missing: expected ${want}` : `expected ${want}, got ${shown(iss.input)}`;
  }
  if (iss.code === 'invalid_union' && iss.discriminator !== undefined && iss.options !== undefined && iss.options.length > 0) {
    const v = iss.input !== null && typeof iss.input === 'object' ? (iss.input as Record<string, unknown>)[iss.discriminator] : undefined;
    const want = `one of ${iss.options.map((o) => JSON.stringify(o)).join(', ')}`;
    return v === undefined ? `missing: expected ${want}` : `expected ${want}, got ${shown(v)}`;
  }
  if (iss.code === 'invalid_union' && iss.errors !== undefined && iss.errors.length > 0) {
    // Every alternative refused the value's type (a duration: a number or a string, given a list).
    const wants = iss.errors.map((alt) => (alt.length === 1 && alt[0]!.code === 'invalid_type' && (alt[0]!.path ?? []).length === 0 ? alt[0]!.expected : undefined));
    if (wants.every((w) => w !== undefined)) {
      const inf = typeof iss.input === 'number' && !Number.isFinite(iss.input) && !Number.isNaN(iss.input);
      const nouns = [...new Set(wants.map((w) => (inf && w === 'number' ? 'a finite number' : (NOUN[w!] ?? w!))))];
      return iss.input === undefined ? `missing: expected ${nouns.join(' or ')}` : `expected ${nouns.join(' or ')}, got ${yamlTypeOf(iss.input)}`;
    }
  }
  const bound = iss.code === 'too_big' ? iss.maximum : iss.code === 'too_small' ? iss.minimum : undefined;
  if (bound === undefined) return undefined;
  const big = iss.code === 'too_big';
  const words = big ? (iss.inclusive === false ? 'below' : 'at most') : iss.inclusive === false ? 'above' : 'at least';
  if (iss.origin === 'number' || iss.origin === 'int' || iss.origin === 'bigint') return `${words} ${bound}, got ${shown(iss.input)}`;
  const n = typeof iss.input === 'string' || Array.isArray(iss.input) ? iss.input.length : undefined;
  if (iss.origin === 'string') return n === 0 ? `${words} ${bound} character${bound === 1 ? '' : 's'}, got an empty string` : `${words} ${bound} characters, got ${n}`;
  if (iss.origin === 'array') return `${words} ${bound} item${bound === 1 ? '' : 's'}, got ${n === 0 ? 'an empty list' : n}`;
  return undefined;
}

z.config({ customError: (iss) => typeMessage(iss as Issue) });
