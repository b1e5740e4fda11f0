import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrokerConfig } from '../../../../src/common/config/broker-config.ts';
import { BROKER_CONFIG_DEFS } from '../../../../src/common/config/broker-configs.ts';
import { loadBrokerConfig } from '../../../../src/common/config/load.ts';
import { ConfigError } from '../../../../src/common/config/registry.ts';
import { TOPIC_CONFIGS } from '../../../../src/common/config/topic-configs.ts';

const config = (...sets: string[]) => new BrokerConfig(loadBrokerConfig({ sets }));

describe('BrokerConfig', () => {
  test('every topic config synonym is a broker config, and defaults agree', () => {
    const c = config();
    for (const d of TOPIC_CONFIGS) {
      for (const s of d.brokerSynonyms ?? []) assert.ok(BROKER_CONFIG_DEFS.has(s.name), s.name);
      assert.deepEqual(c.topicDefault(d.name), d.default, d.name);
    }
  });

  test('retention.ms follows log.retention.ms, then minutes, then hours', () => {
    assert.equal(config().topicDefault('retention.ms'), 604800000);
    assert.equal(config('log.retention.hours=2').topicDefault('retention.ms'), 7_200_000);
    assert.equal(
      config('log.retention.hours=2', 'log.retention.minutes=3').topicDefault('retention.ms'),
      180_000,
    );
    assert.equal(
      config('log.retention.hours=2', 'log.retention.minutes=3', 'log.retention.ms=42').topicDefault(
        'retention.ms',
      ),
      42,
    );
    assert.equal(config('log.retention.hours=-1').topicDefault('retention.ms'), -1);
    assert.equal(config('log.roll.hours=1').topicDefault('segment.ms'), 3_600_000);
    assert.equal(config('log.segment.bytes=1024').topicDefault('segment.bytes'), 1024);
    assert.deepEqual(config().topicSynonym('retention.ms'), {
      name: 'log.retention.hours',
      scale: 3_600_000,
    });
    assert.equal(config().topicSynonym('remote.storage.enable'), null);
  });

  test('dynamic layers: per-broker over cluster default over static over default', () => {
    const c = config('message.max.bytes=2000');
    const seen: string[] = [];
    c.onChange((k) => seen.push(k));
    assert.equal(c.source('message.max.bytes'), 'STATIC_BROKER_CONFIG');

    c.replaceDynamic(
      'cluster',
      BrokerConfig.parseDynamic({ 'message.max.bytes': '3000', 'log.retention.ms': '5' }),
    );
    assert.equal(c.int('message.max.bytes'), 3000);
    assert.equal(c.source('message.max.bytes'), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    assert.equal(c.topicDefault('retention.ms'), 5);

    c.replaceDynamic('broker', BrokerConfig.parseDynamic({ 'message.max.bytes': '4000' }));
    assert.equal(c.int('message.max.bytes'), 4000);
    assert.equal(c.source('message.max.bytes'), 'DYNAMIC_BROKER_CONFIG');
    assert.equal(c.layerValue('DYNAMIC_DEFAULT_BROKER_CONFIG', 'message.max.bytes'), 3000);
    assert.equal(c.layerValue('STATIC_BROKER_CONFIG', 'message.max.bytes'), 2000);
    assert.equal(c.layerValue('DEFAULT_CONFIG', 'message.max.bytes'), 1048588);
    assert.equal(
      c.layerValue('DEFAULT_CONFIG', 'log.retention.ms'),
      undefined,
      'null defaults are not a layer value',
    );
    assert.deepEqual(c.dynamicConfigs('cluster'), { 'message.max.bytes': '3000', 'log.retention.ms': '5' });

    // Removing the per-broker value falls back to the cluster default, then static.
    assert.deepEqual(c.replaceDynamic('broker', new Map()), ['message.max.bytes']);
    assert.equal(c.int('message.max.bytes'), 3000);
    c.replaceDynamic('cluster', new Map());
    assert.equal(c.int('message.max.bytes'), 2000);
    assert.equal(c.source('message.max.bytes'), 'STATIC_BROKER_CONFIG');
    assert.equal(c.get('log.retention.ms'), null);
    assert.equal(c.source('log.retention.ms'), 'DEFAULT_CONFIG');
    assert.deepEqual(seen, [
      'message.max.bytes',
      'log.retention.ms',
      'message.max.bytes',
      'message.max.bytes',
      'message.max.bytes',
      'log.retention.ms',
    ]);

    // An unchanged value is no change.
    c.setDynamic('min.insync.replicas', 1);
    assert.equal(seen.length, 6);
    c.setDynamic('min.insync.replicas', 2);
    assert.equal(c.int('min.insync.replicas'), 2);
    c.setDynamic('min.insync.replicas', null);
    assert.equal(c.int('min.insync.replicas'), 1);
  });

  test('parseDynamic refuses read-only, unknown and invalid keys with a ConfigError naming them', () => {
    const check = (next: Record<string, string>, key: string, re: RegExp) =>
      assert.throws(
        () => BrokerConfig.parseDynamic(next),
        (e: unknown) => e instanceof ConfigError && e.key === key && re.test(e.message),
      );
    check({ 'num.partitions': '3' }, 'num.partitions', /num\.partitions cannot be changed at run time/);
    check({ 'no.such': '3' }, 'no.such', /unknown broker config no\.such/);
    check(
      { 'message.max.bytes': '-1' },
      'message.max.bytes',
      /invalid value "-1" for message\.max\.bytes: expected an integer/,
    );
    assert.deepEqual(
      [...BrokerConfig.parseDynamic({ 'log.retention.ms': '10', 'min.insync.replicas': null as never })],
      [['log.retention.ms', 10]],
    );
  });
});
