/**
 * Codec throughput on realistic batches: the records section of 16 KiB
 * batches, each holding 16 records of 1 KiB JSON (generated with a fixed
 * seed, so the compression ratios are stable between runs). Each timed call
 * (de)compresses 64 different batches (1 MiB). MB/s count uncompressed
 * bytes both ways; the baseline is a plain Buffer copy of the same batches
 * into a preallocated target (ratio < 1: slower than copying).
 *
 * The "alt" rows are the options measured when picking the implementation:
 * LZ4 blocks through the TS decoder instead of lz4-napi, and zstd through
 * node:zlib instead of zstd-napi (both with the same output cap).
 */
import zlib from 'node:zlib';
import type { CompressionType } from '../src/protocol/records/batch-header.ts';
import { COMPRESSION_NAMES, compress, decompress } from '../src/protocol/records/compression.ts';
import { useNativeLz4Blocks } from '../src/protocol/records/lz4.ts';
import { encodeRecordBatch } from '../src/protocol/records/record-batch.ts';
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

const BATCHES = 64;
const RECORDS_PER_BATCH = 16;
const RECORD_SIZE = 1024;
const CAP = 64 * 1024 * 1024;

const WORDS = (
  'alpha beta gamma delta kafka broker topic partition offset commit replica leader follower ' +
  'segment index batch record header producer consumer group member session fetch produce ' +
  'metadata cluster controller epoch sequence transaction marker checkout cart payment shipped'
).split(' ');

let seed = 0x5eed;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

/** One JSON event of exactly `size` bytes: ids, numbers, a nested user, a few items and free text. */
function jsonRecord(i: number, size: number): Buffer {
  const rec = {
    id: `${rnd(1e9).toString(16)}-${rnd(65536).toString(16)}-${rnd(1e9).toString(16)}`,
    ts: 1_700_000_000_000 + i * 17 + rnd(10),
    user: {
      name: `${WORDS[rnd(WORDS.length)]}_${rnd(100000)}`,
      country: ['US', 'DE', 'FR', 'JP', 'BR'][rnd(5)],
      score: rnd(1e6) / 100,
    },
    event: ['click', 'view', 'purchase', 'signup'][rnd(4)],
    items: Array.from({ length: 1 + rnd(4) }, () => ({
      sku: `SKU-${rnd(100000)}`,
      qty: 1 + rnd(5),
      price: rnd(1e5) / 100,
    })),
    text: '',
  };
  let s = JSON.stringify(rec);
  const words: string[] = [];
  while (s.length < size) {
    words.push(WORDS[rnd(WORDS.length)]!);
    rec.text = words.join(' ');
    s = JSON.stringify(rec);
  }
  // Trim the free text so the record is exactly `size` bytes and still valid JSON.
  rec.text = rec.text.slice(0, rec.text.length - (s.length - size));
  return Buffer.from(JSON.stringify(rec));
}

/** The records section of one uncompressed batch (what a codec compresses). */
function recordsSection(batch: number): Buffer {
  const records = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
    key: Buffer.from(`key-${batch * RECORDS_PER_BATCH + i}`),
    value: jsonRecord(batch * RECORDS_PER_BATCH + i, RECORD_SIZE),
    timestampDelta: i,
  }));
  return encodeRecordBatch({ baseTimestamp: 1_700_000_000_000n, records }).subarray(61);
}

function line(name: string, what: string, rate: number, copy: number, extra = ''): void {
  console.log(
    `  ${name.padEnd(11)} ${what.padEnd(10)} ${fmt(rate, 0).padStart(6)} MB/s  ${fmt(rate / copy, 3).padStart(6)}x copy${extra}`,
  );
}

export async function run(): Promise<void> {
  const batches = Array.from({ length: BATCHES }, (_, b) => recordsSection(b));
  const total = batches.reduce((n, b) => n + b.length, 0);
  const dst = Buffer.allocUnsafe(total);
  const copy = mbps(
    total,
    best(() => {
      let p = 0;
      for (const b of batches) p += b.copy(dst, p);
    }),
  );
  console.log(
    `  ${BATCHES} batches of ${RECORDS_PER_BATCH} x ${RECORD_SIZE} B JSON records, ` +
      `${fmt(total / BATCHES / 1024, 1)} KiB each; Buffer copy ${fmt(copy, 0)} MB/s`,
  );
  for (const type of [1, 2, 3, 4] as CompressionType[]) {
    const name = COMPRESSION_NAMES[type];
    const packed = batches.map((b) => compress(type, b));
    const packedTotal = packed.reduce((n, b) => n + b.length, 0);
    for (let i = 0; i < BATCHES; i++) {
      if (!decompress(type, packed[i]!, CAP).equals(batches[i]!))
        throw new Error(`${name} round trip failed`);
    }
    const c = mbps(
      total,
      best(() => {
        for (const b of batches) compress(type, b);
      }),
    );
    const d = mbps(
      total,
      best(() => {
        for (const p of packed) decompress(type, p, CAP);
      }),
    );
    line(name, 'compress', c, copy, `  ratio ${fmt(total / packedTotal, 2)}`);
    line(name, 'decompress', d, copy);
  }

  // Alternatives measured when choosing the implementations.
  const lz4 = batches.map((b) => compress(3, b));
  useNativeLz4Blocks(false);
  try {
    const ts = mbps(
      total,
      best(() => {
        for (const p of lz4) decompress(3, p, CAP);
      }),
    );
    line('alt lz4', 'ts blocks', ts, copy);
  } finally {
    useNativeLz4Blocks(true);
  }
  const zstd = batches.map((b) => compress(4, b));
  const nodeZstd = mbps(
    total,
    best(() => {
      for (const p of zstd) zlib.zstdDecompressSync(p, { maxOutputLength: CAP });
    }),
  );
  line('alt zstd', 'node:zlib', nodeZstd, copy);
}
