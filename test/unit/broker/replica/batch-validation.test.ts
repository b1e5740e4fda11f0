import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import {
  checkProduceRecords,
  type LogValidationConfig,
  validateBatch,
} from '../../../../src/broker/replica/batch-validation.ts';
import { ErrorCode } from '../../../../src/protocol/error-codes.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  updateBatchCrc,
} from '../../../../src/protocol/records/record-batch.ts';

const NOW = 1_700_000_000_000;
const cfg = (over: Partial<LogValidationConfig> = {}): LogValidationConfig => ({
  partitionName: 't-0',
  maxMessageBytes: 1 << 20,
  segmentBytes: 1 << 30,
  compacted: false,
  logAppendTime: false,
  timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
  timestampAfterMaxMs: Number.POSITIVE_INFINITY,
  targetCompression: 'producer',
  maxDecompressedBytes: 1 << 20,
  ...over,
});
const rec = (key: string | null, value = 'v', timestampDelta = 0): RecordInput => ({
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(value),
  timestampDelta,
});
const batch = (
  records: RecordInput[] = [rec('k')],
  opts: Partial<Parameters<typeof encodeRecordBatch>[0]> = {},
) => encodeRecordBatch({ baseTimestamp: BigInt(NOW), records, ...opts });
const patched = (b: Buffer, fn: (x: Buffer) => void, fixCrc = true) => {
  const x = Buffer.from(b);
  fn(x);
  if (fixCrc) updateBatchCrc(x);
  return x;
};
/** Replaces the records section (after the 61-byte header) and fixes length and CRC. */
const withBody = (b: Buffer, body: Buffer) => {
  const x = Buffer.concat([b.subarray(0, 61), body]);
  x.writeInt32BE(x.length - 12, 8);
  updateBatchCrc(x);
  return x;
};
function code(r: ReturnType<typeof validateBatch> | ReturnType<typeof checkProduceRecords>): number {
  return r.ok ? 0 : r.rejection.errorCode;
}

