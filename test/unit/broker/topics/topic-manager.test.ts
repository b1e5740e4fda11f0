import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type TopicListener,
  TopicManager,
  topicsCollide,
} from '../../../../src/broker/topics/topic-manager.ts';
import { BrokerConfig } from '../../../../src/common/config/broker-config.ts';
import { loadBrokerConfig } from '../../../../src/common/config/load.ts';
import { silentLogger } from '../../../../src/common/logger.ts';
import { MemoryMetadataStore } from '../../../../src/metadata/embedded/file-store.ts';
import type { PartitionInfo, TopicInfo } from '../../../../src/metadata/model.ts';
import { ErrorCode, KafkaProtocolError } from '../../../../src/protocol/error-codes.ts';

class Recorder implements TopicListener {
  events: string[] = [];
  async partitionsAdded(t: TopicInfo, ps: PartitionInfo[]) {
    this.events.push(`added ${t.name} ${ps.map((p) => p.partition).join(',')}`);
  }
  async topicDeleted(t: TopicInfo) {
    this.events.push(`deleted ${t.name}`);
  }
  topicConfigChanged(t: TopicInfo) {
    this.events.push(`config ${t.name}`);
  }
}

async function manager(sets: string[] = [], store = new MemoryMetadataStore()) {
  const config = new BrokerConfig(loadBrokerConfig({ sets }));
  const mgr = new TopicManager(store, config, 1, silentLogger());
  await mgr.load(null);
  const rec = new Recorder();
  mgr.addListener(rec);
  return { mgr, config, rec, store };
}

