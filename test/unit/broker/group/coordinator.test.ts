import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JoinRequest } from '../../../../src/broker/group/coordinator.ts';
import { ErrorCode } from '../../../../src/protocol/error-codes.ts';
import { Harness, subscription } from './harness.ts';

const A1 = Buffer.from('assignment-1');
const A2 = Buffer.from('assignment-2');

/** Two members through join and sync; returns their ids and the generation. */
async function stableGroupOfTwo(h: Harness, over: Partial<JoinRequest> = {}) {
  const a = await h.startJoin(over);
  await h.advance(0); // initial rebalance delay (0) elapses
  const ja = await a.join;
  assert.equal(ja.errorCode, 0);
  await h.sync(a.memberId, ja.generationId, [{ memberId: a.memberId, assignment: A1 }]);
  const b = await h.startJoin(over);
  // a learns of the rebalance through its heartbeat and rejoins
  assert.equal(await h.heartbeat(a.memberId, ja.generationId), ErrorCode.REBALANCE_IN_PROGRESS);
  const ra = h.coord.joinGroup(h.joinReq({ ...over, memberId: a.memberId }));
  const [jb, ja2] = await Promise.all([b.join, ra]);
  assert.equal(ja2.generationId, ja.generationId + 1);
  assert.equal(jb.generationId, ja2.generationId);
  const leader = ja2.leader;
  const [sa, sb] = await Promise.all([
    h.sync(a.memberId, ja2.generationId, [
      { memberId: a.memberId, assignment: A1 },
      { memberId: b.memberId, assignment: A2 },
    ]),
    h.sync(b.memberId, jb.generationId),
  ]);
  return { a: a.memberId, b: b.memberId, generation: ja2.generationId, leader, sa, sb };
}

