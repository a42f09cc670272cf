// test/scenario/cli-run — runs the compiled CLI as a user would (`node dist/src/cli/main.js ARGS`, from the repository's
// root, PODWIRE_DEBUG unset so errors are the user's one-liners) and checks that what it printed holds no stack trace.
// Shared by the tests that drive the CLI (cli, guards, hostile-input, cloud-lb-cli, capture's cli-flags).
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { CLI, ROOT } from './dist.js';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
  /** stderr's non-empty lines. */
  errLines: string[];
}

/** `podwire ARGS` with extra environment variables; at most 120 s. */
export function podwireEnv(env: Record<string, string>, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PODWIRE_DEBUG: '', CI: '1', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr, errLines: r.stderr.split('\n').filter((l) => l !== '') };
}

/** `podwire ARGS`; at most 120 s. */
export function podwire(...args: string[]): CliResult {
  return podwireEnv({}, ...args);
}

/** No stack frame, no internal error, no raw Error or ZodError text in what the CLI printed. */
export function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .+[:(]\d+:\d+\)?$/m);
  expect(stderr).not.toMatch(/internal error|Error:|ZodError/);
}
