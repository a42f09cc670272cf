// test/global-setup — vitest globalSetup: compile once (npm run build) before any test file runs, so
// tests that spawn `node dist/src/cli/main.js` or read dist/ see the current sources.
// Register in vitest.config.ts: test: { globalSetup: ['test/global-setup.ts'], ... }
//
// It also gives the run one scratch directory: TMPDIR points into it (os.tmpdir() reads TMPDIR, and
// the forked workers inherit the environment), and the teardown removes it, so the tests' mkdtemp
// directories, the CLI's spawned runs and a test killed by its timeout leave nothing in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './scenario/dist.js';

export default function setup(): () => void {
  ensureBuilt();
  const outer = process.env.TMPDIR;
  const scratch = mkdtempSync(join(tmpdir(), 'podwire-test-'));
  process.env.TMPDIR = scratch;
  return () => {
    if (outer === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outer;
    rmSync(scratch, { recursive: true, force: true });
  };
}
