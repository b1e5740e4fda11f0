/**
 * Consumer groups with confluent-kafka-python (librdkafka) members in child
 * processes (issue 5): partitions shared without overlap, cooperative-sticky
 * moving only what must move, static membership restart without a rebalance,
 * a mixed kafkajs + librdkafka group, and a short GRP-ConsumerKill
 * (../shared/docs/RELIABILITY.md). Needs the Debian packages
 * (scripts/install-debian-clients.sh); runs under `npm run test:compat`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawClient } from '../../helpers/raw-client.ts';
import { createTopicDirect, startBroker, type TestBroker, uniqueTopic, waitFor } from '../helpers/broker.ts';
import { requirePythonModule } from '../helpers/debian.ts';
import {
  groupState,
  kafkajsMember,
  type Member,
  offsetsRange,
  produceSpread,
  pyMember,
  readCounts,
  storedAssignments,
  waitBalanced,
} from '../helpers/groups.ts';
import { type Kafka, kafkajs } from '../helpers/kafkajs.ts';

describe('confluent-kafka-python consumer groups', () => {
  let b: TestBroker;
  let kafka: Kafka;
  const running: Member[] = [];
  before(async () => {
    requirePythonModule('confluent_kafka');
    b = await startBroker();
    kafka = kafkajs(b.bootstrapServers);
  });
  after(async () => {
    await Promise.allSettled(running.map((m) => m.stop()));
    await b?.stop();
  });

  const member = async (name: string, topic: string, group: string, extra: object = {}) => {
    const m = await pyMember(name, {
      client: 'confluent',
      bootstrap: b.bootstrapServers,
      topic,
      group,
      ...extra,
    });
    running.push(m);
    return m;
  };

  test('3 members share a 6-partition topic; no record is read twice', { timeout: 90_000 }, async () => {
    const topic = uniqueTopic('rk-share');
    const group = uniqueTopic('rk-g-share');
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
    for (const m of ms) assert.equal(m.assigned.length, 2);
    await Promise.all(ms.map((m) => m.stop()));
  });

  test('cooperative-sticky: members joining move only the partitions they must', {
    timeout: 90_000,
  }, async () => {
    const topic = uniqueTopic('rk-coop');
    const group = uniqueTopic('rk-g-coop');
    await createTopicDirect(b, topic, 6);
    const opts = { assignor: 'cooperative-sticky' };
    const a = await member('a', topic, group, opts);
    await waitBalanced(b, group, [a], 6);
    const b1 = await member('b', topic, group, opts);
    await waitBalanced(b, group, [a, b1], 6, 60_000);
    // a gave up exactly 3 partitions, in one incremental revocation, and kept the rest
    assert.deepEqual(
      a.revoked.map((r) => r.length),
      [3],
    );
    assert.equal(a.assigned.length, 3);
    assert.deepEqual([...b1.assigned].sort(), [...a.revoked[0]!].sort());
    const c = await member('c', topic, group, opts);
    await waitBalanced(b, group, [a, b1, c], 6, 60_000);
    assert.deepEqual(
      a.revoked.map((r) => r.length),
      [3, 1],
    );
    assert.deepEqual(
      b1.revoked.map((r) => r.length),
      [1],
    );
    assert.deepEqual([...c.assigned].sort(), [...a.revoked[1]!, ...b1.revoked[0]!].sort());
    // cooperative rebalances take two generations each; the broker ran them back to back
    assert.ok(groupState(b, group).generation >= 5, `generation ${groupState(b, group).generation}`);
    await produceSpread(kafka, topic, 6, 5, 'coop');
    await waitFor('30 records read', () => readCounts([a, b1, c]).size === 30, 30_000);
    await Promise.all([a, b1, c].map((m) => m.stop()));
  });

  test('static membership: a member restarting within its session timeout gets its partitions back, no rebalance', {
    timeout: 90_000,
  }, async () => {
    const topic = uniqueTopic('rk-static');
    const group = uniqueTopic('rk-g-static');
    await createTopicDirect(b, topic, 4);
    const opts = { sessionTimeoutMs: 30_000, commit: 'sync-each' };
    const a = await member('a', topic, group, { ...opts, instanceId: 'inst-a' });
    const b1 = await member('b', topic, group, { ...opts, instanceId: 'inst-b' });
    await waitBalanced(b, group, [a, b1], 4, 60_000);
    const before = groupState(b, group).generation;
    const bParts = [...b1.assigned];
    const aRevocations = a.revoked.length;
    await produceSpread(kafka, topic, 4, 3, 'first');
    await waitFor('first batch', () => readCounts([a, b1]).size === 12, 30_000);
    await b1.kill();
    const b2 = await member('b2', topic, group, { ...opts, instanceId: 'inst-b' });
    await waitFor('b2 assigned', () => b2.assigned.length > 0, 30_000);
    assert.deepEqual(b2.assigned, bParts);
    assert.equal(groupState(b, group).generation, before);
    assert.equal(a.revoked.length, aRevocations);
    await produceSpread(kafka, topic, 4, 2, 'second');
    await waitFor('second batch', () => readCounts([a, b1, b2]).size === 20, 30_000);
    // b2 resumed from b's committed offsets: nothing of the first batch again
    assert.deepEqual(
      b2.read.filter((k) => Number(k.split(':')[1]) < 3),
      [],
    );
    await Promise.all([a, b2].map((m) => m.stop()));
  });

  test('a mixed group: kafkajs and librdkafka members sharing the roundrobin assignor', {
    timeout: 90_000,
  }, async () => {
    const topic = uniqueTopic('rk-mixed');
    const group = uniqueTopic('rk-g-mixed');
    await createTopicDirect(b, topic, 6);
    const k1 = await kafkajsMember('kjs-1', kafka, topic, group, { assignor: 'roundrobin' });
    const r1 = await member('rk-1', topic, group, { assignor: 'roundrobin' });
    const k2 = await kafkajsMember('kjs-2', kafka, topic, group, { assignor: 'roundrobin' });
    running.push(k1, k2);
    const ms = [k1, r1, k2];
    await waitBalanced(b, group, ms, 6, 60_000);
    for (const m of ms) assert.equal(m.assigned.length, 2);
    await produceSpread(kafka, topic, 6, 5, 'mixed');
    await waitFor('30 records read', () => readCounts(ms).size === 30, 30_000);
    assert.deepEqual(
      [...readCounts(ms)].filter(([, c]) => c > 1),
      [],
    );
    await Promise.all(ms.map((m) => m.stop()));
  });

  test('GRP-ConsumerKill (short): SIGKILL and restart members; nothing acknowledged is lost, no partition owned twice in a generation, stale commits rejected', {
    timeout: 120_000,
  }, async () => {
    const topic = uniqueTopic('rk-kill');
    const group = uniqueTopic('rk-g-kill');
    await createTopicDirect(b, topic, 6);
    const opts = { sessionTimeoutMs: 3000, commit: 'sync-each' };
    const all: Member[] = [];
    const live: Member[] = [];
    for (const n of ['m0', 'm1', 'm2']) {
      const m = await member(n, topic, group, opts);
      all.push(m);
      live.push(m);
    }
    await waitBalanced(b, group, live, 6, 60_000);
    const allowedDuplicates = new Set<string>();
    let produced = 0;
    for (let round = 0; round < 3; round++) {
      await produceSpread(kafka, topic, 6, 5, `round${round}`);
      produced += 5;
      const victim = live.shift()!;
      // Kill first and read all it reported up to its death: a record it
      // processed just before the kill must count as the victim's.
      await victim.kill();
      // everything the victim processed at or after its last committed offset may be processed again
      for (const k of victim.read) {
        const [p, o] = k.split(':').map(Number) as [number, number];
        if (o >= (victim.committed.get(p) ?? 0)) allowedDuplicates.add(k);
      }
      const fresh = await member(`m${3 + round}`, topic, group, opts);
      all.push(fresh);
      live.push(fresh);
      await waitBalanced(b, group, live, 6, 60_000);
    }
    await produceSpread(kafka, topic, 6, 5, 'last');
    produced += 5;
    await waitFor(
      'every produced record processed',
      () => offsetsRange(6, 0, produced).every((k) => readCounts(all).has(k)),
      60_000,
    );
    const dups = [...readCounts(all)].filter(([k, c]) => c > 1 && !allowedDuplicates.has(k));
    assert.deepEqual(dups, [], "duplicates beyond a killed member's last commit");

    // every generation's stored assignment gives each partition to at most one member
    const history = await storedAssignments(b, group, topic);
    assert.ok(history.size >= 4, `only ${history.size} generations stored`);
    for (const [gen, members] of history) {
      const owned = [...members.values()].flat();
      assert.equal(new Set(owned).size, owned.length, `generation ${gen} assigns a partition twice`);
    }

    // a commit from the previous generation is refused
    const g = b.broker.groups.groups.get(group)!;
    const memberId = [...g.members.keys()][0]!;
    const c = await RawClient.connect(b.bootstrapServers);
    try {
      const commit = (generationIdOrMemberEpoch: number, id: string) =>
        c.request(8, 8, {
          groupId: group,
          generationIdOrMemberEpoch,
          memberId: id,
          groupInstanceId: null,
          topics: [
            {
              name: topic,
              partitions: [
                { partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
              ],
            },
          ],
        });
      const stale = await commit(g.generationId - 1, memberId);
      assert.equal(stale.topics[0].partitions[0].errorCode, 22); // ILLEGAL_GENERATION
      const gone = await commit(g.generationId, 'a-killed-member');
      assert.equal(gone.topics[0].partitions[0].errorCode, 25); // UNKNOWN_MEMBER_ID
    } finally {
      c.close();
    }
    await Promise.all(live.map((m) => m.stop()));
  });
});
