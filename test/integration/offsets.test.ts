/**
 * ListOffsets (v1-10), DeleteRecords (v0-2) and OffsetForLeaderEpoch (v2-4)
 * over the wire with a raw client.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import type { ListOffsetsResponse } from '../../src/protocol/generated/messages/list-offsets-response.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { fetch, part } from '../helpers/fetch.ts';
import { appendRecords, batchOf, createTopic } from '../helpers/log-data.ts';
import { RawClient } from '../helpers/raw-client.ts';

let b: TestBroker;
let c: RawClient;

before(async () => {
  b = await startBroker();
  c = await RawClient.connect(b.bootstrapServers);
});

after(async () => {
  c?.close();
  await b?.stop();
});

interface Q {
  partition?: number;
  timestamp: number;
  currentLeaderEpoch?: number;
}

function listOffsets(
  version: number,
  topic: string,
  qs: Q[],
  opts: { replicaId?: number; isolationLevel?: number } = {},
): Promise<ListOffsetsResponse> {
  return c.request(2, version, {
    replicaId: opts.replicaId ?? -1,
    isolationLevel: opts.isolationLevel ?? 0,
    timeoutMs: 1000,
    topics: [
      {
        name: topic,
        partitions: qs.map((q) => ({
          partitionIndex: q.partition ?? 0,
          currentLeaderEpoch: q.currentLeaderEpoch ?? -1,
          timestamp: BigInt(q.timestamp),
          maxNumOffsets: 1,
        })),
      },
    ],
  });
}

const one = async (version: number, topic: string, q: Q, opts = {}) => {
  const p = (await listOffsets(version, topic, [q], opts)).topics[0]!.partitions[0]!;
  return {
    errorCode: p.errorCode,
    offset: Number(p.offset),
    timestamp: Number(p.timestamp),
    leaderEpoch: p.leaderEpoch,
  };
};

test('ListOffsets: earliest, latest, by timestamp, max timestamp in every version 1-10', async () => {
  await createTopic(b, 'lo');
  await appendRecords(b, 'lo', 0, [{ value: 'a', timestamp: 1000 }]);
  await appendRecords(b, 'lo', 0, [{ value: 'b', timestamp: 2000 }]);
  await appendRecords(b, 'lo', 0, [{ value: 'c', timestamp: 3000 }]);
  await appendRecords(b, 'lo', 0, [
    { value: 'd', timestamp: 4000 },
    { value: 'e', timestamp: 3500 },
  ]);
  for (let v = 1; v <= 10; v++) {
    const epoch = v >= 4 ? 0 : undefined;
    const e = await one(v, 'lo', { timestamp: -2 });
    assert.deepEqual([e.errorCode, e.offset, e.timestamp], [0, 0, -1], `earliest v${v}`);
    const l = await one(v, 'lo', { timestamp: -1 });
    assert.deepEqual([l.errorCode, l.offset, l.timestamp], [0, 5, -1], `latest v${v}`);
    if (epoch !== undefined) assert.equal(l.leaderEpoch, epoch);
    const t = await one(v, 'lo', { timestamp: 2000 });
    assert.deepEqual([t.offset, t.timestamp], [1, 2000], `ts 2000 v${v}`);
    assert.deepEqual(
      [(await one(v, 'lo', { timestamp: 2500 })).offset, (await one(v, 'lo', { timestamp: 3600 })).offset],
      [2, 3],
    );
    const none = await one(v, 'lo', { timestamp: 5000 });
    assert.deepEqual(
      [none.errorCode, none.offset, none.timestamp],
      [0, -1, -1],
      `after the last timestamp v${v}`,
    );
    if (v >= 7) {
      const m = await one(v, 'lo', { timestamp: -3 });
      assert.deepEqual([m.offset, m.timestamp], [3, 4000], `max timestamp v${v}`);
    }
    if (v >= 8) assert.equal((await one(v, 'lo', { timestamp: -4 })).offset, 0, 'earliest local');
    if (v >= 9)
      assert.equal((await one(v, 'lo', { timestamp: -5 })).offset, -1, 'latest tiered: no tiered storage');
  }
});

test('ListOffsets: consumers see the high watermark (or LSO); the debug replica sees the log end', async () => {
  await createTopic(b, 'lohw');
  await appendRecords(b, 'lohw', 0, [{ value: 'a', timestamp: 1000 }]);
  const p = b.broker.replicas.get('lohw', 0)!;
  await p.log.append(batchOf([{ value: 'b', timestamp: 2000 }]), { leaderEpoch: 0 });
  assert.equal((await one(6, 'lohw', { timestamp: -1 })).offset, 1);
  assert.equal((await one(6, 'lohw', { timestamp: -1 }, { isolationLevel: 1 })).offset, 1);
  assert.equal((await one(6, 'lohw', { timestamp: -1 }, { replicaId: -2 })).offset, 2);
  assert.equal((await one(6, 'lohw', { timestamp: 2000 })).offset, -1, 'record above the HW is not visible');
  assert.equal((await one(6, 'lohw', { timestamp: 2000 }, { replicaId: -2 })).offset, 1);
  p.log.highWatermark = p.log.logEndOffset;
});

test('ListOffsets: errors', async () => {
  await createTopic(b, 'loerr');
  let r = await one(6, 'nope', { timestamp: -1 });
  assert.equal(r.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  r = await one(6, 'loerr', { partition: 3, timestamp: -1 });
  assert.equal(r.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  r = await one(6, 'loerr', { timestamp: -1, currentLeaderEpoch: 9 });
  assert.equal(r.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal(r.offset, -1);
  r = await one(6, 'loerr', { timestamp: -1, currentLeaderEpoch: 0 });
  assert.equal(r.errorCode, 0);
  const dup = await listOffsets(6, 'loerr', [{ timestamp: -1 }, { timestamp: -2 }]);
  assert.deepEqual(
    dup.topics[0]!.partitions.map((p) => p.errorCode),
    [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
  );
});

function deleteRecords(version: number, topic: string, parts: [number, number][]) {
  return c.request(21, version, {
    timeoutMs: 1000,
    topics: [{ name: topic, partitions: parts.map(([p, o]) => ({ partitionIndex: p, offset: BigInt(o) })) }],
  });
}

test('DeleteRecords moves the log start offset (v0-2)', async () => {
  await createTopic(b, 'dr', 2);
  for (let i = 0; i < 5; i++) await appendRecords(b, 'dr', 0, [{ value: `v${i}` }]);
  for (let i = 0; i < 3; i++) await appendRecords(b, 'dr', 1, [{ value: `w${i}` }]);
  let res = await deleteRecords(0, 'dr', [
    [0, 2],
    [1, -1],
  ]);
  assert.deepEqual(
    res.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode, Number(p.lowWatermark)]),
    [
      [0, 0, 2],
      [1, 0, 3],
    ],
  );
  assert.equal((await one(6, 'dr', { timestamp: -2 })).offset, 2, 'earliest moved');
  const f = await fetch(c, 12, { topics: [{ topic: 'dr', partitions: [{ partition: 0, offset: 0 }] }] });
  assert.equal(part(f, 'dr', 0).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(part(f, 'dr', 0).logStartOffset, 2n);
  // Beyond the high watermark, below the current start (no-op), unknown partitions.
  for (const v of [1, 2]) {
    res = await deleteRecords(v, 'dr', [
      [0, 6],
      [1, 1],
      [9, 0],
    ]);
    assert.deepEqual(
      res.topics[0].partitions.map((p: any) => [p.errorCode, Number(p.lowWatermark)]),
      [
        [ErrorCode.OFFSET_OUT_OF_RANGE, -1],
        [0, 3],
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1],
      ],
    );
  }
  res = await deleteRecords(2, 'missing', [[0, 0]]);
  assert.equal(res.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('DeleteRecords on a compacted topic is a policy violation', async () => {
  await createTopic(b, 'drc', 1, { 'cleanup.policy': 'compact' });
  await appendRecords(b, 'drc', 0, [{ key: 'k', value: 'v' }]);
  const res = await deleteRecords(2, 'drc', [[0, 1]]);
  assert.equal(res.topics[0].partitions[0].errorCode, ErrorCode.POLICY_VIOLATION);
});

function epochQuery(
  version: number,
  topic: string,
  leaderEpoch: number,
  currentLeaderEpoch = -1,
  partition = 0,
) {
  return c
    .request(23, version, {
      replicaId: -1,
      topics: [{ topic, partitions: [{ partition, currentLeaderEpoch, leaderEpoch }] }],
    })
    .then((r: any) => {
      const p = r.topics[0].partitions[0];
      return { errorCode: p.errorCode, leaderEpoch: p.leaderEpoch, endOffset: Number(p.endOffset) };
    });
}

test('OffsetForLeaderEpoch answers from the leader-epoch cache (v2-4)', async () => {
  await createTopic(b, 'ep');
  await appendRecords(b, 'ep', 0, [{ value: 'a' }, { value: 'b' }]);
  const p = b.broker.replicas.get('ep', 0)!;
  for (const v of [2, 3, 4]) {
    assert.deepEqual(await epochQuery(v, 'ep', 0), { errorCode: 0, leaderEpoch: 0, endOffset: 2 });
    assert.deepEqual(
      await epochQuery(v, 'ep', 3),
      { errorCode: 0, leaderEpoch: -1, endOffset: -1 },
      'unknown epoch',
    );
  }
  // A later epoch starts at offset 2: epoch 0 now ends there.
  p.log.assignEpochStartOffset(2, 2);
  await p.log.append(batchOf([{ value: 'c' }]), { leaderEpoch: 2 });
  p.log.highWatermark = p.log.logEndOffset;
  assert.deepEqual(await epochQuery(4, 'ep', 0), { errorCode: 0, leaderEpoch: 0, endOffset: 2 });
  assert.deepEqual(await epochQuery(4, 'ep', 1), { errorCode: 0, leaderEpoch: 0, endOffset: 2 });
  assert.deepEqual(await epochQuery(4, 'ep', 2), { errorCode: 0, leaderEpoch: 2, endOffset: 3 });
  // Fencing with currentLeaderEpoch (the partition's leader epoch is 0).
  assert.equal((await epochQuery(4, 'ep', 0, 1)).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal((await epochQuery(4, 'nope', 0)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});
