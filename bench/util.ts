/** Small timing helpers shared by the benchmarks. */

/** Runs `fn` repeatedly for at least `minMs` (after one warm-up call) and returns seconds per call. */
export function timeIt(fn: () => void, minMs = 300): number {
  fn();
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  const min = BigInt(minMs) * 1_000_000n;
  while (elapsed < min) {
    fn();
    iters++;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1e9 / iters;
}

/** Async variant of timeIt. */
export async function timeItAsync(fn: () => Promise<void>, minMs = 300): Promise<number> {
  await fn();
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  const min = BigInt(minMs) * 1_000_000n;
  while (elapsed < min) {
    await fn();
    iters++;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1e9 / iters;
}

export function mbps(bytes: number, seconds: number): number {
  return bytes / seconds / 1e6;
}

export function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}
