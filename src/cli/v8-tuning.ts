// cli/v8-tuning — V8 settings for a simulation process, set before anything else runs (import it first).
// Allocation-site pretenuring: V8 allocates objects from sites whose objects often survived a scavenge
// straight into the old generation. A run allocates sockets, conntrack entries and timers that live for
// seconds of simulated time but die long before the run ends (TIME_WAIT, conntrack timeouts), so the
// old generation fills with dead objects that only a mark-compact frees. Without pretenuring they die
// young: measured on bench H1, peak RSS 310 -> 230 MiB and 5-10 % less CPU (bench/README.md). Output
// bytes do not depend on it (garbage collection never changes what the simulator computes).
//
// Inlining budget: TurboFan inlines callees into an optimized function until their bytecode adds up to
// max-inlined-bytecode-size-cumulative (920 by default). A frame's path is a deep chain of small
// methods (socket → IP output → neighbour → device → channel → scheduler), so every hot entry point
// (a send callback, a channel arrival, the event loop) inlined most of the chain again and compiling
// took ~40 % of a short run's CPU (bench S2: the compiler thread 0.20–0.27 CPU s of 0.6). Half the
// budget halves that work and leaves the run's own time as it was (bench/README.md, session 22).
// Which code is inlined never changes what it computes.
import v8 from 'node:v8';

v8.setFlagsFromString('--no-allocation-site-pretenuring');
v8.setFlagsFromString('--max-inlined-bytecode-size-cumulative=460');
