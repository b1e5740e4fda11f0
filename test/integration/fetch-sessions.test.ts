/**
 * Fetch sessions (KIP-227) over the wire: full and incremental fetches,
 * forgotten partitions, session errors, closing, topic-id sessions, and an
 * incremental long poll woken by a partition the request did not name.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { fetch, part } from '../helpers/fetch.ts';
import { appendRecords, createTopic, recordsOf } from '../helpers/log-data.ts';
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

const keysOf = (res: Awaited<ReturnType<typeof fetch>>) =>
  res.responses.flatMap((t) => t.partitions.map((p) => `${t.topic || t.topicId}-${p.partitionIndex}`));

test('full fetch opens a session; incremental fetches carry only what changed', async () => {
  await createTopic(b, 's1', 3);
  await appendRecords(b, 's1', 0, [{ value: 'a' }]);
  const all = [0, 1, 2].map((p) => ({ partition: p, offset: 0 }));
  const full = await fetch(c, 12, {
    sessionId: 0,
    sessionEpoch: 0,
    topics: [{ topic: 's1', partitions: all }],
  });
  assert.equal(full.errorCode, 0);
  const sessionId = full.sessionId!;
  assert.ok(sessionId > 0);
  assert.deepEqual(keysOf(full), ['s1-0', 's1-1', 's1-2']);
  assert.deepEqual(
    recordsOf(part(full, 's1', 0).records).map((r) => r.value),
    ['a'],
  );

  // The client moves p0 to offset 1; nothing new anywhere: empty response.
  let inc = await fetch(c, 12, {
    sessionId,
    sessionEpoch: 1,
    topics: [{ topic: 's1', partitions: [{ partition: 0, offset: 1 }] }],
  });
  assert.equal(inc.errorCode, 0);
  assert.equal(inc.sessionId, sessionId);
  assert.deepEqual(keysOf(inc), []);

  // New data on p2 (not named in the request): only p2 comes back.
  await appendRecords(b, 's1', 2, [{ value: 'b' }]);
  inc = await fetch(c, 12, { sessionId, sessionEpoch: 2, topics: [] });
  assert.deepEqual(keysOf(inc), ['s1-2']);
  assert.deepEqual(
    recordsOf(part(inc, 's1', 2).records).map((r) => r.value),
    ['b'],
  );

  // Forget p0: data on it is no longer fetched.
  await appendRecords(b, 's1', 0, [{ value: 'c' }]);
  inc = await fetch(c, 12, {
    sessionId,
    sessionEpoch: 3,
    topics: [{ topic: 's1', partitions: [{ partition: 2, offset: 1 }] }],
    forgotten: [{ topic: 's1', partitions: [0] }],
  });
  assert.deepEqual(keysOf(inc), []);

  // Errors: wrong epoch, unknown session.
  inc = await fetch(c, 12, { sessionId, sessionEpoch: 7, topics: [] });
  assert.equal(inc.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  assert.equal(inc.sessionId, 0);
  assert.deepEqual(inc.responses, []);
  inc = await fetch(c, 12, { sessionId: sessionId + 1, sessionEpoch: 1, topics: [] });
  assert.equal(inc.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

  // The session survived the errors; epoch 4 is next. Then close it with epoch -1.
  inc = await fetch(c, 12, { sessionId, sessionEpoch: 4, topics: [] });
  assert.equal(inc.errorCode, 0);
  const closing = await fetch(c, 12, {
    sessionId,
    sessionEpoch: -1,
    topics: [{ topic: 's1', partitions: [{ partition: 1, offset: 0 }] }],
  });
  assert.equal(closing.sessionId, 0);
  assert.deepEqual(keysOf(closing), ['s1-1']);
  inc = await fetch(c, 12, { sessionId, sessionEpoch: 5, topics: [] });
  assert.equal(inc.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
});

test('incremental long poll wakes on any session partition', async () => {
  await createTopic(b, 's2', 2);
  const full = await fetch(c, 12, {
    sessionEpoch: 0,
    topics: [{ topic: 's2', partitions: [0, 1].map((p) => ({ partition: p, offset: 0 })) }],
  });
  const sessionId = full.sessionId!;
  const pending = fetch(c, 12, { sessionId, sessionEpoch: 1, maxWaitMs: 10_000, topics: [] });
  const t0 = Date.now();
  while (b.broker.replicas.fetches.purgatory.size === 0) {
    if (Date.now() - t0 > 3000) throw new Error('fetch never waited');
    await new Promise((r) => setTimeout(r, 2));
  }
  await appendRecords(b, 's2', 1, [{ value: 'late' }]);
  const inc = await pending;
  assert.deepEqual(keysOf(inc), ['s2-1']);
  assert.ok(Date.now() - t0 < 3000);
});

test('topic-id sessions (v13+) name partitions by id, forget by id', async () => {
  await createTopic(b, 's3', 2);
  const id = b.broker.topics.get('s3')!.topicId;
  const full = await fetch(c, 13, {
    sessionEpoch: 0,
    topics: [{ topicId: id, partitions: [0, 1].map((p) => ({ partition: p, offset: 0 })) }],
  });
  const sessionId = full.sessionId!;
  assert.ok(sessionId > 0);
  assert.deepEqual(keysOf(full), [`${id}-0`, `${id}-1`]);
  await appendRecords(b, 's3', 0, [{ value: 'x' }]);
  await appendRecords(b, 's3', 1, [{ value: 'y' }]);
  let inc = await fetch(c, 13, {
    sessionId,
    sessionEpoch: 1,
    topics: [],
    forgotten: [{ topicId: id, partitions: [1] }],
  });
  assert.deepEqual(keysOf(inc), [`${id}-0`]);
  // A session opened with ids cannot continue by name.
  inc = await fetch(c, 12, { sessionId, sessionEpoch: 2, topics: [] });
  assert.equal(inc.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
});

test('sessionless fetches (epoch -1, as kafkajs and librdkafka send) never create sessions', async () => {
  await createTopic(b, 's4');
  const before = b.broker.replicas.fetches.sessions.size;
  const res = await fetch(c, 11, {
    sessionEpoch: -1,
    topics: [{ topic: 's4', partitions: [{ partition: 0, offset: 0 }] }],
  });
  assert.equal(res.sessionId, 0);
  assert.equal(b.broker.replicas.fetches.sessions.size, before);
});

test('max.incremental.fetch.session.cache.slots bounds the session cache', async () => {
  const b2 = await startBroker({ config: { 'max.incremental.fetch.session.cache.slots': 1 } });
  const c2 = await RawClient.connect(b2.bootstrapServers);
  try {
    await createTopic(b2, 'slots');
    const full = () =>
      fetch(c2, 12, {
        sessionEpoch: 0,
        topics: [{ topic: 'slots', partitions: [{ partition: 0, offset: 0 }] }],
      });
    const first = await full();
    assert.ok(first.sessionId! > 0);
    const second = await full();
    assert.equal(second.sessionId, 0, 'cache full: answered without a session');
    assert.equal(b2.broker.replicas.fetches.sessions.size, 1);
  } finally {
    c2.close();
    await b2.stop();
  }
});
