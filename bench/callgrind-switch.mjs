// bench/callgrind-switch — turns callgrind's instrumentation of this process on or off (run under
// `valgrind --tool=callgrind --instr-atstart=no`), for the scripts that measure only a part of a run
// (callgrind-run.mjs, h1-window.mjs, scale-window.mjs). callgrind_control is answered only while the guest
// runs, so the switch is sent from a detached shell and this process spins until that shell is done.
import { spawn } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Switches the instrumentation `on` or off; returns once callgrind has taken the command. */
export function instrument(on, tag = 'callgrind-switch') {
  const done = join(tmpdir(), `${tag}.${process.pid}`);
  spawn('sh', ['-c', `callgrind_control -i ${on ? 'on' : 'off'} ${process.pid} >/dev/null 2>&1; touch ${done}`], { stdio: 'ignore', detached: true }).unref();
  while (!existsSync(done)) {
    // (spin: valgrind reads its command file only while this process runs)
  }
  unlinkSync(done);
}
