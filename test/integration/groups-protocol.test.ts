/**
 * The group APIs at every version the broker serves, over a raw connection:
 * FindCoordinator v0-6 (batched keys from v4), JoinGroup v0-9 (KIP-394 from
 * v4), SyncGroup v0-5, Heartbeat v0-4, OffsetCommit v0-9, OffsetFetch v0-9
 * (multi-group from v8), LeaveGroup v0-5 (batched from v3), DescribeGroups
 * v0-5, ListGroups v0-5, DeleteGroups v0-2, OffsetDelete v0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { RawClient } from '../helpers/raw-client.ts';

const SUB = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]); // ConsumerProtocolSubscription v0 ["t"]
const ASSIGN = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);

describe('group APIs at every version', () => {
  let b: TestBroker;
  let c: RawClient;
  before(async () => {
    b = await startBroker();
    await b.broker.topics.create({ name: 't', numPartitions: 2, replicationFactor: 1 });
    c = await RawClient.connect(b.bootstrapServers);
  });
  after(async () => {
    c?.close();
    await b?.stop();
  });

  test('FindCoordinator v0-6: this broker for groups; v4+ one answer per key; unknown key type', async () => {
    for (let v = 0; v <= 6; v++) {
      if (v < 4) {
        const r = await c.request(10, v, { key: 'grp', keyType: 0 });
        assert.equal(r.errorCode, 0, `v${v}`);
        assert.equal(r.port, b.port);
        assert.equal(r.nodeId, b.broker.nodeId);
      } else {
        const r = await c.request(10, v, { keyType: 0, coordinatorKeys: ['a', 'b'] });
        assert.deepEqual(
          r.coordinators.map((x: { key: string; errorCode: number; port: number }) => [
            x.key,
            x.errorCode,
            x.port,
          ]),
          [
            ['a', 0, b.port],
            ['b', 0, b.port],
          ],
        );
      }
    }
    const bad = await c.request(10, 3, { key: 'grp', keyType: 7 });
    assert.equal(bad.errorCode, 42); // INVALID_REQUEST
    assert.equal(b.broker.topics.get('__consumer_offsets')?.internal, true);
  });

  for (let jv = 0; jv <= 9; jv++) {
    test(`JoinGroup v${jv} with the matching SyncGroup, Heartbeat, OffsetCommit, OffsetFetch, LeaveGroup`, async () => {
      const groupId = `grp-v${jv}`;
      const sv = Math.min(jv, 5);
      const hv = Math.min(jv, 4);
      const lv = Math.min(jv, 5);
      const join = (memberId: string) =>
        c.request(11, jv, {
          groupId,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
          memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: SUB }],
          reason: 'test',
        });
      let j = await join('');
      if (jv >= 4) {
        assert.equal(j.errorCode, 79, 'MEMBER_ID_REQUIRED'); // KIP-394
        j = await join(j.memberId);
      }
      assert.equal(j.errorCode, 0);
      assert.equal(j.generationId, 1);
      assert.equal(j.leader, j.memberId);
      assert.equal(j.protocolName, 'range');
      if (jv >= 7) assert.equal(j.protocolType, 'consumer');
      assert.deepEqual(j.members[0].metadata, SUB);
      const memberId: string = j.memberId;
      const s = await c.request(14, sv, {
        groupId,
        generationId: 1,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [{ memberId, assignment: ASSIGN }],
      });
      assert.equal(s.errorCode, 0);
      assert.deepEqual(s.assignment, ASSIGN);
      if (sv >= 5) assert.equal(s.protocolName, 'range');
      assert.equal(
        (await c.request(12, hv, { groupId, generationId: 1, memberId, groupInstanceId: null })).errorCode,
        0,
      );
      assert.equal(
        (await c.request(12, hv, { groupId, generationId: 0, memberId, groupInstanceId: null })).errorCode,
        22,
      );

      const cv = jv; // OffsetCommit v0-9
      const commit = await c.request(8, cv, {
        groupId,
        generationIdOrMemberEpoch: 1,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: 't',
            partitions: [
              {
                partitionIndex: 1,
                committedOffset: 40n + BigInt(jv),
                committedLeaderEpoch: 0,
                commitTimestamp: -1n,
                committedMetadata: 'm',
              },
            ],
          },
        ],
      });
      // v0 has no generation: a standalone commit, refused while the group has members
      assert.equal(commit.topics[0].partitions[0].errorCode, cv === 0 ? 25 : 0);
      const fv = jv; // OffsetFetch v0-9
      const fetchOne = async () => {
        if (fv >= 8) {
          const r = await c.request(9, fv, {
            groups: [
              { groupId, memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [1] }] },
              { groupId: 'nobody', memberId: null, memberEpoch: -1, topics: null },
            ],
            requireStable: false,
          });
          assert.equal(r.groups.length, 2);
          assert.deepEqual(r.groups[1].topics, []);
          return r.groups[0].topics[0].partitions[0];
        }
        const r = await c.request(9, fv, {
          groupId,
          topics: [{ name: 't', partitionIndexes: [1] }],
          requireStable: false,
        });
        return r.topics[0].partitions[0];
      };
      const p = await fetchOne();
      assert.equal(p.errorCode, 0);
      assert.equal(p.committedOffset, cv === 0 ? -1n : 40n + BigInt(jv));
      if (fv >= 5 && cv >= 6) assert.equal(p.committedLeaderEpoch, 0);

      const leave =
        lv < 3
          ? await c.request(13, lv, { groupId, memberId })
          : await c.request(13, lv, {
              groupId,
              members: [
                { memberId, groupInstanceId: null, reason: 'done' },
                { memberId: 'ghost', groupInstanceId: null },
              ],
            });
      assert.equal(leave.errorCode, 0);
      if (lv >= 3)
        assert.deepEqual(
          leave.members.map((m: { errorCode: number }) => m.errorCode),
          [0, 25],
        );
      // all members gone: the group is Empty and keeps its offsets
      const d = await c.request(15, 5, { groups: [groupId], includeAuthorizedOperations: false });
      assert.equal(d.groups[0].groupState, 'Empty');
    });
  }

  test('OffsetCommit v9 answers GROUP_ID_NOT_FOUND for an unknown group (ILLEGAL_GENERATION before)', async () => {
    const body = {
      groupId: 'never-joined',
      generationIdOrMemberEpoch: 3,
      memberId: 'm',
      groupInstanceId: null,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    };
    assert.equal((await c.request(8, 9, body)).topics[0].partitions[0].errorCode, 69);
    assert.equal((await c.request(8, 8, body)).topics[0].partitions[0].errorCode, 22);
  });

  test('DescribeGroups v0-5, ListGroups v0-5 (state and type filters), OffsetDelete v0, DeleteGroups v0-2', async () => {
    for (let v = 0; v <= 5; v++) {
      const d = await c.request(15, v, { groups: ['grp-v5', 'missing'], includeAuthorizedOperations: true });
      assert.equal(d.groups[0].groupState, 'Empty', `v${v}`);
      assert.equal(d.groups[0].protocolType, 'consumer');
      assert.deepEqual([d.groups[1].errorCode, d.groups[1].groupState], [0, 'Dead']);
      if (v >= 3) assert.equal(d.groups[0].authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8));
      const l = await c.request(16, v, { statesFilter: ['empty'], typesFilter: ['classic'] });
      assert.equal(l.errorCode, 0);
      const listed = l.groups.find((g: { groupId: string }) => g.groupId === 'grp-v5');
      assert.ok(listed, `ListGroups v${v}`);
      if (v >= 4) assert.equal(listed.groupState, 'Empty');
      if (v >= 5) assert.equal(listed.groupType, 'classic');
    }
    const none = await c.request(16, 4, { statesFilter: ['Stable'] });
    assert.equal(none.groups.length, 0);

    const od = await c.request(47, 0, {
      groupId: 'grp-v5',
      topics: [{ name: 't', partitions: [{ partitionIndex: 1 }, { partitionIndex: 9 }] }],
    });
    assert.equal(od.errorCode, 0);
    assert.deepEqual(
      od.topics[0].partitions.map((p: { errorCode: number }) => p.errorCode),
      [0, 3],
    );
    const f = await c.request(9, 7, { groupId: 'grp-v5', topics: null, requireStable: false });
    assert.deepEqual(f.topics, []);
    assert.equal((await c.request(47, 0, { groupId: 'missing', topics: [] })).errorCode, 69);

    for (let v = 0; v <= 2; v++) {
      const r = await c.request(42, v, { groupsNames: [`grp-v${v}`, 'missing'] });
      assert.deepEqual(
        r.results.map((x: { groupId: string; errorCode: number }) => [x.groupId, x.errorCode]),
        [
          [`grp-v${v}`, 0],
          ['missing', 69],
        ],
      );
    }
  });
});
