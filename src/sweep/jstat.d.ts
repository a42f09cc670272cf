// The part of jstat (no bundled types) that src/sweep/stats.ts uses: Student's t quantile and the
// χ² distribution function.
declare module 'jstat' {
  interface JStat {
    studentt: { inv(p: number, dof: number): number; cdf(x: number, dof: number): number };
    chisquare: { cdf(x: number, dof: number): number };
  }
  const jStat: JStat;
  export default jStat;
}
