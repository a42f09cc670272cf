#!/usr/bin/env node
// cli/main — the `podwire` entry. Layer: cli. Its first act is to answer SIGINT / SIGTERM (cli/signals):
// a module graph is loaded whole before any of it runs, so this file imports only what that needs, and
// the commands (cli/commands: yargs, the flags, the simulator on demand) load after. A signal while they
// load says so on one line and exits 130 / 143, as it does later.
import './v8-tuning.js';
import { exitOnSignal } from './signals.js';

const starting = exitOnSignal('starting');
const { cli } = await import('./commands.js');
await cli(starting);
