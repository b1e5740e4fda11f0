/**
 * Hostile record batches: every failure must be a typed DecodeError (never a
 * RangeError or a crash), nothing may be sized by a declared length, and
 * nothing may hang.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DecodeError, type DecodeErrorKind } from '../../src/protocol/primitives/errors.ts';
import type { CompressionType } from '../../src/protocol/records/batch-header.ts';
import { compress, decompress } from '../../src/protocol/records/compression.ts';
import { lz4DecompressFrames, useNativeLz4Blocks } from '../../src/protocol/records/lz4.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  updateBatchCrc,
} from '../../src/protocol/records/record-batch.ts';
import { splitBatches } from '../../src/protocol/records/split.ts';
import { xxhash32 } from '../../src/protocol/records/xxhash32.ts';

const CODECS: CompressionType[] = [0, 1, 2, 3, 4];
const MiB = 1024 * 1024;

function kind(k: DecodeErrorKind) {
  return (e: unknown) => {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    assert.equal(e.kind, k, (e as Error).message);
    return true;
  };
}

function anyDecodeError(e: unknown): boolean {
  assert.ok(e instanceof DecodeError, `expected DecodeError, got ${(e as Error)?.stack ?? String(e)}`);
  return true;
}

function small(compression: CompressionType = 0): Buffer {
  return encodeRecordBatch({
    baseTimestamp: 1_700_000_000_000n,
    compression,
    records: [
      {
        key: Buffer.from('key'),
        value: Buffer.from('value'),
        headers: [{ key: 'h', value: Buffer.from('v') }],
      },
      { key: null, value: Buffer.from('second'), timestampDelta: 3 },
    ],
  });
}

/** A batch with `count` declared records and `body` as its (uncompressed) records section, CRC valid. */
function withBody(body: Buffer, count: number, compression: CompressionType = 0): Buffer {
  const head = encodeRecordBatch({ baseTimestamp: 0n, compression, records: [] }).subarray(0, 61);
  const b = Buffer.concat([head, body]);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(count, 57);
  updateBatchCrc(b);
  return b;
}

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('truncation', () => {
  for (const codec of CODECS) {
    test(`codec ${codec}: every prefix of a batch is refused as TRUNCATED`, () => {
      const b = small(codec);
      for (let len = 0; len < b.length; len++) {
        const prefix = b.subarray(0, len);
        assert.throws(() => decodeRecordBatch(prefix), kind('TRUNCATED'));
        const split = splitBatches(prefix);
        assert.equal(split.batches.length, 0);
        assert.equal(split.partialBytes, len);
      }
    });
    test(`codec ${codec}: a records section cut at every length (length and CRC fixed) is a DecodeError`, () => {
      const b = small(codec);
      for (let cut = 61; cut < b.length; cut++) {
        const c = Buffer.from(b.subarray(0, cut));
        c.writeInt32BE(c.length - 12, 8);
        updateBatchCrc(c);
        assert.throws(() => decodeRecordBatch(c), anyDecodeError);
      }
    });
  }
});

describe('declared counts and lengths', () => {
  test('huge and negative record counts', () => {
    const t0 = performance.now();
    for (const codec of CODECS) {
      const b = small(codec);
      b.writeInt32BE(0x7fffffff, 57);
      updateBatchCrc(b);
      assert.throws(() => decodeRecordBatch(b), kind('LENGTH_EXCEEDS_INPUT'));
      b.writeInt32BE(-1, 57);
      updateBatchCrc(b);
      assert.throws(() => decodeRecordBatch(b), kind('INVALID_RECORD'));
      // Fewer declared than present leaves bytes over.
      b.writeInt32BE(1, 57);
      updateBatchCrc(b);
      assert.throws(() => decodeRecordBatch(b), kind('INVALID_RECORD'));
    }
    assert.ok(performance.now() - t0 < 1000);
  });

  test('batchLength: negative, below the header, past the input', () => {
    const b = small();
    b.writeInt32BE(-1, 8);
    assert.throws(() => decodeRecordBatch(b), kind('NEGATIVE_LENGTH'));
    b.writeInt32BE(48, 8);
    assert.throws(() => decodeRecordBatch(b), kind('INVALID_RECORD'));
    b.writeInt32BE(0x7fffffff, 8);
    assert.throws(() => decodeRecordBatch(b), kind('TRUNCATED'));
    assert.equal(splitBatches(b).partialBytes, b.length);
  });

  // Each record body: attributes 0, timestampDelta 0, offsetDelta 0, then the fields under test.
  const cases: [string, string, DecodeErrorKind][] = [
    ['record length 2^31-1', 'feffffff0f 000000 01 01 00', 'LENGTH_EXCEEDS_INPUT'],
    ['record length -5', '09 000000 01 01 00', 'NEGATIVE_LENGTH'],
    ['record length 3 (below the minimum)', '06 000000 01 01 00', 'INVALID_RECORD'],
    ['key length 2^30', '0c 000000 8080808008 01 00 00 00', 'LENGTH_EXCEEDS_INPUT'],
    ['key length -2', '0c 000000 03 01 00 000000', 'NEGATIVE_LENGTH'],
    ['value length 2^20', '0c 000000 01 8080800100 00 00 00', 'LENGTH_EXCEEDS_INPUT'],
    ['header count 2^30', '10 000000 01 01 8080808008 0000 00', 'LENGTH_EXCEEDS_INPUT'],
    ['header count -1', '0c 000000 01 01 01 000000', 'NEGATIVE_LENGTH'],
    ['null header key', '10 000000 01 01 02 01 01', 'NULL_NOT_ALLOWED'],
    ['header value past the record', '0e 000000 01 01 02 00 7e 0000', 'LENGTH_EXCEEDS_INPUT'],
    ['record length over-declared', '10 000000 01 01 00 0000000000', 'INVALID_RECORD'],
    ['record length under-declared', '0a 000000 01 01 00 00', 'INVALID_RECORD'],
    ['6-byte varint record length', 'ffffffffff01 000000 01 01 00', 'BAD_VARINT'],
    ['record length varint over 32 bits', 'ffffffff7f 000000 01 01 00', 'BAD_VARINT'],
    [
      '11-byte varlong timestamp delta',
      '1e 00 ffffffffffffffffffff01 00 01 01 00 000000000000',
      'BAD_VARINT',
    ],
    [
      'varlong timestamp delta over 2^53',
      '1c 00 feffffffffffffffff01 00 01 01 00 0000000000',
      'INVALID_RECORD',
    ],
    ['truncated varint at the end', '0c 000000 01 01 80', 'TRUNCATED'],
  ];
  for (const [name, body, expected] of cases) {
    for (const codec of [0, 4] as const) {
      test(`${name} (codec ${codec})`, () => {
        const raw = hex(body);
        const section = codec === 0 ? raw : compress(codec, raw);
        assert.throws(
          () => decodeRecordBatch(withBody(section, 1, codec), { maxDecompressedBytes: MiB }),
          kind(expected),
        );
      });
    }
  }

  test('a well-formed hand-built record passes the same helper', () => {
    const d = decodeRecordBatch(withBody(hex('10 00 02 02 02 6b 02 76 00'), 1));
    assert.deepEqual(d.records[0]!.key, Buffer.from('k'));
    assert.equal(d.records[0]!.timestampDelta, 1);
  });
});

