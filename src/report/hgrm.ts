// report/hgrm — reads an HdrHistogram percentile distribution (.hgrm, values in µs) back into CDF
// points. Layer: report (imports nothing).
import type { CdfPoint } from './model.js';

/** CDF points of a .hgrm text: (value µs, cumulative fraction), increasing, duplicates dropped. */
export function cdfOfHgrm(text: string): CdfPoint[] {
  const out: CdfPoint[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9.]+)\s+([0-9.]+)\s+(\d+)(?:\s+(?:[0-9.]+|inf))?\s*$/i.exec(line);
    if (!m) continue;
    const us = Number(m[1]);
    const fraction = Number(m[2]);
    const last = out[out.length - 1];
    if (last && last.us === us && last.fraction === fraction) continue;
    out.push({ us, fraction });
  }
  return out;
}
