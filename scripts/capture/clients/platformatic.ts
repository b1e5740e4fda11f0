/**
 * Golden-bytes scenario for @platformatic/kafka. Usage: node platformatic.ts BOOTSTRAP GROUP
 *
 * Runs against scripts/capture/stub/stub-broker.ts (librdkafka's mock rejects the
 * ApiVersions v3+ this client requires); only the requests are golden.
 */
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

const [bootstrap, group] = process.argv.slice(2) as [string, string];
const deadline = setTimeout(() => {
  console.error('platformatic scenario: overall timeout');
  process.exit(2);
}, 150_000);

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const TOPICS = CODECS.map((c) => `golden-${c}`);
const base = { clientId: 'golden-platformatic', bootstrapBrokers: [bootstrap], timeout: 10_000, retries: 2 };

const admin = new Admin(base);
await admin.metadata({ topics: TOPICS });
await admin.close();

const producer = new Producer({ ...base, serializers: stringSerializers, autocreateTopics: false });
for (const codec of CODECS) {
  await producer.send({
    acks: -1,
    compression: codec,
    messages: [1, 2, 3].map((i) => ({
      topic: `golden-${codec}`,
      partition: 0,
      key: `key-${i}`,
      value: `value ${i} ${codec}`,
      headers: { h1: 'v1', trace: 'golden' },
    })),
  });
}
await producer.send({
  acks: 1,
  messages: [{ topic: 'golden-none', partition: 0, key: 'k-acks1', value: 'acks=1' }],
});
await producer.close();

// Idempotent producer (InitProducerId, producer id/epoch/sequence in the batch).
try {
  const idem = new Producer({ ...base, serializers: stringSerializers, idempotent: true });
  await idem.send({ messages: [{ topic: 'golden-none', partition: 0, key: 'key-i', value: 'idempotent' }] });
  await idem.close();
} catch (e) {
  console.error(`platformatic scenario: idempotent producer failed: ${(e as Error).message}`);
}

// Group consumer with autocommit.
const consumer = new Consumer({
  ...base,
  groupId: group,
  deserializers: stringDeserializers,
  sessionTimeout: 10_000,
  heartbeatInterval: 500,
  maxWaitTime: 200,
});
const stream = await consumer.consume({ topics: TOPICS, mode: 'earliest', autocommit: 200 });
const expected = CODECS.length * 3 + 2;
let seen = 0;
await new Promise<void>((resolve) => {
  const t = setTimeout(resolve, 20_000);
  stream.on('data', () => {
    if (++seen === expected) {
      clearTimeout(t);
      setTimeout(resolve, 1_500); // an autocommit and a heartbeat
    }
  });
  stream.on('error', (e: Error) => {
    console.error(`platformatic scenario: stream error: ${e.message}`);
    clearTimeout(t);
    resolve();
  });
});
await stream.close();
await consumer.close();
console.log(`platformatic scenario: consumed ${seen}/${expected} records`);

// Rejoin from the committed offsets (OffsetFetch); nothing new to read.
const again = new Consumer({ ...base, groupId: group, deserializers: stringDeserializers, maxWaitTime: 200 });
const s2 = await again.consume({ topics: TOPICS, mode: 'committed', autocommit: false });
await new Promise((r) => setTimeout(r, 1_500));
await s2.close();
await again.close();
clearTimeout(deadline);
process.exit(0);
