/**
 * PROTO-BadBatch (../shared/docs/RELIABILITY.md): hand-built batches sent by
 * a raw client, each answered with Kafka's exact error code, and the log end
 * offset unchanged afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { updateBatchCrc } from '../../src/protocol/records/record-batch.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { batch, PRODUCE, patch, produce, produceBody } from '../helpers/produce.ts';
import { RawClient } from '../helpers/raw-client.ts';

/** A legacy magic-1 message set (one message), as pre-0.11 clients wrote. */
function legacyV1Message(): Buffer {
  const value = Buffer.from('legacy');
  const body = Buffer.alloc(1 + 1 + 8 + 4 + 4 + value.length);
  let p = 0;
  body.writeInt8(1, p++); // magic
  body.writeInt8(0, p++); // attributes
  body.writeBigInt64BE(BigInt(Date.now()), p);
  p += 8;
  body.writeInt32BE(-1, p); // null key
  p += 4;
  body.writeInt32BE(value.length, p);
  p += 4;
  value.copy(body, p);
  const msg = Buffer.alloc(12 + 4 + body.length);
  msg.writeBigInt64BE(0n, 0);
  msg.writeInt32BE(4 + body.length, 8);
  msg.writeUInt32BE(zlib.crc32(body), 12);
  body.copy(msg, 16);
  return msg;
}

