/** Seeded randomness for fault schedules: every run prints its seed; SAMSA_SEED=<n> replays it. */

export type Rand = () => number;

/** mulberry32: small, fast, good enough for schedules. Returns floats in [0, 1). */
export function mulberry32(seed: number): Rand {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SAMSA_SEED when set, else a fresh seed. */
export function seedFromEnv(): number {
  const s = process.env.SAMSA_SEED;
  if (s !== undefined && s !== '' && Number.isFinite(Number(s))) return Number(s) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

export function randInt(rand: Rand, lo: number, hiInclusive: number): number {
  return lo + Math.floor(rand() * (hiInclusive - lo + 1));
}

export function pick<T>(rand: Rand, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}