describe('checkProduceRecords (ProduceRequest.validateRecords)', () => {
  test('exactly one complete v2 batch', () => {
    const b = batch();
    const ok = checkProduceRecords(b, 9);
    assert.ok(ok.ok && ok.batch === b);
    assert.equal(code(checkProduceRecords(null, 9)), ErrorCode.INVALID_RECORD);
    assert.equal(code(checkProduceRecords(Buffer.alloc(0), 9)), ErrorCode.INVALID_RECORD);
    assert.equal(code(checkProduceRecords(b.subarray(0, b.length - 1), 9)), ErrorCode.INVALID_RECORD);
    assert.equal(code(checkProduceRecords(Buffer.concat([b, b]), 9)), ErrorCode.INVALID_RECORD);
  });

  test('a trailing partial batch is trimmed, as Kafka does', () => {
    const b = batch();
    const r = checkProduceRecords(Buffer.concat([b, b.subarray(0, 20)]), 9);
    assert.ok(r.ok);
    assert.equal(r.batch.length, b.length);
    assert.ok(checkProduceRecords(Buffer.concat([b, Buffer.alloc(5)]), 9).ok);
  });

  test('size fields below 14 are CORRUPT_MESSAGE, any magic but 2 is INVALID_RECORD', () => {
    const b = batch();
    assert.equal(
      code(
        checkProduceRecords(
          patched(b, (x) => x.writeInt32BE(13, 8), false),
          9,
        ),
      ),
      2,
    );
    assert.equal(
      code(
        checkProduceRecords(
          patched(b, (x) => x.writeInt32BE(-5, 8), false),
          9,
        ),
      ),
      2,
    );
    const next = patched(b, (x) => x.writeInt32BE(3, 8), false).subarray(0, 12);
    assert.equal(code(checkProduceRecords(Buffer.concat([b, next]), 9)), ErrorCode.CORRUPT_MESSAGE);
    for (const magic of [0, 1, 3, -1]) {
      assert.equal(
        code(
          checkProduceRecords(
            patched(b, (x) => x.writeInt8(magic, 16), false),
            9,
          ),
        ),
        87,
      );
    }
  });

  test('zstd needs Produce v7', () => {
    const z = patched(batch(), (x) => x.writeInt16BE(4, 21));
    assert.equal(code(checkProduceRecords(z, 6)), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    assert.ok(checkProduceRecords(z, 7).ok);
  });
});

describe('validateBatch (analyzeAndValidateRecords + LogValidator)', () => {
  test('a good idempotent batch: header fields come back', () => {
    const b = batch([rec('a'), rec('b')], { producerId: 42n, producerEpoch: 3, baseSequence: 7 });
    const r = validateBatch(b, cfg(), NOW);
    assert.ok(r.ok);
    assert.equal(r.batch.buf, b);
    assert.deepEqual(
      [
        r.batch.producerId,
        r.batch.producerEpoch,
        r.batch.baseSequence,
        r.batch.lastOffsetDelta,
        r.batch.recordCount,
      ],
      [42, 3, 7, 1, 2],
    );
  });

  test('header checks in Kafka order with Kafka codes', () => {
    const b = batch();
    assert.equal(
      code(
        validateBatch(
          patched(b, (x) => x.writeBigInt64BE(1n, 0), false),
          cfg(),
          NOW,
        ),
      ),
      87,
    );
    assert.equal(code(validateBatch(b, cfg({ maxMessageBytes: b.length - 1 }), NOW)), 10);
    // too large wins over a bad CRC, as in Kafka
    const badCrc = patched(b, (x) => x.writeUInt32BE(0, 17), false);
    assert.equal(code(validateBatch(badCrc, cfg({ maxMessageBytes: 10 }), NOW)), 10);
    assert.equal(code(validateBatch(badCrc, cfg(), NOW)), 2);
    const short = Buffer.from(b.subarray(0, 40));
    short.writeInt32BE(28, 8);
    assert.equal(code(validateBatch(short, cfg(), NOW)), 2);
    assert.equal(
      code(
        validateBatch(
          patched(b, (x) => x.writeInt16BE(5, 21)),
          cfg(),
          NOW,
        ),
      ),
      87,
    );
    assert.equal(
      code(
        validateBatch(
          patched(b, (x) => x.writeInt32BE(-1, 23)),
          cfg(),
          NOW,
        ),
      ),
      87,
    );
    assert.equal(
      code(
        validateBatch(
          patched(b, (x) => x.writeInt32BE(0, 57)),
          cfg(),
          NOW,
        ),
      ),
      87,
    );
    assert.equal(
      code(
        validateBatch(
          patched(b, (x) => x.writeInt32BE(1, 23)),
          cfg(),
          NOW,
        ),
      ),
      87,
    );
    assert.equal(
      code(
        validateBatch(
          patched(b, (x) => x.writeInt16BE(0x20, 21)),
          cfg(),
          NOW,
        ),
      ),
      87,
    );
    const negSeq = batch(undefined, { producerId: 1n, producerEpoch: 0, baseSequence: -1 });
    assert.equal(code(validateBatch(negSeq, cfg(), NOW)), 87);
    // no producer id: sequence -1 is normal
    assert.ok(validateBatch(batch(undefined, { baseSequence: -1 }), cfg(), NOW).ok);
    assert.equal(
      code(validateBatch(b, cfg({ segmentBytes: b.length - 1 }), NOW)),
      ErrorCode.RECORD_LIST_TOO_LARGE,
    );
  });

  test('uncompressed records are walked: a lying count or malformed framing is INVALID_RECORD', () => {
    const two = batch([rec('a'), rec('b')]);
    const threeClaimed = patched(two, (x) => {
      x.writeInt32BE(2, 23);
      x.writeInt32BE(3, 57);
    });
    assert.equal(code(validateBatch(threeClaimed, cfg(), NOW)), 87);
    const oneClaimed = patched(two, (x) => {
      x.writeInt32BE(0, 23);
      x.writeInt32BE(1, 57);
    });
    const r = validateBatch(oneClaimed, cfg(), NOW);
    assert.ok(!r.ok && /remaining/.test(r.rejection.message));
    const garbage = withBody(
      batch(),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    );
    assert.equal(code(validateBatch(garbage, cfg(), NOW)), 87);
  });

  test('compacted topics need keys (an empty key is a key), reported per record', () => {
    const r = validateBatch(batch([rec('a'), rec(null), rec(''), rec(null)]), cfg({ compacted: true }), NOW);
    assert.ok(!r.ok);
    assert.equal(r.rejection.errorCode, 87);
    assert.deepEqual(
      r.rejection.recordErrors!.map((e) => e.batchIndex),
      [1, 3],
    );
    assert.match(r.rejection.message, /2 record errors/);
    const gz = batch([rec('a'), rec(null)], { compression: 1 });
    assert.equal(code(validateBatch(gz, cfg({ compacted: true }), NOW)), 87);
    assert.ok(validateBatch(batch([rec('a')], { compression: 1 }), cfg({ compacted: true }), NOW).ok);
  });

  test('timestamp bounds (CreateTime): before, after, and -1 which is never checked', () => {
    const c = cfg({ timestampBeforeMaxMs: 1000, timestampAfterMaxMs: 1000 });
    assert.ok(validateBatch(batch([rec('a', 'v', 0), rec('b', 'v', 999)]), c, NOW).ok);
    const r = validateBatch(batch([rec('a', 'v', 0), rec('b', 'v', -1001), rec('c', 'v', 1001)]), c, NOW);
    assert.ok(!r.ok);
    assert.equal(r.rejection.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(
      r.rejection.recordErrors!.map((e) => e.batchIndex),
      [1, 2],
    );
    assert.match(r.rejection.recordErrors![0]!.message!, /out of range/);
    const noTs = encodeRecordBatch({ baseTimestamp: -1n, maxTimestamp: -1n, records: [rec('a')] });
    assert.ok(validateBatch(noTs, c, NOW).ok);
    // the producer's LogAppendTime bit on a CreateTime topic: its max timestamp is every record's timestamp
    assert.ok(
      validateBatch(batch([rec('a')], { logAppendTime: true, maxTimestamp: BigInt(NOW) }), c, NOW).ok,
    );
    const farLat = batch([rec('a')], { logAppendTime: true, maxTimestamp: BigInt(NOW + 5000) });
    assert.equal(code(validateBatch(farLat, c, NOW)), ErrorCode.INVALID_TIMESTAMP);
  });

  test('LogAppendTime topics refuse the producer setting the LogAppendTime bit', () => {
    const r = validateBatch(
      batch([rec('a'), rec('b')], { logAppendTime: true }),
      cfg({ logAppendTime: true }),
      NOW,
    );
    assert.ok(!r.ok);
    assert.equal(r.rejection.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.equal(r.rejection.recordErrors!.length, 2);
    const gz = batch([rec('a')], { logAppendTime: true, compression: 1 });
    assert.equal(code(validateBatch(gz, cfg({ logAppendTime: true }), NOW)), ErrorCode.INVALID_TIMESTAMP);
    // timestamps are not bounded on LogAppendTime topics
    const old = batch([rec('a', 'v', -10_000_000)]);
    assert.ok(validateBatch(old, cfg({ logAppendTime: true, timestampBeforeMaxMs: 1 }), NOW).ok);
  });

  test('compressed batches stay unread unless a check needs their records', () => {
    // garbage compressed payload with a valid CRC: not decompressed on a plain topic
    const junk = withBody(batch([rec('a')], { compression: 1 }), Buffer.from('not gzip at all'));
    assert.ok(validateBatch(junk, cfg(), NOW).ok);
    // ... but read (and refused) where the records matter
    assert.equal(code(validateBatch(junk, cfg({ compacted: true }), NOW)), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(
      code(validateBatch(junk, cfg({ timestampBeforeMaxMs: 1000 }), NOW)),
      ErrorCode.CORRUPT_MESSAGE,
    );
    // only an "after" bound: the header's max timestamp decides, records are read only to name culprits
    assert.ok(validateBatch(junk, cfg({ timestampAfterMaxMs: 1000 }), NOW).ok);
    const future = batch([rec('a', 'v', 0), rec('b', 'v', 5000)], { compression: 1 });
    const r = validateBatch(future, cfg({ timestampAfterMaxMs: 1000 }), NOW);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.rejection.recordErrors!.map((e) => e.batchIndex),
      [1],
    );
  });

  test('decompression is capped', () => {
    const bomb = withBody(batch([rec('a')], { compression: 1 }), zlib.gzipSync(Buffer.alloc(4 << 20)));
    const r = validateBatch(bomb, cfg({ compacted: true, maxDecompressedBytes: 1 << 20 }), NOW);
    assert.ok(!r.ok);
    assert.equal(r.rejection.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  });

  test('recompression to the topic compression.type keeps records and producer fields', () => {
    const records = Array.from({ length: 20 }, (_, i) => rec(`k${i}`, 'x'.repeat(200), i));
    const plain = batch(records, { producerId: 9n, producerEpoch: 1, baseSequence: 100 });
    const r = validateBatch(plain, cfg({ targetCompression: 1 }), NOW);
    assert.ok(r.ok);
    assert.notEqual(r.batch.buf, plain);
    assert.equal(r.batch.buf.readInt16BE(21) & 7, 1);
    assert.ok(r.batch.buf.length < plain.length);
    const d = decodeRecordBatch(r.batch.buf);
    assert.deepEqual(
      [d.header.producerId, d.header.producerEpoch, d.header.baseSequence, d.header.lastOffsetDelta],
      [9n, 1, 100, 19],
    );
    assert.equal(d.header.maxTimestamp, BigInt(NOW + 19));
    assert.deepEqual(
      d.records.map((x) => [x.key!.toString(), x.timestampDelta]),
      records.map((_x, i) => [`k${i}`, i]),
    );
    const back = validateBatch(r.batch.buf, cfg({ targetCompression: 0 }), NOW);
    assert.ok(back.ok);
    assert.equal(back.batch.buf.readInt16BE(21) & 7, 0);
    assert.deepEqual(decodeRecordBatch(back.batch.buf).records.length, 20);
    // same codec: untouched
    const same = validateBatch(r.batch.buf, cfg({ targetCompression: 1 }), NOW);
    assert.ok(same.ok && same.batch.buf === r.batch.buf);
    // recompressed too large for max.message.bytes
    const gz = batch(
      Array.from({ length: 50 }, (_, i) => rec(`k${i}`, 'y'.repeat(1000))),
      { compression: 1 },
    );
    assert.equal(code(validateBatch(gz, cfg({ targetCompression: 0, maxMessageBytes: 20_000 }), NOW)), 10);
  });
});
