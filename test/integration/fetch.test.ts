/**
 * Fetch over the wire (raw client): versions 4-17, byte limits (KIP-74),
 * high-watermark bound, isolation level, per-partition errors, long polling
 * and its clean-up, record bytes referenced (not copied) by the encoder.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { joinBatches } from '../../src/broker/replica/fetch.ts';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { RecordsList } from '../../src/protocol/primitives/records-list.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { fetch, part } from '../helpers/fetch.ts';
import {
  appendBatch,
  appendRecords,
  batchCount,
  batchOf,
  createTopic,
  recordsOf,
} from '../helpers/log-data.ts';
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

const topicId = (name: string) => b.broker.topics.get(name)!.topicId;
const partitionOf = (name: string, p = 0) => b.broker.replicas.get(name, p)!;

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('reads from the beginning and from an offset in every version 4-17', async () => {
  await createTopic(b, 'basic');
  for (let i = 0; i < 3; i++) {
    await appendRecords(b, 'basic', 0, [
      { key: `k${2 * i}`, value: `v${2 * i}` },
      { key: `k${2 * i + 1}`, value: `v${2 * i + 1}` },
    ]);
  }
  for (let v = 4; v <= 17; v++) {
    const byId = v >= 13;
    const t = byId ? { topicId: topicId('basic') } : { topic: 'basic' };
    const res = await fetch(c, v, { topics: [{ ...t, partitions: [{ partition: 0, offset: 0 }] }] });
    assert.equal(res.errorCode ?? 0, 0, `v${v}`);
    const p = part(res, byId ? topicId('basic') : 'basic', 0);
    assert.equal(p.errorCode, 0);
    assert.equal(p.highWatermark, 6n);
    assert.equal(p.lastStableOffset, 6n);
    if (v >= 5) assert.equal(p.logStartOffset, 0n);
    assert.equal(p.abortedTransactions, null, 'READ_UNCOMMITTED carries no aborted transactions');
    const recs = recordsOf(p.records);
    assert.deepEqual(
      recs.map((r) => [r.offset, r.key, r.value]),
      [0, 1, 2, 3, 4, 5].map((i) => [i, `k${i}`, `v${i}`]),
      `v${v}`,
    );
    // From offset 3: the whole batch holding it (offsets 2-3) comes first.
    const res3 = await fetch(c, v, { topics: [{ ...t, partitions: [{ partition: 0, offset: 3 }] }] });
    assert.deepEqual(
      recordsOf(part(res3, byId ? topicId('basic') : 'basic', 0).records).map((r) => r.offset),
      [2, 3, 4, 5],
    );
  }
});

test('byte limits: whole batches, and the first batch even when larger than the limits (KIP-74)', async () => {
  await createTopic(b, 'sizes', 2);
  const big = 'x'.repeat(2000);
  for (let i = 0; i < 3; i++) {
    await appendRecords(b, 'sizes', 0, [{ value: big }]);
    await appendRecords(b, 'sizes', 1, [{ value: big }]);
  }
  const batchSize = partitionOf('sizes').log.size / 3;
  const both = (maxBytes: number, partMax: number) =>
    fetch(c, 12, {
      maxBytes,
      topics: [
        {
          topic: 'sizes',
          partitions: [
            { partition: 0, offset: 0, maxBytes: partMax },
            { partition: 1, offset: 0, maxBytes: partMax },
          ],
        },
      ],
    });
  let res = await both(100, 1 << 20);
  assert.equal(batchCount(part(res, 'sizes', 0).records), 1, 'first batch despite maxBytes');
  assert.equal(batchCount(part(res, 'sizes', 1).records), 0);
  res = await both(1 << 20, 100);
  assert.equal(batchCount(part(res, 'sizes', 0).records), 1, 'first batch despite partitionMaxBytes');
  assert.equal(
    batchCount(part(res, 'sizes', 1).records),
    0,
    'only the first partition with data gets the exception',
  );
  res = await both(1 << 20, 2 * batchSize);
  assert.equal(batchCount(part(res, 'sizes', 0).records), 2);
  assert.equal(batchCount(part(res, 'sizes', 1).records), 2);
  res = await both(3 * batchSize + 10, 2 * batchSize + 10);
  assert.equal(batchCount(part(res, 'sizes', 0).records), 2);
  assert.equal(batchCount(part(res, 'sizes', 1).records), 1, 'request maxBytes spans partitions');
  // A partition that starts past the first with data gets no exception when the budget is used up.
  res = await both(batchSize, 1 << 20);
  assert.equal(batchCount(part(res, 'sizes', 0).records), 1);
  assert.equal(batchCount(part(res, 'sizes', 1).records), 0);
});

test('consumers read up to the high watermark; READ_COMMITTED up to the LSO with an aborted list', async () => {
  await createTopic(b, 'hw');
  await appendRecords(b, 'hw', 0, [{ value: 'a' }, { value: 'b' }]);
  const p = partitionOf('hw');
  await p.log.append(batchOf([{ value: 'c' }]), { leaderEpoch: p.leaderEpoch }); // not yet committed
  assert.equal(p.log.highWatermark, 2);
  assert.equal(p.log.logEndOffset, 3);
  for (const isolationLevel of [0, 1]) {
    const res = await fetch(c, 12, {
      isolationLevel,
      topics: [{ topic: 'hw', partitions: [{ partition: 0, offset: 0 }] }],
    });
    const d = part(res, 'hw', 0);
    assert.deepEqual(
      recordsOf(d.records).map((r) => r.value),
      ['a', 'b'],
    );
    assert.equal(d.highWatermark, 2n);
    assert.equal(d.lastStableOffset, 2n);
    assert.deepEqual(d.abortedTransactions, isolationLevel === 1 ? [] : null);
    // Between the high watermark and the log end: empty, not an error.
    const res2 = await fetch(c, 12, {
      isolationLevel,
      topics: [{ topic: 'hw', partitions: [{ partition: 0, offset: 2 }] }],
    });
    assert.equal(part(res2, 'hw', 0).errorCode, 0);
    assert.equal(batchCount(part(res2, 'hw', 0).records), 0);
  }
  p.log.highWatermark = 3;
  p.notifyAppended();
});

test('per-partition errors', async () => {
  await createTopic(b, 'errs');
  await appendRecords(b, 'errs', 0, [{ value: 'a' }]);
  let res = await fetch(c, 12, {
    topics: [
      { topic: 'nope', partitions: [{ partition: 0, offset: 0 }] },
      {
        topic: 'errs',
        partitions: [
          { partition: 7, offset: 0 },
          { partition: 0, offset: 5 },
        ],
      },
    ],
  });
  assert.equal(part(res, 'nope', 0).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(part(res, 'errs', 7).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const oor = part(res, 'errs', 0);
  assert.equal(oor.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(oor.highWatermark, 1n);
  assert.equal(oor.logStartOffset, 0n);
  res = await fetch(c, 13, {
    topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partition: 0, offset: 0 }] }],
  });
  assert.equal(res.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  // Leader epoch fencing (the partition is at epoch 0 unless moved).
  const p = partitionOf('errs');
  res = await fetch(c, 12, {
    topics: [
      { topic: 'errs', partitions: [{ partition: 0, offset: 0, currentLeaderEpoch: p.leaderEpoch + 1 }] },
    ],
  });
  const unknown = part(res, 'errs', 0);
  assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.deepEqual(unknown.currentLeader, { leaderId: b.broker.nodeId, leaderEpoch: p.leaderEpoch });
  const saved = p.info;
  p.info = { ...saved, leaderEpoch: saved.leaderEpoch + 2 };
  try {
    res = await fetch(c, 12, {
      topics: [
        { topic: 'errs', partitions: [{ partition: 0, offset: 0, currentLeaderEpoch: saved.leaderEpoch }] },
      ],
    });
    assert.equal(part(res, 'errs', 0).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    // v16+ names the leader's endpoint for the hint (KIP-951).
    const res16 = await fetch(c, 16, {
      topics: [
        {
          topicId: topicId('errs'),
          partitions: [{ partition: 0, offset: 0, currentLeaderEpoch: saved.leaderEpoch }],
        },
      ],
    });
    assert.equal(res16.responses[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    assert.equal(res16.nodeEndpoints?.[0]?.nodeId, b.broker.nodeId);
    // Matching epoch reads.
    res = await fetch(c, 12, {
      topics: [
        {
          topic: 'errs',
          partitions: [{ partition: 0, offset: 0, currentLeaderEpoch: saved.leaderEpoch + 2 }],
        },
      ],
    });
    assert.equal(part(res, 'errs', 0).errorCode, 0);
  } finally {
    p.info = saved;
  }
});

test('long poll: an append wakes a waiting fetch at once; without data it answers at maxWaitMs', async () => {
  await createTopic(b, 'poll');
  const t0 = performance.now();
  let res = await fetch(c, 12, {
    maxWaitMs: 120,
    topics: [{ topic: 'poll', partitions: [{ partition: 0, offset: 0 }] }],
  });
  const waited = performance.now() - t0;
  assert.ok(waited >= 100 && waited < 2000, `expired after ${waited} ms`);
  assert.equal(batchCount(part(res, 'poll', 0).records), 0);

  const pending = fetch(c, 12, {
    maxWaitMs: 10_000,
    topics: [{ topic: 'poll', partitions: [{ partition: 0, offset: 0 }] }],
  });
  await until(() => b.broker.replicas.fetches.purgatory.size === 1);
  const ta = performance.now();
  await appendRecords(b, 'poll', 0, [{ value: 'wake' }]);
  res = await pending;
  const latency = performance.now() - ta;
  assert.deepEqual(
    recordsOf(part(res, 'poll', 0).records).map((r) => r.value),
    ['wake'],
  );
  assert.ok(latency < 200, `woke after ${latency} ms`);
  assert.equal(b.broker.replicas.fetches.purgatory.size, 0);
  assert.equal((partitionOf('poll') as any).appendListeners.size, 0, 'listeners removed');
});

test('long poll: minBytes waits for enough bytes', async () => {
  await createTopic(b, 'minbytes');
  const pending = fetch(c, 12, {
    maxWaitMs: 10_000,
    minBytes: 3000,
    topics: [{ topic: 'minbytes', partitions: [{ partition: 0, offset: 0 }] }],
  });
  await until(() => b.broker.replicas.fetches.purgatory.size === 1);
  await appendRecords(b, 'minbytes', 0, [{ value: 'x'.repeat(1000) }]);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(b.broker.replicas.fetches.purgatory.size, 1, 'still waiting with ~1 KB of 3 KB');
  await appendRecords(b, 'minbytes', 0, [{ value: 'y'.repeat(2500) }]);
  const res = await pending;
  assert.equal(batchCount(part(res, 'minbytes', 0).records), 2);
});

test('DeleteRecords past a waiting fetch answers it with OFFSET_OUT_OF_RANGE', async () => {
  await createTopic(b, 'deleted-under');
  for (let i = 0; i < 3; i++) await appendRecords(b, 'deleted-under', 0, [{ value: `v${i}` }]);
  const pending = fetch(c, 12, {
    maxWaitMs: 10_000,
    minBytes: 1 << 20,
    topics: [{ topic: 'deleted-under', partitions: [{ partition: 0, offset: 0 }] }],
  });
  await until(() => b.broker.replicas.fetches.purgatory.size === 1);
  const c2 = await RawClient.connect(b.bootstrapServers);
  try {
    const t0 = performance.now();
    await c2.request(21, 2, {
      timeoutMs: 1000,
      topics: [{ name: 'deleted-under', partitions: [{ partitionIndex: 0, offset: 2n }] }],
    });
    const res = await pending;
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(part(res, 'deleted-under', 0).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(part(res, 'deleted-under', 0).logStartOffset, 2n);
  } finally {
    c2.close();
  }
});

test('a waiting fetch is dropped when its connection closes', async () => {
  await createTopic(b, 'closing');
  const c2 = await RawClient.connect(b.bootstrapServers);
  const pending = fetch(c2, 12, {
    maxWaitMs: 30_000,
    topics: [{ topic: 'closing', partitions: [{ partition: 0, offset: 0 }] }],
  });
  pending.catch(() => {});
  await until(() => b.broker.replicas.fetches.purgatory.size === 1);
  c2.close();
  await until(() => b.broker.replicas.fetches.purgatory.size === 0);
  assert.equal((partitionOf('closing') as any).appendListeners.size, 0);
});

test('broker stop answers waiting fetches at once', async () => {
  const b2 = await startBroker();
  let c2: RawClient | undefined;
  try {
    await createTopic(b2, 'stop');
    c2 = await RawClient.connect(b2.bootstrapServers);
    const pending = fetch(c2, 12, {
      maxWaitMs: 30_000,
      topics: [{ topic: 'stop', partitions: [{ partition: 0, offset: 0 }] }],
    });
    await until(() => b2.broker.replicas.fetches.purgatory.size === 1);
    const t0 = performance.now();
    await b2.stop();
    const res = await pending;
    assert.equal(part(res, 'stop', 0).errorCode, 0);
    assert.ok(performance.now() - t0 < 2000, 'stop did not wait for maxWaitMs');
  } finally {
    c2?.close();
    await b2.stop();
  }
});

test('joinBatches: adjacent views join into one view, others into a RecordsList of views (no copy)', () => {
  const base = Buffer.alloc(12);
  base.write('aaaabbbbcccc');
  const joined = joinBatches([base.subarray(0, 4), base.subarray(4, 8), base.subarray(8, 12)], 12);
  assert.ok(Buffer.isBuffer(joined));
  assert.equal(joined.buffer, base.buffer);
  assert.equal(joined.toString(), 'aaaabbbbcccc');
  const other = Buffer.from('dddd');
  const list = joinBatches([base.subarray(0, 4), base.subarray(4, 8), other, base.subarray(8, 12)], 16);
  assert.ok(list instanceof RecordsList);
  assert.equal(list.length, 16);
  assert.deepEqual(
    list.chunks.map((c) => c.toString()),
    ['aaaabbbb', 'dddd', 'cccc'],
  );
  base.write('x', 0);
  assert.equal(list.chunks[0]!.toString(), 'xaaabbbb', 'a view');
  assert.equal(joined.toString(), 'xaaabbbbcccc', 'a view');
  assert.equal(joinBatches([], 0).length, 0);
});

test('a fetch of a batch appended directly is served after appendBatch', async () => {
  await createTopic(b, 'direct');
  const base = await appendBatch(b, 'direct', 0, batchOf([{ value: 'one' }, { value: 'two' }]));
  assert.equal(base, 0);
  const res = await fetch(c, 4, { topics: [{ topic: 'direct', partitions: [{ partition: 0, offset: 0 }] }] });
  assert.deepEqual(
    recordsOf(part(res, 'direct', 0).records).map((r) => r.value),
    ['one', 'two'],
  );
});
