// cli/capture-flags — `podwire run --capture-filter` and `--snaplen`: checked here so a bad value is a
// one-line flag error (exit 2) before the scenario is built. Layer: cli.
import { captureFilterError } from '../capture/filter.js';
import { terminalSafe } from '../core/user-error.js';
import { CliError, EXIT } from './run.js';

/** --capture-filter: the expression, or undefined when not given; refused with its column when invalid. */
export function parseCaptureFilterFlag(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const err = captureFilterError(text);
  if (err !== null) throw new CliError(`--capture-filter: ${terminalSafe(err)}`, EXIT.usage);
  return text;
}

/** --snaplen: bytes kept of each frame (64–262144, as capture.snaplen). */
export function parseSnaplenFlag(v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 64 || v > 262144) throw new CliError(`--snaplen: expected an integer from 64 to 262144, got ${v}`, EXIT.usage);
  return v;
}
