// A signal at every moment of `podwire run` (spawned as a user runs it) says one line and exits 130 / 143,
// with outputs whole or absent. The moments are made to last: a module-loading hook (node:module
// register, given to the child with --import) holds the load of one chosen module until the test has
// sent its signal, so the test knows which moment it hit without timing anything.
//
//   test ──spawn──► node --import hold.mjs dist/src/cli/main.js run …
//                       └─ hook: load(…/<module>) → writes MARKER, waits ─► test sees MARKER, sends the signal
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT } from '../scenario/dist.js';

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'podwire-signals-'));
  // The hook: the load of a URL ending in `module` writes `marker`, then waits for `marker`.go (a minute at most).
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { existsSync, writeFileSync } from 'node:fs';
let hold = null;
export function initialize(data) { hold = data; }
export async function load(url, context, next) {
  if (url.endsWith(hold.module)) {
    writeFileSync(hold.marker, url);
    for (let i = 0; i < 6000 && !existsSync(hold.marker + '.go'); i++) await new Promise((r) => setTimeout(r, 10));
  }
  return next(url, context);
}
`,
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  errLines: string[];
}

/** `podwire ARGS` with the load of `module` (a path under dist/src) held; `s` sent once it is, then the load let go. */
function signalWhileLoading(module: string, s: NodeJS.Signals, args: string[]): Promise<Ended> {
  const tag = `${module.replace(/\W/g, '_')}-${s}`;
  const marker = join(dir, `${tag}.loading`);
  const register = join(dir, `${tag}.register.mjs`);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: ${JSON.stringify({ module: `/dist/src/${module}`, marker })} });\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...args], { cwd: ROOT, env: { ...process.env, CI: '1', PODWIRE_DEBUG: '' } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      if (existsSync(marker)) {
        clearInterval(poll);
        child.kill(s);
        writeFileSync(`${marker}.go`, '');
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`${module} was never loaded`));
      }
    }, 10);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, errLines: err.split('\n').filter((l) => l !== '') });
    });
  });
}

describe('a signal while podwire run loads its modules', () => {
  // The silent window of the audit: the entry's static imports (yargs, cli/run and what it imports) were
  // loaded before any of its code ran, so no listener existed and Node died of the signal saying nothing.
  for (const [s, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${s}: one line, exit ${code}, nothing written`, async () => {
      const out = join(dir, `loading-${s}`);
      const r = await signalWhileLoading('cli/run.js', s, ['run', join(ROOT, 'scenarios/pod-to-pod.yaml'), '--out', out, '--quiet']);
      expect(r).toEqual({ code, signal: null, errLines: [`podwire: stopped by ${s} while starting; nothing written`] });
      expect(existsSync(out)).toBe(false);
    }, 90_000);
  }
});

describe('a signal once the simulation has ended', () => {
  // The report's modules load after stats.json is written: a signal then stopped nothing, and the exit
  // code (130) was the only trace of it.
  it('SIGINT while the report is prepared: exit 130, one line saying the outputs are complete', async () => {
    const out = join(dir, 'after-run');
    const r = await signalWhileLoading('report/write.js', 'SIGINT', ['run', join(ROOT, 'scenarios/pod-to-pod.yaml'), '--seed', '7', '--out', out, '--quiet']);
    expect(r).toEqual({ code: 130, signal: null, errLines: ['podwire: SIGINT came after the run had ended; the outputs are complete'] });
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { stop: string; partial?: unknown };
    expect(stats.partial).toBeUndefined();
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  }, 90_000);
});
