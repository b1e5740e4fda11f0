/**
 * Admin APIs through kafkajs' admin client against an in-process broker:
 * CreateTopics (validateOnly, configEntries, replica assignment), Metadata,
 * CreatePartitions, DescribeConfigs with synonyms, AlterConfigs (topic and
 * dynamic broker), DeleteTopics and re-creating a deleted name; config
 * changes reach the partition logs, deletes remove them.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';

const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;
type Admin = ReturnType<InstanceType<typeof Kafka>['admin']>;

/** kafkajs wraps per-topic errors; returns the Kafka error type names. */
async function errorTypes(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    const err = e as { type?: string; errors?: { type: string }[]; cause?: { type?: string } };
    if (err.errors) return err.errors.map((x) => x.type).sort();
    return [err.type ?? err.cause?.type ?? String(e)];
  }
  assert.fail('expected the call to fail');
}

describe('admin via kafkajs', () => {
  let broker: TestBroker;
  let admin: Admin;

  before(async () => {
    broker = await startBroker({ config: { 'num.partitions': 2 } });
    admin = new Kafka({
      brokers: [broker.bootstrapServers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  test('createTopics with partitions, defaults and configEntries; metadata shows them', async () => {
    assert.equal(
      await admin.createTopics({
        topics: [
          {
            topic: 'orders',
            numPartitions: 3,
            replicationFactor: 1,
            configEntries: [
              { name: 'retention.ms', value: '3600000' },
              { name: 'cleanup.policy', value: 'compact,delete' },
            ],
          },
          { topic: 'defaults' },
        ],
      }),
      true,
    );
    assert.equal(await admin.createTopics({ topics: [{ topic: 'orders' }] }), false, 'already exists');
    const md = await admin.fetchTopicMetadata({ topics: ['orders', 'defaults'] });
    const byName = new Map(md.topics.map((t) => [t.name, t]));
    assert.equal(byName.get('orders')!.partitions.length, 3);
    assert.equal(byName.get('defaults')!.partitions.length, 2, 'num.partitions');
    for (const p of byName.get('orders')!.partitions) {
      assert.equal(p.leader, 1);
      assert.deepEqual(p.replicas, [1]);
      assert.deepEqual(p.isr, [1]);
    }
    const log = broker.broker.replicas.get('orders', 0)!.log;
    assert.equal(log.config.retentionMs, 3_600_000);
    assert.equal(log.config.cleanupCompact, true);
    assert.equal(log.config.cleanupDelete, true);
  });

  test('createTopics validateOnly checks without creating', async () => {
    assert.equal(
      await admin.createTopics({
        validateOnly: true,
        waitForLeaders: false,
        topics: [
          {
            topic: 'dry-run',
            numPartitions: 4,
            configEntries: [{ name: 'segment.bytes', value: '1048576' }],
          },
        ],
      }),
      true,
    );
    assert.ok(!(await admin.listTopics()).includes('dry-run'));
    assert.deepEqual(
      await errorTypes(
        admin.createTopics({
          validateOnly: true,
          waitForLeaders: false,
          topics: [{ topic: 'dry-run', configEntries: [{ name: 'segment.bytes', value: 'big' }] }],
        }),
      ),
      ['INVALID_CONFIG'],
    );
  });

  test('createTopics errors are per topic', async () => {
    assert.deepEqual(
      await errorTypes(
        admin.createTopics({
          waitForLeaders: false,
          topics: [
            { topic: 'bad-config', configEntries: [{ name: 'retention.ms', value: 'forever' }] },
            { topic: 'unknown-config', configEntries: [{ name: 'no.such.thing', value: '1' }] },
            { topic: 'too-many-replicas', replicationFactor: 3 },
            { topic: 'bad name!' },
            { topic: 'fine' },
          ],
        }),
      ),
      ['INVALID_CONFIG', 'INVALID_CONFIG', 'INVALID_REPLICATION_FACTOR', 'INVALID_TOPIC_EXCEPTION'].sort(),
    );
    assert.ok((await admin.listTopics()).includes('fine'));
    assert.ok(!(await admin.listTopics()).includes('bad-config'));
  });

  test('createTopics with a replica assignment', async () => {
    await admin.createTopics({
      topics: [
        {
          topic: 'assigned',
          replicaAssignment: [
            { partition: 0, replicas: [1] },
            { partition: 1, replicas: [1] },
          ],
        },
      ],
    });
    const md = await admin.fetchTopicMetadata({ topics: ['assigned'] });
    assert.equal(md.topics[0]!.partitions.length, 2);
    assert.deepEqual(
      await errorTypes(
        admin.createTopics({
          waitForLeaders: false,
          topics: [{ topic: 'assigned-badly', replicaAssignment: [{ partition: 0, replicas: [9] }] }],
        }),
      ),
      ['INVALID_REPLICA_ASSIGNMENT'],
    );
  });

  test('createPartitions grows a topic and opens the new logs', async () => {
    await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 4 }] });
    const md = await admin.fetchTopicMetadata({ topics: ['grow'] });
    assert.deepEqual(md.topics[0]!.partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3]);
    assert.ok(broker.broker.replicas.get('grow', 3));
    assert.deepEqual(
      await errorTypes(admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 2 }] })),
      ['INVALID_PARTITIONS'],
    );
    assert.deepEqual(
      await errorTypes(admin.createPartitions({ topicPartitions: [{ topic: 'missing', count: 2 }] })),
      ['UNKNOWN_TOPIC_OR_PARTITION'],
    );
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'grow', count: 8 }] });
    assert.equal((await admin.fetchTopicMetadata({ topics: ['grow'] })).topics[0]!.partitions.length, 4);
  });

  test('describeConfigs: topic overrides and defaults with synonyms, broker configs', async () => {
    const res = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms', 'segment.bytes'] },
        {
          type: ConfigResourceTypes.BROKER,
          name: '1',
          configNames: [
            'num.partitions',
            'log.retention.hours',
            'ssl.keystore.password',
            'message.max.bytes',
          ],
        },
      ],
    });
    const [topic, brk] = res.resources;
    assert.equal(topic!.errorCode, 0);
    const entry = (r: typeof topic, n: string) => r!.configEntries.find((c) => c.configName === n)!;
    const ret = entry(topic, 'retention.ms');
    assert.equal(ret.configValue, '3600000');
    assert.equal(ret.configSource, 1, 'TOPIC_CONFIG');
    assert.equal(ret.isDefault, false);
    assert.deepEqual(
      ret.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
      [
        ['retention.ms', '3600000', 1],
        ['log.retention.hours', '168', 5],
      ],
    );
    const seg = entry(topic, 'segment.bytes');
    assert.equal(seg.configValue, '1073741824');
    assert.equal(seg.configSource, 5, 'DEFAULT_CONFIG');
    assert.equal(seg.isDefault, true);

    assert.equal(brk!.errorCode, 0);
    const np = entry(brk, 'num.partitions');
    assert.equal(np.configValue, '2');
    assert.equal(np.configSource, 4, 'STATIC_BROKER_CONFIG');
    assert.equal(np.readOnly, true);
    const pw = entry(brk, 'ssl.keystore.password');
    assert.equal(pw.isSensitive, true);
    assert.equal(pw.configValue, null);
    assert.equal(entry(brk, 'message.max.bytes').readOnly, false);

    const all = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders' }],
    });
    assert.ok(all.resources[0]!.configEntries.length >= 30);
    const missing = await admin
      .describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'nope' }],
      })
      .catch((e: { type: string }) => e.type);
    assert.equal(missing, 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  test('alterConfigs: topic overrides replaced whole and applied to the logs; validateOnly stores nothing', async () => {
    const topicRes = (entries: { name: string; value: string }[]) => ({
      type: ConfigResourceTypes.TOPIC,
      name: 'orders',
      configEntries: entries,
    });
    await admin.alterConfigs({
      validateOnly: true,
      resources: [topicRes([{ name: 'retention.ms', value: '1000' }])],
    });
    assert.equal(broker.broker.replicas.get('orders', 0)!.log.config.retentionMs, 3_600_000);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        topicRes([
          { name: 'retention.ms', value: '1000' },
          { name: 'segment.bytes', value: '1048576' },
        ]),
      ],
    });
    const log = broker.broker.replicas.get('orders', 2)!.log;
    assert.equal(log.config.retentionMs, 1000);
    assert.equal(log.config.segmentBytes, 1048576);
    assert.equal(log.config.cleanupCompact, false, 'cleanup.policy override dropped by the full replace');
    const d = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['cleanup.policy', 'retention.ms'] },
      ],
    });
    assert.deepEqual(
      d.resources[0]!.configEntries.map((c) => [c.configName, c.configValue, c.configSource]),
      [
        ['cleanup.policy', 'delete', 5],
        ['retention.ms', '1000', 1],
      ],
    );
    const bad = await admin
      .alterConfigs({ validateOnly: false, resources: [topicRes([{ name: 'retention.ms', value: '-7' }])] })
      .catch((e: { type: string; message: string }) => e);
    assert.equal((bad as { type: string }).type, 'INVALID_CONFIG');
  });

  test('alterConfigs: dynamic broker configs, read-only keys refused', async () => {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: '1',
          configEntries: [{ name: 'log.retention.ms', value: '7777' }],
        },
      ],
    });
    assert.equal(broker.broker.config.get('log.retention.ms'), 7777);
    assert.equal(
      broker.broker.replicas.get('defaults', 0)!.log.config.retentionMs,
      7777,
      'topic without override follows',
    );
    assert.equal(broker.broker.replicas.get('orders', 0)!.log.config.retentionMs, 1000, 'override wins');
    const d = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['log.retention.ms'] }],
    });
    const e = d.resources[0]!.configEntries[0]!;
    assert.equal(e.configValue, '7777');
    assert.equal(e.configSource, 2, 'DYNAMIC_BROKER_CONFIG');
    const ro = await admin
      .alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.BROKER,
            name: '1',
            configEntries: [{ name: 'num.partitions', value: '9' }],
          },
        ],
      })
      .catch((err: { type: string }) => err.type);
    assert.equal(ro, 'INVALID_REQUEST');
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [] }],
    });
    assert.equal(broker.broker.config.get('log.retention.ms'), null);
  });

  test('deleteTopics removes topic and logs; the name can be created again at once', async () => {
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
    const firstId = broker.broker.topics.get('doomed')!.topicId;
    assert.ok(broker.broker.replicas.engine.getLog('doomed', 1));
    await admin.deleteTopics({ topics: ['doomed'] });
    assert.ok(!(await admin.listTopics()).includes('doomed'));
    assert.equal(broker.broker.replicas.get('doomed', 0), undefined);
    assert.equal(broker.broker.replicas.engine.getLog('doomed', 1), undefined);
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }] });
    const again = broker.broker.topics.get('doomed')!;
    assert.notEqual(again.topicId, firstId);
    assert.equal(broker.broker.replicas.get('doomed', 0)!.log.logEndOffset, 0);
    assert.deepEqual(await errorTypes(admin.deleteTopics({ topics: ['never-existed'] })), [
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
  });
});

