import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyIncrementalOps, ConfigOp } from '../../../../src/broker/topics/config-alter.ts';
import {
  brokerScope,
  describeBrokerConfigs,
  describeTopicConfigs,
  ConfigSourceId as S,
} from '../../../../src/broker/topics/config-describe.ts';
import { BrokerConfig } from '../../../../src/common/config/broker-config.ts';
import { BROKER_CONFIG_DEFS } from '../../../../src/common/config/broker-configs.ts';
import { loadBrokerConfig } from '../../../../src/common/config/load.ts';
import { TOPIC_CONFIG_DEFS, TOPIC_CONFIGS } from '../../../../src/common/config/topic-configs.ts';
import { ErrorCode, KafkaProtocolError } from '../../../../src/protocol/error-codes.ts';

const config = (...sets: string[]) => new BrokerConfig(loadBrokerConfig({ sets }));
const one = <T extends { name: string }>(list: T[], name: string): T => {
  const e = list.find((x) => x.name === name);
  assert.ok(e, `${name} described`);
  return e;
};

describe('describeTopicConfigs', () => {
  test('every topic config, sorted, with default values and sources', () => {
    const all = describeTopicConfigs(config(), {});
    assert.deepEqual(
      all.map((c) => c.name),
      TOPIC_CONFIGS.map((d) => d.name).sort(),
    );
    const r = one(all, 'retention.ms');
    assert.deepEqual(r, {
      name: 'retention.ms',
      value: '604800000',
      readOnly: false,
      source: S.DEFAULT_CONFIG,
      isSensitive: false,
      synonyms: [],
      configType: 5,
      documentation: null,
    });
    assert.equal(one(all, 'max.compaction.lag.ms').value, '9223372036854775807');
    assert.equal(one(all, 'cleanup.policy').value, 'delete');
    assert.equal(one(all, 'cleanup.policy').configType, 7);
    assert.equal(one(all, 'leader.replication.throttled.replicas').value, '');
  });

  test('override, dynamic and static sources, with the synonym chain layer by layer', () => {
    const c = config('log.retention.hours=2', 'log.segment.bytes=4096');
    c.replaceDynamic('cluster', BrokerConfig.parseDynamic({ 'log.retention.ms': '9000' }));
    const d = describeTopicConfigs(c, { 'segment.ms': '100' }, { synonyms: true, documentation: true });
    const ret = one(d, 'retention.ms');
    assert.equal(ret.value, '9000');
    assert.equal(ret.source, S.DYNAMIC_DEFAULT_BROKER_CONFIG);
    assert.deepEqual(ret.synonyms, [
      { name: 'log.retention.ms', value: '9000', source: S.DYNAMIC_DEFAULT_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '2', source: S.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: S.DEFAULT_CONFIG },
    ]);
    assert.match(ret.documentation!, /Retention/);
    const seg = one(d, 'segment.bytes');
    assert.equal(seg.value, '4096');
    assert.equal(seg.source, S.STATIC_BROKER_CONFIG);
    const ms = one(d, 'segment.ms');
    assert.equal(ms.source, S.TOPIC_CONFIG);
    assert.deepEqual(ms.synonyms[0], { name: 'segment.ms', value: '100', source: S.TOPIC_CONFIG });
    assert.deepEqual(ms.synonyms.at(-1), { name: 'log.roll.hours', value: '168', source: S.DEFAULT_CONFIG });
  });

  test('named keys only; unknown names left out; an empty list means all', () => {
    assert.equal(describeTopicConfigs(config(), {}, { keys: [] }).length, TOPIC_CONFIGS.length);
    const d = describeTopicConfigs(config(), {}, { keys: ['segment.bytes', 'no.such', 'cleanup.policy'] });
    assert.deepEqual(
      d.map((c) => c.name),
      ['cleanup.policy', 'segment.bytes'],
    );
  });
});

