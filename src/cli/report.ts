// cli/report — `podwire report DIR`: renders DIR's run (or DIR/*/ variants) into one self-contained
// report.html. Layer: cli (imports report).
import { resolve, join } from 'node:path';
import { terminalSafe } from '../core/user-error.js';
import { loadReportInput, ReportInputError, writeReport } from '../report/index.js';
import { CliError, EXIT } from './run.js';

/** Writes the report of `dir` to `out` (default DIR/report.html) and returns the path written. */
export async function reportCommand(dir: string, out: string | undefined, flow: string | undefined): Promise<string> {
  let input;
  try {
    input = loadReportInput(dir, flow);
  } catch (e) {
    if (e instanceof ReportInputError) throw new CliError(terminalSafe(e.message), EXIT.input);
    throw e;
  }
  if (flow !== undefined && input.topology && !input.topology.flows.some((f) => f.name === flow)) {
    throw new CliError(`--flow: no flow "${terminalSafe(flow)}" (flows: ${input.topology.flows.map((f) => f.name).join(', ')})`, EXIT.usage);
  }
  const path = out ?? join(dir, 'report.html');
  await writeReport(path, input);
  return resolve(path);
}
