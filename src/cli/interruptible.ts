// cli/interruptible — signals during the synchronous part of a command (reading the scenario, building
// the world). Layer: cli. The build is one synchronous call of seconds on a big cluster: no JavaScript
// signal handler runs until it returns, and without one Node dies of the signal silently. SIGINT stops it
// at once: the call runs under V8's SIGINT watchdog (node:vm's breakOnSigint, what the REPL uses for
// Ctrl-C), which terminates the JavaScript in progress. SIGTERM has no watchdog in Node: it is taken by a
// listener and acted on as soon as the call returns. Either way one line says so, nothing is written
// (nothing is open yet) and the exit code is 130 / 143.
import vm from 'node:vm';
import { CliError, EXIT, type Signal } from './run.js';

const SLOT = Symbol.for('podwire.interruptible');
/** Calls the function in the global slot: evaluated under the watchdog, so the whole call is interruptible. */
const CALL = new vm.Script(`globalThis[Symbol.for('podwire.interruptible')]()`, { filename: 'podwire-interruptible' });

/** The one line (and exit code) for a signal that stopped `what` (e.g. "building the world"). */
export function interruptedError(signal: Signal, what: string): CliError {
  return new CliError(`stopped by ${signal} while ${what}; nothing written`, signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
}

/**
 * Runs `fn` so that SIGINT interrupts it and SIGTERM is acted on when it returns; either way a CliError
 * (130 / 143, "stopped by SIGxxx while WHAT; nothing written"). `onStop` runs first (e.g. to clear a
 * progress line). A signal's listener runs on the event loop's next look at its descriptors: after `fn`
 * returns, two turns of the loop are let run before the answer, so one that came during `fn` is seen.
 */
export async function interruptible<T>(what: string, fn: () => T, onStop?: () => void): Promise<T> {
  let signal: Signal | null = null;
  const on = { SIGINT: () => (signal ??= 'SIGINT'), SIGTERM: () => (signal ??= 'SIGTERM') };
  process.on('SIGINT', on.SIGINT);
  process.on('SIGTERM', on.SIGTERM);
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
    process.off('SIGINT', on.SIGINT);
    process.off('SIGTERM', on.SIGTERM);
  }
}

/**
 * Until the returned function is called, SIGINT / SIGTERM print the one line for `what` and exit at once
 * (130 / 143): for the moments before a command has anything to stop (loading its modules).
 */
export function exitOnSignal(what: string): () => void {
  const on = (s: Signal) => () => {
    const e = interruptedError(s, what);
    process.stderr.write(`podwire: ${e.message}\n`);
    process.exit(e.code);
  };
  const handlers = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  return () => {
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
  };
}
