/**
 * Admin APIs through @platformatic/kafka's Admin against an in-process
 * broker: CreateTopics v7 (configs returned), CreatePartitions,
 * DescribeConfigs v4 with synonyms and documentation, AlterConfigs,
 * IncrementalAlterConfigs (SET/DELETE/APPEND/SUBTRACT, topic and broker),
 * DescribeLogDirs and DeleteTopics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  IncrementalAlterConfigOperationTypes as Op,
} from '@platformatic/kafka';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';

/** Kafka error names (ProtocolError apiId) found anywhere in a platformatic error. */
function kafkaErrors(e: unknown): string[] {
  const out: string[] = [];
  const walk = (x: unknown) => {
    if (!x || typeof x !== 'object') return;
    const o = x as { apiId?: string; errors?: unknown[]; cause?: unknown };
    if (typeof o.apiId === 'string') out.push(o.apiId);
    for (const c of o.errors ?? []) walk(c);
    walk(o.cause);
  };
  walk(e);
  return out.sort();
}

async function failsWith(p: Promise<unknown>, ...names: string[]): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.deepEqual(kafkaErrors(e), names.sort(), String(e));
    return;
  }
  assert.fail(`expected ${names.join(', ')}`);
}

describe('admin via @platformatic/kafka', () => {
  let broker: TestBroker;
  let admin: Admin;

  before(async () => {
    broker = await startBroker();
    admin = new Admin({
      clientId: 'samsa-admin-test',
      bootstrapBrokers: [broker.bootstrapServers],
      retries: 0,
    });
  });
  after(async () => {
    await admin?.close();
    await broker?.stop();
  });

  const describeTopic = async (name: string, keys: string[]) => {
    const [res] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: keys }],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    return new Map(res!.configs.map((c) => [c.name, c]));
  };

  test('createTopics returns the topic id, counts and effective configuration', async () => {
    const [created] = await admin.createTopics({
      topics: ['events'],
      partitions: 2,
      replicas: 1,
      configs: [{ name: 'retention.ms', value: '60000' }],
    });
    assert.equal(created!.name, 'events');
    assert.equal(created!.partitions, 2);
    assert.equal(created!.replicas, 1);
    assert.equal(created!.configuration['retention.ms'], '60000');
    assert.equal(created!.configuration['segment.bytes'], '1073741824');
    assert.equal(created!.configuration['max.compaction.lag.ms'], '9223372036854775807');
    assert.ok((await admin.listTopics()).includes('events'));
    const md = await admin.metadata({ topics: ['events'] });
    assert.equal(md.topics.get('events')!.partitionsCount, 2);
    await failsWith(
      admin.createTopics({ topics: ['events'], partitions: 1, replicas: 1 }),
      'TOPIC_ALREADY_EXISTS',
    );
    await failsWith(
      admin.createTopics({
        topics: ['bad-cfg'],
        partitions: 1,
        replicas: 1,
        configs: [{ name: 'segment.ms', value: '0' }],
      }),
      'INVALID_CONFIG',
    );
  });

  test('createPartitions, with validateOnly', async () => {
    await admin.createPartitions({ topics: [{ name: 'events', count: 6 }], validateOnly: true });
    assert.equal(broker.broker.topics.get('events')!.partitions.length, 2);
    await admin.createPartitions({ topics: [{ name: 'events', count: 4 }] });
    assert.equal(broker.broker.topics.get('events')!.partitions.length, 4);
    await failsWith(admin.createPartitions({ topics: [{ name: 'events', count: 3 }] }), 'INVALID_PARTITIONS');
  });

  test('describeConfigs with synonyms, documentation and types', async () => {
    const c = await describeTopic('events', ['retention.ms', 'cleanup.policy']);
    const ret = c.get('retention.ms')!;
    assert.equal(ret.value, '60000');
    assert.equal(ret.configSource, ConfigSources.TOPIC_CONFIG);
    assert.equal(ret.configType, 5);
    assert.ok(ret.documentation);
    assert.deepEqual(
      ret.synonyms.map((s) => [s.name, s.source]),
      [
        ['retention.ms', ConfigSources.TOPIC_CONFIG],
        ['log.retention.hours', ConfigSources.DEFAULT_CONFIG],
      ],
    );
    assert.equal(c.get('cleanup.policy')!.configSource, ConfigSources.DEFAULT_CONFIG);
  });

  test('incrementalAlterConfigs on a topic: SET, APPEND, SUBTRACT, DELETE reach the logs', async () => {
    const alter = (configs: Parameters<Admin['incrementalAlterConfigs']>[0]['resources'][0]['configs']) =>
      admin.incrementalAlterConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'events', configs }],
      });
    await alter([
      { name: 'cleanup.policy', configOperation: Op.APPEND, value: 'compact' },
      { name: 'segment.bytes', configOperation: Op.SET, value: '1048576' },
    ]);
    let c = await describeTopic('events', ['cleanup.policy', 'segment.bytes', 'retention.ms']);
    assert.equal(c.get('cleanup.policy')!.value, 'delete,compact');
    assert.equal(c.get('segment.bytes')!.value, '1048576');
    assert.equal(c.get('retention.ms')!.value, '60000', 'untouched keys stay');
    const log = broker.broker.replicas.get('events', 3)!.log;
    assert.equal(log.config.cleanupCompact, true);
    assert.equal(log.config.segmentBytes, 1048576);

    await alter([
      { name: 'cleanup.policy', configOperation: Op.SUBTRACT, value: 'delete' },
      { name: 'retention.ms', configOperation: Op.DELETE },
    ]);
    c = await describeTopic('events', ['cleanup.policy', 'retention.ms']);
    assert.equal(c.get('cleanup.policy')!.value, 'compact');
    assert.equal(c.get('retention.ms')!.value, '604800000');
    assert.equal(c.get('retention.ms')!.configSource, ConfigSources.DEFAULT_CONFIG);
    assert.equal(log.config.cleanupDelete, false);
    assert.equal(log.config.retentionMs, 604_800_000);

    await failsWith(
      alter([{ name: 'retention.ms', configOperation: Op.APPEND, value: '5' }]),
      'INVALID_CONFIG',
    );
    await failsWith(alter([{ name: 'retention.ms', configOperation: Op.SET, value: 'x' }]), 'INVALID_CONFIG');
    await failsWith(alter([{ name: 'not.a.config', configOperation: Op.SET, value: '1' }]), 'INVALID_CONFIG');
    await failsWith(
      admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: 'missing',
            configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '1' }],
          },
        ],
      }),
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
  });

  test('incrementalAlterConfigs on this broker (the cluster default resource "" is covered by the raw-client test: this client routes by broker id)', async () => {
    const alter = (configs: Parameters<Admin['incrementalAlterConfigs']>[0]['resources'][0]['configs']) =>
      admin.incrementalAlterConfigs({
        resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: '1', configs }],
      });
    await alter([
      { name: 'log.cleanup.policy', configOperation: Op.APPEND, value: 'compact' },
      { name: 'message.max.bytes', configOperation: Op.SET, value: '2000000' },
    ]);
    const [b] = await admin.describeConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.BROKER,
          resourceName: '1',
          configurationKeys: ['log.cleanup.policy', 'message.max.bytes'],
        },
      ],
      includeSynonyms: true,
    });
    const byName = new Map(b!.configs.map((x) => [x.name, x]));
    assert.equal(byName.get('log.cleanup.policy')!.value, 'delete,compact');
    assert.equal(byName.get('log.cleanup.policy')!.configSource, ConfigSources.DYNAMIC_BROKER_CONFIG);
    assert.equal(byName.get('message.max.bytes')!.value, '2000000');
    assert.deepEqual(
      byName.get('message.max.bytes')!.synonyms.map((s) => [s.value, s.source]),
      [
        ['2000000', ConfigSources.DYNAMIC_BROKER_CONFIG],
        ['1048588', ConfigSources.DEFAULT_CONFIG],
      ],
    );
    assert.equal(broker.broker.config.int('message.max.bytes'), 2_000_000);
    await failsWith(alter([{ name: 'log.dirs', configOperation: Op.SET, value: '/x' }]), 'INVALID_REQUEST');
    await failsWith(
      alter([{ name: 'message.max.bytes', configOperation: Op.SET, value: '-1' }]),
      'INVALID_REQUEST',
    );
    await alter([
      { name: 'log.cleanup.policy', configOperation: Op.DELETE },
      { name: 'message.max.bytes', configOperation: Op.DELETE },
    ]);
    assert.equal(broker.broker.config.int('message.max.bytes'), 1048588);
    assert.deepEqual(broker.broker.config.list('log.cleanup.policy'), ['delete']);
  });

  test("alterConfigs replaces a topic's overrides", async () => {
    await admin.alterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'events',
          configs: [{ name: 'max.message.bytes', value: '4096' }],
        },
      ],
    });
    assert.deepEqual(broker.broker.topics.get('events')!.configs, { 'max.message.bytes': '4096' });
    assert.equal(broker.broker.replicas.get('events', 0)!.log.config.maxMessageBytes, 4096);
  });

  test('describeLogDirs lists the partitions with sizes', async () => {
    const [res] = await admin.describeLogDirs({ topics: [{ name: 'events', partitions: [0, 1, 2, 3] }] });
    assert.equal(res!.broker, 1);
    assert.equal(res!.results.length, 1);
    const dir = res!.results[0]!;
    assert.equal(dir.topics.length, 1);
    assert.deepEqual(
      dir.topics[0]!.partitions.map((p) => [p.partitionIndex, p.offsetLag, p.isFutureKey]),
      [
        [0, 0n, false],
        [1, 0n, false],
        [2, 0n, false],
        [3, 0n, false],
      ],
    );
    assert.equal(typeof dir.totalBytes, 'bigint');
  });

  test('deleteTopics', async () => {
    await admin.deleteTopics({ topics: ['events'] });
    assert.ok(!(await admin.listTopics()).includes('events'));
    await failsWith(admin.deleteTopics({ topics: ['events'] }), 'UNKNOWN_TOPIC_OR_PARTITION');
  });
});
