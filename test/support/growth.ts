// Complexity check for parsers: how much more CPU time does twice the input take? A timing
// assertion would be meaningless on a shared, loaded machine; a ratio of CPU times (process
// user+system time, best of several repeats, on inputs big enough to take ≥ 50 ms) is stable
// enough to tell linear (≈2) from quadratic (≈4) with a generous bound.

export interface Growth {
  /** Input size (the generator's unit) at which the two runs were measured. */
  n: number;
  /** Best CPU milliseconds for n and for 2n. */
  ms: number;
  ms2: number;
  ratio: number;
}

function cpuMs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function best(run: () => void, repeats: number): number {
  let min = Infinity;
  for (let r = 0; r < repeats; r++) min = Math.min(min, cpuMs(run));
  return min;
}

/**
 * Measures `parse(make(n))` against `parse(make(2n))`. n starts at `start` and doubles (up to
 * `maxN`) until the best run takes at least `minMs` of CPU, so that fixed costs do not dominate.
 * Inputs are built outside the measured time.
 */
export function measureGrowth(make: (n: number) => unknown, parse: (input: never) => unknown, opts: { start: number; maxN: number; minMs?: number; repeats?: number }): Growth {
  const minMs = opts.minMs ?? 50;
  const repeats = opts.repeats ?? 5;
  const run = parse as (input: unknown) => unknown;
  let n = opts.start;
  let input = make(n);
  run(input); // warm up the JIT on the small input
  let ms = best(() => run(input), repeats);
  while (ms < minMs && n < opts.maxN) {
    n *= 2;
    input = make(n);
    ms = best(() => run(input), repeats);
  }
  const input2 = make(2 * n);
  const ms2 = best(() => run(input2), repeats);
  return { n, ms, ms2, ratio: ms2 / ms };
}

/**
 * measureGrowth, measured once more at the same size when the first ratio reaches `bound`: a
 * burst of load on a shared machine (or a badly timed major GC) can spoil one pair of
 * measurements, a quadratic parser spoils both (≈ 4 each time).
 */
export function measureGrowthConfirmed(make: (n: number) => unknown, parse: (input: never) => unknown, opts: { start: number; maxN: number; bound: number }): Growth {
  const g = measureGrowth(make, parse, opts);
  if (g.ratio < opts.bound) return g;
  const again = measureGrowth(make, parse, { ...opts, start: g.n, maxN: g.n });
  return again.ratio < g.ratio ? again : g;
}

export function describeGrowth(name: string, g: Growth): string {
  return `${name}: n=${g.n} ${g.ms.toFixed(1)} ms, 2n ${g.ms2.toFixed(1)} ms, ratio ${g.ratio.toFixed(2)}`;
}