describe('admin via kafkajs on file storage', () => {
  test('deleting a topic removes its partition directories', async (t) => {
    let broker: TestBroker;
    try {
      broker = await startBroker({ storage: 'file' });
    } catch (e) {
      if ((e as { code?: string }).code === 'SAMSA_ERR_STORAGE')
        return t.skip('file storage engine not wired in yet');
      throw e;
    }
    t.after(() => broker.stop());
    const admin = new Kafka({
      brokers: [broker.bootstrapServers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'on-disk', numPartitions: 2 }] });
    const dir = broker.broker.config.logDirs()[0]!;
    assert.ok(existsSync(join(dir, 'on-disk-1')));
    await admin.deleteTopics({ topics: ['on-disk'] });
    assert.ok(!existsSync(join(dir, 'on-disk-0')));
    assert.ok(!existsSync(join(dir, 'on-disk-1')));
    await admin.createTopics({ topics: [{ topic: 'on-disk', numPartitions: 1 }] });
    assert.ok(existsSync(join(dir, 'on-disk-0')));
  });
});

describe('admin via kafkajs with delete.topic.enable=false', () => {
  test("deleteTopics is refused (INVALID_REQUEST at kafkajs' DeleteTopics v1, as Kafka answers below v3)", async (t) => {
    const broker = await startBroker({ config: { 'delete.topic.enable': false } });
    t.after(() => broker.stop());
    const admin = new Kafka({
      brokers: [broker.bootstrapServers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'kept' }] });
    assert.deepEqual(await errorTypes(admin.deleteTopics({ topics: ['kept'] })), ['INVALID_REQUEST']);
    assert.ok((await admin.listTopics()).includes('kept'));
  });
});
