/**
 * FetchManager over real partition logs without a broker: record bytes from
 * the file engine reach the response encoder as references (no copy).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FetchManager } from '../../../../src/broker/replica/fetch.ts';
import type { HostedPartition } from '../../../../src/broker/replica/partition-lookup.ts';
import type { TopicInfo } from '../../../../src/metadata/model.ts';
import { encodeResponseChunks } from '../../../../src/protocol/frames.ts';
import type { LogEngine } from '../../../../src/storage/engine.ts';
import { FileLogEngine } from '../../../../src/storage/file/engine.ts';
import { MemoryLogEngine } from '../../../../src/storage/memory/engine.ts';
import { fetchBody, part } from '../../../helpers/fetch.ts';
import { batchCount, batchOf, recordsOf } from '../../../helpers/log-data.ts';

async function managerOver(engine: LogEngine) {
  const log = await engine.openLog('t', 0);
  const info = {
    partition: 0,
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
  };
  const topic: TopicInfo = {
    name: 't',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    internal: false,
    partitions: [info],
    configs: {},
  };
  const listeners = new Set<() => void>();
  const p: HostedPartition = {
    topic: 't',
    topicId: topic.topicId,
    partition: 0,
    log,
    leaderEpoch: 0,
    info,
    addAppendListener: (fn) => listeners.add(fn),
    removeAppendListener: (fn) => listeners.delete(fn),
    notifyAppended: () => {
      for (const fn of [...listeners]) fn();
    },
  };
  const fm = new FetchManager({
    partitions: { get: (t, n) => (t === 't' && n === 0 ? p : undefined) },
    topics: {
      get: (n) => (n === 't' ? topic : undefined),
      getById: (id) => (id === topic.topicId ? topic : undefined),
    },
    nodeId: 1,
    fetchMaxBytes: () => 50 << 20,
    sessionCacheSlots: 10,
  });
  for (let i = 0; i < 4; i++)
    await log.append(batchOf([{ value: String(i).repeat(8000) }]), { leaderEpoch: 0 });
  log.highWatermark = log.logEndOffset;
  return fm;
}

async function fetchAll(fm: FetchManager) {
  const res = await fm.fetch(
    fetchBody({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: 0 }] }] }),
    {
      apiVersion: 12,
    },
  );
  const records = part(res, 't', 0).records!;
  assert.equal(batchCount(records), 4);
  assert.deepEqual(
    recordsOf(records).map((r) => r.value![0]),
    ['0', '1', '2', '3'],
  );
  const chunks = encodeResponseChunks(1, 12, 7, res);
  const referenced = chunks.some(
    (ch) =>
      ch.buffer === records.buffer && ch.byteOffset === records.byteOffset && ch.length === records.length,
  );
  return referenced;
}

test('file engine: a partition read is one view that the encoder references', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-fetch-'));
  const engine = await FileLogEngine.open({ dirs: [dir], background: false });
  try {
    assert.equal(await fetchAll(await managerOver(engine)), true);
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory engine: batches are joined into one buffer that the encoder references', async () => {
  const engine = new MemoryLogEngine();
  try {
    assert.equal(await fetchAll(await managerOver(engine)), true);
  } finally {
    await engine.close();
  }
});
