import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FetchEntry,
  FetchSessionCache,
  nextEpoch,
  type PartitionOutcome,
  partitionKey,
} from '../../../../src/broker/replica/fetch-session.ts';
import { ErrorCode } from '../../../../src/protocol/error-codes.ts';

const entry = (
  topic: string,
  partition: number,
  fetchOffset = 0,
  topicId = 'AAAAAAAAAAAAAAAAAAAAAA',
): FetchEntry => ({
  key: partitionKey(false, topic, topicId, partition),
  topic,
  topicId,
  partition,
  fetchOffset,
  maxBytes: 1024,
  currentLeaderEpoch: -1,
  lastFetchedEpoch: -1,
  logStartOffset: -1,
});

const outcome = (hw: number, recordBytes = 0, errorCode = 0, logStartOffset = 0): PartitionOutcome => ({
  errorCode,
  highWatermark: hw,
  logStartOffset,
  recordBytes,
});

function cache(maxSlots = 10, clock = { now: 0 }) {
  let id = 0;
  return new FetchSessionCache({ maxSlots, now: () => clock.now, randomInt: () => ++id });
}

/** Opens a session with a full fetch over `entries`, all with hw 0. */
function open(c: FetchSessionCache, entries: FetchEntry[], version = 12, privileged = false) {
  const ctx = c.newContext({ version, sessionId: 0, epoch: 0, entries, forgotten: [], privileged });
  assert.equal(ctx.kind, 'full');
  const out = new Map(entries.map((e) => [e.key, outcome(0)]));
  return c.complete(ctx, out);
}

test('nextEpoch wraps to 1 and keeps -1', () => {
  assert.equal(nextEpoch(0), 1);
  assert.equal(nextEpoch(5), 6);
  assert.equal(nextEpoch(0x7fffffff), 1);
  assert.equal(nextEpoch(-1), -1);
});

test('versions before 7 and epoch -1 are sessionless; epoch 0 opens a session', () => {
  const c = cache();
  const e = [entry('a', 0)];
  assert.equal(
    c.newContext({ version: 6, sessionId: 0, epoch: 0, entries: e, forgotten: [], privileged: false }).kind,
    'sessionless',
  );
  const ctx = c.newContext({
    version: 12,
    sessionId: 0,
    epoch: -1,
    entries: e,
    forgotten: [],
    privileged: false,
  });
  assert.equal(ctx.kind, 'sessionless');
  assert.deepEqual(c.complete(ctx, new Map()), { sessionId: 0, keys: [e[0]!.key] });
  const r = open(c, e);
  assert.ok(r.sessionId > 0);
  assert.deepEqual(r.keys, [e[0]!.key]);
  assert.equal(c.size, 1);
  assert.equal(c.get(r.sessionId)!.epoch, 1);
});

