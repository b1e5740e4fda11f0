/**
 * Consumer groups with kafkajs against an in-process broker (issue 5):
 * partitions shared without overlap, rebalances on a clean leave and on a
 * killed member, commit and resume across consumer and broker restarts,
 * standalone commits and reset-offsets, and the admin view (describe, list,
 * delete, lag).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import kafkajsPkg from 'kafkajs';
import { createTopicDirect, startBroker, type TestBroker, uniqueTopic, waitFor } from '../helpers/broker.ts';
import { type Kafka, kafkajs } from '../helpers/kafkajs.ts';

const { AssignerProtocol } = kafkajsPkg;
const HERE = dirname(fileURLToPath(import.meta.url));

type Consumer = ReturnType<Kafka['consumer']>;

interface Member {
  consumer: Consumer;
  /** "partition:offset" of every record this member processed. */
  read: string[];
  /** Latest assignment (partitions of the topic) from GROUP_JOIN. */
  assigned: number[];
}

async function produce(kafka: Kafka, topic: string, partitions: number, perPartition: number, tag: string) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let p = 0; p < partitions; p++) {
      await producer.send({
        topic,
        messages: Array.from({ length: perPartition }, (_, i) => ({
          partition: p,
          value: `${tag}-${p}-${i}`,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

async function startMember(
  kafka: Kafka,
  topic: string,
  groupId: string,
  extra: object = {},
): Promise<Member> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 200,
    maxWaitTimeInMs: 100,
    ...extra,
  });
  const m: Member = { consumer, read: [], assigned: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      m.read.push(`${partition}:${message.offset}`);
    },
  });
  return m;
}

/** Waits until the group is Stable with `n` members whose assignments split `partitions` with no overlap. */
async function waitBalanced(kafka: Kafka, groupId: string, members: Member[], partitions: number) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      `group ${groupId} balanced over ${members.length} members`,
      async () => {
        const { groups } = await admin.describeGroups([groupId]);
        const g = groups[0]!;
        if (g.state !== 'Stable' || g.members.length !== members.length) return false;
        const all = members.flatMap((m) => m.assigned).sort((a, b) => a - b);
        return (
          members.every((m) => m.assigned.length > 0) &&
          JSON.stringify(all) === JSON.stringify(Array.from({ length: partitions }, (_, i) => i))
        );
      },
      30_000,
      100,
    );
  } finally {
    await admin.disconnect();
  }
}

function readBy(members: Member[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const m of members) for (const k of m.read) count.set(k, (count.get(k) ?? 0) + 1);
  return count;
}

function allOffsets(partitions: number, from: number, to: number): string[] {
  const out: string[] = [];
  for (let p = 0; p < partitions; p++) for (let o = from; o < to; o++) out.push(`${p}:${o}`);
  return out;
}

