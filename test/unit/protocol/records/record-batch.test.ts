import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { crc32c } from '../../../../src/protocol/primitives/crc32c.ts';
import { DecodeError } from '../../../../src/protocol/primitives/errors.ts';
import { readBatchHeader } from '../../../../src/protocol/records/batch-header.ts';
import {
  ControlRecordType,
  decodeControlRecordKey,
  decodeEndTxnMarkerValue,
  encodeEndTxnMarkerBatch,
  readEndTxnMarker,
} from '../../../../src/protocol/records/control.ts';
import { LegacyRecordFormatError } from '../../../../src/protocol/records/legacy.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  recordOffset,
  recordTimestamp,
} from '../../../../src/protocol/records/record-batch.ts';
import { splitBatches } from '../../../../src/protocol/records/split.ts';

/**
 * A batch assembled byte by byte from the protocol guide's layout. The CRC
 * constant was computed with kafkajs's independent CRC32C implementation.
 */
const HAND_BATCH = Buffer.from(
  [
    '0000000000000005', // baseOffset 5
    '00000048', // batchLength 72
    '00000003', // partitionLeaderEpoch 3
    '02', // magic
    '3347b6f2', // crc
    '0000', // attributes
    '00000001', // lastOffsetDelta 1
    '00000000000003e8', // baseTimestamp 1000
    '00000000000003f2', // maxTimestamp 1010
    '000000000000002a', // producerId 42
    '0001', // producerEpoch 1
    '00000007', // baseSequence 7
    '00000002', // record count 2
    // record 0: length 13, attrs 0, tsDelta 0, offsetDelta 0, key "k", value "v1", 1 header h=x
    '1a',
    '00',
    '00',
    '00',
    '026b',
    '047631',
    '02',
    '0268',
    '0278',
    // record 1: length 8, attrs 0, tsDelta 10, offsetDelta 1, key null, value "v2", no headers
    '10',
    '00',
    '14',
    '02',
    '01',
    '047632',
    '00',
  ].join(''),
  'hex',
);

const handInput = {
  baseOffset: 5n,
  partitionLeaderEpoch: 3,
  baseTimestamp: 1000n,
  maxTimestamp: 1010n,
  producerId: 42n,
  producerEpoch: 1,
  baseSequence: 7,
  records: [
    { key: Buffer.from('k'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }] },
    { timestampDelta: 10, key: null, value: Buffer.from('v2') },
  ],
};

