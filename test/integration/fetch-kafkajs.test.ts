/**
 * The fetch path as kafkajs uses it: a group consumer reading from the
 * beginning and from a seek, waking at once on new data while long polling,
 * progressing with per-partition limits smaller than a batch (KIP-74); the
 * admin client's ListOffsets and DeleteRecords.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { appendRecords, createTopic } from '../helpers/log-data.ts';

let b: TestBroker;
let kafka: Kafka;
const consumers: Consumer[] = [];

before(async () => {
  b = await startBroker();
  kafka = new Kafka({
    clientId: 'fetch-test',
    brokers: [b.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 50 },
  });
});

after(async () => {
  for (const c of consumers) await c.disconnect().catch(() => {});
  await b?.stop();
});

interface Got {
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  at: number;
}

async function consume(
  topic: string,
  opts: {
    fromBeginning: boolean;
    maxBytesPerPartition?: number;
    maxBytes?: number;
    maxWaitTimeInMs?: number;
  },
  onRun?: (c: Consumer) => void | Promise<void>,
) {
  const consumer = kafka.consumer({
    groupId: `g-${topic}`,
    maxBytesPerPartition: opts.maxBytesPerPartition,
    maxBytes: opts.maxBytes,
    maxWaitTimeInMs: opts.maxWaitTimeInMs,
  });
  consumers.push(consumer);
  const got: Got[] = [];
  let assigned = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    assigned = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      got.push({
        offset: Number(message.offset),
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
        headers,
        at: performance.now(),
      });
    },
  });
  await waitFor(() => assigned, 10_000, 'group join');
  await onRun?.(consumer);
  return { consumer, got };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Disconnects; kafkajs waits for its in-flight fetch, so wake a waiting one with a record. */
async function stop(consumer: Consumer, topic: string): Promise<void> {
  const d = consumer.disconnect();
  await new Promise((r) => setTimeout(r, 20));
  if (b.broker.replicas.fetches.purgatory.size > 0) await appendRecords(b, topic, 0, [{ value: 'stop' }]);
  await d;
}

async function fill(topic: string, n: number, perBatch = 10) {
  for (let i = 0; i < n; i += perBatch) {
    const recs = [];
    for (let j = i; j < Math.min(n, i + perBatch); j++) {
      recs.push({ key: `k${j}`, value: `v${j}`, headers: [{ key: 'h', value: Buffer.from(`x${j}`) }] });
    }
    await appendRecords(b, topic, 0, recs);
  }
}

test('kafkajs consumer reads everything from the beginning, in order, with keys and headers', async () => {
  await createTopic(b, 'kj-begin');
  await fill('kj-begin', 50);
  const { consumer, got } = await consume('kj-begin', { fromBeginning: true });
  await waitFor(() => got.length >= 50, 10_000, '50 messages');
  assert.deepEqual(
    got.map((m) => [m.offset, m.key, m.value, m.headers.h]),
    Array.from({ length: 50 }, (_, i) => [i, `k${i}`, `v${i}`, `x${i}`]),
  );
  await stop(consumer, 'kj-begin');
});

test('kafkajs consumer reads from an offset after seek', async () => {
  await createTopic(b, 'kj-seek');
  await fill('kj-seek', 50);
  // A new group starting at the latest offset sees nothing until the seek.
  // (A short maxWaitTime: kafkajs applies the seek after its in-flight fetch returns.)
  const { consumer, got } = await consume('kj-seek', { fromBeginning: false, maxWaitTimeInMs: 200 }, (c) =>
    c.seek({ topic: 'kj-seek', partition: 0, offset: '30' }),
  );
  await waitFor(() => got.length >= 20, 10_000, '20 messages');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    got.map((m) => m.offset),
    Array.from({ length: 20 }, (_, i) => 30 + i),
  );
  await stop(consumer, 'kj-seek');
});

test('a caught-up kafkajs consumer gets new data at once (long poll wakes, not maxWaitTime)', async () => {
  await createTopic(b, 'kj-poll');
  await fill('kj-poll', 1, 1);
  const { consumer, got } = await consume('kj-poll', { fromBeginning: true });
  await waitFor(() => got.length >= 1, 10_000, 'first message');
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    // Let the consumer's next fetch reach the broker and wait there.
    await waitFor(() => b.broker.replicas.fetches.purgatory.size > 0, 5000, 'a waiting fetch');
    const t0 = performance.now();
    await appendRecords(b, 'kj-poll', 0, [{ value: `late${i}` }]);
    await waitFor(() => got.length >= 2 + i, 5000, `message ${i}`);
    latencies.push(got[got.length - 1]!.at - t0);
  }
  latencies.sort((a, c) => a - c);
  // kafkajs waits up to maxWaitTimeInMs (5 s by default); a woken fetch answers in milliseconds.
  assert.ok(latencies[2]! < 250, `median wake-up latency ${latencies[2]} ms (${latencies.join(', ')})`);
  await stop(consumer, 'kj-poll');
});

test('kafkajs consumer progresses when batches exceed maxBytesPerPartition (KIP-74)', async () => {
  await createTopic(b, 'kj-big');
  for (let i = 0; i < 8; i++)
    await appendRecords(b, 'kj-big', 0, [{ key: `k${i}`, value: 'B'.repeat(4096) }]);
  const { consumer, got } = await consume('kj-big', {
    fromBeginning: true,
    maxBytesPerPartition: 1024,
    maxBytes: 2048,
  });
  await waitFor(() => got.length >= 8, 10_000, '8 big messages');
  assert.deepEqual(
    got.map((m) => m.key),
    Array.from({ length: 8 }, (_, i) => `k${i}`),
  );
  await stop(consumer, 'kj-big');
});

test('kafkajs admin: topic offsets (ListOffsets), offsets by timestamp, deleteTopicRecords (DeleteRecords)', async () => {
  await createTopic(b, 'kj-admin');
  for (let i = 0; i < 5; i++)
    await appendRecords(b, 'kj-admin', 0, [{ value: `v${i}`, timestamp: 10_000 + i * 1000 }]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    let offsets = await admin.fetchTopicOffsets('kj-admin');
    assert.deepEqual(offsets, [{ partition: 0, offset: '5', high: '5', low: '0' }]);
    const byTs = await admin.fetchTopicOffsetsByTimestamp('kj-admin', 12_500);
    assert.deepEqual(byTs, [{ partition: 0, offset: '3' }]);
    await admin.deleteTopicRecords({ topic: 'kj-admin', partitions: [{ partition: 0, offset: '2' }] });
    offsets = await admin.fetchTopicOffsets('kj-admin');
    assert.deepEqual(offsets, [{ partition: 0, offset: '5', high: '5', low: '2' }]);
  } finally {
    await admin.disconnect();
  }
});