describe('kafkajs consumer groups', () => {
  let b: TestBroker;
  let kafka: Kafka;
  before(async () => {
    b = await startBroker();
    kafka = kafkajs(b.bootstrapServers);
  });
  after(() => b?.stop());

  test('3 consumers share a 6-partition topic; no record is read twice', { timeout: 60_000 }, async () => {
    const topic = uniqueTopic('grp-share');
    const groupId = uniqueTopic('g-share');
    await createTopicDirect(b, topic, 6);
    const members: Member[] = [];
    try {
      for (let i = 0; i < 3; i++) members.push(await startMember(kafka, topic, groupId));
      await waitBalanced(kafka, groupId, members, 6);
      for (const m of members) assert.equal(m.assigned.length, 2);
      await produce(kafka, topic, 6, 10, 'share');
      await waitFor('all 60 records read', () => readBy(members).size === 60, 20_000);
      const counts = readBy(members);
      assert.deepEqual([...counts.keys()].sort(), allOffsets(6, 0, 10).sort());
      assert.deepEqual(
        [...counts].filter(([, c]) => c > 1),
        [],
      );
      // each member read exactly the partitions it was assigned
      for (const m of members) {
        assert.deepEqual([...new Set(m.read.map((k) => Number(k.split(':')[0])))].sort(), m.assigned);
      }
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect()));
    }
  });

  test('a member leaving cleanly triggers a rebalance; every record is still read', {
    timeout: 60_000,
  }, async () => {
    const topic = uniqueTopic('grp-leave');
    const groupId = uniqueTopic('g-leave');
    await createTopicDirect(b, topic, 6);
    const members: Member[] = [];
    try {
      for (let i = 0; i < 3; i++) members.push(await startMember(kafka, topic, groupId));
      await waitBalanced(kafka, groupId, members, 6);
      await produce(kafka, topic, 6, 5, 'before');
      await waitFor('first batch read', () => readBy(members).size === 30, 20_000);
      const leaving = members.pop()!;
      await leaving.consumer.disconnect();
      await produce(kafka, topic, 6, 5, 'after');
      await waitBalanced(kafka, groupId, members, 6);
      await waitFor(
        'second batch read by the remaining members',
        () => {
          const seen = readBy([...members, leaving]);
          return allOffsets(6, 0, 10).every((k) => seen.has(k));
        },
        20_000,
      );
      for (const m of members) assert.equal(m.assigned.length, 3);
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect()));
    }
  });

  test('a killed member (SIGKILL) is expired; its partitions move and every record is read', {
    timeout: 90_000,
  }, async () => {
    const topic = uniqueTopic('grp-kill');
    const groupId = uniqueTopic('g-kill');
    await createTopicDirect(b, topic, 6);
    const members: Member[] = [];
    let child: ChildProcess | undefined;
    const childRead: string[] = [];
    let childJoined = false;
    try {
      for (let i = 0; i < 2; i++) members.push(await startMember(kafka, topic, groupId));
      child = spawn(
        process.execPath,
        [join(HERE, 'group-member.ts'), b.bootstrapServers, topic, groupId, '3000'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (line.joined) childJoined = (line.joined[topic] ?? []).length > 0;
          else childRead.push(`${line.p}:${line.o}`);
        }
      });
      await waitFor(
        '3 members, the child with partitions',
        async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            const g = (await admin.describeGroups([groupId])).groups[0]!;
            return g.state === 'Stable' && g.members.length === 3 && childJoined;
          } finally {
            await admin.disconnect();
          }
        },
        30_000,
        200,
      );
      await produce(kafka, topic, 6, 5, 'before');
      await waitFor(
        'first batch read',
        () => {
          const seen = readBy(members);
          for (const k of childRead) seen.set(k, 1);
          return seen.size === 30;
        },
        20_000,
      );
      child.kill('SIGKILL');
      await produce(kafka, topic, 6, 5, 'after');
      // the session (3 s) expires, the two survivors take all six partitions and read what the child left
      await waitBalanced(kafka, groupId, members, 6);
      await waitFor(
        'every record read',
        () => {
          const seen = readBy(members);
          for (const k of childRead) seen.set(k, 1);
          return allOffsets(6, 0, 10).every((k) => seen.has(k));
        },
        30_000,
      );
    } finally {
      child?.kill('SIGKILL');
      await Promise.all(members.map((m) => m.consumer.disconnect()));
    }
  });

  test('commit, then resume from the committed offset after a consumer restart', {
    timeout: 60_000,
  }, async () => {
    const topic = uniqueTopic('grp-resume');
    const groupId = uniqueTopic('g-resume');
    await createTopicDirect(b, topic, 3);
    await produce(kafka, topic, 3, 4, 'first');
    const m1 = await startMember(kafka, topic, groupId);
    await waitFor('first batch', () => m1.read.length === 12, 20_000);
    await m1.consumer.disconnect(); // commits what it processed, leaves the group
    await produce(kafka, topic, 3, 3, 'second');
    const m2 = await startMember(kafka, topic, groupId);
    try {
      await waitFor('second batch', () => m2.read.length === 9, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(m2.read.sort(), allOffsets(3, 4, 7).sort());
    } finally {
      await m2.consumer.disconnect();
    }
  });

  test('standalone commit and fetch (generation -1), reset-offsets then resume, lag, list/describe/delete', {
    timeout: 60_000,
  }, async () => {
    const topic = uniqueTopic('grp-admin');
    const groupId = uniqueTopic('g-admin');
    await createTopicDirect(b, topic, 2);
    await produce(kafka, topic, 2, 10, 'admin');
    const admin = kafka.admin();
    await admin.connect();
    try {
      // setOffsets commits with generation -1 and no member id: a standalone commit
      await admin.setOffsets({
        groupId,
        topic,
        partitions: [
          { partition: 0, offset: '7' },
          { partition: 1, offset: '3' },
        ],
      });
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      assert.deepEqual(committed[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
        [0, '7'],
        [1, '3'],
      ]);
      // lag = log end offset - committed offset, through the admin API
      const ends = await admin.fetchTopicOffsets(topic);
      const lag = (p: number) =>
        Number(ends.find((e) => e.partition === p)!.high) -
        Number(committed[0]!.partitions.find((x) => x.partition === p)!.offset);
      assert.deepEqual([lag(0), lag(1)], [3, 7]);
      assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === groupId));

      const m = await startMember(kafka, topic, groupId);
      try {
        await waitFor('records after the reset offsets', () => m.read.length === 10, 20_000);
        assert.deepEqual(
          m.read.sort(),
          [...allOffsets(1, 7, 10), ...['1:3', '1:4', '1:5', '1:6', '1:7', '1:8', '1:9']].sort(),
        );
        const { groups } = await admin.describeGroups([groupId]);
        const g = groups[0]!;
        assert.equal(g.state, 'Stable');
        assert.equal(g.protocolType, 'consumer');
        assert.equal(g.members.length, 1);
        const assignment = AssignerProtocol.MemberAssignment.decode(g.members[0]!.memberAssignment)!;
        assert.deepEqual([...assignment.assignment[topic]!].sort(), [0, 1]);
        const listed = (await admin.listGroups()).groups.find((x) => x.groupId === groupId)!;
        assert.equal(listed.protocolType, 'consumer');
        await assert.rejects(
          admin.deleteGroups([groupId]),
          (e: Error & { groups?: { errorCode: number }[] }) => {
            assert.equal(e.groups?.[0]?.errorCode, 68); // NON_EMPTY_GROUP
            return true;
          },
        );
        await waitFor(
          'offsets committed to the end',
          async () => {
            const c = await admin.fetchOffsets({ groupId, topics: [topic] });
            return c[0]!.partitions.every((p) => p.offset === '10');
          },
          10_000,
        );
      } finally {
        await m.consumer.disconnect();
      }
      await admin.deleteGroups([groupId]);
      const after = await admin.fetchOffsets({ groupId, topics: [topic] });
      assert.ok(after[0]!.partitions.every((p) => p.offset === '-1'));
      assert.ok(!(await admin.listGroups()).groups.some((g) => g.groupId === groupId));
    } finally {
      await admin.disconnect();
    }
  });

  test('__consumer_offsets is internal: listed by Metadata with isInternal', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      assert.equal(md.topics[0]!.partitions.length, 50);
    } finally {
      await admin.disconnect();
    }
    assert.equal(b.broker.topics.get('__consumer_offsets')?.internal, true);
  });
});

describe('kafkajs consumer groups across a broker restart', () => {
  for (const storage of ['memory', 'file'] as const) {
    test(`committed offsets survive a restart (${storage} storage)`, { timeout: 60_000 }, async () => {
      const b = await startBroker({ storage });
      try {
        const kafka = kafkajs(b.bootstrapServers);
        const topic = uniqueTopic(`grp-restart-${storage}`);
        const groupId = uniqueTopic('g-restart');
        await createTopicDirect(b, topic, 2);
        await produce(kafka, topic, 2, 5, 'first');
        const m1 = await startMember(kafka, topic, groupId);
        await waitFor('first batch', () => m1.read.length === 10, 20_000);
        await m1.consumer.disconnect();
        await b.restart();
        await produce(kafka, topic, 2, 3, 'second');
        const m2 = await startMember(kafka, topic, groupId);
        try {
          await waitFor('second batch', () => m2.read.length === 6, 20_000);
          await new Promise((r) => setTimeout(r, 300));
          assert.deepEqual(m2.read.sort(), allOffsets(2, 5, 8).sort());
        } finally {
          await m2.consumer.disconnect();
        }
      } finally {
        await b.stop();
      }
    });
  }
});
