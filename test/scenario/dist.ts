// test/scenario/dist — makes sure dist/ (the compiled CLI) is not older than the sources before a test
// spawns `node dist/src/cli/main.js`. test/global-setup.ts calls it once per vitest run; tests that
// spawn the CLI call it again in beforeAll (a cheap mtime check) so they also work when run alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** True when dist/src/cli/main.js is missing or older than some file under src/ or bench/. */
export function distIsStale(): boolean {
  if (!existsSync(CLI)) return true;
  const built = statSync(CLI).mtimeMs;
  return newestMtime(join(ROOT, 'src')) > built || (existsSync(join(ROOT, 'bench')) && newestMtime(join(ROOT, 'bench')) > built);
}

/**
 * Runs `npm run build` when dist is stale. tsc emits even when another engineer's work in progress
 * has type errors, so a failing type check is reported but only a missing CLI is fatal.
 */
export function ensureBuilt(): void {
  if (!distIsStale()) return;
  // Test files run in parallel forks: one builds, the others wait for it (a mkdir lock), then re-check.
  const lock = join(ROOT, 'dist', '.podwire-test-build.lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`waited 180 s for another test's build (${lock}); remove it if stale`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!distIsStale()) return;
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) process.stderr.write(`test/scenario/dist: npm run build exited ${r.status} (type errors elsewhere?):\n${r.stdout}${r.stderr}\n`);
    if (!existsSync(CLI)) throw new Error(`npm run build produced no ${CLI}`);
  } finally {
    rmdirSync(lock);
  }
}
