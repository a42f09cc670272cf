// Architecture: size limits that keep the code readable and the packet path reviewable.
//
//   - no file in src/ over 600 lines;
//   - no function over 80 lines on the packet path (wire, packet, link, netfilter, net, transport) nor in
//     the layers above it, except the parsers, renderers and tables named in EXEMPT, each with its reason.
//
// A failure lists every offender as `file:line name (N lines)`, so the rule stays visible. Functions are
// found with @babel/parser's TypeScript AST (function declarations and expressions, arrows, methods);
// a function's length runs from its first to its last line.
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from '@babel/parser';
import { describe, expect, it } from 'vitest';
import { tsFiles } from '../helpers/source-files.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 80;

/** Functions allowed to be longer, by `file:name`, with the reason. Keep this list short. */
const EXEMPT: Record<string, string> = {
  'src/cli/commands.ts:main': 'the yargs command table: one builder per command, no logic of its own',
  'src/link/bridge.ts:portReceive': "br_handle_frame with its two FDB probes written out: inlined, they took V8's inlining budget (bench/README, s44-br)",
};

interface Fn {
  file: string;
  line: number;
  name: string;
  lines: number;
}

type Node = { type: string; loc?: { start: { line: number }; end: { line: number } }; [k: string]: unknown };
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassMethod', 'ClassPrivateMethod', 'ObjectMethod']);

function keyName(k: unknown): string | null {
  const n = k as { type?: string; name?: string; value?: unknown } | null;
  if (!n) return null;
  if (n.type === 'Identifier' || n.type === 'PrivateName') return n.name ?? ((n as { id?: { name?: string } }).id?.name ?? null);
  if (n.type === 'StringLiteral') return String(n.value);
  return null;
}

/** Every function-like node of a file with a name: its own, its variable's, its property's or its method's. */
export function functionsOf(file: string): Fn[] {
  const ast = parse(readFileSync(file, 'utf8'), { sourceType: 'module', plugins: ['typescript'] });
  const out: Fn[] = [];
  const rel = relative(ROOT, file);
  const visit = (node: unknown, hint: string | null): void => {
    if (Array.isArray(node)) {
      for (const c of node) visit(c, hint);
      return;
    }
    if (node === null || typeof node !== 'object' || typeof (node as Node).type !== 'string') return;
    const n = node as Node;
    let nextHint = hint;
    if (n.type === 'VariableDeclarator') nextHint = keyName(n['id']);
    else if (n.type === 'ObjectProperty' || n.type === 'ClassProperty') nextHint = keyName(n['key']);
    if (FUNCTION_TYPES.has(n.type) && n.loc) {
      const name = keyName(n['id']) ?? keyName(n['key']) ?? hint ?? '<anonymous>';
      out.push({ file: rel, line: n.loc.start.line, name, lines: n.loc.end.line - n.loc.start.line + 1 });
      nextHint = null;
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'loc' || k === 'start' || k === 'end' || k === 'leadingComments' || k === 'trailingComments') continue;
      if (v !== null && typeof v === 'object') visit(v, nextHint);
    }
  };
  visit(ast.program, null);
  return out;
}

const files = tsFiles(SRC);

describe('size limits', () => {
  it(`no file in src/ is over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f: relative(ROOT, f), n: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.n > MAX_FILE_LINES)
      .map((x) => `${x.f}: ${x.n} lines`);
    expect(long, long.join('\n')).toEqual([]);
  });

  it(`no function is over ${MAX_FUNCTION_LINES} lines (exemptions named, with a reason)`, () => {
    const long = files
      .flatMap(functionsOf)
      .filter((fn) => fn.lines > MAX_FUNCTION_LINES && EXEMPT[`${fn.file}:${fn.name}`] === undefined)
      .map((fn) => `${fn.file}:${fn.line} ${fn.name} (${fn.lines} lines)`);
    expect(long, long.join('\n')).toEqual([]);
  });

  it('every exemption still names a long function (stale exemptions are removed)', () => {
    const all = new Map(files.flatMap(functionsOf).map((fn) => [`${fn.file}:${fn.name}`, fn.lines]));
    const stale = Object.keys(EXEMPT).filter((k) => (all.get(k) ?? 0) <= MAX_FUNCTION_LINES);
    expect(stale).toEqual([]);
  });

  it('finds functions of every shape (the detector itself)', () => {
    const fns = functionsOf(join(ROOT, 'test/arch/sizes.test.ts')).map((f) => f.name);
    expect(fns).toEqual(expect.arrayContaining(['keyName', 'functionsOf', 'visit']));
  });
});
