// cli/signals — who answers SIGINT / SIGTERM, from the first line of `podwire` to its exit. Layer: cli; imports
// nothing, so the entry (cli/main) installs it before it loads anything else.
//
// Node's own disposition for the two signals, until a JavaScript listener exists, is to die of them with
// nothing said. A listener exists only while something listens, and removing the last one gives the
// disposition back (and drops a signal Node has caught but not yet handed over): a command that passed
// from one listener to the next (loading its modules, reading the file, building the world, running)
// died silently in every gap. Here one pair of listeners stays installed and hands each signal to the
// innermost handler of a stack: the entry's (one line, exit 130 / 143: nothing is open yet), then what
// each phase pushes. A command that handles no signals of its own pops the entry's and gets Node's
// disposition back.
//
// Not covered: Node's own start, before any JavaScript runs (~50–60 ms here): a signal then ends the
// process as its default action does (the shell shows 130 / 143, no line is printed).

export type Signal = 'SIGINT' | 'SIGTERM';

/** The exit code for a signal that stopped a command: 128 + its number, as a shell reports a death by it. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const satisfies Record<Signal, number>;

type Handler = (s: Signal) => void;
const stack: Handler[] = [];
const listeners = { SIGINT: () => dispatch('SIGINT'), SIGTERM: () => dispatch('SIGTERM') };

function dispatch(s: Signal): void {
  stack[stack.length - 1]?.(s);
}

/**
 * Hands SIGINT / SIGTERM to `h` until the returned function is called (then to the handler before it).
 * Handlers nest; the listeners stay installed while any handler is on the stack.
 */
export function onSignal(h: Handler): () => void {
  if (stack.length === 0) {
    process.on('SIGINT', listeners.SIGINT);
    process.on('SIGTERM', listeners.SIGTERM);
  }
  stack.push(h);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const i = stack.lastIndexOf(h);
    if (i >= 0) stack.splice(i, 1);
    if (stack.length === 0) {
      process.off('SIGINT', listeners.SIGINT);
      process.off('SIGTERM', listeners.SIGTERM);
    }
  };
}

/** The one line for a signal that stopped `what` (e.g. "building the world") before anything was written. */
export function stoppedLine(s: Signal, what: string): string {
  return `stopped by ${s} while ${what}; nothing written`;
}

/** A handler that exits at once naming `what`; `release` takes it off the stack. */
export interface SignalPhase {
  what: string;
  release: () => void;
}

/**
 * The entry's handler: a signal prints the one line for what is going on (`phase.what`, "starting" until a
 * command says more) and exits at once with 130 / 143. For the moments when nothing is open.
 */
export function exitOnSignal(what: string): SignalPhase {
  const phase: SignalPhase = {
    what,
    release: onSignal((s) => {
      process.stderr.write(`podwire: ${stoppedLine(s, phase.what)}\n`);
      process.exit(SIGNAL_EXIT[s]);
    }),
  };
  return phase;
}