describe('bad CRC', () => {
  test('flipping any CRC-covered byte is BAD_CRC', () => {
    for (const codec of [0, 1, 3] as const) {
      const b = small(codec);
      for (let i = 17; i < b.length; i++) {
        const c = Buffer.from(b);
        c[i]! ^= 0x40;
        assert.throws(() => decodeRecordBatch(c), kind('BAD_CRC'));
      }
    }
  });
});

describe('random mutation', () => {
  test('mutated batches (CRC recomputed) decode or throw DecodeError', () => {
    const bases = CODECS.map((c) => small(c));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bases.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (which, edits) => {
          const b = Buffer.from(bases[which]!);
          for (const [at, v] of edits) b[21 + (at % (b.length - 21))] = v;
          updateBatchCrc(b);
          try {
            decodeRecordBatch(b, { maxDecompressedBytes: MiB });
          } catch (e) {
            anyDecodeError(e);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  for (const codec of [1, 2, 3, 4]) {
    test(`codec ${codec}: random and mutated input to decompress is a DecodeError or bounded output`, () => {
      const good = compress(codec as CompressionType, Buffer.from('x'.repeat(3000) + 'abcdefgh'.repeat(500)));
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
            fc
              .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
              .map((edits) => {
                const b = Buffer.from(good);
                for (const [at, v] of edits) b[at % b.length] = v;
                return b;
              }),
          ),
          (input) => {
            try {
              const out = decompress(codec, input, 64 * 1024);
              assert.ok(out.length <= 64 * 1024);
            } catch (e) {
              anyDecodeError(e);
            }
          },
        ),
        { numRuns: 1000 },
      );
    });
  }

  test('lz4: lz4-napi and the TS block decoder agree on random blocks (output or error kind)', () => {
    const desc = Buffer.from([0x60, 0x40]);
    const hc = (xxhash32(desc) >>> 8) & 0xff;
    const frame = (block: Buffer) => {
      const size = Buffer.alloc(4);
      size.writeUInt32LE(block.length);
      return Buffer.concat([
        Buffer.from([4, 0x22, 0x4d, 0x18]),
        desc,
        Buffer.from([hc]),
        size,
        block,
        Buffer.alloc(4),
      ]);
    };
    const run = (f: Buffer, cap: number, native: boolean) => {
      useNativeLz4Blocks(native);
      try {
        return `ok ${lz4DecompressFrames(f, cap).toString('hex')}`;
      } catch (e) {
        anyDecodeError(e);
        return `error ${(e as DecodeError).kind}`;
      } finally {
        useNativeLz4Blocks(true);
      }
    };
    // Bytes biased towards the interesting token values so some blocks decode.
    const byte = fc.oneof(fc.constantFrom(0, 1, 0x0f, 0x1f, 0xf0, 0xff), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(
        fc.array(byte, { minLength: 1, maxLength: 48 }),
        fc.oneof(fc.constant(65536), fc.integer({ min: 0, max: 300 })),
        (bytes, cap) => {
          const f = frame(Buffer.from(bytes));
          assert.equal(run(f, cap, true), run(f, cap, false));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
