/**
 * CRC32C throughput, native (@node-rs/crc32) and the TS slicing-by-8
 * fallback, on 1 KiB and 16 KiB buffers. Each timed call walks 1 MiB split
 * into buffers of that size, so per-call overhead counts as it does when
 * checking many small batches. The baseline is a plain Buffer copy of the
 * same buffers into a preallocated target (ratio < 1: slower than copying).
 */
import { randomBytes } from 'node:crypto';
import { crc32c, crc32cIsNative, crc32cSoftware } from '../src/protocol/primitives/crc32c.ts';
import { fmt, mbps, timeIt } from './util.ts';

/**
 * Best of 5 short runs: on a shared, noisy machine the fastest run is the
 * one least disturbed by other work, so ratios between rows stay stable.
 */
function best(fn: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) min = Math.min(min, timeIt(fn, 120));
  return min;
}

const TOTAL = 1024 * 1024;

export async function run(): Promise<void> {
  const data = randomBytes(TOTAL);
  const dst = Buffer.allocUnsafe(TOTAL);
  console.log(`native implementation loaded: ${crc32cIsNative}`);
  for (const size of [1024, 16 * 1024]) {
    const pieces = Array.from({ length: TOTAL / size }, (_, i) => data.subarray(i * size, (i + 1) * size));
    const copy = mbps(
      TOTAL,
      best(() => {
        for (let i = 0; i < pieces.length; i++) pieces[i]!.copy(dst, i * size);
      }),
    );
    const rows: [string, number][] = [];
    if (crc32cIsNative) {
      rows.push([
        'native',
        mbps(
          TOTAL,
          best(() => {
            for (const p of pieces) crc32c(p);
          }),
        ),
      ]);
    }
    rows.push([
      'software',
      mbps(
        TOTAL,
        best(() => {
          for (const p of pieces) crc32cSoftware(p);
        }),
      ),
    ]);
    const label = `${size / 1024} KiB`;
    console.log(`  ${label.padEnd(7)} Buffer copy ${fmt(copy, 0).padStart(6)} MB/s`);
    for (const [name, rate] of rows) {
      console.log(
        `  ${label.padEnd(7)} ${name.padEnd(11)} ${fmt(rate, 0).padStart(6)} MB/s  ${fmt(rate / copy, 3)}x copy`,
      );
    }
  }
}