test('incremental fetch: epochs advance, wrong epoch and unknown id are errors', () => {
  const c = cache();
  const { sessionId } = open(c, [entry('a', 0), entry('a', 1)]);
  const inc = (epoch: number, sid = sessionId) =>
    c.newContext({ version: 12, sessionId: sid, epoch, entries: [], forgotten: [], privileged: false });
  assert.equal(inc(1).kind, 'incremental');
  assert.deepEqual(inc(1), { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
  assert.equal(inc(2).kind, 'incremental');
  assert.deepEqual(inc(3, sessionId + 100), {
    kind: 'error',
    errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  });
  // Topic-id usage must not change within a session.
  assert.deepEqual(
    c.newContext({ version: 13, sessionId, epoch: 3, entries: [], forgotten: [], privileged: false }),
    { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR },
  );
});

test('incremental responses carry only changed partitions; data moves a partition to the end', () => {
  const c = cache();
  const a0 = entry('a', 0);
  const a1 = entry('a', 1);
  const b0 = entry('b', 0);
  const { sessionId } = open(c, [a0, a1, b0]);
  let ctx = c.newContext({ version: 12, sessionId, epoch: 1, entries: [], forgotten: [], privileged: false });
  assert.deepEqual(
    c.targets(ctx).map((e) => e.key),
    [a0.key, a1.key, b0.key],
  );
  // Nothing changed: empty response.
  let r = c.complete(
    ctx,
    new Map([
      [a0.key, outcome(0)],
      [a1.key, outcome(0)],
      [b0.key, outcome(0)],
    ]),
  );
  assert.deepEqual(r, { sessionId, keys: [] });
  // a0 got data (hw 5), b0's hw moved without data for this fetch.
  ctx = c.newContext({ version: 12, sessionId, epoch: 2, entries: [], forgotten: [], privileged: false });
  r = c.complete(
    ctx,
    new Map([
      [a0.key, outcome(5, 100)],
      [a1.key, outcome(0)],
      [b0.key, outcome(3)],
    ]),
  );
  assert.deepEqual(r.keys, [a0.key, b0.key]);
  // a0 rotated to the back for fairness.
  ctx = c.newContext({
    version: 12,
    sessionId,
    epoch: 3,
    entries: [{ ...a0, fetchOffset: 5 }],
    forgotten: [],
    privileged: false,
  });
  const targets = c.targets(ctx);
  assert.deepEqual(
    targets.map((e) => e.key),
    [a1.key, b0.key, a0.key],
  );
  assert.equal(targets[2]!.fetchOffset, 5, 'updated fetch offset kept');
  // Errors are always sent, and re-sent once cleared (hw cache reset).
  r = c.complete(
    ctx,
    new Map([
      [a1.key, outcome(0, 0, ErrorCode.NOT_LEADER_OR_FOLLOWER)],
      [b0.key, outcome(3)],
      [a0.key, outcome(5)],
    ]),
  );
  assert.deepEqual(r.keys, [a1.key]);
  ctx = c.newContext({ version: 12, sessionId, epoch: 4, entries: [], forgotten: [], privileged: false });
  r = c.complete(
    ctx,
    new Map([
      [a1.key, outcome(0)],
      [b0.key, outcome(3)],
      [a0.key, outcome(5)],
    ]),
  );
  assert.deepEqual(r.keys, [a1.key]);
  // A moved log start offset is sent.
  ctx = c.newContext({ version: 12, sessionId, epoch: 5, entries: [], forgotten: [], privileged: false });
  r = c.complete(
    ctx,
    new Map([
      [a1.key, outcome(0)],
      [b0.key, outcome(3, 0, 0, 2)],
      [a0.key, outcome(5)],
    ]),
  );
  assert.deepEqual(r.keys, [b0.key]);
});

test('forgotten partitions leave the session; an emptied session closes', () => {
  const c = cache();
  const a0 = entry('a', 0);
  const a1 = entry('a', 1);
  const { sessionId } = open(c, [a0, a1]);
  let ctx = c.newContext({
    version: 12,
    sessionId,
    epoch: 1,
    entries: [],
    forgotten: [a0.key],
    privileged: false,
  });
  assert.deepEqual(
    c.targets(ctx).map((e) => e.key),
    [a1.key],
  );
  ctx = c.newContext({
    version: 12,
    sessionId,
    epoch: 2,
    entries: [],
    forgotten: [a1.key],
    privileged: false,
  });
  assert.equal(ctx.kind, 'sessionless');
  assert.equal(c.size, 0);
});

test('a full fetch naming a session closes it', () => {
  const c = cache();
  const { sessionId } = open(c, [entry('a', 0)]);
  const ctx = c.newContext({
    version: 12,
    sessionId,
    epoch: -1,
    entries: [entry('a', 0)],
    forgotten: [],
    privileged: false,
  });
  assert.equal(ctx.kind, 'sessionless');
  assert.equal(c.get(sessionId), undefined);
  const ctx2 = c.newContext({
    version: 12,
    sessionId,
    epoch: 1,
    entries: [],
    forgotten: [],
    privileged: false,
  });
  assert.deepEqual(ctx2, { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
});

test('topic-id sessions key partitions by id', () => {
  const c = cache();
  const id = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const e: FetchEntry = { ...entry('a', 0, 0, id), key: partitionKey(true, 'a', id, 0) };
  const { sessionId } = open(c, [e], 13);
  assert.equal(c.get(sessionId)!.usesTopicIds, true);
  const ctx = c.newContext({
    version: 13,
    sessionId,
    epoch: 1,
    entries: [],
    forgotten: [partitionKey(true, null, id, 0)],
    privileged: false,
  });
  assert.equal(ctx.kind, 'sessionless');
});

test('bounded cache: full cache creates no session until one is stale or less valuable', () => {
  const clock = { now: 0 };
  const c = cache(2, clock);
  const s1 = open(c, [entry('a', 0)]).sessionId;
  clock.now = 10;
  const s2 = open(c, [entry('a', 0), entry('a', 1)]).sessionId;
  assert.ok(s1 > 0 && s2 > 0);
  clock.now = 20;
  // Full, nothing stale or mature: no session.
  assert.equal(open(c, [entry('b', 0), entry('b', 1), entry('b', 2)]).sessionId, 0);
  // Once sessions are mature (older than the eviction time), a bigger session evicts the smallest.
  clock.now = 60_000;
  c.newContext({ version: 12, sessionId: s1, epoch: 1, entries: [], forgotten: [], privileged: false });
  c.newContext({ version: 12, sessionId: s2, epoch: 1, entries: [], forgotten: [], privileged: false });
  clock.now = 121_000;
  const s3 = open(c, [entry('b', 0), entry('b', 1), entry('b', 2)]).sessionId;
  assert.ok(s3 > 0);
  assert.equal(c.get(s1), undefined, 'smallest session evicted');
  assert.ok(c.get(s2));
  // A smaller newcomer does not evict a bigger mature session.
  clock.now = 122_000;
  c.newContext({ version: 12, sessionId: s2, epoch: 2, entries: [], forgotten: [], privileged: false });
  assert.equal(open(c, [entry('c', 0)]).sessionId, 0);
  // A stale session (idle longer than the eviction time) always makes room.
  clock.now = 122_000 + 120_001;
  const s4 = open(c, [entry('c', 0)]).sessionId;
  assert.ok(s4 > 0);
  assert.equal(c.size, 2);
  assert.equal(c.evictions, 2);
});

test('follower sessions evict consumer sessions', () => {
  const clock = { now: 0 };
  const c = cache(1, clock);
  const s1 = open(c, [entry('a', 0), entry('a', 1)]).sessionId;
  clock.now = 5;
  const f = open(c, [entry('a', 0)], 12, true).sessionId;
  assert.ok(f > 0);
  assert.equal(c.get(s1), undefined);
  assert.equal(c.get(f)!.privileged, true);
  // A consumer session cannot evict the (young) follower session.
  assert.equal(open(c, [entry('a', 0), entry('a', 1), entry('a', 2)]).sessionId, 0);
});

test('maxSlots 0 disables sessions', () => {
  const c = cache(0);
  assert.equal(open(c, [entry('a', 0)]).sessionId, 0);
});
