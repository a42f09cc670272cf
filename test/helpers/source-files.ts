// test/helpers/source-files — the TypeScript sources under a folder, for the architecture tests.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every .ts file (not .d.ts) below `dir`, sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}
