/**
 * @platformatic/kafka (npm dev dependency) against an in-process Samsa broker.
 * Part of the default `npm test`. Cases skip, naming the missing handler,
 * until the broker registers what they need; from then on they must pass.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import {
  brokerFor,
  createTopicDirect,
  startBroker,
  type TestBroker,
  uniqueTopic,
  waitFor,
} from '../helpers/broker.ts';
import { pltAdmin, pltConsumer, pltProducer, pltRead } from '../helpers/platformatic.ts';
import { startProxy } from '../helpers/proxy.ts';
import {
  assertExactlyOnce,
  assertRecords,
  CODECS,
  type Codec,
  makeRecords,
  type TestRecord,
} from '../helpers/records.ts';

function toMessages(topic: string, records: TestRecord[]) {
  return records.map((r) => ({
    topic,
    partition: 0,
    ...(r.key !== null ? { key: r.key } : {}),
    value: r.value,
    headers: new Map(r.headers),
    ...(r.timestamp !== undefined ? { timestamp: BigInt(r.timestamp) } : {}),
  }));
}

describe('@platformatic/kafka', () => {
  let b: TestBroker;
  let bootstrap: string;
  before(async () => {
    b = await startBroker();
    bootstrap = b.bootstrapServers;
  });
  after(() => b?.stop());

  async function withAdmin<T>(fn: (a: ReturnType<typeof pltAdmin>) => Promise<T>): Promise<T> {
    const admin = pltAdmin(bootstrap);
    try {
      return await fn(admin);
    } finally {
      await admin.close();
    }
  }

  async function produce(topic: string, records: TestRecord[], codec: Codec = 'none') {
    const producer = pltProducer(bootstrap);
    try {
      return await producer.send({ messages: toMessages(topic, records), compression: codec, acks: -1 });
    } finally {
      await producer.close();
    }
  }

  test('metadata', async () => {
    const topic = uniqueTopic('plt-md');
    await createTopicDirect(b, topic, 3);
    await withAdmin(async (admin) => {
      const md = await admin.metadata({ topics: [topic] });
      assert.deepEqual([...md.brokers.keys()], [b.broker.nodeId]);
      const t = md.topics.get(topic)!;
      assert.equal(t.partitionsCount, 3);
      assert.ok(t.partitions.every((p) => p.leader === b.broker.nodeId));
      assert.ok((await admin.listTopics()).includes(topic));
    });
  });

  test('create, describe and delete topics', async () => {
    const topic = uniqueTopic('plt-admin');
    await withAdmin(async (admin) => {
      const [created] = await admin.createTopics({
        topics: [topic],
        partitions: 3,
        replicas: 1,
        configs: [{ name: 'retention.ms', value: '3600000' }],
      });
      assert.equal(created!.name, topic);
      assert.equal(created!.partitions, 3);
      await assert.rejects(admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }));
      const md = await admin.metadata({ topics: [topic] });
      assert.equal(md.topics.get(topic)!.partitionsCount, 3);
      assert.equal(md.topics.get(topic)!.id, created!.id, 'same topic id from create and metadata');
      await admin.deleteTopics({ topics: [topic] });
      await waitFor('topic gone', async () => !(await admin.listTopics()).includes(topic));
    });
  });

  test('create partitions', async () => {
    const topic = uniqueTopic('plt-parts');
    await createTopicDirect(b, topic, 1);
    await withAdmin(async (admin) => {
      await admin.createPartitions({ topics: [{ name: topic, count: 3, assignments: [] }] });
      const md = await admin.metadata({ topics: [topic], forceUpdate: true });
      assert.equal(md.topics.get(topic)!.partitionsCount, 3);
    });
  });

  for (const codec of CODECS) {
    test(`produce with keys and headers (${codec}) and read from the beginning`, async () => {
      const topic = uniqueTopic(`plt-${codec}`);
      await createTopicDirect(b, topic, 1);
      const records = makeRecords(30, `plt-${codec}`);
      const res = await produce(topic, records.slice(0, 20), codec);
      assert.deepEqual(res.offsets, [{ topic, partition: 0, offset: 0n }]);
      const res2 = await produce(topic, records.slice(20), codec);
      assert.deepEqual(res2.offsets, [{ topic, partition: 0, offset: 20n }]);
      const read = await pltRead(bootstrap, topic);
      assertRecords(read.records, records);
      assert.equal(read.highWatermark, 30);
    });
  }

  test('read from an offset', async () => {
    const topic = uniqueTopic('plt-offset');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(12, 'plt-offset');
    await produce(topic, records);
    assertRecords((await pltRead(bootstrap, topic, { from: 7 })).records, records.slice(7), 7);
  });

  test('consumer group: consume from the beginning', {
    timeout: 60_000,
  }, async () => {
    const topic = uniqueTopic('plt-group');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(15, 'plt-group');
    await produce(topic, records);
    const consumer = pltConsumer(bootstrap, uniqueTopic('plt-g'), {
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'earliest',
        autocommit: false,
        maxWaitTime: 100,
      });
      const got: { offset: number; key: string | null; value: string | null; headers: [string, string][] }[] =
        [];
      for await (const m of stream) {
        got.push({
          offset: Number(m.offset),
          key: m.key === undefined || m.key === null || m.key === '' ? null : String(m.key),
          value: m.value === undefined ? null : String(m.value),
          headers: [...m.headers].map(([k, v]) => [String(k), String(v)]),
        });
        if (got.length >= records.length) break;
      }
      await stream.close();
      assertRecords(got, records);
    } finally {
      await consumer.close(true);
    }
  });

  test('ListOffsets by timestamp', async () => {
    const topic = uniqueTopic('plt-times');
    await createTopicDirect(b, topic, 1);
    const t0 = Date.now() - 60_000;
    const records = makeRecords(5, 'plt-times').map((r, i) => ({ ...r, timestamp: t0 + i * 1000 }));
    for (const r of records) await produce(topic, [r]);
    await withAdmin(async (admin) => {
      const at = async (ts: number) => {
        const [t] = await admin.listOffsets({
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: BigInt(ts) }] }],
        });
        const p = t!.partitions[0]!;
        return [Number(p.offset), Number(p.timestamp)];
      };
      assert.deepEqual(await at(t0 - 5000), [0, t0]);
      assert.deepEqual(await at(t0 + 1500), [2, t0 + 2000]);
      assert.deepEqual(await at(t0 + 4000), [4, t0 + 4000]);
      assert.deepEqual(await at(t0 + 10_000), [-1, -1]);
      assert.deepEqual((await at(-1))[0], 5, 'latest');
      assert.deepEqual((await at(-2))[0], 0, 'earliest');
      assert.deepEqual(await at(-3), [4, t0 + 4000], 'max timestamp (KIP-734)');
    });
    const read = await pltRead(bootstrap, topic);
    assertRecords(read.records, records);
  });

  test('DeleteRecords', async () => {
    const topic = uniqueTopic('plt-delrec');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(10, 'plt-delrec');
    await produce(topic, records);
    await withAdmin(async (admin) => {
      const [r] = await admin.deleteRecords({
        topics: [{ name: topic, partitions: [{ partition: 0, offset: 4n }] }],
      });
      assert.equal(r!.partitions[0]!.lowWatermark, 4n);
      // Beyond the high watermark: OFFSET_OUT_OF_RANGE.
      await assert.rejects(
        admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 11n }] }] }),
      );
      // -1 deletes up to the high watermark.
      const [all] = await admin.deleteRecords({
        topics: [{ name: topic, partitions: [{ partition: 0, offset: -1n }] }],
      });
      assert.equal(all!.partitions[0]!.lowWatermark, 10n);
    });
    const read = await pltRead(bootstrap, topic);
    assert.deepEqual(read.records, []);
    assert.equal(read.logStartOffset, 10);
  });

  test('describe, alter and incrementally alter configs', async () => {
    const topic = uniqueTopic('plt-configs');
    await createTopicDirect(b, topic, 1);
    await withAdmin(async (admin) => {
      const describe = async () => {
        const [r] = await admin.describeConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: topic,
              configurationKeys: ['cleanup.policy', 'retention.ms', 'segment.ms'],
            },
          ],
          includeSynonyms: true,
        });
        return new Map(r!.configs.map((c) => [c.name, c]));
      };
      const before = await describe();
      assert.equal(before.get('cleanup.policy')?.value, 'delete');
      assert.equal(before.get('retention.ms')?.configSource, 5, 'DEFAULT_CONFIG');
      await admin.alterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: [{ name: 'retention.ms', value: '7200000' }],
          },
        ],
      });
      const afterAlter = await describe();
      assert.equal(afterAlter.get('retention.ms')?.value, '7200000');
      assert.equal(afterAlter.get('retention.ms')?.configSource, 1, 'DYNAMIC_TOPIC_CONFIG');
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: [
              {
                name: 'segment.ms',
                configOperation: IncrementalAlterConfigOperationTypes.SET,
                value: '3600000',
              },
              { name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
            ],
          },
        ],
      });
      const afterInc = await describe();
      assert.equal(afterInc.get('segment.ms')?.value, '3600000');
      assert.equal(afterInc.get('retention.ms')?.configSource, 5, 'back to the default');
    });
  });

  test('describeConfigs with an empty key list returns every config (as Kafka does)', async () => {
    const topic = uniqueTopic('plt-configs-all');
    await createTopicDirect(b, topic, 1);
    await withAdmin(async (admin) => {
      // @platformatic/kafka always sends configurationKeys; Kafka reads an empty list as "all".
      const [tr] = await admin.describeConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [] }],
      });
      const topicNames = tr!.configs.map((c) => c.name);
      assert.ok(
        topicNames.includes('cleanup.policy') && topicNames.includes('retention.ms'),
        'topic configs listed',
      );
      const [br] = await admin.describeConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.BROKER,
            resourceName: String(b.broker.nodeId),
            configurationKeys: [],
          },
        ],
      });
      const names = br!.configs.map((c) => c.name);
      assert.ok(names.includes('num.partitions') && names.includes('log.dirs'), 'broker configs listed');
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
    const topic = uniqueTopic('plt-idem');
    await createTopicDirect(rb, topic, 1);
    const via = `127.0.0.1:${proxy.port}`;
    const producer = pltProducer(via, {
      idempotent: true,
      timeout: 1500,
      retries: 20,
      retryDelay: 200,
      acks: -1,
    });
    t.after(() => producer.close(true));
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
      const values = [0, 1, 2].map((j) => `plt-idem-${i}-${j}`);
      await producer.send({ messages: values.map((value) => ({ topic, partition: 0, value })) });
      acked.push(...values);
    }
    await fault;
    assert.ok(proxy.droppedBytes > 0, 'a response was lost');
    const read = await pltRead(via, topic);
    assertExactlyOnce(
      read.records.map((r) => r.value),
      acked,
    );
    assert.equal(read.records.length, acked.length);
  });
});