describe('describeBrokerConfigs', () => {
  test('this broker: every key, read-only unless dynamic, passwords hidden', () => {
    const c = config('num.partitions=3', 'ssl.keystore.password=secret');
    const d = describeBrokerConfigs(c, 'broker', { synonyms: true });
    assert.equal(d.length, BROKER_CONFIG_DEFS.size);
    const np = one(d, 'num.partitions');
    assert.equal(np.value, '3');
    assert.equal(np.readOnly, true);
    assert.equal(np.source, S.STATIC_BROKER_CONFIG);
    assert.deepEqual(np.synonyms, [
      { name: 'num.partitions', value: '3', source: S.STATIC_BROKER_CONFIG },
      { name: 'num.partitions', value: '1', source: S.DEFAULT_CONFIG },
    ]);
    const pw = one(d, 'ssl.keystore.password');
    assert.equal(pw.value, null);
    assert.equal(pw.isSensitive, true);
    assert.equal(pw.configType, 9);
    assert.deepEqual(pw.synonyms, [
      { name: 'ssl.keystore.password', value: null, source: S.STATIC_BROKER_CONFIG },
    ]);
    assert.equal(one(d, 'message.max.bytes').readOnly, false);
    // log.retention.ms is unset: null value, its chain continues to minutes and hours.
    const lr = one(d, 'log.retention.ms');
    assert.equal(lr.value, null);
    assert.equal(lr.source, S.DEFAULT_CONFIG);
    assert.deepEqual(lr.synonyms, [{ name: 'log.retention.hours', value: '168', source: S.DEFAULT_CONFIG }]);
  });

  test('cluster default resource: only the dynamic defaults', () => {
    const c = config();
    assert.deepEqual(describeBrokerConfigs(c, 'cluster'), []);
    c.replaceDynamic('cluster', BrokerConfig.parseDynamic({ 'message.max.bytes': '5000' }));
    c.replaceDynamic('broker', BrokerConfig.parseDynamic({ 'message.max.bytes': '6000' }));
    const d = describeBrokerConfigs(c, 'cluster', { synonyms: true });
    assert.equal(d.length, 1);
    assert.equal(d[0]!.value, '5000');
    assert.equal(d[0]!.source, S.DYNAMIC_DEFAULT_BROKER_CONFIG);
    assert.deepEqual(
      d[0]!.synonyms.map((s) => s.source),
      [S.DYNAMIC_DEFAULT_BROKER_CONFIG, S.DEFAULT_CONFIG],
    );
    const b = one(describeBrokerConfigs(c, 'broker', { synonyms: true }), 'message.max.bytes');
    assert.equal(b.value, '6000');
    assert.deepEqual(
      b.synonyms.map((s) => s.source),
      [S.DYNAMIC_BROKER_CONFIG, S.DYNAMIC_DEFAULT_BROKER_CONFIG, S.DEFAULT_CONFIG],
    );
  });

  test('broker resource names', () => {
    assert.equal(brokerScope('', 1), 'cluster');
    assert.equal(brokerScope('1', 1), 'broker');
    assert.throws(
      () => brokerScope('2', 1),
      (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.INVALID_REQUEST,
    );
    assert.throws(() => brokerScope('one', 1), /Broker id must be an integer/);
  });
});

describe('applyIncrementalOps', () => {
  const eff = (k: string) => (k === 'cleanup.policy' ? 'delete' : null);
  const apply = (
    cur: Record<string, string>,
    ops: { name: string; configOperation: number; value: string | null }[],
  ) => applyIncrementalOps(cur, ops, TOPIC_CONFIG_DEFS, eff, ErrorCode.INVALID_CONFIG, 'topic');
  const fails = (fn: () => unknown, code: number, re: RegExp) =>
    assert.throws(
      fn,
      (e: unknown) => e instanceof KafkaProtocolError && e.code === code && re.test(e.message),
    );

  test('SET, DELETE, APPEND and SUBTRACT', () => {
    assert.deepEqual(
      apply({ 'retention.ms': '1', 'segment.ms': '2' }, [
        { name: 'retention.ms', configOperation: ConfigOp.SET, value: '5' },
        { name: 'segment.ms', configOperation: ConfigOp.DELETE, value: null },
        { name: 'cleanup.policy', configOperation: ConfigOp.APPEND, value: 'compact,delete' },
      ]),
      { 'retention.ms': '5', 'cleanup.policy': 'delete,compact' },
    );
    assert.deepEqual(
      apply({ 'cleanup.policy': 'delete,compact' }, [
        { name: 'cleanup.policy', configOperation: ConfigOp.SUBTRACT, value: 'delete' },
      ]),
      { 'cleanup.policy': 'compact' },
    );
    assert.deepEqual(
      apply({}, [
        {
          name: 'leader.replication.throttled.replicas',
          configOperation: ConfigOp.APPEND,
          value: '0:1,1:1,0:1',
        },
      ]),
      { 'leader.replication.throttled.replicas': '0:1,1:1' },
    );
    assert.deepEqual(
      apply({}, [{ name: 'cleanup.policy', configOperation: ConfigOp.SUBTRACT, value: 'delete' }]),
      {
        'cleanup.policy': '',
      },
    );
  });

  test('errors', () => {
    fails(
      () =>
        apply({}, [
          { name: 'retention.ms', configOperation: ConfigOp.SET, value: '1' },
          { name: 'retention.ms', configOperation: ConfigOp.DELETE, value: null },
        ]),
      ErrorCode.INVALID_REQUEST,
      /duplicate config keys/,
    );
    fails(
      () => apply({}, [{ name: 'retention.ms', configOperation: 9, value: '1' }]),
      ErrorCode.INVALID_REQUEST,
      /unknown config operation 9/,
    );
    fails(
      () => apply({}, [{ name: 'retention.ms', configOperation: ConfigOp.SET, value: null }]),
      ErrorCode.INVALID_REQUEST,
      /Null value/,
    );
    fails(
      () => apply({}, [{ name: 'retention.ms', configOperation: ConfigOp.APPEND, value: '1' }]),
      ErrorCode.INVALID_CONFIG,
      /append is not allowed for config key: retention\.ms/,
    );
    fails(
      () => apply({}, [{ name: 'nope', configOperation: ConfigOp.DELETE, value: null }]),
      ErrorCode.INVALID_CONFIG,
      /Unknown topic config name: nope/,
    );
    assert.throws(
      () =>
        applyIncrementalOps(
          {},
          [{ name: 'nope', configOperation: ConfigOp.SET, value: '1' }],
          BROKER_CONFIG_DEFS,
          () => null,
          ErrorCode.INVALID_REQUEST,
          'broker',
        ),
      (e: unknown) =>
        e instanceof KafkaProtocolError &&
        e.code === ErrorCode.INVALID_REQUEST &&
        /Unknown broker config name/.test(e.message),
    );
  });
});
