/**
 * Admin APIs on the wire with the raw test client, where real clients do not
 * reach: DescribeCluster, DescribeTopicPartitions paging, DescribeLogDirs,
 * IncrementalAlterConfigs APPEND/SUBTRACT (incl. the cluster-default broker
 * resource ""), CreateTopics/DeleteTopics/DescribeConfigs across versions
 * and their request-level error rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { ZERO_UUID } from '../../src/protocol/generated/runtime.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { appendRecords } from '../helpers/log-data.ts';
import { RawClient } from '../helpers/raw-client.ts';

const API = {
  CreateTopics: 19,
  DeleteTopics: 20,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  DescribeLogDirs: 35,
  CreatePartitions: 37,
  IncrementalAlterConfigs: 44,
  DescribeCluster: 60,
  DescribeTopicPartitions: 75,
  ApiVersions: 18,
} as const;
const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

describe('admin APIs on the wire', () => {
  let broker: TestBroker;
  let c: RawClient;

  const createTopics = (version: number, topics: object[], validateOnly = false) =>
    c.request(API.CreateTopics, version, { topics, timeoutMs: 5000, validateOnly });
  const topic = (
    name: string,
    numPartitions = 1,
    configs: { name: string; value: string | null }[] = [],
  ) => ({
    name,
    numPartitions,
    replicationFactor: 1,
    assignments: [],
    configs,
  });
  const incremental = (resources: object[], validateOnly = false) =>
    c.request(API.IncrementalAlterConfigs, 1, { resources, validateOnly });
  const describeConfigs = (version: number, resources: object[], includeSynonyms = false) =>
    c.request(API.DescribeConfigs, version, { resources, includeSynonyms, includeDocumentation: false });

  before(async () => {
    broker = await startBroker({ config: { 'max.request.partition.size.limit': 6 } });
    c = await RawClient.connect(broker.bootstrapServers);
  });
  after(async () => {
    c?.close();
    await broker?.stop();
  });

  test('ApiVersions advertises the admin APIs with their full version ranges', async () => {
    const res = await c.request(API.ApiVersions, 3, {
      clientSoftwareName: 'raw',
      clientSoftwareVersion: '1',
    });
    const range = new Map(
      res.apiKeys.map((k: { apiKey: number; minVersion: number; maxVersion: number }) => [
        k.apiKey,
        [k.minVersion, k.maxVersion],
      ]),
    );
    assert.deepEqual(range.get(19), [0, 7]);
    assert.deepEqual(range.get(20), [0, 6]);
    assert.deepEqual(range.get(32), [0, 4]);
    assert.deepEqual(range.get(33), [0, 2]);
    assert.deepEqual(range.get(35), [0, 4]);
    assert.deepEqual(range.get(37), [0, 3]);
    assert.deepEqual(range.get(44), [0, 1]);
    assert.deepEqual(range.get(60), [0, 1]);
    assert.deepEqual(range.get(75), [0, 0]);
  });

  test('DescribeCluster v0 and v1: brokers, controller, endpoint type, authorized operations', async () => {
    const v0 = await c.request(API.DescribeCluster, 0, { includeClusterAuthorizedOperations: false });
    assert.equal(v0.errorCode, 0);
    assert.equal(v0.clusterId, broker.broker.clusterId);
    assert.equal(v0.controllerId, 1);
    assert.deepEqual(v0.brokers, [{ brokerId: 1, host: '127.0.0.1', port: broker.port, rack: null }]);
    assert.equal(v0.clusterAuthorizedOperations, -2147483648);
    const v1 = await c.request(API.DescribeCluster, 1, {
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
    });
    assert.equal(v1.errorCode, 0);
    assert.equal(v1.endpointType, 1);
    assert.ok(v1.clusterAuthorizedOperations > 0);
    const ctl = await c.request(API.DescribeCluster, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 2,
    });
    assert.equal(ctl.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    assert.equal(ctl.endpointType, 2);
    assert.deepEqual(ctl.brokers, []);
  });

  test('CreateTopics across versions: v0 plain, v4 broker defaults, v5 configs with sources, v7 topic id', async () => {
    const v0 = await createTopics(0, [topic('v0-topic', 2)]);
    assert.deepEqual(
      v0.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode]),
      [['v0-topic', 0]],
    );
    const v4 = await createTopics(4, [{ ...topic('v4-topic'), numPartitions: -1, replicationFactor: -1 }]);
    assert.equal(v4.topics[0].errorCode, 0);
    assert.equal(v4.topics[0].errorMessage, null);
    assert.equal(broker.broker.topics.get('v4-topic')!.partitions.length, 1);
    const v5 = await createTopics(5, [topic('v5-topic', 3, [{ name: 'retention.bytes', value: '1000' }])]);
    const r5 = v5.topics[0];
    assert.equal(r5.numPartitions, 3);
    assert.equal(r5.replicationFactor, 1);
    const rb = r5.configs.find((x: { name: string }) => x.name === 'retention.bytes');
    assert.deepEqual(rb, {
      name: 'retention.bytes',
      value: '1000',
      readOnly: false,
      configSource: 1,
      isSensitive: false,
    });
    const seg = r5.configs.find((x: { name: string }) => x.name === 'segment.bytes');
    assert.equal(seg.configSource, 5);
    const v7 = await createTopics(7, [topic('v7-topic')]);
    assert.equal(v7.topics[0].topicId, broker.broker.topics.get('v7-topic')!.topicId);
    assert.notEqual(v7.topics[0].topicId, ZERO_UUID);
    const dry = await createTopics(7, [topic('v7-dry', 2)], true);
    assert.equal(dry.topics[0].errorCode, 0);
    assert.equal(dry.topics[0].numPartitions, 2);
    assert.equal(dry.topics[0].topicId, ZERO_UUID);
    assert.equal(broker.broker.topics.get('v7-dry'), undefined);
  });

  test('CreateTopics request-level rules: duplicates, null config value, 10,000 partition limit', async () => {
    const dup = await createTopics(7, [topic('twice'), topic('twice'), topic('once')]);
    assert.deepEqual(
      dup.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode]),
      [
        ['twice', ErrorCode.INVALID_REQUEST],
        ['twice', ErrorCode.INVALID_REQUEST],
        ['once', 0],
      ],
    );
    const nul = await createTopics(7, [topic('null-config', 1, [{ name: 'retention.ms', value: null }])]);
    assert.equal(nul.topics[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(nul.topics[0].errorMessage, /Null value/);
    const big = await createTopics(7, [topic('big-a', 6000), topic('big-b', 5000)]);
    assert.deepEqual(
      big.topics.map((t: { errorCode: number }) => t.errorCode),
      [ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION],
    );
    assert.equal(broker.broker.topics.get('big-a'), undefined);
    const exists = await createTopics(7, [topic('once')]);
    assert.equal(exists.topics[0].errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(exists.topics[0].errorMessage, "Topic 'once' already exists.");
    assert.equal(exists.topics[0].numPartitions, -1);
  });

  test('DescribeTopicPartitions pages with a cursor and the partition limit', async () => {
    await createTopics(7, [topic('page-a', 3), topic('page-b', 2), topic('page-c', 4)]);
    const req = (cursor: object | null, limit = 4) =>
      c.request(API.DescribeTopicPartitions, 0, {
        topics: ['page-a', 'page-b', 'page-c', 'page-zz'].map((name) => ({ name })),
        responsePartitionLimit: limit,
        cursor,
      });
    const parts = (r: { topics: { name: string; partitions: { partitionIndex: number }[] }[] }) =>
      r.topics.map((t) => `${t.name}:${t.partitions.map((p) => p.partitionIndex).join(',')}`);

    const p1 = await req(null);
    assert.deepEqual(parts(p1), ['page-a:0,1,2', 'page-b:0']);
    assert.deepEqual(p1.nextCursor, { topicName: 'page-b', partitionIndex: 1 });
    assert.equal(p1.topics[0].topicId, broker.broker.topics.get('page-a')!.topicId);
    assert.deepEqual(p1.topics[0].partitions[0].replicaNodes, [1]);
    const p2 = await req(p1.nextCursor);
    assert.deepEqual(parts(p2), ['page-b:1', 'page-c:0,1,2']);
    assert.deepEqual(p2.nextCursor, { topicName: 'page-c', partitionIndex: 3 });
    const p3 = await req(p2.nextCursor);
    assert.deepEqual(parts(p3), ['page-c:3', 'page-zz:']);
    assert.equal(p3.topics[1].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(p3.nextCursor, null);

    // A limit above max.request.partition.size.limit (6 here) is capped.
    const capped = await req(null, 1000);
    assert.deepEqual(parts(capped), ['page-a:0,1,2', 'page-b:0,1', 'page-c:0']);
    assert.deepEqual(capped.nextCursor, { topicName: 'page-c', partitionIndex: 1 });

    // Ending exactly at a topic boundary points the cursor at the next topic.
    const edge = await req(null, 5);
    assert.deepEqual(parts(edge), ['page-a:0,1,2', 'page-b:0,1']);
    assert.deepEqual(edge.nextCursor, { topicName: 'page-c', partitionIndex: 0 });

    // A cursor topic missing from the list fails the request.
    const bad = await c.request(API.DescribeTopicPartitions, 0, {
      topics: [{ name: 'page-a' }],
      responsePartitionLimit: 10,
      cursor: { topicName: 'page-b', partitionIndex: 0 },
    });
    assert.deepEqual(
      bad.topics.map((t: { errorCode: number }) => t.errorCode),
      [ErrorCode.INVALID_REQUEST],
    );

    // An empty list means every topic, in name order.
    const all = await c.request(API.DescribeTopicPartitions, 0, {
      topics: [],
      responsePartitionLimit: 2000,
      cursor: { topicName: 'page-b', partitionIndex: 1 },
    });
    assert.equal(all.topics[0].name, 'page-b');
    assert.deepEqual(
      all.topics.map((t: { name: string }) => t.name),
      [...all.topics.map((t: { name: string }) => t.name)].sort(),
    );
  });

  test('DescribeLogDirs: sizes from the partition logs, every version', async () => {
    await createTopics(7, [topic('dirs', 2)]);
    await appendRecords(broker, 'dirs', 1, [{ key: 'k', value: 'x'.repeat(500) }, { value: 'y' }]);
    const size = broker.broker.replicas.get('dirs', 1)!.log.size;
    assert.ok(size > 500);
    for (const v of [0, 1, 2, 3, 4]) {
      const res = await c.request(API.DescribeLogDirs, v, {
        topics: [{ topic: 'dirs', partitions: [0, 1, 7] }],
      });
      assert.equal(res.results.length, 1, `v${v}`);
      const dir = res.results[0];
      assert.equal(dir.errorCode, 0);
      assert.equal(dir.logDir, broker.broker.replicas.engine.dirs()[0]!.dir);
      assert.deepEqual(dir.topics, [
        {
          name: 'dirs',
          partitions: [
            { partitionIndex: 0, partitionSize: 0n, offsetLag: 0n, isFutureKey: false },
            { partitionIndex: 1, partitionSize: BigInt(size), offsetLag: 0n, isFutureKey: false },
          ],
        },
      ]);
      if (v >= 3) assert.equal(res.errorCode, 0);
      if (v >= 4) {
        assert.equal(dir.totalBytes, -1n, 'memory storage has no file system');
        assert.equal(dir.usableBytes, -1n);
      }
    }
    const all = await c.request(API.DescribeLogDirs, 4, { topics: null });
    const names = all.results[0].topics.map((t: { name: string }) => t.name);
    assert.ok(names.includes('dirs') && names.includes('page-a'));
  });

  test('IncrementalAlterConfigs APPEND and SUBTRACT on a topic list config; validateOnly', async () => {
    await createTopics(7, [topic('throttled', 2)]);
    const op = (
      configOperation: number,
      value: string | null,
      name = 'leader.replication.throttled.replicas',
    ) => ({
      resourceType: TOPIC,
      resourceName: 'throttled',
      configs: [{ name, configOperation, value }],
    });
    const ok = async (r: object, validateOnly = false) => {
      const res = await incremental([r], validateOnly);
      assert.deepEqual(res.responses, [
        { errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'throttled' },
      ]);
    };
    const current = () =>
      broker.broker.topics.get('throttled')!.configs['leader.replication.throttled.replicas'];
    await ok(op(APPEND, '0:1'));
    await ok(op(APPEND, '1:1,0:1'));
    assert.equal(current(), '0:1,1:1');
    await ok(op(SUBTRACT, '0:1'), true);
    assert.equal(current(), '0:1,1:1', 'validateOnly changes nothing');
    await ok(op(SUBTRACT, '0:1'));
    assert.equal(current(), '1:1');
    await ok(op(DELETE, null));
    assert.equal(current(), undefined);
    const bad = await incremental([op(APPEND, 'x')]);
    assert.equal(bad.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(
      bad.responses[0].errorMessage,
      /leader\.replication\.throttled\.replicas.*partitionId:brokerId/,
    );
    const nonList = await incremental([op(APPEND, '1', 'retention.ms')]);
    assert.equal(nonList.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    const unknownOp = await incremental([op(9, '1')]);
    assert.equal(unknownOp.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
  });

  test('IncrementalAlterConfigs on the cluster-default broker resource and request-level errors', async () => {
    const res = await incremental([
      {
        resourceType: BROKER,
        resourceName: '',
        configs: [
          { name: 'log.cleanup.policy', configOperation: APPEND, value: 'compact' },
          { name: 'log.retention.ms', configOperation: SET, value: '123456' },
        ],
      },
    ]);
    assert.equal(res.responses[0].errorCode, 0, res.responses[0].errorMessage);
    assert.deepEqual(broker.broker.config.list('log.cleanup.policy'), ['delete', 'compact']);
    assert.equal(broker.broker.config.source('log.retention.ms'), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    assert.equal(broker.broker.replicas.get('throttled', 0)!.log.config.retentionMs, 123456);
    const d = await describeConfigs(
      4,
      [{ resourceType: BROKER, resourceName: '', configurationKeys: null }],
      true,
    );
    assert.deepEqual(
      d.results[0].configs.map((x: { name: string; value: string; configSource: number }) => [
        x.name,
        x.value,
        x.configSource,
      ]),
      [
        ['log.cleanup.policy', 'delete,compact', 3],
        ['log.retention.ms', '123456', 3],
      ],
    );
    const sub = await incremental([
      {
        resourceType: BROKER,
        resourceName: '',
        configs: [
          { name: 'log.cleanup.policy', configOperation: SUBTRACT, value: 'compact' },
          { name: 'log.retention.ms', configOperation: DELETE, value: null },
        ],
      },
    ]);
    assert.equal(sub.responses[0].errorCode, 0);
    assert.deepEqual(broker.broker.config.list('log.cleanup.policy'), ['delete']);
    assert.equal(broker.broker.replicas.get('throttled', 0)!.log.config.retentionMs, 604_800_000);

    const res2 = await incremental([
      { resourceType: TOPIC, resourceName: 'throttled', configs: [] },
      { resourceType: TOPIC, resourceName: 'throttled', configs: [] },
      {
        resourceType: TOPIC,
        resourceName: 'dirs',
        configs: [
          { name: 'retention.ms', configOperation: SET, value: '1' },
          { name: 'retention.ms', configOperation: DELETE, value: null },
        ],
      },
      { resourceType: BROKER, resourceName: '2', configs: [] },
      {
        resourceType: BROKER,
        resourceName: '1',
        configs: [{ name: 'no.such', configOperation: SET, value: '1' }],
      },
      { resourceType: 8, resourceName: 'root', configs: [] },
      { resourceType: TOPIC, resourceName: 'no-such-topic', configs: [] },
    ]);
    assert.deepEqual(
      res2.responses.map((r: { errorCode: number }) => r.errorCode),
      [
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
    );
  });

  test('AlterConfigs (legacy) on the cluster-default broker resource, and validateOnly', async () => {
    const alter = (validateOnly: boolean, configs: object[]) =>
      c.request(API.AlterConfigs, 2, {
        resources: [{ resourceType: BROKER, resourceName: '', configs }],
        validateOnly,
      });
    let r = await alter(true, [{ name: 'message.max.bytes', value: '3000000' }]);
    assert.equal(r.responses[0].errorCode, 0);
    assert.equal(broker.broker.config.int('message.max.bytes'), 1048588);
    r = await alter(false, [{ name: 'message.max.bytes', value: '3000000' }]);
    assert.equal(broker.broker.config.int('message.max.bytes'), 3_000_000);
    r = await alter(false, [{ name: 'num.io.threads', value: 'many' }]);
    assert.equal(r.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(
      r.responses[0].errorMessage,
      /invalid value "many" for num\.io\.threads: expected an integer/,
    );
    r = await alter(false, []);
    assert.equal(broker.broker.config.int('message.max.bytes'), 1048588);
  });

  test('DescribeConfigs versions and resource errors', async () => {
    const v0 = await describeConfigs(0, [
      {
        resourceType: TOPIC,
        resourceName: 'v5-topic',
        configurationKeys: ['retention.bytes', 'retention.ms'],
      },
    ]);
    assert.deepEqual(
      v0.results[0].configs.map((x: { name: string; isDefault: boolean }) => [x.name, x.isDefault]),
      [
        ['retention.bytes', false],
        ['retention.ms', true],
      ],
    );
    const res = await describeConfigs(4, [
      { resourceType: BROKER, resourceName: '2', configurationKeys: null },
      { resourceType: BROKER, resourceName: 'x', configurationKeys: null },
      { resourceType: 8, resourceName: '1', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'not-here', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'bad/name', configurationKeys: null },
    ]);
    assert.deepEqual(
      res.results.map((r: { errorCode: number }) => r.errorCode),
      [
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_TOPIC_EXCEPTION,
      ],
    );
    assert.match(res.results[0].errorMessage, /expected 1 or empty string/);
  });

  test('CreatePartitions request-level rules', async () => {
    const res = await c.request(API.CreatePartitions, 3, {
      topics: [
        { name: 'dirs', count: 3, assignments: null },
        { name: 'dirs', count: 4, assignments: null },
        { name: 'v7-topic', count: 3, assignments: [{ brokerIds: [1] }, { brokerIds: [1] }] },
        { name: 'v4-topic', count: 3, assignments: [{ brokerIds: [1] }] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      res.results.map((r: { name: string; errorCode: number }) => [r.name, r.errorCode]),
      [
        ['dirs', ErrorCode.INVALID_REQUEST],
        ['dirs', ErrorCode.INVALID_REQUEST],
        ['v7-topic', 0],
        ['v4-topic', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ],
    );
    assert.equal(broker.broker.topics.get('v7-topic')!.partitions.length, 3);
  });

  test('DeleteTopics v6: by id, unknown id, name and id together; v0 by name', async () => {
    await createTopics(7, [topic('del-a'), topic('del-b'), topic('del-c')]);
    const idA = broker.broker.topics.get('del-a')!.topicId;
    const idB = broker.broker.topics.get('del-b')!.topicId;
    const res = await c.request(API.DeleteTopics, 6, {
      topics: [
        { name: null, topicId: idA },
        { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
        { name: 'del-b', topicId: idB },
        { name: 'del-c', topicId: ZERO_UUID },
        { name: 'del-none', topicId: ZERO_UUID },
      ],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      res.responses.map((r: { name: string | null; topicId: string; errorCode: number }) => [
        r.name,
        r.topicId,
        r.errorCode,
      ]),
      [
        ['del-a', idA, 0],
        [null, 'AAAAAAAAAAAAAAAAAAAAAQ', ErrorCode.UNKNOWN_TOPIC_ID],
        ['del-b', idB, ErrorCode.INVALID_REQUEST],
        ['del-c', res.responses[3].topicId, 0],
        ['del-none', ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    assert.notEqual(res.responses[3].topicId, ZERO_UUID);
    assert.equal(broker.broker.topics.get('del-a'), undefined);
    assert.ok(broker.broker.topics.get('del-b'));
    const v0 = await c.request(API.DeleteTopics, 0, { topicNames: ['del-b', 'del-b'], timeoutMs: 5000 });
    assert.deepEqual(
      v0.responses.map((r: { errorCode: number }) => r.errorCode),
      [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
    );
    const v5 = await c.request(API.DeleteTopics, 5, { topicNames: ['del-b'], timeoutMs: 5000 });
    assert.deepEqual(
      v5.responses.map((r: { name: string; errorCode: number; errorMessage: string | null }) => [
        r.name,
        r.errorCode,
        r.errorMessage,
      ]),
      [['del-b', 0, null]],
    );
  });
});

describe('DeleteTopics with delete.topic.enable=false', () => {
  test('TOPIC_DELETION_DISABLED from v3, INVALID_REQUEST before', async (t) => {
    const broker = await startBroker({ config: { 'delete.topic.enable': false } });
    t.after(() => broker.stop());
    const c = await RawClient.connect(broker.bootstrapServers);
    t.after(() => c.close());
    await broker.broker.topics.create({ name: 'kept', numPartitions: 1, replicationFactor: 1 });
    const v6 = await c.request(API.DeleteTopics, 6, {
      topics: [{ name: 'kept', topicId: ZERO_UUID }],
      timeoutMs: 1000,
    });
    assert.equal(v6.responses[0].errorCode, ErrorCode.TOPIC_DELETION_DISABLED);
    const v2 = await c.request(API.DeleteTopics, 2, { topicNames: ['kept'], timeoutMs: 1000 });
    assert.equal(v2.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    assert.ok(broker.broker.topics.get('kept'));
  });
});

describe('dynamic configs across a restart', () => {
  test('topic overrides and dynamic broker configs come back after restart and reach the logs', async (t) => {
    const broker = await startBroker();
    t.after(() => broker.stop());
    let c = await RawClient.connect(broker.bootstrapServers);
    await broker.broker.topics.create({ name: 'kept', numPartitions: 1, replicationFactor: 1 });
    const res = await c.request(API.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: BROKER,
          resourceName: '',
          configs: [{ name: 'log.retention.ms', configOperation: SET, value: '4242' }],
        },
        {
          resourceType: BROKER,
          resourceName: '1',
          configs: [{ name: 'message.max.bytes', configOperation: SET, value: '2222' }],
        },
        {
          resourceType: TOPIC,
          resourceName: 'kept',
          configs: [{ name: 'segment.ms', configOperation: SET, value: '60000' }],
        },
      ],
      validateOnly: false,
    });
    assert.deepEqual(
      res.responses.map((r: { errorCode: number }) => r.errorCode),
      [0, 0, 0],
    );
    c.close();
    await broker.restart();
    c = await RawClient.connect(broker.bootstrapServers);
    t.after(() => c.close());
    const d = await c.request(API.DescribeConfigs, 4, {
      resources: [
        {
          resourceType: BROKER,
          resourceName: '1',
          configurationKeys: ['log.retention.ms', 'message.max.bytes'],
        },
        {
          resourceType: TOPIC,
          resourceName: 'kept',
          configurationKeys: ['retention.ms', 'segment.ms', 'max.message.bytes'],
        },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const vals = (i: number) =>
      d.results[i].configs.map((x: { name: string; value: string; configSource: number }) => [
        x.name,
        x.value,
        x.configSource,
      ]);
    assert.deepEqual(vals(0), [
      ['log.retention.ms', '4242', 3],
      ['message.max.bytes', '2222', 2],
    ]);
    assert.deepEqual(vals(1), [
      ['max.message.bytes', '2222', 2],
      ['retention.ms', '4242', 3],
      ['segment.ms', '60000', 1],
    ]);
    const log = broker.broker.replicas.get('kept', 0)!.log;
    assert.equal(log.config.retentionMs, 4242);
    assert.equal(log.config.maxMessageBytes, 2222);
    assert.equal(log.config.segmentMs, 60000);
  });
});
