/**
 * queued.max.request.bytes / queued.max.requests in a real broker (in
 * process): 20 connections pipelining 256 KiB produce batches against a
 * 2 MiB cap are pushed back by TCP, every batch is acknowledged and read
 * back, a kafkajs producer works meanwhile, and Fetch responses are held to
 * the cap (at least one batch each, KIP-74).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBroker } from '../../src/testing/index.ts';
import { createTopicDirect } from '../compat/helpers/broker.ts';
import { kafkajs } from '../compat/helpers/kafkajs.ts';
import { fetch, part } from '../helpers/fetch.ts';
import { batch, produce } from '../helpers/produce.ts';
import { RawClient } from '../helpers/raw-client.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

test('20 pipelining producers against a 2 MiB queued.max.request.bytes: backpressure, nothing lost', async (t) => {
  const cap = 2 * MiB;
  const b = await startBroker({ config: { 'queued.max.request.bytes': cap } });
  t.after(() => b.stop());
  const pool = b.broker.requestMemory!;
  assert.equal(pool.maxBytes, cap);
  assert.equal(pool.maxRequests, 500);
  const topic = 'request-memory';
  await createTopicDirect(b, topic, 4);

  const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(b.bootstrapServers)));
  t.after(() => {
    for (const c of clients) c.close();
  });
  // Four 64 KiB records per batch, 10 batches per connection: 50 MiB offered at once.
  const value = Buffer.alloc(64 * KiB, 0x6d);
  const records = Array.from({ length: 4 }, (_, i) => ({ key: Buffer.from(`k${i}`), value }));
  const kafka = kafkajs(b.bootstrapServers);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  t.after(() => producer.disconnect());

  const t0 = performance.now();
  const sends = clients.flatMap((c, i) =>
    Array.from({ length: 10 }, () => {
      const body = batch(records);
      return c
        .request(0, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 30_000,
          topicData: [{ name: topic, partitionData: [{ index: i % 4, records: body }] }],
        })
        .then((res) => res.responses[0].partitionResponses[0].errorCode as number);
    }),
  );
  // A well-behaved client meanwhile.
  const kjs = (async () => {
    for (let i = 0; i < 10; i++) await producer.send({ topic, acks: -1, messages: [{ value: `kjs-${i}` }] });
  })();
  const codes = await Promise.all(sends);
  await kjs;
  const ms = performance.now() - t0;
  assert.deepEqual(
    codes.filter((c) => c !== 0),
    [],
    'every batch acknowledged',
  );
  const frame = 256 * KiB + 200;
  const slack = frame + 20 * 64 * KiB; // one frame past the cap, one socket read per connection
  t.diagnostic(
    `50 MiB from 20 connections in ${ms.toFixed(0)} ms; pool peak ${(pool.peakUsed / MiB).toFixed(2)} MiB (cap 2 MiB), ${pool.pauses} pauses`,
  );
  assert.ok(pool.peakUsed <= cap + slack, `pool peak ${pool.peakUsed} bytes`);
  assert.ok(pool.pauses > 0, 'connections were paused');

  let total = 0;
  for (let p = 0; p < 4; p++) total += b.broker.replicas.get(topic, p)!.log.logEndOffset;
  assert.equal(total, 20 * 10 * 4 + 10, 'every record is in the log');

  // Fetch with maxBytes 50 MiB: each response stays within the cap plus one batch, and all is read back.
  const reader = clients[0]!;
  let read = 0;
  for (let p = 0; p < 4; p++) {
    let offset = 0;
    for (let round = 0; round < 100; round++) {
      const res = await fetch(reader, 12, {
        topics: [{ topic, partitions: [{ partition: p, offset, maxBytes: 50 * MiB }] }],
        maxBytes: 50 * MiB,
      });
      const d = part(res, topic, p);
      assert.equal(d.errorCode, 0);
      const bytes = d.records?.length ?? 0;
      assert.ok(bytes <= cap + frame, `fetch response of ${bytes} bytes against a 2 MiB cap`);
      if (bytes === 0) break;
      // Walk the batches: baseOffset (8) + length (4) ... lastOffsetDelta at 23.
      for (let pos = 0; pos + 61 <= bytes; ) {
        const len = d.records!.readInt32BE(pos + 8);
        const base = Number(d.records!.readBigInt64BE(pos));
        const count = d.records!.readInt32BE(pos + 57);
        read += count;
        offset = base + d.records!.readInt32BE(pos + 23) + 1;
        pos += 12 + len;
      }
      if (offset >= Number(d.highWatermark)) break;
    }
  }
  assert.equal(read, total, 'every record read back');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.used, 0);
  assert.equal(pool.queued, 0);
});

test('queued.max.request.bytes -1 (Kafka default) means no cap; produce still works', async (t) => {
  const b = await startBroker({ config: { 'queued.max.request.bytes': -1 } });
  t.after(() => b.stop());
  assert.equal(b.broker.requestMemory!.maxBytes, Number.POSITIVE_INFINITY);
  await createTopicDirect(b, 'nocap', 1);
  const c = await RawClient.connect(b.bootstrapServers);
  t.after(() => c.close());
  const r = await produce(c, 'nocap', batch());
  assert.equal(r.errorCode, 0);
});

test('fetches woken together reserve their reads: response memory stays within the cap plus one batch each', async (t) => {
  const cap = 4 * MiB;
  const b = await startBroker({ config: { 'queued.max.request.bytes': cap } });
  t.after(() => b.stop());
  const pool = b.broker.requestMemory!;
  const topic = 'woken';
  await createTopicDirect(b, topic, 1);
  // Four consumers that never read their sockets wait for 6 MiB from offset 0.
  const readers = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(b.bootstrapServers)));
  t.after(() => {
    for (const r of readers) r.close();
  });
  for (const r of readers) r.socket.pause();
  for (const r of readers) {
    fetch(r, 12, {
      topics: [{ topic, partitions: [{ partition: 0, offset: 0, maxBytes: 50 * MiB }] }],
      maxBytes: 50 * MiB,
      minBytes: 6 * MiB,
      maxWaitMs: 10_000,
    }).catch(() => {});
  }
  await new Promise((r) => setTimeout(r, 200));
  const producer = await RawClient.connect(b.bootstrapServers);
  t.after(() => producer.close());
  const value = Buffer.alloc(1_000_000, 0x77);
  for (let i = 0; i < 8; i++) {
    const r = await produce(producer, topic, batch([{ key: null, value }]));
    assert.equal(r.errorCode, 0);
  }
  await new Promise((r) => setTimeout(r, 300));
  const batchBytes = 1_000_100;
  t.diagnostic(`peak response bytes ${(pool.peakResponseBytes / MiB).toFixed(2)} MiB (cap 4 MiB)`);
  // Unreserved, each would have read the whole 6-8 MiB at once (24+ MiB).
  assert.ok(
    pool.peakResponseBytes <= cap + 4 * batchBytes,
    `response bytes peaked at ${pool.peakResponseBytes}`,
  );
  assert.ok(pool.peakResponseBytes >= 4 * MiB, 'the readers were answered');
});
