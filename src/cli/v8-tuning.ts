// cli/v8-tuning — V8 settings for a simulation process, set before anything else runs (import it first).
// Allocation-site pretenuring: V8 allocates objects from sites whose objects often survived a scavenge
// straight into the old generation. A run allocates sockets, conntrack entries and timers that live for
// seconds of simulated time but die long before the run ends (TIME_WAIT, conntrack timeouts), so the
// old generation fills with dead objects that only a mark-compact frees. Without pretenuring they die
// young: measured on bench H1, peak RSS 310 -> 230 MiB and 5-10 % less CPU (bench/README.md). Output
// bytes do not depend on it (garbage collection never changes what the simulator computes).
import v8 from 'node:v8';

v8.setFlagsFromString('--no-allocation-site-pretenuring');