describe('RecordBatch v2', () => {
  test('decodes a hand-assembled batch', () => {
    const { header, records } = decodeRecordBatch(HAND_BATCH);
    assert.equal(header.baseOffset, 5n);
    assert.equal(header.batchLength, 72);
    assert.equal(header.partitionLeaderEpoch, 3);
    assert.equal(header.crc, 0x3347b6f2);
    assert.equal(header.lastOffsetDelta, 1);
    assert.equal(header.baseTimestamp, 1000n);
    assert.equal(header.maxTimestamp, 1010n);
    assert.equal(header.producerId, 42n);
    assert.equal(header.producerEpoch, 1);
    assert.equal(header.baseSequence, 7);
    assert.equal(header.recordCount, 2);
    assert.equal(records.length, 2);
    assert.deepEqual(records[0], {
      attributes: 0,
      timestampDelta: 0,
      offsetDelta: 0,
      key: Buffer.from('k'),
      value: Buffer.from('v1'),
      headers: [{ key: 'h', value: Buffer.from('x') }],
    });
    assert.deepEqual(records[1], {
      attributes: 0,
      timestampDelta: 10,
      offsetDelta: 1,
      key: null,
      value: Buffer.from('v2'),
      headers: [],
    });
    assert.equal(recordTimestamp(header, records[1]!), 1010n);
    assert.equal(recordOffset(header, records[1]!), 6n);
  });

  test('encodes the same bytes', () => {
    assert.deepEqual(encodeRecordBatch(handInput), HAND_BATCH);
  });

  test('computes header fields and the CRC', () => {
    const b = encodeRecordBatch({
      baseTimestamp: 1_700_000_000_000n,
      records: [
        { value: Buffer.from('a'), timestampDelta: 3 },
        { value: Buffer.from('b'), timestampDelta: 9 },
        {},
      ],
    });
    const h = readBatchHeader(b);
    assert.equal(h.batchLength, b.length - 12);
    assert.equal(h.magic, 2);
    assert.equal(h.recordCount, 3);
    assert.equal(h.lastOffsetDelta, 2);
    assert.equal(h.maxTimestamp, 1_700_000_000_009n);
    assert.equal(h.producerId, -1n);
    assert.equal(h.producerEpoch, -1);
    assert.equal(h.baseSequence, -1);
    assert.equal(h.partitionLeaderEpoch, -1);
    assert.equal(h.crc, crc32c(b.subarray(21)));
  });

  test('sets attribute bits', () => {
    const b = encodeRecordBatch({
      baseTimestamp: 0n,
      compression: 4,
      isTransactional: true,
      logAppendTime: true,
      records: [{ value: Buffer.from('x') }],
    });
    assert.equal(readBatchHeader(b).attributes, 4 | 0x08 | 0x10);
  });

  test('an empty batch keeps an explicit lastOffsetDelta', () => {
    const b = encodeRecordBatch({ baseTimestamp: 5n, lastOffsetDelta: 9, records: [] });
    const d = decodeRecordBatch(b);
    assert.equal(d.header.recordCount, 0);
    assert.equal(d.header.lastOffsetDelta, 9);
    assert.equal(d.header.maxTimestamp, 5n);
    assert.deepEqual(d.records, []);
  });

  test('timestamp deltas beyond 32 bits and negative ones survive', () => {
    const deltas = [
      0,
      -1,
      2 ** 31,
      -(2 ** 40),
      2 ** 48 + 7,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    const b = encodeRecordBatch({
      baseTimestamp: 0n,
      maxTimestamp: 0n,
      records: deltas.map((timestampDelta) => ({ timestampDelta })),
    });
    assert.deepEqual(
      decodeRecordBatch(b).records.map((r) => r.timestampDelta),
      deltas,
    );
    assert.throws(
      () => encodeRecordBatch({ baseTimestamp: 0n, records: [{ timestampDelta: 2 ** 53 }] }),
      RangeError,
    );
  });

  test('bad CRC is BAD_CRC', () => {
    const b = Buffer.from(HAND_BATCH);
    b[b.length - 1] ^= 1;
    assert.throws(
      () => decodeRecordBatch(b),
      (e: unknown) => e instanceof DecodeError && e.kind === 'BAD_CRC',
    );
  });

  test('decodes at an offset and ignores what follows', () => {
    const buf = Buffer.concat([Buffer.alloc(7), HAND_BATCH, Buffer.alloc(5)]);
    assert.equal(decodeRecordBatch(buf, { offset: 7 }).records.length, 2);
  });

  test('reads batches written by kafkajs (uncompressed and gzip)', async () => {
    const require = createRequire(import.meta.url);
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
    for (const compression of [0, 1]) {
      const records = [
        Record({
          offsetDelta: 0,
          timestampDelta: 0,
          key: Buffer.from('key-0'),
          value: Buffer.from('value-0'),
        }),
        Record({
          offsetDelta: 1,
          timestampDelta: 5,
          key: null,
          value: Buffer.from('value-1'),
          headers: { a: 'b' },
        }),
      ];
      const enc = await RecordBatch({
        compression,
        firstTimestamp: 1_600_000_000_000,
        maxTimestamp: 1_600_000_000_005,
        lastOffsetDelta: 1,
        records,
      });
      // kafkajs prefixes baseOffset then writes the rest as int32-length bytes, i.e. the batch itself.
      const { header, records: out } = decodeRecordBatch(enc.buffer as Buffer);
      assert.equal(header.attributes & 7, compression);
      assert.equal(header.recordCount, 2);
      assert.equal(out[0]!.key!.toString(), 'key-0');
      assert.equal(out[1]!.key, null);
      assert.equal(out[1]!.timestampDelta, 5);
      assert.deepEqual(out[1]!.headers, [{ key: 'a', value: Buffer.from('b') }]);
    }
  });
});

describe('legacy magic', () => {
  for (const magic of [0, 1]) {
    test(`magic ${magic} is rejected with INVALID_RECORD`, () => {
      // A v1 message: offset, size, crc, magic, attributes, timestamp, key -1, value "x".
      const m = Buffer.alloc(12 + 4 + 1 + 1 + 8 + 4 + 4 + 1);
      m.writeInt32BE(m.length - 12, 8);
      m.writeInt8(magic, 16);
      m.writeInt32BE(-1, 26);
      m.writeInt32BE(1, 30);
      for (const f of [() => decodeRecordBatch(m), () => readBatchHeader(m)]) {
        assert.throws(f, (e: unknown) => {
          assert.ok(e instanceof LegacyRecordFormatError);
          assert.equal(e.kind, 'BAD_MAGIC');
          assert.equal(e.magic, magic);
          assert.equal(e.kafkaErrorCode, 87);
          return true;
        });
      }
      assert.deepEqual(splitBatches(m).batches, [{ offset: 0, size: m.length, magic }]);
    });
  }
  test('magic 3 is a plain BAD_MAGIC', () => {
    const b = Buffer.from(HAND_BATCH);
    b[16] = 3;
    assert.throws(
      () => decodeRecordBatch(b),
      (e: unknown) =>
        e instanceof DecodeError && !(e instanceof LegacyRecordFormatError) && e.kind === 'BAD_MAGIC',
    );
  });
});

describe('splitBatches', () => {
  test('lists complete batches and a partial tail', () => {
    const a = encodeRecordBatch({ baseTimestamp: 0n, records: [{ value: Buffer.from('a') }] });
    const b = encodeRecordBatch({
      baseTimestamp: 0n,
      compression: 1,
      records: [{ value: Buffer.from('b') }],
    });
    const buf = Buffer.concat([a, b, b.subarray(0, 30)]);
    assert.deepEqual(splitBatches(buf), {
      batches: [
        { offset: 0, size: a.length, magic: 2 },
        { offset: a.length, size: b.length, magic: 2 },
      ],
      end: a.length + b.length,
      partialBytes: 30,
    });
    assert.deepEqual(splitBatches(buf, a.length, a.length + b.length).batches, [
      { offset: a.length, size: b.length, magic: 2 },
    ]);
    assert.deepEqual(splitBatches(Buffer.alloc(0)), { batches: [], end: 0, partialBytes: 0 });
    assert.equal(splitBatches(buf.subarray(0, 5)).partialBytes, 5);
  });

  test('a size field too small or a magic above 2 is corruption', () => {
    const b = Buffer.from(HAND_BATCH);
    b.writeInt32BE(13, 8);
    assert.throws(() => splitBatches(b), DecodeError);
    b.writeInt32BE(-5, 8);
    assert.throws(
      () => splitBatches(b),
      (e: unknown) => e instanceof DecodeError && e.kind === 'NEGATIVE_LENGTH',
    );
    const c = Buffer.from(HAND_BATCH);
    c[16] = 7;
    assert.throws(
      () => splitBatches(c),
      (e: unknown) => e instanceof DecodeError && e.kind === 'BAD_MAGIC',
    );
  });
});

describe('control batches', () => {
  test('commit and abort markers round trip', () => {
    for (const commit of [true, false]) {
      const b = encodeEndTxnMarkerBatch({
        commit,
        coordinatorEpoch: 17,
        producerId: 1234n,
        producerEpoch: 3,
        timestamp: 1_700_000_000_000n,
      });
      const d = decodeRecordBatch(b);
      assert.equal(d.header.attributes & 0x30, 0x30);
      assert.equal(d.header.producerId, 1234n);
      assert.equal(d.header.baseSequence, -1);
      assert.deepEqual(d.records[0]!.key, Buffer.from([0, 0, 0, commit ? 1 : 0]));
      assert.deepEqual(d.records[0]!.value, Buffer.from([0, 0, 0, 0, 0, 17]));
      assert.deepEqual(readEndTxnMarker(d), { version: 0, coordinatorEpoch: 17, commit });
    }
  });

  test('key and value checks follow Kafka', () => {
    assert.deepEqual(decodeControlRecordKey(Buffer.from([0, 1, 0, 1, 9])), {
      version: 1,
      type: ControlRecordType.COMMIT,
    });
    assert.throws(() => decodeControlRecordKey(Buffer.from([0, 0, 0])), DecodeError);
    assert.throws(() => decodeControlRecordKey(null), DecodeError);
    assert.throws(() => decodeControlRecordKey(Buffer.from([0xff, 0xff, 0, 0])), DecodeError);
    assert.throws(() => decodeEndTxnMarkerValue(Buffer.from([0, 0, 0, 0, 0])), DecodeError);
    assert.equal(readEndTxnMarker(decodeRecordBatch(HAND_BATCH)), null);
  });
});