describe('group coordinator: join and sync', () => {
  test('KIP-394: a new member gets its id with MEMBER_ID_REQUIRED, then joins as leader of generation 1', async () => {
    const h = new Harness();
    const first = await h.coord.joinGroup(h.joinReq());
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^c-[0-9a-f-]{36}$/);
    const join = h.coord.joinGroup(h.joinReq({ memberId: first.memberId }));
    await h.advance(0);
    const r = await join;
    assert.equal(r.errorCode, 0);
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, first.memberId);
    assert.equal(r.protocolName, 'range');
    assert.equal(r.protocolType, 'consumer');
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      [first.memberId],
    );
    const s = await h.sync(first.memberId, 1, [{ memberId: first.memberId, assignment: A1 }]);
    assert.equal(s.errorCode, 0);
    assert.deepEqual(s.assignment, A1);
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'Stable');
  });

  test('before v4 a member joins without the extra round trip', async () => {
    const h = new Harness();
    const join = h.coord.joinGroup(h.joinReq({ requireKnownMemberId: false }));
    await h.advance(0);
    const r = await join;
    assert.equal(r.errorCode, 0);
    assert.equal(r.leader, r.memberId);
  });

  test('a second member triggers a rebalance; the leader gets every member, each gets its assignment', async () => {
    const h = new Harness();
    const g = await stableGroupOfTwo(h);
    assert.equal(g.sa.errorCode, 0);
    assert.equal(g.sb.errorCode, 0);
    assert.deepEqual(g.sa.assignment, A1);
    assert.deepEqual(g.sb.assignment, A2);
    const d = h.coord.describeGroups(['g'])[0]!;
    assert.equal(d.groupState, 'Stable');
    assert.equal(d.protocolData, 'range');
    assert.deepEqual(new Set(d.members.map((m) => m.memberId)), new Set([g.a, g.b]));
    const mb = d.members.find((m) => m.memberId === g.b)!;
    assert.deepEqual(mb.memberAssignment, A2);
    assert.deepEqual(mb.memberMetadata, subscription(['t']));
  });

  test('the protocol every member supports is chosen, by vote', async () => {
    const h = new Harness();
    const both = [
      { name: 'cooperative-sticky', metadata: subscription(['t']) },
      { name: 'range', metadata: subscription(['t']) },
    ];
    const a = await h.startJoin({ protocols: both, requireKnownMemberId: false });
    const b = await h.startJoin({ protocols: [both[1]!], requireKnownMemberId: false });
    await h.advance(0);
    const [ra, rb] = await Promise.all([a.join, b.join]);
    assert.equal(ra.protocolName, 'range');
    assert.equal(rb.protocolName, 'range');
    const c = await h.coord.joinGroup(
      h.joinReq({
        protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }],
        requireKnownMemberId: false,
      }),
    );
    assert.equal(c.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const d = await h.coord.joinGroup(h.joinReq({ protocolType: 'connect', requireKnownMemberId: false }));
    assert.equal(d.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  test('members joining together land in one generation (initial rebalance delay)', async () => {
    const h = new Harness({ initialRebalanceDelayMs: 3000 });
    const joins = [];
    for (let i = 0; i < 5; i++) joins.push((await h.startJoin({ requireKnownMemberId: false })).join);
    await h.advance(2999);
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'PreparingRebalance');
    await h.advance(1);
    // a member was added during the first delay: the delay is extended once more
    await h.advance(3000);
    const rs = await Promise.all(joins);
    assert.deepEqual(new Set(rs.map((r) => r.generationId)), new Set([1]));
    assert.equal(rs.filter((r) => r.members.length === 5).length, 1);
  });

  test('invalid requests: empty group id, session timeout out of range, unknown member, group.max.size', async () => {
    const h = new Harness({ maxSize: 1 });
    assert.equal((await h.coord.joinGroup(h.joinReq({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
    assert.equal(
      (await h.coord.joinGroup(h.joinReq({ sessionTimeoutMs: 999 }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal(
      (await h.coord.joinGroup(h.joinReq({ sessionTimeoutMs: 300_001 }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal(
      (await h.coord.joinGroup(h.joinReq({ memberId: 'nobody' }))).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    const a = await h.startJoin();
    await h.advance(0);
    await a.join;
    const b = await h.coord.joinGroup(h.joinReq({ requireKnownMemberId: false }));
    assert.equal(b.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  test('a follower rejoining a stable group with the same metadata gets the current generation', async () => {
    const h = new Harness();
    const g = await stableGroupOfTwo(h);
    const follower = g.leader === g.a ? g.b : g.a;
    const r = await h.coord.joinGroup(h.joinReq({ memberId: follower }));
    assert.equal(r.errorCode, 0);
    assert.equal(r.generationId, g.generation);
    assert.deepEqual(r.members, []);
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'Stable');
  });
});

describe('group coordinator: errors and generations', () => {
  test('heartbeat and sync with a stale generation, unknown member, during a rebalance', async () => {
    const h = new Harness();
    const g = await stableGroupOfTwo(h);
    assert.equal(await h.heartbeat(g.a, g.generation), 0);
    assert.equal(await h.heartbeat(g.a, g.generation - 1), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await h.heartbeat('ghost', g.generation), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await h.sync(g.a, g.generation - 1)).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal(
      await h.coord.heartbeat({ groupId: 'nope', generationId: 1, memberId: g.a, groupInstanceId: null }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // a third member starts a rebalance
    const c = await h.startJoin();
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'PreparingRebalance');
    assert.equal(await h.heartbeat(g.b, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal((await h.sync(g.b, g.generation)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    // commits of the current generation still go through while preparing (eager revocation commits)
    const ok = await h.commit({ generationId: g.generation, memberId: g.a });
    assert.equal(ok[0]!.partitions[0]!.errorCode, 0);
    const joins = [
      c.join,
      h.coord.joinGroup(h.joinReq({ memberId: g.a })),
      h.coord.joinGroup(h.joinReq({ memberId: g.b })),
    ];
    const rs = await Promise.all(joins);
    const gen = rs[0]!.generationId;
    assert.equal(gen, g.generation + 1);
    // CompletingRebalance: commits are refused until the assignment arrives; old generation is stale
    assert.equal(
      (await h.commit({ generationId: gen, memberId: g.a }))[0]!.partitions[0]!.errorCode,
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    assert.equal(
      (await h.commit({ generationId: g.generation, memberId: g.a }))[0]!.partitions[0]!.errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await h.commit({ generationId: gen, memberId: 'ghost' }))[0]!.partitions[0]!.errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // a standalone commit is refused while the group has members
    assert.equal((await h.commit())[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a leaving member triggers a rebalance; the last one to leave empties the group', async () => {
    const h = new Harness();
    const g = await stableGroupOfTwo(h);
    const r = await h.coord.leaveGroup('g', [{ memberId: g.a, groupInstanceId: null }]);
    assert.deepEqual(r, { errorCode: 0, members: [{ memberId: g.a, groupInstanceId: null, errorCode: 0 }] });
    assert.equal(await h.heartbeat(g.b, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    const jb = await h.coord.joinGroup(h.joinReq({ memberId: g.b }));
    assert.equal(jb.generationId, g.generation + 1);
    assert.equal(jb.leader, g.b);
    assert.deepEqual(
      jb.members.map((m) => m.memberId),
      [g.b],
    );
    const unknown = await h.coord.leaveGroup('g', [{ memberId: 'ghost', groupInstanceId: null }]);
    assert.equal(unknown.members[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    await h.coord.leaveGroup('g', [{ memberId: g.b, groupInstanceId: null }]);
    await h.settle();
    const d = h.coord.describeGroups(['g'])[0]!;
    assert.equal(d.groupState, 'Empty');
    assert.equal(d.members.length, 0);
    const none = await h.coord.leaveGroup('other', [{ memberId: 'x', groupInstanceId: null }]);
    assert.equal(none.members[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('group coordinator: timeouts on a fake clock', () => {
  test('a member that stops heartbeating is removed after its session timeout', async () => {
    const h = new Harness();
    const g = await stableGroupOfTwo(h);
    for (let t = 0; t < 9; t++) {
      await h.advance(1000);
      assert.equal(await h.heartbeat(g.a, g.generation), 0); // a keeps heartbeating, b does not
    }
    await h.advance(1000); // b's 10 s session is over
    assert.equal(await h.heartbeat(g.a, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    const ja = await h.coord.joinGroup(h.joinReq({ memberId: g.a }));
    assert.equal(ja.generationId, g.generation + 1);
    assert.deepEqual(
      ja.members.map((m) => m.memberId),
      [g.a],
    );
    assert.equal(await h.heartbeat(g.b, g.generation), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a member that does not rejoin within the rebalance timeout is dropped from the next generation', async () => {
    const h = new Harness();
    const timeouts = { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 5000 };
    const g = await stableGroupOfTwo(h, timeouts);
    const c = await h.startJoin(timeouts);
    const ja = h.coord.joinGroup(h.joinReq({ ...timeouts, memberId: g.a }));
    await h.advance(4999);
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'PreparingRebalance');
    await h.advance(1);
    const [rc, ra] = await Promise.all([c.join, ja]);
    assert.equal(rc.generationId, g.generation + 1);
    const leaderResult = rc.members.length > 0 ? rc : ra;
    assert.deepEqual(new Set(leaderResult.members.map((m) => m.memberId)), new Set([g.a, c.memberId]));
  });

  test('members that never send SyncGroup are removed after the rebalance timeout', async () => {
    const h = new Harness();
    const a = await h.startJoin({ sessionTimeoutMs: 60_000 });
    const b = await h.startJoin({ sessionTimeoutMs: 60_000 });
    await h.advance(0);
    const [ra, rb] = await Promise.all([a.join, b.join]);
    const leader = ra.leader === a.memberId ? a.memberId : b.memberId;
    const other = leader === a.memberId ? b.memberId : a.memberId;
    const ls = await h.sync(leader, ra.generationId, [
      { memberId: leader, assignment: A1 },
      { memberId: other, assignment: A2 },
    ]);
    assert.equal(ls.errorCode, 0);
    await h.advance(5000);
    assert.equal(await h.heartbeat(leader, rb.generationId), 0);
    await h.advance(25_000);
    assert.equal(await h.heartbeat(leader, rb.generationId), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(await h.heartbeat(other, rb.generationId), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a pending member id (MEMBER_ID_REQUIRED) that never comes back expires', async () => {
    const h = new Harness();
    const first = await h.coord.joinGroup(h.joinReq());
    await h.advance(10_000);
    const late = await h.coord.joinGroup(h.joinReq({ memberId: first.memberId }));
    assert.equal(late.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('shutdown answers parked joins with NOT_COORDINATOR and cancels every timer', async () => {
    const h = new Harness({ initialRebalanceDelayMs: 3000 });
    const a = await h.startJoin();
    await h.coord.shutdown();
    assert.equal((await a.join).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(h.sched.pending, 0);
    assert.equal((await h.coord.joinGroup(h.joinReq())).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});

describe('group coordinator: static membership (KIP-345)', () => {
  test('a static member restarting gets its assignment back without a rebalance; the old id is fenced', async () => {
    const h = new Harness();
    const a = await h.startJoin({ groupInstanceId: 'i-a' });
    const b = await h.startJoin({ groupInstanceId: 'i-b' });
    await h.advance(0);
    const [ra, rb] = await Promise.all([a.join, b.join]);
    const gen = ra.generationId;
    const leaderId = ra.leader;
    const follower = leaderId === ra.memberId ? rb : ra;
    const followerInstance = follower === ra ? 'i-a' : 'i-b';
    await Promise.all([
      h.sync(
        leaderId,
        gen,
        [
          { memberId: ra.memberId, assignment: A1 },
          { memberId: rb.memberId, assignment: A2 },
        ],
        leaderId === ra.memberId ? 'i-a' : 'i-b',
      ),
      h.sync(follower.memberId, gen, [], followerInstance),
    ]);
    // the follower restarts: unknown member id, same instance id
    const re = await h.coord.joinGroup(h.joinReq({ groupInstanceId: followerInstance }));
    assert.equal(re.errorCode, 0);
    assert.equal(re.generationId, gen);
    assert.notEqual(re.memberId, follower.memberId);
    assert.match(re.memberId, new RegExp(`^${followerInstance}-`));
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'Stable');
    const s = await h.sync(re.memberId, gen, [], followerInstance);
    assert.deepEqual(s.assignment, follower === ra ? A1 : A2);
    assert.equal(await h.heartbeat(follower.memberId, gen, followerInstance), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(await h.heartbeat(re.memberId, gen, followerInstance), 0);
  });

  test('a rejoining static leader (v9) is told to skip the assignment; older versions see it as a follower', async () => {
    const h = new Harness();
    const a = await h.startJoin({ groupInstanceId: 'i-a' });
    await h.advance(0);
    const ra = await a.join;
    await h.sync(ra.memberId, ra.generationId, [{ memberId: ra.memberId, assignment: A1 }], 'i-a');
    const v9 = await h.coord.joinGroup(h.joinReq({ groupInstanceId: 'i-a', supportsSkipAssignment: true }));
    assert.equal(v9.leader, v9.memberId);
    assert.equal(v9.skipAssignment, true);
    assert.equal(v9.members.length, 1);
    const v5 = await h.coord.joinGroup(h.joinReq({ groupInstanceId: 'i-a' }));
    assert.equal(v5.leader, v9.memberId);
    assert.notEqual(v5.memberId, v9.memberId);
    assert.equal(v5.skipAssignment, false);
    assert.equal(v5.generationId, ra.generationId);
  });

  test('static members are kept through a rebalance they miss; admin removal by instance id', async () => {
    const h = new Harness();
    const long = { sessionTimeoutMs: 60_000 };
    const a = await h.startJoin({ ...long, groupInstanceId: 'i-a' });
    const b = await h.startJoin({ ...long, groupInstanceId: 'i-b' });
    await h.advance(0);
    const [ra, rb] = await Promise.all([a.join, b.join]);
    await Promise.all([
      h.sync(ra.leader, ra.generationId, [], ra.leader === ra.memberId ? 'i-a' : 'i-b'),
      h.sync(
        ra.leader === ra.memberId ? rb.memberId : ra.memberId,
        ra.generationId,
        [],
        ra.leader === ra.memberId ? 'i-b' : 'i-a',
      ),
    ]);
    const c = await h.startJoin(long);
    const rejoinA = h.coord.joinGroup(h.joinReq({ ...long, memberId: ra.memberId, groupInstanceId: 'i-a' }));
    await h.advance(30_000); // b never rejoins; as a static member it stays
    const [rc, ra2] = await Promise.all([c.join, rejoinA]);
    const all = (rc.members.length > 0 ? rc : ra2).members.map((m) => m.memberId);
    assert.deepEqual(new Set(all), new Set([ra.memberId, rb.memberId, c.memberId]));
    const removed = await h.coord.leaveGroup('g', [{ memberId: '', groupInstanceId: 'i-b' }]);
    assert.equal(removed.members[0]!.errorCode, 0);
    const fenced = await h.coord.leaveGroup('g', [{ memberId: 'wrong', groupInstanceId: 'i-a' }]);
    assert.equal(fenced.members[0]!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  });
});

describe('group coordinator: offsets', () => {
  test('standalone commit (generation -1, no member id), fetch, fetch-all, metadata size limit, unknown topic', async () => {
    const h = new Harness({ offsetMetadataMaxBytes: 5 });
    const r = await h.commit({}, 42n, 3);
    assert.equal(r[0]!.partitions[0]!.errorCode, 0);
    assert.equal(await h.committed(3), 42n);
    assert.equal(await h.committed(1), -1n);
    const all = await h.coord.fetchOffsets('g', null);
    assert.deepEqual(all.topics, [
      {
        name: 't',
        partitions: [
          { partitionIndex: 3, committedOffset: 42n, committedLeaderEpoch: 3, metadata: 'm', errorCode: 0 },
        ],
      },
    ]);
    const big = await h.coord.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '123456' },
          ],
        },
        {
          name: 'nope',
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
        {
          name: 't',
          partitions: [
            { partitionIndex: 6, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    assert.deepEqual(
      big.map((t) => t.partitions[0]!.errorCode),
      [
        ErrorCode.OFFSET_METADATA_TOO_LARGE,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
    );
    const unknownGroup = await h.coord.fetchOffsets('nobody', [{ name: 't', partitionIndexes: [0] }]);
    assert.equal(unknownGroup.errorCode, 0);
    assert.equal(unknownGroup.topics[0]!.partitions[0]!.committedOffset, -1n);
    assert.deepEqual(h.coord.listGroups([], []).groups, [
      { groupId: 'g', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
  });

  test('a commit with a generation for an unknown group: ILLEGAL_GENERATION (v8-), GROUP_ID_NOT_FOUND (v9)', async () => {
    const h = new Harness();
    assert.equal(
      (await h.commit({ generationId: 1, memberId: 'm' }))[0]!.partitions[0]!.errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await h.commit({ generationId: 1, memberId: 'm', apiVersion: 9 }))[0]!.partitions[0]!.errorCode,
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
  });

  test('a failed append acknowledges nothing', async () => {
    const h = new Harness();
    h.store.failWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const r = await h.commit({}, 5n);
    assert.equal(r[0]!.partitions[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(await h.committed(), -1n);
    assert.deepEqual(h.coord.listGroups([], []).groups, []);
    h.store.failWith = ErrorCode.MESSAGE_TOO_LARGE;
    assert.equal((await h.commit({}, 5n))[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
  });

  test('a failed assignment store answers every member with the error and rebalances', async () => {
    const h = new Harness();
    const a = await h.startJoin();
    await h.advance(0);
    const ra = await a.join;
    h.store.failWith = ErrorCode.KAFKA_STORAGE_ERROR;
    const s = await h.sync(a.memberId, ra.generationId, [{ memberId: a.memberId, assignment: A1 }]);
    assert.equal(s.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'PreparingRebalance');
  });

  test('delete offsets: refused for subscribed topics, fine for others; delete groups', async () => {
    const h = new Harness();
    h.topics.set('u', 1);
    await h.commit({}, 7n);
    await h.coord.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [
        {
          name: 'u',
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    const a = await h.startJoin();
    await h.advance(0);
    const ra = await a.join;
    await h.sync(a.memberId, ra.generationId, [{ memberId: a.memberId, assignment: A1 }]);
    const del = await h.coord.deleteOffsets('g', [
      { name: 't', partitions: [{ partitionIndex: 0 }] },
      { name: 'u', partitions: [{ partitionIndex: 0 }] },
    ]);
    assert.equal(del.errorCode, 0);
    assert.deepEqual(
      del.topics.map((t) => t.partitions[0]!.errorCode),
      [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0],
    );
    assert.equal(
      (await h.coord.fetchOffsets('g', [{ name: 'u', partitionIndexes: [0] }])).topics[0]!.partitions[0]!
        .committedOffset,
      -1n,
    );
    assert.equal((await h.coord.deleteOffsets('zzz', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.deepEqual(await h.coord.deleteGroups(['g', 'zzz']), [
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'zzz', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    await h.coord.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    await h.settle();
    assert.deepEqual(await h.coord.deleteGroups(['g']), [{ groupId: 'g', errorCode: 0 }]);
    assert.equal(await h.committed(), -1n);
    assert.equal(h.coord.describeGroups(['g'])[0]!.groupState, 'Dead');
  });

  test('offsets of an empty group expire after offsets.retention.minutes, and the group goes', async () => {
    const retention = 60_000;
    const h = new Harness({ offsetsRetentionMs: retention, retentionCheckIntervalMs: 10_000 });
    await h.coord.startup();
    await h.commit({}, 9n);
    await h.advance(50_000);
    assert.equal(await h.committed(), 9n);
    await h.advance(20_000);
    assert.equal(await h.committed(), -1n);
    assert.deepEqual(h.coord.listGroups([], []).groups, []);
    await h.coord.shutdown();
  });

  test('v2-4 retention time sets an explicit expiry', async () => {
    const h = new Harness({ retentionCheckIntervalMs: 1000 });
    await h.coord.startup();
    await h.commit({ retentionTimeMs: 5000, apiVersion: 2 }, 9n);
    await h.advance(4000);
    assert.equal(await h.committed(), 9n);
    await h.advance(2000);
    assert.equal(await h.committed(), -1n);
    await h.coord.shutdown();
  });
});

describe('group coordinator: persistence', () => {
  test('a new coordinator on the same log has every acknowledged commit and the stable group', async () => {
    const h = new Harness();
    const g = await stableGroupOfTwo(h);
    await h.commit({ generationId: g.generation, memberId: g.a }, 100n, 0);
    await h.commit({ generationId: g.generation, memberId: g.b }, 200n, 1);
    await h.coord.shutdown();
    const h2 = new Harness({}, h.store);
    await h2.coord.startup();
    assert.equal(await h2.committed(0), 100n);
    assert.equal(await h2.committed(1), 200n);
    const d = h2.coord.describeGroups(['g'])[0]!;
    assert.equal(d.groupState, 'Stable');
    assert.deepEqual(new Set(d.members.map((m) => m.memberId)), new Set([g.a, g.b]));
    assert.deepEqual(d.members.find((m) => m.memberId === g.b)!.memberAssignment, A2);
    // members of the loaded generation carry on
    assert.equal(await h2.heartbeat(g.a, g.generation), 0);
    assert.equal((await h2.sync(g.b, g.generation)).errorCode, 0);
    // and the ones that do not come back expire
    await h2.advance(5000);
    assert.equal(await h2.heartbeat(g.a, g.generation), 0);
    await h2.advance(5000);
    assert.equal(await h2.heartbeat(g.a, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    await h2.coord.shutdown();
  });

  test('deleted groups and deleted offsets stay deleted after reload', async () => {
    const h = new Harness();
    await h.commit({}, 1n, 0);
    await h.commit({ groupId: 'g2' }, 2n, 0);
    await h.coord.deleteOffsets('g2', [{ name: 't', partitions: [{ partitionIndex: 0 }] }]);
    await h.coord.deleteGroups(['g']);
    const h2 = new Harness({}, h.store);
    await h2.coord.startup();
    assert.equal(await h2.committed(0, 'g'), -1n);
    assert.equal(await h2.committed(0, 'g2'), -1n);
    assert.deepEqual(
      h2.coord.listGroups([], []).groups.map((x) => x.groupId),
      ['g2'],
    );
    await h2.coord.shutdown();
  });
});

describe('group coordinator: list filters', () => {
  test('states (case-insensitive) and types', async () => {
    const h = new Harness();
    await h.commit({ groupId: 'simple' });
    const a = await h.startJoin();
    await h.advance(0);
    await a.join;
    assert.deepEqual(
      h.coord.listGroups(['completingrebalance'], []).groups.map((g) => g.groupId),
      ['g'],
    );
    assert.deepEqual(
      h.coord.listGroups(['Empty'], ['Classic']).groups.map((g) => g.groupId),
      ['simple'],
    );
    assert.deepEqual(h.coord.listGroups([], ['consumer']).groups, []);
  });
});