describe('PROTO-BadBatch', () => {
  let b: TestBroker;
  let c: RawClient;
  const leo = (topic: string) => b.broker.replicas.get(topic, 0)!.log.logEndOffset;

  before(async () => {
    b = await startBroker({ config: { 'samsa.decompression.max.bytes': 1 << 20 } });
    await b.broker.topics.create({ name: 'bad', numPartitions: 1, replicationFactor: 1 });
    await b.broker.topics.create({
      name: 'bad-compact',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'cleanup.policy': 'compact' },
    });
    await b.broker.topics.create({
      name: 'bad-ts',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'message.timestamp.before.max.ms': '3600000', 'message.timestamp.after.max.ms': '3600000' },
    });
    await b.broker.topics.create({
      name: 'bad-small',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'max.message.bytes': '1000' },
    });
    await b.broker.topics.create({
      name: 'bad-lat',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'message.timestamp.type': 'LogAppendTime' },
    });
    c = await RawClient.connect(b.bootstrapServers);
    // one good record in each, so "unchanged" is checked against a non-empty log
    for (const t of ['bad', 'bad-compact', 'bad-ts', 'bad-small', 'bad-lat']) {
      assert.equal((await produce(c, t, batch())).errorCode, 0);
    }
  });
  after(async () => {
    c?.close();
    await b?.stop();
  });

  async function expectRejected(topic: string, records: Buffer | null, code: number, version = 9) {
    const before = leo(topic);
    const r = await produce(c, topic, records, version);
    assert.equal(r.errorCode, code, `expected error ${code}, got ${r.errorCode} (${r.errorMessage})`);
    assert.equal(r.baseOffset, -1n);
    assert.equal(leo(topic), before, 'log end offset moved');
    return r;
  }

  test('bad CRC: CORRUPT_MESSAGE (2)', async () => {
    const bad = patch(batch(), (x) => x.writeUInt8(x[x.length - 1]! ^ 0xff, x.length - 1), false);
    await expectRejected('bad', bad, ErrorCode.CORRUPT_MESSAGE);
  });

  test('lastOffsetDelta != count-1, count 0, negative delta: INVALID_RECORD (87)', async () => {
    const two = batch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }]);
    await expectRejected(
      'bad',
      patch(two, (x) => x.writeInt32BE(0, 23)),
      ErrorCode.INVALID_RECORD,
    );
    await expectRejected(
      'bad',
      patch(two, (x) => x.writeInt32BE(5, 23)),
      ErrorCode.INVALID_RECORD,
    );
    await expectRejected(
      'bad',
      patch(two, (x) => x.writeInt32BE(0, 57)),
      ErrorCode.INVALID_RECORD,
    );
    await expectRejected(
      'bad',
      patch(two, (x) => x.writeInt32BE(-1, 23)),
      ErrorCode.INVALID_RECORD,
    );
    // count and delta agree but the records do not: the count lies
    const lie = patch(two, (x) => {
      x.writeInt32BE(2, 23);
      x.writeInt32BE(3, 57);
    });
    const r = await expectRejected('bad', lie, ErrorCode.INVALID_RECORD);
    assert.match(r.errorMessage, /record/i);
  });

  test('control bit set by a client: INVALID_RECORD', async () => {
    const ctl = batch([{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
      isControl: true,
      producerId: 5n,
      producerEpoch: 0,
      baseSequence: 0,
    });
    await expectRejected('bad', ctl, ErrorCode.INVALID_RECORD);
  });

  test('producer id with a negative sequence: INVALID_RECORD', async () => {
    await expectRejected(
      'bad',
      batch(undefined, { producerId: 1000n, producerEpoch: 0, baseSequence: -1 }),
      ErrorCode.INVALID_RECORD,
    );
  });

  test('magic < 2 (legacy message set), also on an idempotent request: INVALID_RECORD as Kafka 4', async () => {
    await expectRejected('bad', legacyV1Message(), ErrorCode.INVALID_RECORD);
    await expectRejected('bad', legacyV1Message(), ErrorCode.INVALID_RECORD, 3);
    const v2asV1 = patch(batch(undefined, { producerId: 1n, producerEpoch: 0, baseSequence: 0 }), (x) =>
      x.writeInt8(1, 16),
    );
    await expectRejected('bad', v2asV1, ErrorCode.INVALID_RECORD);
  });

  test('more than one batch in a request: INVALID_RECORD', async () => {
    await expectRejected('bad', Buffer.concat([batch(), batch()]), ErrorCode.INVALID_RECORD);
    // no complete batch at all
    await expectRejected('bad', batch().subarray(0, 40), ErrorCode.INVALID_RECORD);
    await expectRejected('bad', Buffer.alloc(0), ErrorCode.INVALID_RECORD);
    await expectRejected('bad', null, ErrorCode.INVALID_RECORD);
    // a size field below Kafka's minimum record overhead
    await expectRejected(
      'bad',
      patch(batch(), (x) => x.writeInt32BE(10, 8), false),
      ErrorCode.CORRUPT_MESSAGE,
    );
  });

  test('nested compression: a gzip batch whose payload is another gzip batch is INVALID_RECORD where records are read', async () => {
    const inner = batch([{ key: Buffer.from('k'), value: Buffer.alloc(200) }], { compression: 1 });
    const outer = patch(
      batch([{ key: Buffer.from('k'), value: Buffer.from('v') }], { compression: 1 }),
      () => {},
    );
    const nested = Buffer.concat([outer.subarray(0, 61), zlib.gzipSync(inner)]);
    nested.writeInt32BE(nested.length - 12, 8);
    updateBatchCrc(nested);
    await expectRejected('bad-compact', nested, ErrorCode.INVALID_RECORD);
    await expectRejected('bad-ts', nested, ErrorCode.INVALID_RECORD);
  });

  test('timestamps outside message.timestamp.before/after.max.ms: INVALID_TIMESTAMP (32) with record errors', async () => {
    const now = Date.now();
    const old = batch(
      [
        { value: Buffer.from('ok'), timestampDelta: 0 },
        { value: Buffer.from('old'), timestampDelta: -7_200_000 },
      ],
      {
        baseTimestamp: BigInt(now),
      },
    );
    const r = await expectRejected('bad-ts', old, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(
      r.recordErrors.map((e: { batchIndex: number }) => e.batchIndex),
      [1],
    );
    const future = batch([{ value: Buffer.from('f') }], { baseTimestamp: BigInt(now + 7_200_000) });
    await expectRejected('bad-ts', future, ErrorCode.INVALID_TIMESTAMP);
    const futureGzip = batch([{ value: Buffer.from('f') }], {
      baseTimestamp: BigInt(now + 7_200_000),
      compression: 1,
    });
    await expectRejected('bad-ts', futureGzip, ErrorCode.INVALID_TIMESTAMP);
    const oldGzip = batch([{ value: Buffer.from('o') }], {
      baseTimestamp: BigInt(now - 7_200_000),
      compression: 1,
    });
    await expectRejected('bad-ts', oldGzip, ErrorCode.INVALID_TIMESTAMP);
    // LogAppendTime set by a producer on a LogAppendTime topic
    await expectRejected('bad-lat', batch(undefined, { logAppendTime: true }), ErrorCode.INVALID_TIMESTAMP);
    // in range: accepted
    assert.equal((await produce(c, 'bad-ts', batch([{ value: Buffer.from('now') }]))).errorCode, 0);
  });

  test('keyless record on a compacted topic: INVALID_RECORD with the record index', async () => {
    const keyless = batch([
      { key: Buffer.from('a'), value: Buffer.from('1') },
      { key: null, value: Buffer.from('2') },
    ]);
    const r = await expectRejected('bad-compact', keyless, ErrorCode.INVALID_RECORD);
    assert.deepEqual(
      r.recordErrors.map((e: { batchIndex: number }) => e.batchIndex),
      [1],
    );
    assert.match(
      r.recordErrors[0].batchIndexErrorMessage,
      /Compacted topic cannot accept message without key/,
    );
    const gz = batch([{ key: null, value: Buffer.from('2') }], { compression: 1 });
    await expectRejected('bad-compact', gz, ErrorCode.INVALID_RECORD);
    assert.equal(
      (await produce(c, 'bad-compact', batch([{ key: Buffer.from('k'), value: null }]))).errorCode,
      0,
    );
  });

  test('batch over max.message.bytes: MESSAGE_TOO_LARGE (10)', async () => {
    await expectRejected('bad-small', batch([{ value: Buffer.alloc(2000) }]), ErrorCode.MESSAGE_TOO_LARGE);
  });

  test('decompression bomb where the broker must decompress: stopped at samsa.decompression.max.bytes', async () => {
    // 16 MiB of zeros gzips to ~16 KiB; the broker's cap is 1 MiB here
    const zeros = Buffer.alloc(16 << 20);
    const bomb = batch([{ key: Buffer.from('k'), value: Buffer.from('v') }], { compression: 1 });
    const payload = zlib.gzipSync(zeros, { level: 1 });
    const rss = process.memoryUsage().rss;
    const buf = Buffer.concat([bomb.subarray(0, 61), payload]);
    buf.writeInt32BE(buf.length - 12, 8);
    updateBatchCrc(buf);
    assert.ok(buf.length < 1 << 20);
    const r = await expectRejected('bad-compact', buf, ErrorCode.MESSAGE_TOO_LARGE);
    assert.match(r.errorMessage, /samsa\.decompression\.max\.bytes/);
    assert.ok(process.memoryUsage().rss - rss < 32 << 20, 'decompression was not bounded');
  });

  test('other Kafka checks: baseOffset != 0, zstd before v7, transactional without a transaction, invalid acks', async () => {
    await expectRejected(
      'bad',
      patch(batch(), (x) => x.writeBigInt64BE(7n, 0), false),
      ErrorCode.INVALID_RECORD,
    );
    const zstd = patch(batch(), (x) => x.writeInt16BE(4, 21));
    await expectRejected('bad', zstd, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 6);
    await expectRejected(
      'bad',
      batch(undefined, { isTransactional: true, producerId: 77n, producerEpoch: 0, baseSequence: 0 }),
      ErrorCode.INVALID_TXN_STATE,
    );
    const before = leo('bad');
    const res = await c.request(PRODUCE, 9, produceBody('bad', batch(), 2));
    assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    assert.equal(leo('bad'), before);
  });

  test('unknown partition: UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const res = await c.request(PRODUCE, 9, produceBody('bad', batch(), 1, 3));
    assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('acks=0 with a bad batch closes the connection (Kafka does so the producer notices)', async () => {
    const c2 = await RawClient.connect(b.bootstrapServers);
    try {
      const closed = new Promise<void>((resolve) => c2.socket.once('close', () => resolve()));
      const before = leo('bad');
      // acks=0 gets no response; a following request would never be answered either
      c2.request(
        PRODUCE,
        9,
        produceBody(
          'bad',
          patch(batch(), (x) => x.writeInt32BE(0, 57)),
          0,
        ),
      ).catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        closed,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('connection stayed open')), 5000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(leo('bad'), before);
    } finally {
      c2.close();
    }
  });

  test('the broker still serves good produce after all that', async () => {
    const before = leo('bad');
    const r = await produce(c, 'bad', batch());
    assert.equal(r.errorCode, 0);
    assert.equal(Number(r.baseOffset), before);
    assert.equal(leo('bad'), before + 1);
  });
});
