// Architecture: every import in src/**/*.ts respects the layer order
//
//   core → wire → packet → link → netfilter → net → transport → app → k8s → scenario → sweep → report → cli
//
// (a module may import its own layer and layers to its left, never one to its right), and the
// observers capture and stats import only core, wire and packet (stats also hdr-histogram-js and zod; both may
// use node: builtins). The datapath (link … transport) never imports an observer (habit 8); app and
// the layers after it may. A failure lists every offending `file:line: import` with the rule it breaks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsFiles } from '../helpers/source-files.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

export const LAYERS = ['core', 'wire', 'packet', 'link', 'netfilter', 'net', 'transport', 'app', 'k8s', 'scenario', 'sweep', 'report', 'cli'] as const;
const OBSERVERS = ['capture', 'stats'] as const;
/** Layers that may import an observer (everything right of the datapath). */
const OBSERVER_USERS = new Set(['app', 'k8s', 'scenario', 'sweep', 'report', 'cli']);
/** Packages an observer may import besides node: builtins. */
const OBSERVER_PACKAGES: Record<string, Set<string>> = { capture: new Set(), stats: new Set(['hdr-histogram-js', 'zod']) };

/** Blanks out comments (keeping newlines, so line numbers stay right). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}

export interface ImportSite {
  file: string; // relative to the repo root
  line: number;
  spec: string;
}

/** Every static import/export-from, side-effect import and dynamic import() of a file. */
export function importsOf(file: string): ImportSite[] {
  const text = stripComments(readFileSync(file, 'utf8'));
  const re = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*${},\s]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: ImportSite[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const spec = (m[1] ?? m[2])!;
    const at = m.index + m[0].indexOf(spec);
    const line = text.slice(0, at).split('\n').length;
    out.push({ file: relative(ROOT, file), line, spec });
  }
  return out;
}

/** src/<top>/... → top, or null for files directly under src/. */
function topOf(absPath: string): string | null {
  const rel = relative(SRC, absPath);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0]! : null;
}

/** Why an import breaks the architecture, or null when it is fine. */
export function violation(fromLayer: string, site: ImportSite, absFile: string): string | null {
  const spec = site.spec;
  const isObserver = (OBSERVERS as readonly string[]).includes(fromLayer);
  if (!spec.startsWith('.')) {
    if (!isObserver) return null;
    if (spec.startsWith('node:')) return null;
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    return OBSERVER_PACKAGES[fromLayer]!.has(pkg) ? null : `observer ${fromLayer} may not import package "${pkg}"`;
  }
  const target = topOf(resolve(dirname(absFile), spec));
  if (target === null || target === fromLayer) return null;
  if (isObserver) {
    return ['core', 'wire', 'packet'].includes(target) ? null : `observer ${fromLayer} may import only core, wire, packet (not ${target})`;
  }
  if ((OBSERVERS as readonly string[]).includes(target)) {
    return OBSERVER_USERS.has(fromLayer) ? null : `${fromLayer} is datapath or below and may not import the observer ${target}`;
  }
  const from = (LAYERS as readonly string[]).indexOf(fromLayer);
  const to = (LAYERS as readonly string[]).indexOf(target);
  if (to < 0) return `unknown layer "${target}" (add it to the layer list or the observers)`;
  if (from < 0) return `module in unknown layer "${fromLayer}"`;
  return to > from ? `${fromLayer} imports ${target}, a layer to its right` : null;
}

describe('layering of src/', () => {
  const files = tsFiles(SRC);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('no module imports from a layer to its right, and observers import only core, wire, packet', () => {
    const problems: string[] = [];
    for (const f of files) {
      const layer = topOf(f);
      if (layer === null) continue;
      for (const site of importsOf(f)) {
        const why = violation(layer, site, f);
        if (why !== null) problems.push(`${site.file}:${site.line}: import '${site.spec}' — ${why}`);
      }
    }
    expect(problems, `\n${problems.join('\n')}\n`).toEqual([]);
  });

  it('every folder of src/ is a known layer or observer', () => {
    const tops = [...new Set(files.map(topOf).filter((t): t is string => t !== null))].sort();
    const known = new Set<string>([...LAYERS, ...OBSERVERS]);
    expect(tops.filter((t) => !known.has(t))).toEqual([]);
  });
});

describe('the checker itself', () => {
  const f = join(SRC, 'net', 'x.ts');
  const at = (spec: string): ImportSite => ({ file: 'src/net/x.ts', line: 1, spec });

  it('flags an import to the right and names both layers', () => {
    expect(violation('net', at('../app/ping.js'), f)).toBe('net imports app, a layer to its right');
  });
  it('allows an import to the left, within a layer, and packages', () => {
    expect(violation('net', at('../link/veth.js'), f)).toBeNull();
    expect(violation('net', at('./fib.js'), f)).toBeNull();
    expect(violation('net', at('yaml'), f)).toBeNull();
  });
  it('forbids the datapath from importing an observer, allows app', () => {
    expect(violation('net', at('../capture/pcapng.js'), f)).toMatch(/may not import the observer capture/);
    expect(violation('app', at('../stats/flow.js'), join(SRC, 'app', 'x.ts'))).toBeNull();
  });
  it('restricts observers to core, wire, packet and their allowed packages', () => {
    const c = join(SRC, 'capture', 'x.ts');
    expect(violation('capture', at('../link/device.js'), c)).toMatch(/observer capture may import only/);
    expect(violation('capture', at('node:fs'), c)).toBeNull();
    expect(violation('capture', at('yaml'), c)).toMatch(/may not import package "yaml"/);
    expect(violation('stats', at('hdr-histogram-js'), join(SRC, 'stats', 'x.ts'))).toBeNull();
  });
  it('parses multi-line, type-only, re-export, side-effect and dynamic imports with their line numbers', () => {
    const text = "import {\n  a,\n  b,\n} from '../x/a.js';\nimport type { T } from '../x/t.js';\nexport * from '../x/e.js';\nimport '../x/side.js';\n// import '../x/commented.js';\nconst m = await import('../x/dyn.js');\n";
    const dir = mkdtempSync(join(tmpdir(), 'podwire-arch-'));
    const fake = join(dir, 'fixture.ts');
    writeFileSync(fake, text);
    try {
      expect(importsOf(fake).map((s) => `${s.line} ${s.spec}`)).toEqual(['4 ../x/a.js', '5 ../x/t.js', '6 ../x/e.js', '7 ../x/side.js', '9 ../x/dyn.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
