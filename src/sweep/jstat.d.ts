// The part of jstat (no bundled types) that src/sweep/stats.ts uses: Student's t quantile and the
// χ² distribution function (and, for test/theory, the sample mean and standard deviation).
declare module 'jstat' {
  interface JStat {
    studentt: { inv(p: number, dof: number): number; cdf(x: number, dof: number): number };
    chisquare: { cdf(x: number, dof: number): number };
    mean(values: number[]): number;
    stdev(values: number[], sample?: boolean): number;
  }
  const jStat: JStat;
  export default jStat;
}
