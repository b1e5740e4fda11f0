import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CompressionType } from '../../src/protocol/records/batch-header.ts';
import { compress, decompress } from '../../src/protocol/records/compression.ts';
import { useNativeLz4Blocks } from '../../src/protocol/records/lz4.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type Record,
} from '../../src/protocol/records/record-batch.ts';
import { snappyCompressRaw } from '../../src/protocol/records/snappy.ts';
import { splitBatches } from '../../src/protocol/records/split.ts';

const CODECS: CompressionType[] = [0, 1, 2, 3, 4];
const MiB = 1024 * 1024;

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const nullableBytes = (max: number) => fc.option(bytes(max), { nil: null });

const recordArb: fc.Arbitrary<Record> = fc.record({
  attributes: fc.integer({ min: -128, max: 127 }),
  timestampDelta: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger(), fc.maxSafeNat()),
  offsetDelta: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  key: nullableBytes(64),
  value: fc.oneof(
    nullableBytes(300),
    fc.string({ maxLength: 2000 }).map((s) => Buffer.from(s)),
  ),
  headers: fc.array(
    fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 20 }), value: nullableBytes(40) }),
    { maxLength: 4 },
  ),
});

const batchArb = fc.record({
  baseOffset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  baseTimestamp: fc.bigInt({ min: -1n, max: 2n ** 50n }),
  producerId: fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  isTransactional: fc.boolean(),
  records: fc.array(recordArb, { maxLength: 12 }),
});

describe('RecordBatch v2 round trip', () => {
  for (const compression of CODECS) {
    test(`codec ${compression}: encode then decode gives the same batch`, () => {
      fc.assert(
        fc.property(batchArb, (input) => {
          // Attributes are int8 on the wire.
          const records = input.records.map((r) => ({ ...r, attributes: r.attributes & 0xff }));
          const buf = encodeRecordBatch({ ...input, compression, records });
          const { header, records: out } = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
          assert.equal(header.baseOffset, input.baseOffset);
          assert.equal(header.partitionLeaderEpoch, input.partitionLeaderEpoch);
          assert.equal(header.baseTimestamp, input.baseTimestamp);
          assert.equal(header.producerId, input.producerId);
          assert.equal(header.producerEpoch, input.producerEpoch);
          assert.equal(header.baseSequence, input.baseSequence);
          assert.equal(header.attributes & 7, compression);
          assert.equal((header.attributes & 0x10) !== 0, input.isTransactional);
          assert.equal(header.recordCount, input.records.length);
          assert.equal(header.batchLength, buf.length - 12);
          assert.deepEqual(
            out,
            // fast-check builds null-prototype objects; compare as plain ones.
            input.records.map((r) => ({
              ...r,
              attributes: (r.attributes << 24) >> 24,
              headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
            })),
          );
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe('codec round trip on arbitrary bytes', () => {
  const data = fc.oneof(
    bytes(70_000),
    fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 200_000 }))
      .map(([b, n]) => Buffer.alloc(n, b)),
    fc.array(fc.string({ maxLength: 50 }), { maxLength: 500 }).map((a) => Buffer.from(a.join(','))),
  );
  for (const type of CODECS) {
    test(`codec ${type}`, () => {
      fc.assert(
        fc.property(data, (d) => {
          assert.deepEqual(decompress(type, compress(type, d), d.length), d);
        }),
        { numRuns: 40 },
      );
    });
  }
  test('raw snappy', () => {
    fc.assert(
      fc.property(data, (d) => {
        assert.deepEqual(decompress(2, snappyCompressRaw(d), d.length), d);
      }),
      { numRuns: 40 },
    );
  });
  test('lz4 through the TS block decoder', () => {
    useNativeLz4Blocks(false);
    try {
      fc.assert(
        fc.property(data, (d) => {
          assert.deepEqual(decompress(3, compress(3, d), d.length), d);
        }),
        { numRuns: 40 },
      );
    } finally {
      useNativeLz4Blocks(true);
    }
  });
});

describe('splitBatches', () => {
  test('finds exactly the complete batches of any concatenation cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom<CompressionType>(...CODECS), fc.array(recordArb, { maxLength: 3 })),
          {
            maxLength: 6,
          },
        ),
        fc.nat(),
        (specs, cutSeed) => {
          const batches = specs.map(([compression, records]) =>
            encodeRecordBatch({
              baseTimestamp: 0n,
              compression,
              records: records.map((r) => ({ ...r, attributes: 0 })),
            }),
          );
          const all = Buffer.concat(batches);
          const cut = all.length === 0 ? 0 : cutSeed % (all.length + 1);
          const result = splitBatches(all.subarray(0, cut));
          let pos = 0;
          const expected = [];
          for (const b of batches) {
            if (pos + b.length > cut) break;
            expected.push({ offset: pos, size: b.length, magic: 2 });
            pos += b.length;
          }
          assert.deepEqual(result, { batches: expected, end: pos, partialBytes: cut - pos });
        },
      ),
      { numRuns: 200 },
    );
  });
});
