// cli/interruptible — signals during the synchronous part of a command (reading the scenario, building
// the world). Layer: cli. The build is one synchronous call of seconds on a big cluster: no JavaScript
// signal handler runs until it returns, and without one Node dies of the signal silently. SIGINT stops it
// at once: the call runs under V8's SIGINT watchdog (node:vm's breakOnSigint, what the REPL uses for
// Ctrl-C), which terminates the JavaScript in progress. SIGTERM has no watchdog in Node: it is taken by a
// listener and acted on as soon as the call returns. Either way one line says so, nothing is written
// (nothing is open yet) and the exit code is 130 / 143.
import vm from 'node:vm';
import { CliError } from './run.js';
import { onSignal, SIGNAL_EXIT, stoppedLine, type Signal } from './signals.js';

const SLOT = Symbol.for('podwire.interruptible');
/** Calls the function in the global slot: evaluated under the watchdog, so the whole call is interruptible. */
const CALL = new vm.Script(`globalThis[Symbol.for('podwire.interruptible')]()`, { filename: 'podwire-interruptible' });

/** The one line (and exit code) for a signal that stopped `what` (e.g. "building the world"). */
export function interruptedError(signal: Signal, what: string): CliError {
  return new CliError(stoppedLine(signal, what), SIGNAL_EXIT[signal]);
}

/**
 * Runs `fn` so that SIGINT interrupts it and SIGTERM is acted on when it returns; either way a CliError
 * (130 / 143, "stopped by SIGxxx while WHAT; nothing written"). `onStop` runs first (e.g. to clear a
 * progress line). A signal's listener runs on the event loop's next look at its descriptors: after `fn`
 * returns, two turns of the loop are let run before the answer, so one that came during `fn` is seen.
 */
export async function interruptible<T>(what: string, fn: () => T, onStop?: () => void): Promise<T> {
  let signal: Signal | null = null;
  const release = onSignal((s) => (signal ??= s));
  const g = globalThis as unknown as Record<symbol, (() => unknown) | undefined>;
  g[SLOT] = fn;
  try {
    let result: T;
    try {
      result = CALL.runInThisContext({ breakOnSigint: true }) as T;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_INTERRUPTED') throw e;
      signal = 'SIGINT';
    } finally {
      g[SLOT] = undefined;
    }
    for (let i = 0; i < 2 && signal === null; i++) await new Promise<void>((r) => setImmediate(r));
    if (signal !== null) {
      onStop?.();
      throw interruptedError(signal, what);
    }
    return result!;
  } finally {
    release();
  }
}
