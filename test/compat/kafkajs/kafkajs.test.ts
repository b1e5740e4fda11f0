/**
 * kafkajs (npm dev dependency) against an in-process Samsa broker. Part of the
 * default `npm test`. Cases skip, naming the missing handler, until the
 * broker registers what they need; from then on they must pass.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  brokerFor,
  createTopicDirect,
  startBroker,
  type TestBroker,
  uniqueTopic,
  waitFor,
} from '../helpers/broker.ts';
import { KAFKAJS_CODEC, type Kafka, kafkajs, kafkajsRead } from '../helpers/kafkajs.ts';
import { startProxy } from '../helpers/proxy.ts';
import {
  assertExactlyOnce,
  assertRecords,
  CODECS,
  makeRecords,
  type TestRecord,
} from '../helpers/records.ts';

function toMessages(records: TestRecord[]) {
  return records.map((r) => ({
    key: r.key,
    value: r.value,
    partition: 0,
    headers: Object.fromEntries(r.headers),
    ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}),
  }));
}

describe('kafkajs', () => {
  let b: TestBroker;
  let bootstrap: string;
  let kafka: Kafka;
  before(async () => {
    b = await startBroker();
    bootstrap = b.bootstrapServers;
    kafka = kafkajs(bootstrap);
  });
  after(() => b?.stop());

  async function withAdmin<T>(fn: (a: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  async function produce(topic: string, records: TestRecord[], codec: keyof typeof KAFKAJS_CODEC = 'none') {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      return await producer.send({ topic, compression: KAFKAJS_CODEC[codec], messages: toMessages(records) });
    } finally {
      await producer.disconnect();
    }
  }

  test('metadata: fetchTopicMetadata and listTopics', async () => {
    const topic = uniqueTopic('kjs-md');
    await createTopicDirect(b, topic, 3);
    await withAdmin(async (admin) => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.deepEqual(
        md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort(),
        [0, 1, 2].map((p) => [p, b.broker.nodeId]),
      );
      assert.ok((await admin.listTopics()).includes(topic));
      const cluster = await admin.describeCluster();
      assert.deepEqual(
        cluster.brokers.map((x) => x.nodeId),
        [b.broker.nodeId],
      );
    });
  });

  test('create, describe and delete topics', async () => {
    const topic = uniqueTopic('kjs-admin');
    await withAdmin(async (admin) => {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      });
      assert.equal(created, true);
      assert.equal(await admin.createTopics({ topics: [{ topic }] }), false, 'second create reports exists');
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(md.topics[0]!.partitions.length, 3);
      await admin.deleteTopics({ topics: [topic] });
      await waitFor('topic gone', async () => !(await admin.listTopics()).includes(topic));
    });
  });

  test('create partitions', async () => {
    const topic = uniqueTopic('kjs-parts');
    await createTopicDirect(b, topic, 1);
    await withAdmin(async (admin) => {
      await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(md.topics[0]!.partitions.length, 4);
    });
  });

  for (const codec of CODECS) {
    test(`produce with keys and headers (${codec}) and read from the beginning`, async () => {
      const topic = uniqueTopic(`kjs-${codec}`);
      await createTopicDirect(b, topic, 1);
      const records = makeRecords(30, `kjs-${codec}`);
      const res = await produce(topic, records.slice(0, 20), codec);
      assert.equal(res[0]!.errorCode, 0);
      assert.equal(res[0]!.baseOffset, '0');
      const res2 = await produce(topic, records.slice(20), codec);
      assert.equal(res2[0]!.baseOffset, '20');
      const read = await kafkajsRead(bootstrap, topic, { from: 'beginning' });
      assertRecords(read.records, records);
      assert.equal(read.highWatermark, 30);
    });
  }

  test('read from an offset', async () => {
    const topic = uniqueTopic('kjs-offset');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(12, 'kjs-offset');
    await produce(topic, records);
    assertRecords((await kafkajsRead(bootstrap, topic, { from: 7 })).records, records.slice(7), 7);
  });

  test('consumer group: from the beginning, then seek to an offset', {
    timeout: 60_000,
  }, async () => {
    const topic = uniqueTopic('kjs-group');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(15, 'kjs-group');
    await produce(topic, records);
    const consumer = kafka.consumer({
      groupId: uniqueTopic('kjs-g'),
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: { offset: number; key: string | null; value: string | null; headers: [string, string][] }[] =
        [];
      let seeked = false;
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push({
            offset: Number(message.offset),
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
          });
        },
      });
      await waitFor('all records consumed', () => got.length >= records.length, 20_000);
      assertRecords(got.slice(0, records.length), records);
      got.length = 0;
      consumer.seek({ topic, partition: 0, offset: '10' });
      seeked = true;
      await waitFor('records after the seek', () => got.length >= 5, 20_000);
      assert.ok(seeked);
      assertRecords(got.slice(0, 5), records.slice(10), 10);
    } finally {
      await consumer.disconnect();
    }
  });

  test('ListOffsets by timestamp (fetchTopicOffsetsByTimestamp)', async () => {
    const topic = uniqueTopic('kjs-times');
    await createTopicDirect(b, topic, 1);
    const t0 = Date.now() - 60_000;
    const records = makeRecords(5, 'kjs-times').map((r, i) => ({ ...r, timestamp: t0 + i * 1000 }));
    for (const r of records) await produce(topic, [r]);
    await withAdmin(async (admin) => {
      const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0]!.offset;
      assert.deepEqual(
        [await at(t0 - 5000), await at(t0), await at(t0 + 1500), await at(t0 + 4000), await at(t0 + 10_000)],
        ['0', '0', '2', '4', '5'],
      );
      const [o] = await admin.fetchTopicOffsets(topic);
      assert.deepEqual([o!.low, o!.high, o!.offset], ['0', '5', '5']);
    });
    assertRecords((await kafkajsRead(bootstrap, topic)).records, records);
  });

  test('DeleteRecords (deleteTopicRecords)', async () => {
    const topic = uniqueTopic('kjs-delrec');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(10, 'kjs-delrec');
    await produce(topic, records);
    await withAdmin(async (admin) => {
      // kafkajs looks the leader up in already-loaded metadata (a kafkajs quirk): load it first.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] });
      const [o] = await admin.fetchTopicOffsets(topic);
      assert.deepEqual([o!.low, o!.high], ['6', '10']);
    });
    const read = await kafkajsRead(bootstrap, topic, { from: 'beginning' });
    assertRecords(read.records, records.slice(6), 6);
    assert.equal(read.logStartOffset, 6);
  });

  test('describe and alter topic and broker configs', async () => {
    const topic = uniqueTopic('kjs-configs');
    await createTopicDirect(b, topic, 1);
    await withAdmin(async (admin) => {
      const TOPIC = 2;
      const BROKER = 4;
      const describe = async () => {
        const r = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: TOPIC, name: topic }],
        });
        assert.equal(r.resources[0]!.errorCode, 0);
        return new Map(r.resources[0]!.configEntries.map((e) => [e.configName, e]));
      };
      const before = await describe();
      assert.equal(before.get('cleanup.policy')?.configValue, 'delete');
      assert.equal(before.get('retention.ms')?.isDefault, true);
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] },
        ],
      });
      const afterAlter = await describe();
      assert.equal(afterAlter.get('retention.ms')?.configValue, '7200000');
      assert.equal(afterAlter.get('retention.ms')?.isDefault, false);
      const br = await admin.describeConfigs({
        includeSynonyms: true,
        resources: [{ type: BROKER, name: String(b.broker.nodeId) }],
      });
      assert.equal(br.resources[0]!.errorCode, 0);
      const names = br.resources[0]!.configEntries.map((e) => e.configName);
      assert.ok(
        names.includes('num.partitions') && names.includes('log.retention.hours'),
        'broker configs listed',
      );
    });
  });

  test('idempotent producer retries across a lost response and a broker restart without duplicates', {
    timeout: 60_000,
  }, async (t) => {
    let brokerPort = 0;
    const proxy = await startProxy(() => brokerPort);
    t.after(() => proxy.close());
    // File storage: restart() reopens the log from disk, so producer state must be recovered, not kept in memory.
    const rb = await brokerFor(t, {
      storage: 'file',
      config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` },
    });
    brokerPort = rb.port;
    const topic = uniqueTopic('kjs-idem');
    await createTopicDirect(rb, topic, 1);
    const via = `127.0.0.1:${proxy.port}`;
    const k = kafkajs(via, {
      requestTimeout: 1500,
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const producer = k.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    t.after(() => producer.disconnect());
    const acked: string[] = [];
    let fault: Promise<void> = Promise.resolve();
    for (let i = 0; i < 300; i++) {
      if (i === 100) {
        proxy.dropResponses = true;
        fault = (async () => {
          await new Promise((r) => setTimeout(r, 300));
          await rb.restart();
          proxy.cut();
          proxy.dropResponses = false;
        })();
      }
      const values = [0, 1, 2].map((j) => `kjs-idem-${i}-${j}`);
      await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
      acked.push(...values);
    }
    await fault;
    assert.ok(proxy.droppedBytes > 0, 'a response was lost');
    const read = await kafkajsRead(via, topic, { from: 'beginning' });
    assertExactlyOnce(
      read.records.map((r) => r.value),
      acked,
    );
    assert.equal(read.records.length, acked.length);
  });
});
