/** Test records (keys, values, headers) and the checks every client suite applies to what it reads back. */
import assert from 'node:assert/strict';

export interface TestRecord {
  key: string | null;
  value: string;
  headers: [string, string][];
  timestamp?: number;
}

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
  headers: [string, string][];
  timestamp?: number;
}

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

/** n records with keys, unique values and two headers (one repeated key-less record every 5th). */
export function makeRecords(n: number, tag: string): TestRecord[] {
  const out: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: i % 5 === 4 ? null : `key-${i % 3}`,
      value: `${tag} value ${i} ${'x'.repeat(i % 40)}`,
      headers: [
        ['h1', `v${i}`],
        ['trace', tag],
      ],
    });
  }
  return out;
}

/** Asserts `got` holds exactly `want` in order, at consecutive offsets from `firstOffset`. */
export function assertRecords(got: ReadRecord[], want: TestRecord[], firstOffset = 0): void {
  assert.equal(got.length, want.length, `read ${got.length} records, expected ${want.length}`);
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.equal(g.offset, firstOffset + i, `offset of record ${i}`);
    assert.equal(g.key, w.key, `key of record ${i}`);
    assert.equal(g.value, w.value, `value of record ${i}`);
    assert.deepEqual(g.headers, w.headers, `headers of record ${i}`);
    if (w.timestamp !== undefined) assert.equal(g.timestamp, w.timestamp, `timestamp of record ${i}`);
  });
}

/**
 * After a run with retries: every acknowledged value is present exactly once,
 * and no value at all appears twice (the idempotent producer's promise).
 */
export function assertExactlyOnce(readValues: (string | null)[], acked: string[]): void {
  const counts = new Map<string, number>();
  for (const v of readValues) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  const dups = [...counts].filter(([, c]) => c > 1).map(([v, c]) => `${v} x${c}`);
  assert.deepEqual(dups, [], `duplicated values: ${dups.slice(0, 20).join(', ')}`);
  const missing = acked.filter((v) => !counts.has(v));
  assert.deepEqual(missing, [], `acknowledged but not read back: ${missing.slice(0, 20).join(', ')}`);
}

/** After a run with retries but no idempotence: nothing acknowledged is lost (duplicates allowed). */
export function assertNoneLost(readValues: (string | null)[], acked: string[]): void {
  const seen = new Set(readValues.map(String));
  const missing = acked.filter((v) => !seen.has(v));
  assert.deepEqual(missing, [], `acknowledged but not read back: ${missing.slice(0, 20).join(', ')}`);
}