/** Asserts a KafkaProtocolError with this code whose message matches. */
async function rejects(p: Promise<unknown> | (() => unknown), code: number, message?: RegExp) {
  const run = typeof p === 'function' ? async () => p() : () => p;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof KafkaProtocolError, `expected KafkaProtocolError, got ${e}`);
    assert.equal(e.code, code, `${e.errorName}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('TopicManager', () => {
  test('create: -1 means the broker defaults; ids are fresh; listeners hear it', async () => {
    const { mgr, rec } = await manager(['num.partitions=3']);
    const t = await mgr.create({ name: 'a', numPartitions: -1, replicationFactor: -1 });
    assert.equal(t.partitions.length, 3);
    assert.deepEqual(t.partitions[2], {
      partition: 2,
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    });
    assert.match(t.topicId, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.deepEqual(rec.events, ['added a 0,1,2']);
    assert.equal(mgr.getById(t.topicId), t);
  });

  test('create: names, duplicates, collisions, counts and replication factor', async () => {
    const { mgr } = await manager();
    await mgr.create({ name: 'my.topic', numPartitions: 1, replicationFactor: 1 });
    await rejects(
      mgr.create({ name: 'my.topic', numPartitions: 1, replicationFactor: 1 }),
      ErrorCode.TOPIC_ALREADY_EXISTS,
      /Topic 'my\.topic' already exists/,
    );
    await rejects(
      mgr.create({ name: 'my_topic', numPartitions: 1, replicationFactor: 1 }),
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      /collides with existing topic: my\.topic/,
    );
    await rejects(
      mgr.create({ name: 'bad name', numPartitions: 1, replicationFactor: 1 }),
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    );
    await rejects(
      mgr.create({ name: '..', numPartitions: 1, replicationFactor: 1 }),
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    );
    await rejects(
      mgr.create({ name: 'x'.repeat(250), numPartitions: 1, replicationFactor: 1 }),
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    );
    await rejects(
      mgr.create({ name: 'p0', numPartitions: 0, replicationFactor: 1 }),
      ErrorCode.INVALID_PARTITIONS,
    );
    await rejects(
      mgr.create({ name: 'r0', numPartitions: 1, replicationFactor: 0 }),
      ErrorCode.INVALID_REPLICATION_FACTOR,
    );
    await rejects(
      mgr.create({ name: 'r3', numPartitions: 1, replicationFactor: 3 }),
      ErrorCode.INVALID_REPLICATION_FACTOR,
      /Replication factor: 3 larger than available brokers: 1/,
    );
    await rejects(
      mgr.create({ name: '__consumer_offsets', numPartitions: 1, replicationFactor: 1 }),
      ErrorCode.INVALID_REQUEST,
    );
    assert.equal(topicsCollide('a.b', 'a_b'), true);
    assert.equal(topicsCollide('a.b', 'a.b'), false);
    assert.deepEqual(
      mgr.list().map((t) => t.name),
      ['my.topic'],
    );
  });

  test('create: explicit replica assignments', async () => {
    const { mgr } = await manager();
    const t = await mgr.create({
      name: 'assigned',
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [
        { partition: 1, replicas: [1] },
        { partition: 0, replicas: [1] },
      ],
    });
    assert.deepEqual(
      t.partitions.map((p) => [p.partition, p.replicas]),
      [
        [0, [1]],
        [1, [1]],
      ],
    );
    const spec = (assignments: { partition: number; replicas: number[] }[], n = -1) => ({
      name: 'bad',
      numPartitions: n,
      replicationFactor: -1,
      assignments,
    });
    await rejects(mgr.create(spec([{ partition: 0, replicas: [1] }], 2)), ErrorCode.INVALID_REQUEST);
    await rejects(
      mgr.create(spec([{ partition: 1, replicas: [1] }])),
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      /consecutive/,
    );
    await rejects(
      mgr.create(spec([{ partition: 0, replicas: [] }])),
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      /empty/,
    );
    await rejects(
      mgr.create(spec([{ partition: 0, replicas: [1, 1] }])),
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      /Duplicate/,
    );
    await rejects(
      mgr.create(spec([{ partition: 0, replicas: [7] }])),
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      /broker 7/,
    );
  });

  test('create: configs are validated and stored in Kafka form', async () => {
    const { mgr } = await manager();
    const t = await mgr.create({
      name: 'c',
      numPartitions: 1,
      replicationFactor: 1,
      configs: {
        'retention.ms': ' 1000 ',
        'cleanup.policy': 'compact, delete',
        'flush.messages': '9223372036854775807',
      },
    });
    assert.deepEqual(t.configs, {
      'retention.ms': '1000',
      'cleanup.policy': 'compact,delete',
      'flush.messages': '9223372036854775807',
    });
    const bad = (configs: Record<string, string | null>) =>
      mgr.create({ name: 'bad', numPartitions: 1, replicationFactor: 1, configs });
    await rejects(
      bad({ 'retention.ms': 'soon' }),
      ErrorCode.INVALID_CONFIG,
      /invalid value "soon" for retention\.ms: expected an integer >= -1/,
    );
    await rejects(
      bad({ 'cleanup.policy': 'shred' }),
      ErrorCode.INVALID_CONFIG,
      /cleanup\.policy.*delete, compact/,
    );
    await rejects(
      bad({ 'no.such.config': '1' }),
      ErrorCode.INVALID_CONFIG,
      /Unknown topic config name: no\.such\.config/,
    );
    await rejects(bad({ 'retention.ms': null }), ErrorCode.INVALID_CONFIG, /Null value not supported/);
    await rejects(
      bad({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }),
      ErrorCode.INVALID_CONFIG,
      /conflict/,
    );
    await rejects(bad({ 'remote.storage.enable': 'true' }), ErrorCode.INVALID_CONFIG, /tiered storage/);
    await rejects(
      bad({ 'leader.replication.throttled.replicas': 'x:y' }),
      ErrorCode.INVALID_CONFIG,
      /partitionId:brokerId/,
    );
    assert.equal(mgr.get('bad'), undefined);
  });

  test('plan checks without creating', async () => {
    const { mgr, rec } = await manager();
    const plan = mgr.plan({
      name: 'p',
      numPartitions: 4,
      replicationFactor: 1,
      configs: { 'segment.bytes': '2048' },
    });
    assert.equal(plan.partitions.length, 4);
    assert.deepEqual(plan.configs, { 'segment.bytes': '2048' });
    assert.equal(mgr.get('p'), undefined);
    assert.deepEqual(rec.events, []);
  });

  test('delete: by name or checked id; the name is reusable at once with a new id', async () => {
    const { mgr, rec } = await manager();
    const a = await mgr.create({ name: 'd', numPartitions: 2, replicationFactor: 1 });
    await rejects(mgr.delete('d', 'AAAAAAAAAAAAAAAAAAAAAQ'), ErrorCode.UNKNOWN_TOPIC_ID);
    await mgr.delete('d', a.topicId);
    assert.equal(mgr.get('d'), undefined);
    await rejects(mgr.delete('d'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, /does not host this topic: d/);
    const b = await mgr.create({ name: 'd', numPartitions: 1, replicationFactor: 1 });
    assert.notEqual(b.topicId, a.topicId);
    assert.deepEqual(rec.events, ['added d 0,1', 'deleted d', 'added d 0']);
  });

  test('addPartitions: increase only, assignments, validateOnly', async () => {
    const { mgr, rec } = await manager();
    await mgr.create({ name: 'g', numPartitions: 2, replicationFactor: 1 });
    await rejects(
      mgr.addPartitions('g', 1, false),
      ErrorCode.INVALID_PARTITIONS,
      /currently has 2 partitions, which is higher than the requested 1/,
    );
    await rejects(mgr.addPartitions('g', 2, false), ErrorCode.INVALID_PARTITIONS, /already has 2 partitions/);
    await rejects(mgr.addPartitions('nope', 3, false), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await rejects(
      mgr.addPartitions('g', 4, false, [[1]]),
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      /2 additional partition\(s\), but only 1/,
    );
    await rejects(mgr.addPartitions('g', 3, false, [[1, 2]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    await rejects(mgr.addPartitions('g', 20_003, false), ErrorCode.POLICY_VIOLATION);
    await mgr.addPartitions('g', 5, true);
    assert.equal(mgr.get('g')!.partitions.length, 2);
    await mgr.addPartitions('g', 4, false, [[1], [1]]);
    assert.equal(mgr.get('g')!.partitions.length, 4);
    assert.deepEqual(rec.events, ['added g 0,1', 'added g 2,3']);
  });

  test('alterTopicConfigs: edit runs on the current overrides; validateOnly stores nothing', async () => {
    const { mgr, rec } = await manager();
    await mgr.create({
      name: 'cfg',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'retention.ms': '100' },
    });
    await mgr.alterTopicConfigs('cfg', (cur) => ({ ...cur, 'segment.ms': '1000' }), true);
    assert.deepEqual(mgr.get('cfg')!.configs, { 'retention.ms': '100' });
    await mgr.alterTopicConfigs('cfg', (cur) => ({ ...cur, 'segment.ms': '1000' }), false);
    assert.deepEqual(mgr.get('cfg')!.configs, { 'retention.ms': '100', 'segment.ms': '1000' });
    await rejects(
      mgr.alterTopicConfigs('cfg', () => ({ 'segment.ms': '0' }), false),
      ErrorCode.INVALID_CONFIG,
      /segment\.ms/,
    );
    await mgr.alterConfigs('cfg', { 'cleanup.policy': 'compact' }, false);
    assert.deepEqual(mgr.get('cfg')!.configs, { 'cleanup.policy': 'compact' });
    assert.equal(mgr.effective(mgr.get('cfg')!, 'retention.ms'), '604800000');
    assert.deepEqual(rec.events, ['added cfg 0', 'config cfg', 'config cfg']);
  });

  test('alterBrokerConfigs: dynamic only, stored, restored on load, reaches topic logs', async () => {
    const { mgr, config, rec, store } = await manager();
    await mgr.create({ name: 't', numPartitions: 1, replicationFactor: 1 });
    await rejects(
      mgr.alterBrokerConfigs('broker', () => ({ 'num.partitions': '3' }), false),
      ErrorCode.INVALID_REQUEST,
      /num\.partitions cannot be changed at run time/,
    );
    await rejects(
      mgr.alterBrokerConfigs('cluster', () => ({ 'log.retention.ms': 'x' }), false),
      ErrorCode.INVALID_REQUEST,
      /invalid value "x" for log\.retention\.ms/,
    );
    await mgr.alterBrokerConfigs('cluster', () => ({ 'log.retention.ms': '5000' }), true);
    assert.equal(config.get('log.retention.ms'), null);
    await mgr.alterBrokerConfigs(
      'cluster',
      () => ({ 'log.retention.ms': '5000', 'max.connections': '10' }),
      false,
    );
    await mgr.alterBrokerConfigs('broker', () => ({ 'max.connections': '20' }), false);
    assert.equal(config.topicDefault('retention.ms'), 5000);
    assert.equal(config.int('max.connections'), 20);
    assert.equal(mgr.effective(mgr.get('t')!, 'retention.ms'), '5000');
    assert.deepEqual(rec.events, ['added t 0', 'config t']);
    const saved = await store.load();
    assert.deepEqual(saved!.brokerConfigs, {
      '': { 'log.retention.ms': '5000', 'max.connections': '10' },
      '1': { 'max.connections': '20' },
    });

    // A new broker on the same metadata comes back with the dynamic configs.
    const again = await manager([], store);
    assert.equal(again.config.int('max.connections'), 20);
    assert.equal(again.config.source('max.connections'), 'DYNAMIC_BROKER_CONFIG');
    assert.equal(again.config.get('log.retention.ms'), 5000);
    assert.equal(again.config.source('log.retention.ms'), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    assert.deepEqual(again.mgr.get('t')!.partitions.length, 1);

    await again.mgr.alterBrokerConfigs('broker', () => ({}), false);
    assert.equal(again.config.int('max.connections'), 10);
    assert.deepEqual((await store.load())!.brokerConfigs, {
      '': { 'log.retention.ms': '5000', 'max.connections': '10' },
    });
  });

  test('a stored dynamic config that no longer parses is skipped', async () => {
    const store = new MemoryMetadataStore();
    const first = await manager([], store);
    await first.mgr.alterBrokerConfigs('cluster', () => ({ 'max.connections': '10' }), false);
    const meta = (await store.load())!;
    meta.brokerConfigs['']!['num.partitions'] = '4';
    meta.brokerConfigs['']!['gone.config'] = 'x';
    await store.save(meta);
    const again = await manager([], store);
    assert.equal(again.config.int('max.connections'), 10);
    assert.equal(again.config.int('num.partitions'), 1);
  });

  test('createMany/deleteMany: one metadata write per request; a failed write creates nothing', async () => {
    class CountingStore extends MemoryMetadataStore {
      saves = 0;
      fail = false;
      override async save(meta: Parameters<MemoryMetadataStore['save']>[0]) {
        if (this.fail) throw new Error('disk full');
        this.saves++;
        return super.save(meta);
      }
    }
    const store = new CountingStore();
    const { mgr, rec } = await manager([], store);
    const before = store.saves;
    const out = await mgr.createMany([
      { name: 'm1', numPartitions: 1, replicationFactor: 1 },
      { name: 'bad name', numPartitions: 1, replicationFactor: 1 },
      { name: 'm2', numPartitions: 2, replicationFactor: 1 },
    ]);
    assert.equal(store.saves - before, 1);
    assert.equal((out[0] as TopicInfo).name, 'm1');
    assert.ok(out[1] instanceof KafkaProtocolError && out[1].code === ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal((out[2] as TopicInfo).partitions.length, 2);
    assert.deepEqual(rec.events, ['added m1 0', 'added m2 0,1']);

    store.fail = true;
    await assert.rejects(
      mgr.createMany([{ name: 'm3', numPartitions: 1, replicationFactor: 1 }]),
      /disk full/,
    );
    assert.equal(mgr.get('m3'), undefined);
    await assert.rejects(mgr.deleteMany([{ name: 'm1' }]), /disk full/);
    assert.ok(mgr.get('m1'));
    store.fail = false;

    const del = await mgr.deleteMany([
      { name: 'm1' },
      { name: 'm9' },
      { name: 'm2', topicId: mgr.get('m2')!.topicId },
    ]);
    assert.equal(store.saves - before, 2);
    assert.ok(del[1] instanceof KafkaProtocolError && del[1].code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(mgr.list().length, 0);
    assert.equal(mgr.getById((out[0] as TopicInfo).topicId), undefined);
  });

  test('one change at a time: concurrent edits do not lose each other', async () => {
    const { mgr } = await manager();
    await mgr.create({ name: 'q', numPartitions: 1, replicationFactor: 1 });
    await Promise.all(
      ['retention.ms', 'segment.ms', 'flush.ms', 'delete.retention.ms'].map((k, i) =>
        mgr.alterTopicConfigs('q', (cur) => ({ ...cur, [k]: String(1000 + i) }), false),
      ),
    );
    assert.equal(Object.keys(mgr.get('q')!.configs).length, 4);
  });
});
