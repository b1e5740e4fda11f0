import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BrokerConfig } from '../../../../src/common/config/broker-config.ts';
import { envToKey, loadBrokerConfig, parseProperties } from '../../../../src/common/config/load.ts';
import { ConfigError, formatValue } from '../../../../src/common/config/registry.ts';

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-config-'));
  try {
    const p = join(dir, 'server.properties');
    writeFileSync(p, text);
    fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts a ConfigError that names the key, the value and what is allowed. */
function assertConfigError(fn: () => unknown, key: string, value: string, allowed: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.key, key);
    assert.equal(e.code, 'SAMSA_ERR_CONFIG');
    assert.ok(e.message.includes(key), `message names the key: ${e.message}`);
    assert.ok(e.message.includes(value), `message names the value: ${e.message}`);
    assert.match(e.message, allowed);
    return true;
  });
}

describe('parseProperties', () => {
  test('key=value, key: value, key value; comments; continuations; escapes', () => {
    const m = parseProperties(
      [
        '# a comment',
        '! another comment',
        '',
        'num.partitions=3',
        'log.dirs : /a,/b',
        'broker.rack   r1',
        'listeners=PLAINTEXT://127.0.0.1:9092,\\',
        '    INTERNAL://127.0.0.1:9093',
        'key\\=with\\:escapes=v',
        '  indented.key = spaced value  ',
        'empty.key=',
      ].join('\n'),
    );
    assert.equal(m.get('num.partitions'), '3');
    assert.equal(m.get('log.dirs'), '/a,/b');
    assert.equal(m.get('broker.rack'), 'r1');
    assert.equal(m.get('listeners'), 'PLAINTEXT://127.0.0.1:9092,INTERNAL://127.0.0.1:9093');
    assert.equal(m.get('key=with:escapes'), 'v');
    assert.equal(m.get('indented.key'), 'spaced value');
    assert.equal(m.get('empty.key'), '');
    assert.equal(m.size, 7);
  });

  test('CRLF line endings', () => {
    const m = parseProperties('a.b=1\r\nc.d=2\r\n');
    assert.equal(m.get('a.b'), '1');
    assert.equal(m.get('c.d'), '2');
  });
});

describe('envToKey', () => {
  test('Apache image style (KAFKA_) and Bitnami style (KAFKA_CFG_)', () => {
    assert.equal(envToKey('KAFKA_LOG_RETENTION_MS'), 'log.retention.ms');
    assert.equal(envToKey('KAFKA_CFG_LOG_RETENTION_MS'), 'log.retention.ms');
    assert.equal(envToKey('KAFKA_CFG_AUTO_CREATE_TOPICS_ENABLE'), 'auto.create.topics.enable');
    assert.equal(envToKey('KAFKA_A__B'), 'a_b');
    assert.equal(envToKey('KAFKA_A___B_C'), 'a-b.c');
    assert.equal(envToKey('PATH'), null);
    assert.equal(envToKey('KAFKAX_FOO'), null);
  });
});

