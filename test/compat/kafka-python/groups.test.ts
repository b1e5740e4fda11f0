/**
 * Consumer groups with kafka-python members in child processes (issue 5).
 * kafka-python 2.0.2 speaks the older group versions (JoinGroup v2,
 * SyncGroup v1, Heartbeat v1, OffsetCommit v2, OffsetFetch v1): partitions
 * shared without overlap, a clean leave and a SIGKILL each followed by a
 * rebalance that still reads everything, and resume from committed offsets
 * after a consumer restart and a broker restart. Needs the Debian packages;
 * runs under `npm run test:compat`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopicDirect, startBroker, type TestBroker, uniqueTopic, waitFor } from '../helpers/broker.ts';
import { requirePythonModule } from '../helpers/debian.ts';
import {
  type Member,
  offsetsRange,
  produceSpread,
  pyMember,
  readCounts,
  waitBalanced,
} from '../helpers/groups.ts';
import { type Kafka, kafkajs } from '../helpers/kafkajs.ts';

describe('kafka-python consumer groups', () => {
  let b: TestBroker;
  let kafka: Kafka;
  const running: Member[] = [];
  before(async () => {
    requirePythonModule('kafka');
    b = await startBroker();
    kafka = kafkajs(b.bootstrapServers);
  });
  after(async () => {
    await Promise.allSettled(running.map((m) => m.stop()));
    await b?.stop();
  });

  const member = async (name: string, topic: string, group: string, extra: object = {}) => {
    const m = await pyMember(name, {
      client: 'kafka-python',
      bootstrap: b.bootstrapServers,
      topic,
      group,
      sessionTimeoutMs: 6000,
      ...extra,
    });
    running.push(m);
    return m;
  };

  test('3 members share 6 partitions; a clean leave and a kill each rebalance; everything is read', {
    timeout: 120_000,
  }, async () => {
    const topic = uniqueTopic('kp-share');
    const group = uniqueTopic('kp-g-share');
    await createTopicDirect(b, topic, 6);
    const ms = [
      await member('a', topic, group),
      await member('b', topic, group),
      await member('c', topic, group),
    ];
    await waitBalanced(b, group, ms, 6, 60_000);
    await produceSpread(kafka, topic, 6, 10, 'share');
    await waitFor('60 records read', () => readCounts(ms).size === 60, 30_000);
    assert.deepEqual(
      [...readCounts(ms)].filter(([, c]) => c > 1),
      [],
    );
    const [a, b1, c] = ms as [Member, Member, Member];
    await c.stop();
    await waitBalanced(b, group, [a, b1], 6, 60_000);
    await produceSpread(kafka, topic, 6, 5, 'after-leave');
    await waitFor(
      'after the clean leave',
      () => offsetsRange(6, 0, 15).every((k) => readCounts(ms).has(k)),
      30_000,
    );
    await b1.kill();
    await waitBalanced(b, group, [a], 6, 60_000);
    await produceSpread(kafka, topic, 6, 5, 'after-kill');
    await waitFor('after the kill', () => offsetsRange(6, 0, 20).every((k) => readCounts(ms).has(k)), 30_000);
    await a.stop();
  });

  test('commit, then resume after a consumer restart and after a broker restart', {
    timeout: 120_000,
  }, async () => {
    const topic = uniqueTopic('kp-resume');
    const group = uniqueTopic('kp-g-resume');
    await createTopicDirect(b, topic, 2);
    await produceSpread(kafka, topic, 2, 5, 'first');
    const m1 = await member('m1', topic, group, { commit: 'sync-each' });
    await waitFor('first batch', () => m1.read.length === 10 && m1.committed.size === 2, 30_000);
    await m1.stop();
    await produceSpread(kafka, topic, 2, 3, 'second');
    const m2 = await member('m2', topic, group, { commit: 'sync-each' });
    await waitFor(
      'second batch',
      () => m2.read.length === 6 && [...m2.committed.values()].every((o) => o === 8),
      30_000,
    );
    assert.deepEqual(m2.read.sort(), offsetsRange(2, 5, 8).sort());
    await m2.stop();
    await b.restart();
    await produceSpread(kafka, topic, 2, 2, 'third');
    const m3 = await member('m3', topic, group, { commit: 'sync-each' });
    await waitFor('third batch', () => m3.read.length === 4, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(m3.read.sort(), offsetsRange(2, 8, 10).sort());
    await m3.stop();
  });
});
