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

/** Formats an error on one line. */
export function formatUserError(e: UserError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** Thrown when input is invalid; carries every problem found. The CLI prints them, one per line. */
export class ScenarioError extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map(formatUserError).join('\n'));
    this.name = 'ScenarioError';
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
