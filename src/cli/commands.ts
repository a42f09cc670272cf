// cli/commands — the `podwire` commands (yargs): run, validate, inspect, … (cli/main loads this once it
// answers signals). Layer: cli, the only layer that reads the wall clock, the environment and the
// terminal. Bad input → one line per problem on stderr and exit 1 (2 for bad flags); no stack trace
// unless PODWIRE_DEBUG=1.
import { resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { terminalSafe } from '../core/user-error.js';
import { formatUserError, ScenarioError, type UserError } from '../scenario/errors.js';
import { parseIpv4 } from '../wire/ipv4-addr.js';
import { checkOutDir, CliError, EXIT, memoryLimits, memoryBudget, memoryOver, outputError, parseBytesFlag, parseCountFlag, parseDurationFlag, progressBar, runWithGuards, SignalGuard, summaryLines, type MemoryLimits } from './run.js';
import { parseCaptureFilterFlag, parseSnaplenFlag } from './capture-flags.js';
import { interruptible } from './interruptible.js';
import type { SignalPhase } from './signals.js';

// A reader that stops early (`podwire run … | head`, `inspect … | grep -m1`) closes the pipe: the next
// write fails with EPIPE, emitted as an 'error' event that would end the process with a stack trace
// (and, for `run`, before report.html is written). Printing stops; the command finishes its outputs and
// exits with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

/** --max-events when not given: generous for every shipped scenario, finite for any input. */
const DEFAULT_MAX_EVENTS = 50_000_000;

// The simulator's modules load only when a command needs them, so `--help`, bad flags and a dump
// trace start fast.
const scenarioModules = async () => {
  const [build, load, run, work] = await Promise.all([import('../scenario/build.js'), import('../scenario/load.js'), import('../scenario/run.js'), import('../scenario/work-estimate.js')]);
  return { buildWorld: build.buildWorld, loadScenarioFile: load.loadScenarioFile, runWorld: run.runWorld, ScenarioRun: run.ScenarioRun, prestartCapture: run.prestartCapture, trafficWorkWarnings: work.trafficWorkWarnings, podMemoryProblems: work.podMemoryProblems, userMemoryProblems: work.userMemoryProblems };
};
type ScenarioModules = Awaited<ReturnType<typeof scenarioModules>>;
type Loaded = ReturnType<ScenarioModules['loadScenarioFile']>;

/**
 * Builds the world behind the memory estimates: pods × their cost is checked before the build (a build
 * past V8's heap limit aborts the process with nothing written), closed-loop users after it; above the
 * budget a one-line error at the field (exit 1), above half of it a warning. The build itself is one
 * synchronous call: it calls back every few hundred pods, when the memory guard looks (a build past the
 * limits stops with one line, exit 3, nothing written) and, on a TTY, a line shows the pods created. A
 * signal during it stops it with one line, nothing written, exit 130 / 143 (cli/interruptible).
 */
async function checkedBuild(mods: ScenarioModules, loaded: Loaded, seed: number, limits: MemoryLimits) {
  const budget = memoryBudget(limits);
  const pods = mods.podMemoryProblems(loaded, budget);
  if (pods.errors.length > 0) throw new ScenarioError(pods.errors);
  printWarnings(pods.warnings);
  const tty = process.stderr.isTTY && !process.env['CI'];
  const t0 = performance.now();
  if (tty) process.stderr.write('  building the world…');
  const check = (done: number, total: number): void => {
    const over = memoryOver(limits);
    if (over !== null) {
      if (tty) process.stderr.write('\r\x1b[K');
      throw new CliError(`stopped while building: memory limit reached: ${over}; ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} pods created, nothing written`, EXIT.partial);
    }
    if (tty) process.stderr.write(`\r  building the world: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} pods  ${((performance.now() - t0) / 1000).toFixed(0)} s   `);
  };
  const world = await interruptible('building the world', () => mods.buildWorld(loaded, seed, { check }), () => tty && process.stderr.write('\r\x1b[K'));
  if (tty) process.stderr.write(`\r\x1b[K${performance.now() - t0 > 2000 ? `  built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` : ''}`);
  const users = mods.userMemoryProblems(loaded, world.cluster, budget);
  if (users.errors.length > 0) throw new ScenarioError(users.errors);
  printWarnings(users.warnings);
  return world;
}

class UsageError extends Error {}

/** The entry's signal handler (one line, exit 130 / 143 at once), until a command releases it or stacks its own. */
let starting: SignalPhase = { what: 'starting', release: () => {} };

/** A decimal number as a flag's value (yargs' own number type turns "abc" into NaN). */
const NUMBER = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i;

/** yargs coerce for a numeric flag: its number, or a UsageError naming the flag and the text typed. */
function numberArg(flag: string): (v: unknown) => number {
  return (v) => {
    const text = String(Array.isArray(v) ? v[v.length - 1] : v);
    if (!NUMBER.test(text)) throw new UsageError(`${flag}: expected a number, got "${terminalSafe(text)}"`);
    return Number(text);
  };
}

/** Most problems printed for one input; the rest are counted. */
const MAX_ERRORS_SHOWN = 100;

function fail(e: unknown): never {
  if (e instanceof ScenarioError) {
    // A file of garbage can hold a problem per line: the first MAX_ERRORS_SHOWN, then how many more.
    const shown = e.errors.slice(0, MAX_ERRORS_SHOWN);
    process.stderr.write(shown.map((err) => `${formatUserError(err)}\n`).join(''));
    if (e.errors.length > shown.length) process.stderr.write(`podwire: … and ${(e.errors.length - shown.length).toLocaleString('en-US')} more problems (${e.errors.length.toLocaleString('en-US')} in all; the first ${MAX_ERRORS_SHOWN} are shown)\n`);
    process.exit(1);
  }
  if (e instanceof UsageError) {
    process.stderr.write(`podwire: ${terminalSafe(e.message)}\n`);
    process.exit(EXIT.usage);
  }
  if (e instanceof CliError) {
    process.stderr.write(`podwire: ${e.message}\n`);
    process.exit(e.code);
  }
  const io = outputError(e);
  if (io !== null) {
    process.stderr.write(`podwire: ${io.message}\n`);
    process.exit(io.code);
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`podwire: internal error: ${terminalSafe(msg)}\n`);
  if (process.env['PODWIRE_DEBUG'] && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(70);
}

/** `-n` / `--namespace`, as kubectl's: where namespaced manifests without a namespace go; objects naming another are refused. */
const NAMESPACE_OPTION = { type: 'string', requiresArg: true, alias: 'n', describe: 'as kubectl apply -n: the namespace of the manifests that name none (wins over spec.namespace); one naming another is an error' } as const;

/** The load options of --namespace (a DNS label, or a flag error). */
function loadOptions(argv: { namespace?: string | undefined }): { namespace?: string } {
  const ns = argv.namespace;
  if (ns === undefined) return {};
  if (ns.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new UsageError(`--namespace: expected a namespace name (a DNS label: a-z, 0-9 and "-", at most 63), got "${terminalSafe(ns)}"`);
  return { namespace: ns };
}

/** --seed as typed (a string, so "abc" is not silently NaN), else the scenario's, else 1. */
function seedOf(argv: { seed?: string | number | undefined }, fallback: number | undefined): number {
  if (argv.seed === undefined) return fallback ?? 1;
  const text = String(argv.seed).trim();
  if (text === '' || !Number.isFinite(Number(text))) throw new UsageError(`--seed: expected an integer, got "${terminalSafe(text)}"`);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--seed: expected a non-negative integer, got ${terminalSafe(text)}`);
  return Number(text);
}

function untilOf(text: string | undefined, flag = '--until'): number | undefined {
  return parseDurationFlag(flag, text);
}

/**
 * yargs' own words for a flag problem, as one line naming the flag: "Invalid values:\n  Argument: format,
 * Given: "xml", Choices: …" and "Not enough arguments following: out".
 */
function yargsMessage(msg: string): string {
  const positional = new Set(['what', 'name']); // generate <what>, schema <name>
  const bad = [...msg.matchAll(/Argument: ([\w-]+), Given: (.*?), Choices: (.*)$/gm)].map((m) => `${positional.has(m[1]!) ? `<${m[1]}>` : `--${m[1]}`}: expected one of ${m[3]}, got ${m[2]}`);
  if (bad.length > 0) return bad.join('; ');
  const noValue = /^Not enough arguments following: ([\w-]+)$/.exec(msg);
  return noValue ? `--${noValue[1]}: expected a value` : msg;
}

/** Warnings in clang style: `file:line:col: warning: field: message`. */
function printWarnings(ws: UserError[]): void {
  for (const w of ws) process.stderr.write(`${formatUserError({ ...w, field: '', message: `warning: ${w.field ? `${w.field}: ` : ''}${w.message}` })}\n`);
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('podwire')
    .usage('$0 <command> [options]')
    .command(
      'run <file>',
      'run a scenario: writes OUT/capture.pcapng, OUT/stats.json and OUT/report.html',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'scenario YAML file' })
          .option('namespace', NAMESPACE_OPTION)
          .option('seed', { type: 'string', requiresArg: true, describe: 'random seed (default: the scenario\'s, else 1)' })
          .option('out', { type: 'string', requiresArg: true, default: 'out', describe: 'output directory' })
          .option('until', { type: 'string', requiresArg: true, describe: 'simulated time to stop at (e.g. 10s)' })
          .option('format', { choices: ['pcapng', 'pcap'] as const, describe: 'capture format (default: the scenario\'s)' })
          .option('capture-filter', { type: 'string', requiresArg: true, describe: 'capture only packets this pcap-filter subset matches, e.g. "tcp port 80 and host 10.244.1.2" (default: the scenario\'s capture.filter)' })
          .option('snaplen', { type: 'string', requiresArg: true, coerce: numberArg('--snaplen'), describe: 'bytes kept of each captured frame, as tcpdump -s (default: the scenario\'s capture.snaplen)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no summary' })
          .option('report', { type: 'boolean', default: true, describe: 'also write OUT/report.html (--no-report to skip)' })
          .option('max-events', { type: 'string', requiresArg: true, coerce: numberArg('--max-events'), describe: `stop after N events (default ${DEFAULT_MAX_EVENTS.toLocaleString('en-US')})` })
          .option('max-sim-time', { type: 'string', requiresArg: true, describe: 'stop at this simulated time even if the scenario runs longer' })
          .option('max-capture', { type: 'string', requiresArg: true, describe: 'stop capturing past this size, e.g. 500MB (default 1GiB); the run goes on' })
          .option('max-memory', { type: 'string', requiresArg: true, describe: 'stop when the process uses more memory than this, e.g. 4GiB (default 8GiB; the run also stops at 80% of Node\'s heap limit, NODE_OPTIONS=--max-old-space-size)' }),
      async (argv) => {
        const mods = await scenarioModules();
        const { loadScenarioFile, ScenarioRun, trafficWorkWarnings } = mods;
        const maxEvents = parseCountFlag('--max-events', argv['max-events']) ?? DEFAULT_MAX_EVENTS;
        const maxSimTimeNs = parseDurationFlag('--max-sim-time', argv['max-sim-time']);
        const maxCaptureBytes = parseBytesFlag('--max-capture', argv['max-capture']) ?? 1024 ** 3;
        const limits = memoryLimits(parseBytesFlag('--max-memory', argv['max-memory']) ?? 8 * 1024 ** 3);
        const captureFilter = parseCaptureFilterFlag(argv['capture-filter']);
        const snaplen = parseSnaplenFlag(argv.snaplen);
        const until = untilOf(argv.until);
        const opts = loadOptions(argv);
        checkOutDir(argv.out);
        const loaded = await interruptible(`reading ${terminalSafe(argv.file)}`, () => loadScenarioFile(argv.file, opts));
        const spec = loaded.scenario.spec;
        const seed = seedOf(argv, spec.seed);
        starting.what = 'building the world'; // nothing is open yet: a signal from here to the build says so and exits
        // The capture's writer thread boots on the other core while the world is built (it opens no file).
        mods.prestartCapture(argv.format ?? spec.capture.format, spec.capture.interfaces);
        // The build is one synchronous call: a signal during it stops it with one line (nothing is open yet).
        const world = await checkedBuild(mods, loaded, seed, limits);
        // From here to the end (run, outputs, report) signals are watched; the exit code says one came.
        const signals = new SignalGuard().install();
        printWarnings(world.warnings);
        printWarnings(trafficWorkWarnings(loaded, world.cluster, until ?? world.until, maxEvents));
        const t0 = performance.now();
        const bar = progressBar(until ?? world.until);
        const makeRun = () =>
          new ScenarioRun(world, {
            outDir: argv.out,
            ...(until !== undefined ? { untilNs: until } : {}),
            format: argv.format ?? spec.capture.format,
            snaplen: snaplen ?? spec.capture.snaplen,
            ...((captureFilter ?? spec.capture.filter) !== undefined ? { filter: (captureFilter ?? spec.capture.filter)! } : {}),
            maxEvents,
            maxCaptureBytes,
            ...(maxSimTimeNs !== undefined ? { maxSimTimeNs } : {}),
            ...(bar ? { onProgress: bar } : {}),
          });
        const { res, stoppedBy } = await runWithGuards(makeRun, limits, signals).catch((e: unknown) => {
          throw outputError(e) ?? e;
        });
        const wall = (performance.now() - t0) / 1000;
        if (bar) process.stderr.write('\r\x1b[K');
        if (res.stats.partial) process.stderr.write(`podwire: ${res.stats.partial.message}\n`);
        if (!argv.quiet) process.stdout.write(summaryLines(world, seed, res, wall).join('\n') + '\n');
        if (argv.report) {
          const { writeRunReport } = await import('../report/write.js');
          const html = await writeRunReport(world, res.stats, argv.out).catch((e: unknown) => {
            throw outputError(e) ?? e;
          });
          if (!argv.quiet) process.stdout.write(`report:  ${resolve(html)}\n`);
        }
        const sig = stoppedBy === 'SIGINT' || stoppedBy === 'SIGTERM' ? stoppedBy : signals.signal;
        // A signal that came once the simulation had ended (in its last step, or while the outputs or the
        // report were written) stopped nothing: the outputs are complete, and the exit code says it came.
        if (sig !== null && sig !== stoppedBy) process.stderr.write(`podwire: ${sig} came after the run had ended; the outputs are complete\n`);
        if (sig === 'SIGINT') process.exit(EXIT.sigint);
        if (sig === 'SIGTERM') process.exit(EXIT.sigterm);
        if (res.stats.partial) process.exit(EXIT.partial);
      },
    )
    .command(
      'report <dir>',
      'write DIR/report.html: one self-contained page of a run (or of DIR/*/ variants) to open in a browser',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'a run\'s output directory (or a directory of them)' })
          .option('out', { type: 'string', requiresArg: true, describe: 'where to write the page (default DIR/report.html)' })
          .option('flow', { type: 'string', requiresArg: true, describe: 'the flow whose path the topology shows (default: the first)' }),
      async (argv) => {
        const { reportCommand } = await import('./report.js');
        starting.release();
        process.stdout.write(`report: ${await reportCommand(argv.dir, argv.out, argv.flow)}\n`);
      },
    )
    .command(
      'validate <file>',
      'check a scenario file and report every problem as file:line:col',
      (y) => y.positional('file', { type: 'string', demandOption: true }).option('namespace', NAMESPACE_OPTION),
      async (argv) => {
        const mods = await scenarioModules();
        starting.release();
        const { loadScenarioFile, trafficWorkWarnings } = mods;
        const loaded = loadScenarioFile(argv.file, loadOptions(argv));
        const world = await checkedBuild(mods, loaded, loaded.scenario.spec.seed ?? 1, memoryLimits(8 * 1024 ** 3));
        printWarnings(world.warnings);
        printWarnings(trafficWorkWarnings(loaded, world.cluster, world.until, DEFAULT_MAX_EVENTS));
        process.stdout.write(`${argv.file}: ok (${world.namespaces.size} hosts, ${world.devices.length} interfaces, ${world.flows.length} flows, ${loaded.manifests.length} manifests)\n`);
      },
    )
    .command(
      'inspect <file>',
      "print a host's interfaces, addresses, routes, neighbours and bridge FDB after running the scenario",
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true })
          .option('namespace', NAMESPACE_OPTION)
          .option('node', { type: 'string', requiresArg: true, alias: 'host', describe: 'host / node name (not needed with --ingress or --lb)' })
          .option('seed', { type: 'string', requiresArg: true })
          .option('until', { type: 'string', requiresArg: true, describe: 'stop the run here before printing (default: run to the end; --iptables without -c and --services: the state before the run)' })
          .option('run', { type: 'boolean', default: true, describe: 'run the scenario before printing; --no-run prints the configured state without running traffic' })
          .option('iptables', { type: 'boolean', default: false, describe: 'print the node\'s rules as iptables-save prints them' })
          .option('counters', { alias: 'c', type: 'boolean', default: false, describe: 'with --iptables: after the run (or --until), every rule\'s packet and byte counters too (iptables-save -c)' })
          .option('conntrack', { type: 'boolean', default: false, describe: 'print the node\'s conntrack table (conntrack -L)' })
          .option('conntrack-stats', { type: 'boolean', default: false, describe: 'print the node\'s conntrack statistics (conntrack -S)' })
          .option('ipset', { type: 'boolean', default: false, describe: 'print the node\'s ip sets as `ipset save` does (IPVS mode)' })
          .option('ipvs', { type: 'boolean', default: false, describe: 'print the node\'s IPVS table as `ipvsadm -Ln` does (IPVS mode)' })
          .option('nft', { type: 'boolean', default: false, describe: 'print the node\'s nftables state as `nft list ruleset` does (nftables mode; after the run: affinity sets hold their elements)' })
          .option('services', { type: 'boolean', default: false, describe: 'print the cluster\'s services and endpoints' })
          .option('ingress', { type: 'boolean', default: false, describe: 'print the ingress controller\'s routing table (host, path, pathType, backend, endpoints)' })
          .option('lb', { type: 'boolean', default: false, describe: 'print the load balancers: their addresses, listeners, targets and health (after the run)' }),
      async (argv) => {
        const { buildWorld, loadScenarioFile } = await scenarioModules();
        const [{ inspectNamespace, formatIngressRows, inspectLoadBalancers }, { formatConntrackStats, formatConntrackTable }, { saveBanner, renderIptablesSave }, { formatServices }] = await Promise.all([
          import('./inspect.js'),
          import('../netfilter/conntrack.js'),
          import('../netfilter/iptables-save.js'),
          import('../k8s/services.js'),
        ]);
        starting.release();
        const untilFlag = untilOf(argv.until); // a bad flag is refused before the build
        const loaded = loadScenarioFile(argv.file, loadOptions(argv));
        const world = await interruptible('building the world', () => buildWorld(loaded, seedOf(argv, loaded.scenario.spec.seed)));
        if (argv.ingress) {
          const ing = world.controlPlane?.ingress;
          if (!ing) throw new UsageError(`--ingress: ${argv.file} runs no ingress controller (spec.cluster.ingressController)`);
          process.stdout.write(formatIngressRows(ing.rows()));
          return;
        }
        if (argv.lb) {
          const until = argv.run ? (untilFlag ?? world.until) : 0;
          if (argv.run) world.sim.run(until !== null ? { until } : {});
          process.stdout.write(inspectLoadBalancers(world));
          return;
        }
        if (argv.services) {
          // The cluster's, not a node's: no --node needed. As admitted (before any pod is ready); at --until when given.
          if (argv.until !== undefined && argv.run) world.sim.run({ until: untilFlag! });
          process.stdout.write(formatServices(world.services));
          return;
        }
        if (argv.node === undefined) throw new UsageError('inspect: --node is required (or --ingress, --lb, --services)');
        const ns = world.namespaces.get(argv.node);
        if (!ns) throw new UsageError(`--node: no host "${argv.node}" in ${argv.file} (hosts: ${[...world.namespaces.keys()].join(', ')})`);
        if (argv.iptables) {
          if (ns.nf === null) throw new UsageError(`--iptables: ${argv.node} has no netfilter rules (only cluster nodes run kube-proxy)`);
          // iptables-save's banner carries a date: the simulated epoch keeps the output reproducible.
          const b = saveBanner('Thu Jan  1 00:00:00 1970');
          // The rules as configured; with --counters, after the run (counters count its packets); at --until when given.
          if ((argv.counters || argv.until !== undefined) && argv.run) {
            const until = untilFlag ?? world.until;
            world.sim.run(until !== null ? { until } : {});
          }
          const text = argv.counters ? renderIptablesSave({ ...ns.nf.ruleset(), ruleCounters: true }) : ns.nf.save();
          process.stdout.write(text.replace(/^\*(\w+)$/gm, (m) => `${b.header.join('\n')}\n${m}`).replace(/^COMMIT$/gm, `COMMIT\n${b.footer.join('\n')}`));
          return;
        }
        if (argv.ipset) {
          if (ns.nf === null || ns.nf.ipsets.size === 0) throw new UsageError(`--ipset: ${argv.node} has no ip sets (kube-proxy IPVS mode creates them)`);
          process.stdout.write(ns.nf.ipsets.save());
          return;
        }
        if (argv.ipvs) {
          if (ns.ipvs === null) throw new UsageError(`--ipvs: ${argv.node} has no IPVS table (kube-proxy IPVS mode creates it)`);
          process.stdout.write(ns.ipvs.list());
          return;
        }
        if (argv.run) {
          const until = untilFlag ?? world.until;
          world.sim.run(until !== null ? { until } : {});
        }
        if (argv.nft) {
          if (ns.nf === null || ns.nf.nft.tables.size === 0) throw new UsageError(`--nft: ${argv.node} has no nftables state (kube-proxy nftables mode creates the ip kube-proxy table)`);
          const { listRuleset } = await import('../netfilter/nft/list.js');
          process.stdout.write(listRuleset(ns.nf.nft, world.sim.now));
          return;
        }
        if (argv.conntrack) {
          if (ns.nf === null) throw new UsageError(`--conntrack: ${argv.node} has no conntrack (no netfilter)`);
          process.stdout.write(formatConntrackTable(ns.nf.conntrack, world.sim.now));
          return;
        }
        if (argv['conntrack-stats']) {
          if (ns.nf === null) throw new UsageError(`--conntrack-stats: ${argv.node} has no conntrack (no netfilter)`);
          process.stdout.write(formatConntrackStats(ns.nf.conntrack));
          return;
        }
        process.stdout.write(inspectNamespace(ns, world.sim.now));
      },
    )
    .command(
      'sweep <file>',
      'run variants × seeds on a worker pool: DIR/runs/…/stats.json, DIR/sweep.json, a comparison table with intervals',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'scenario YAML file' })
          .option('vary', { type: 'string', requiresArg: true, array: true, default: [] as string[], describe: 'PATH=V1,V2,… (repeatable; the variants are their product)' })
          .option('variants', { type: 'string', requiresArg: true, describe: 'YAML file of named variants: variants: [{ name, set: { PATH: VALUE } }]' })
          .option('seeds', { type: 'string', requiresArg: true, demandOption: true, describe: 'seeds: 1..20, 7 or 1,4,9' })
          .option('workers', { type: 'string', requiresArg: true, coerce: numberArg('--workers'), describe: 'worker threads (default: cores − 1; 0 runs in this process)' })
          .option('out', { type: 'string', requiresArg: true, default: 'out/sweep', describe: 'output directory (an interrupted sweep resumes there)' })
          .option('capture', { type: 'boolean', default: false, describe: 'also write each run\'s capture' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no table' })
          .option('report', { type: 'boolean', default: true, describe: 'also write DIR/report.html (--no-report to skip)' })
          .option('redis', { type: 'string', requiresArg: true, alias: 'queue', describe: 'redis://HOST:PORT: queue the runs for `podwire worker` processes instead of running them here' }),
      async (argv) => {
        const { sweepCommand } = await import('./sweep.js');
        starting.release();
        const code = await sweepCommand({ file: argv.file, vary: argv.vary, variants: argv.variants, seeds: argv.seeds, workers: argv.workers, out: argv.out, capture: argv.capture, quiet: argv.quiet, report: argv.report, redis: argv.redis });
        if (code !== 0) process.exit(code);
      },
    )
    .command(
      'worker',
      'run sweep runs queued in Redis by `podwire sweep --redis URL` (any number of workers, on any machine)',
      (y) =>
        y
          .option('redis', { type: 'string', requiresArg: true, alias: 'queue', demandOption: true, describe: 'redis://HOST:PORT' })
          .option('concurrency', { type: 'string', requiresArg: true, coerce: numberArg('--concurrency'), describe: 'runs at once, each on a thread (default: cores − 1)' })
          .option('lock-ms', { type: 'string', requiresArg: true, coerce: numberArg('--lock-ms'), describe: 'job lock lifetime: a run of a dead worker is retried elsewhere after about this long (default 30000)' })
          .option('quiet', { type: 'boolean', default: false }),
      async (argv) => {
        const { workerCommand } = await import('./worker.js');
        starting.release();
        const code = await workerCommand({ redis: argv.redis, concurrency: argv.concurrency, lockMs: argv['lock-ms'], quiet: argv.quiet });
        process.exit(code);
      },
    )
    .command(
      'generate <what>',
      'print a generated scenario: `generate cluster --nodes N --services S --pods-per-service K` (the scale grid of bench/)',
      (y) =>
        y
          .positional('what', { choices: ['cluster'] as const, demandOption: true })
          .option('nodes', { type: 'string', requiresArg: true, coerce: numberArg('--nodes'), default: 3, describe: 'cluster nodes' })
          .option('services', { type: 'string', requiresArg: true, coerce: numberArg('--services'), default: 10, describe: 'Services, each with its own Deployment (every 10th a NodePort)' })
          .option('pods-per-service', { type: 'string', requiresArg: true, coerce: numberArg('--pods-per-service'), default: 3, describe: 'replicas of each Service\'s Deployment' })
          .option('cni', { choices: ['flannel-vxlan', 'host-gw'] as const, default: 'flannel-vxlan' as const })
          .option('mode', { choices: ['iptables', 'nftables', 'ipvs'] as const, default: 'iptables' as const, describe: 'kube-proxy mode' })
          .option('flows', { type: 'string', requiresArg: true, coerce: numberArg('--flows'), default: 1, describe: 'HTTP flows from a client pod, one per Service (0: no traffic)' })
          .option('requests', { type: 'string', requiresArg: true, coerce: numberArg('--requests'), default: 10, describe: 'requests per flow, a new connection each' })
          .option('rate', { type: 'string', requiresArg: true, coerce: numberArg('--rate'), default: 100, describe: 'requests per second per flow' })
          .option('capture', { type: 'boolean', default: false, describe: 'capture every interface (default: none)' })
          .option('seed', { type: 'string', requiresArg: true, coerce: numberArg('--seed'), default: 1 }),
      async (argv) => {
        const { clusterGenProblem, generateClusterYaml } = await import('../scenario/generate.js');
        starting.release();
        const opts = { nodes: argv.nodes, services: argv.services, podsPerService: argv['pods-per-service'], cni: argv.cni, mode: argv.mode, flows: argv.flows, requests: argv.requests, rate: argv.rate, capture: argv.capture, seed: argv.seed };
        const problem = clusterGenProblem(opts);
        if (problem !== null) throw new UsageError(problem);
        process.stdout.write(generateClusterYaml(opts));
      },
    )
    .command(
      'schema <name>',
      'print the JSON Schema of an output file (stats: stats.json, sweep: sweep.json)',
      (y) => y.positional('name', { choices: ['stats', 'sweep'] as const, demandOption: true }),
      async (argv) => {
        const { statsJsonSchema } = await import('../stats/schema.js');
        const { sweepJsonSchema } = await import('../sweep/schema.js');
        starting.release();
        process.stdout.write(JSON.stringify(argv.name === 'sweep' ? sweepJsonSchema() : statsJsonSchema(), null, 2) + '\n');
      },
    )
    .command(
      'trace [file]',
      'follow one packet through a scenario (--from/--to), or through a node\'s iptables-save dump (--iptables-save)',
      (y) =>
        y
          .positional('file', { type: 'string', describe: 'scenario YAML file' })
          .option('namespace', NAMESPACE_OPTION)
          .option('from', { type: 'string', requiresArg: true, describe: 'sender: pod/NAME, node/NAME, host/NAME or a host name' })
          .option('to', { type: 'string', requiresArg: true, describe: 'destination IP:PORT (or IP for icmp)' })
          .option('proto', { choices: ['tcp', 'udp', 'icmp', 'sctp'] as const, default: 'tcp' as const })
          .option('at', { type: 'string', requiresArg: true, default: '0', describe: 'simulated time to send the packet at' })
          .option('seed', { type: 'string', requiresArg: true })
          .option('iptables-save', { type: 'string', requiresArg: true, describe: 'trace through this dump instead of a scenario' })
          .option('local-ip', { type: 'string', requiresArg: true, array: true, describe: 'an address of the node owning the dump (repeatable)' })
          .option('src', { type: 'string', requiresArg: true, describe: 'source IP (dump mode)' })
          .option('dst', { type: 'string', requiresArg: true, describe: 'destination IP:PORT (dump mode)' })
          .option('sport', { type: 'string', requiresArg: true, coerce: numberArg('--sport'), describe: 'source port (dump mode; default 40000)' })
          .option('json', { type: 'boolean', default: false, describe: 'print {"outcomes": [...]} (dump mode)' })
          .option('max-outcomes', { type: 'string', requiresArg: true, coerce: numberArg('--max-outcomes'), describe: 'dump mode: most branches to follow (default 4096; each statistic rule doubles them)' })
          .option('ipset-save', { type: 'string', requiresArg: true, describe: 'dump mode: the node\'s `ipset save` output, for rules matching ip sets (Calico, IPVS mode)' })
          .option('in-iface', { type: 'string', requiresArg: true, describe: 'dump mode: the interface a packet from elsewhere comes in by (default eth0; e.g. virbr0, cni0, cali1234)' })
          .option('out-iface', { type: 'string', requiresArg: true, describe: 'dump mode: the interface a packet for elsewhere leaves by (default eth0)' })
          .option('host', { type: 'string', requiresArg: true, describe: 'Host header: follow the ingress controller\'s decision when the packet reaches one, then its connection to the pod' })
          .option('path', { type: 'string', requiresArg: true, default: '/', describe: 'request path for --host' }),
      async (argv) => {
        const { traceIngress, traceIptablesDump, traceScenario } = await import('./trace.js');
        starting.release();
        // An interface name as the kernel takes it (IFNAMSIZ: at most 15 bytes, no '/', ':' or white space).
        const ifaceArg = (flag: string, text: string): string => {
          if (!/^[^\s/:]{1,15}$/.test(text) || text === '.' || text === '..') throw new UsageError(`${flag}: expected an interface name of 1 to 15 characters without '/', ':' or spaces, got "${text}"`);
          return text;
        };
        const ipArg = (flag: string, text: string | undefined): number => {
          const ip = text !== undefined ? parseIpv4(text) : null;
          if (ip === null) throw new UsageError(`--${flag}: expected an IPv4 address, got "${text ?? ''}"`);
          return ip;
        };
        const hostPort = (flag: string, text: string | undefined): [number, number] => {
          const m = /^([^:]+):(\d+)$/.exec(text ?? '');
          if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--${flag}: expected IP:PORT, got "${text ?? ''}"`);
          return [ipArg(flag, m[1]), Number(m[2])];
        };
        const dumpFile = argv['iptables-save'];
        if (dumpFile !== undefined) {
          if (argv.proto === 'icmp') throw new UsageError('--proto: a dump trace takes tcp, udp or sctp');
          const [dst, dport] = hostPort('dst', argv.dst);
          const localIps = (argv['local-ip'] ?? []).map((x) => ipArg('local-ip', x));
          if (localIps.length === 0) throw new UsageError('--local-ip: name at least one address of the node');
          if (argv.sport !== undefined && !(Number.isInteger(argv.sport) && argv.sport >= 1 && argv.sport <= 65535)) throw new UsageError(`--sport: expected a port 1..65535, got ${argv.sport}`);
          process.stdout.write(traceIptablesDump({ file: dumpFile, localIps, src: ipArg('src', argv.src), dst, dport, ...(argv.sport !== undefined ? { sport: argv.sport } : {}), proto: argv.proto, json: argv.json, ...(argv['max-outcomes'] !== undefined ? { maxOutcomes: parseCountFlag('--max-outcomes', argv['max-outcomes'])! } : {}), ...(argv['ipset-save'] !== undefined ? { ipsetFile: argv['ipset-save'] } : {}), ...(argv['in-iface'] !== undefined ? { inIface: ifaceArg('--in-iface', argv['in-iface']) } : {}), ...(argv['out-iface'] !== undefined ? { outIface: ifaceArg('--out-iface', argv['out-iface']) } : {}) }));
          return;
        }
        if (argv.file === undefined) throw new UsageError('trace: give a scenario file (with --from and --to) or --iptables-save FILE');
        if (argv.proto === 'sctp') throw new UsageError('--proto: scenario traces take tcp, udp or icmp');
        const at = untilOf(argv.at, '--at') ?? 0; // a bad flag is refused before the build
        const { buildWorld, loadScenarioFile } = await scenarioModules();
        const loaded = loadScenarioFile(argv.file, loadOptions(argv));
        loaded.scenario.spec.traffic = [];
        const world = await interruptible('building the world', () => buildWorld(loaded, seedOf(argv, loaded.scenario.spec.seed)));
        const fromRef = argv.from ?? '';
        const { nsOf } = await import('../scenario/workloads.js');
        const ns = nsOf(world, fromRef);
        if (!ns) throw new UsageError(`--from: no sender "${fromRef}" in ${argv.file}`);
        let dst: number;
        let dport = 0;
        if (argv.proto === 'icmp' && argv.to !== undefined && !argv.to.includes(':')) dst = ipArg('to', argv.to);
        else [dst, dport] = hostPort('to', argv.to);
        const traceArgs = { from: ns, dst, dport, proto: argv.proto, atNs: at, limitNs: 10e9 };
        process.stdout.write(argv.host !== undefined ? traceIngress(world, { ...traceArgs, host: argv.host, path: argv.path }) : traceScenario(world, traceArgs));
      },
    )
    .demandCommand(1, 'name a command (run, sweep, worker, report, validate, inspect, trace, generate); see --help')
    .strict()
    .fail((msg, err) => {
      // A flag's coerce that threw reaches here wrapped in yargs' own YError: a flag problem all the same.
      if (err && err.name !== 'YError') fail(err);
      fail(new UsageError(yargsMessage(err?.message ?? msg)));
    })
    .help()
    .parseAsync();
}

/**
 * Runs the command line. `phase` is the entry's signal handler (cli/signals): `run` keeps it, naming what it
 * does, until its own takes over; the other commands release it once their modules are loaded.
 */
export async function cli(phase: SignalPhase): Promise<void> {
  starting = phase;
  await main().catch(fail);
}
