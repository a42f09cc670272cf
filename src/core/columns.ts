// core/columns — text tables as kubectl and iptables tools print them: every column but the last padded to its
// widest cell plus a gap. Layer: core (no imports). Widths come from a loop, not Math.max(...cells): a table of
// ~150,000 rows or more (`inspect --services` of a generated cluster) is past the arguments one call may take.

/** The rows' lines, each cell but the last padded to its column's widest cell + `gap` spaces. */
export function formatColumns(rows: readonly (readonly string[])[], gap = 3): string[] {
  const widths: number[] = [];
  for (const r of rows) for (let c = 0; c < r.length; c++) widths[c] = Math.max(widths[c] ?? 0, r[c]!.length);
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + gap))).join(''));
}