describe('loadBrokerConfig', () => {
  test('defaults are Kafka defaults, with DEFAULT_CONFIG source', () => {
    const c = new BrokerConfig(loadBrokerConfig());
    assert.equal(c.int('num.partitions'), 1);
    assert.equal(c.int('log.retention.hours'), 168);
    assert.equal(c.int('message.max.bytes'), 1048588);
    assert.equal(c.bool('auto.create.topics.enable'), true);
    assert.equal(c.source('num.partitions'), 'DEFAULT_CONFIG');
    assert.deepEqual(c.warnings, []);
  });

  test('server.properties, environment, --set and overrides, later ones winning', () => {
    withFile(
      'num.partitions=2\nlog.retention.ms=1000\nmessage.max.bytes=5000\nlog.segment.bytes=4096\n',
      (file) => {
        const c = new BrokerConfig(
          loadBrokerConfig({
            file,
            env: {
              KAFKA_LOG_RETENTION_MS: '2000',
              KAFKA_CFG_MESSAGE_MAX_BYTES: '6000',
              KAFKA_CFG_LOG_SEGMENT_BYTES: '8192',
              HOME: '/root',
            },
            sets: ['message.max.bytes=7000', 'default.replication.factor = 1'],
            overrides: { 'log.segment.bytes': 16384 },
          }),
        );
        assert.equal(c.int('num.partitions'), 2);
        assert.equal(c.get('log.retention.ms'), 2000);
        assert.equal(c.int('message.max.bytes'), 7000);
        assert.equal(c.int('log.segment.bytes'), 16384);
        assert.equal(c.source('num.partitions'), 'STATIC_BROKER_CONFIG');
        assert.equal(c.source('log.retention.ms'), 'STATIC_BROKER_CONFIG');
        assert.deepEqual(c.warnings, []);
      },
    );
  });

  test('lists and the --dev preset', () => {
    const c = new BrokerConfig(
      loadBrokerConfig({ dev: true, sets: ['log.dirs=/x, /y', 'log.cleanup.policy=compact,delete'] }),
    );
    assert.deepEqual(c.logDirs(), ['/x', '/y']);
    assert.deepEqual(c.list('log.cleanup.policy'), ['compact', 'delete']);
    assert.equal(c.int('group.initial.rebalance.delay.ms'), 0);
    assert.equal(c.int('offsets.topic.replication.factor'), 1);
  });

  test('unknown keys warn and are ignored; foreign KAFKA_ variables are ignored silently', () => {
    withFile('no.such.key=1\nnum.partitions=4\n', (file) => {
      const loaded = loadBrokerConfig({
        file,
        env: { KAFKA_HEAP_OPTS: '-Xmx1G', KAFKA_CFG_NOT_A_CONFIG: 'x', KAFKA_OPTS: '-Dx' },
        sets: ['also.unknown=2'],
      });
      assert.equal(loaded.warnings.length, 3, loaded.warnings.join('\n'));
      assert.match(loaded.warnings.join('\n'), /unknown config no\.such\.key \(from .*server\.properties\)/);
      assert.match(
        loaded.warnings.join('\n'),
        /unknown config not\.a\.config \(from environment KAFKA_CFG_NOT_A_CONFIG\)/,
      );
      assert.match(loaded.warnings.join('\n'), /unknown config also\.unknown \(from --set also\.unknown=2\)/);
      assert.equal(loaded.values.get('num.partitions'), 4);
    });
  });

  test('invalid values stop loading with a ConfigError naming key, value and what is allowed', () => {
    assertConfigError(
      () => loadBrokerConfig({ sets: ['num.partitions=0'] }),
      'num.partitions',
      '"0"',
      />= 1/,
    );
    assertConfigError(
      () => loadBrokerConfig({ sets: ['num.partitions=three'] }),
      'num.partitions',
      '"three"',
      /an integer/,
    );
    assertConfigError(
      () => loadBrokerConfig({ env: { KAFKA_CFG_AUTO_CREATE_TOPICS_ENABLE: 'yes' } }),
      'auto.create.topics.enable',
      '"yes"',
      /true or false.*KAFKA_CFG_AUTO_CREATE_TOPICS_ENABLE/,
    );
    assertConfigError(
      () => loadBrokerConfig({ sets: ['compression.type=brotli'] }),
      'compression.type',
      '"brotli"',
      /one of uncompressed, zstd, lz4, snappy, gzip, producer/,
    );
    assertConfigError(
      () => loadBrokerConfig({ sets: ['log.cleanup.policy=delete,shred'] }),
      'log.cleanup.policy',
      'shred',
      /comma-separated list of delete, compact/,
    );
    assertConfigError(
      () => loadBrokerConfig({ sets: ['log.cleaner.min.cleanable.ratio=1.5'] }),
      'log.cleaner.min.cleanable.ratio',
      '"1.5"',
      /in \[0, 1\]/,
    );
    assertConfigError(
      () => loadBrokerConfig({ sets: ['compression.gzip.level=12'] }),
      'compression.gzip.level',
      '"12"',
      /-1 or \[1, 9\]/,
    );
    assertConfigError(
      () => loadBrokerConfig({ sets: ['message.max.bytes=99999999999'] }),
      'message.max.bytes',
      '"99999999999"',
      /2147483647/,
    );
    withFile('log.segment.bytes=-5\n', (file) =>
      assertConfigError(() => loadBrokerConfig({ file }), 'log.segment.bytes', '"-5"', /server\.properties/),
    );
  });

  test('Long.MAX_VALUE longs are accepted and shown as Kafka shows them', () => {
    const c = new BrokerConfig(
      loadBrokerConfig({ sets: ['log.flush.interval.messages=9223372036854775807'] }),
    );
    assert.equal(c.get('log.flush.interval.messages'), Number.MAX_SAFE_INTEGER);
    assert.equal(formatValue(c.get('log.flush.interval.messages')), '9223372036854775807');
    assertConfigError(
      () => loadBrokerConfig({ sets: ['log.flush.interval.messages=9223372036854775808'] }),
      'log.flush.interval.messages',
      '9223372036854775808',
      /an integer/,
    );
  });

  test('--set without "=" and an unreadable file are ConfigErrors', () => {
    assert.throws(
      () => loadBrokerConfig({ sets: ['num.partitions'] }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /--set expects key=value/);
        return true;
      },
    );
    assert.throws(
      () => loadBrokerConfig({ file: '/nonexistent/samsa/server.properties' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /cannot read config file \/nonexistent/);
        return true;
      },
    );
  });
});
