// core/user-error — user-facing input errors (scenario files, manifests, iptables-save text, flags):
// one line each, clang style `file:line:col: field: message`.
// Layer: core (imports nothing), so every layer that reads user input can report through it.

/** One problem in a user's input file. */
export interface UserError {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field (`spec.hosts[1].routes[0].via`), or '' for the document. */
  field: string;
  message: string;
}

/** Longest piece of user text echoed in a message; longer text is cut with an ellipsis and its length. */
export const MAX_ECHO_CHARS = 160;

// C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text on a terminal
// (bidi embeddings, overrides and isolates, zero-width and line/paragraph separators, BOM).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Makes user text safe to print on one terminal line: control and bidi characters are escaped
 * (`\n`, `\x1b`, `\u202e`), and text longer than MAX_ECHO_CHARS is cut with "… (N chars)".
 */
export function terminalSafe(text: string): string {
  let t = text;
  const n = [...t].length;
  if (n > MAX_ECHO_CHARS) t = `${[...t].slice(0, MAX_ECHO_CHARS).join('')}… (${n} chars)`;
  return t.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Formats an error on one line; the file name, field and message are made terminal-safe. */
export function formatUserError(e: UserError): string {
  const field = e.field ? `${terminalSafe(e.field)}: ` : '';
  return `${terminalSafe(e.file)}:${e.line}:${e.col}: ${field}${terminalSafeMessage(e.message)}`;
}

/** A message may quote several user values; each line of it is escaped, and the whole is cut at 4× the echo limit. */
function terminalSafeMessage(m: string): string {
  const safe = m.replace(UNSAFE, (c) => terminalSafe(c));
  const limit = MAX_ECHO_CHARS * 4;
  const n = [...safe].length;
  return n > limit ? `${[...safe].slice(0, limit).join('')}… (${n} chars)` : safe;
}

/** Thrown when input is invalid; carries every problem found. The CLI prints them, one per line. */
export class ScenarioError extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map(formatUserError).join('\n'));
    this.name = 'ScenarioError';
  }
}

/**
 * An error at a position of a text the user gave (an iptables-save dump, ipset restore text): file,
 * 1-based line and column, and a one-line detail; its message is `file:line:col: detail`.
 */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'InputError';
  }
}

/** Formats a path of keys and indexes as `a.b[2].c`. */
export function formatPath(path: readonly (string | number)[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? p : `.${p}`;
  }
  return s;
}
