/**
 * FetchManager over real partition logs without a broker: record bytes from
 * either engine reach the response encoder as references (no copy): one view
 * for batches adjacent in memory, a RecordsList of views otherwise.
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
import { RecordsList, recordsBuffer } from '../../../../src/protocol/primitives/records-list.ts';
import type { LogEngine } from '../../../../src/storage/engine.ts';
import { FileLogEngine } from '../../../../src/storage/file/engine.ts';
import { MemoryLogEngine } from '../../../../src/storage/memory/engine.ts';
import { fetchBody } from '../../../helpers/fetch.ts';
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

/** Fetches everything; returns how the records came (views) and whether the encoder references them all. */
async function fetchAll(fm: FetchManager) {
  const res = await fm.fetch(
    fetchBody({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: 0 }] }] }),
    {
      apiVersion: 12,
    },
  );
  const p = res.responses[0]!.partitions[0]!;
  const records = recordsBuffer(p.records!);
  assert.equal(batchCount(records), 4);
  assert.deepEqual(
    recordsOf(records).map((r) => r.value![0]),
    ['0', '1', '2', '3'],
  );
  const views = p.records instanceof RecordsList ? [...p.records.chunks] : [p.records!];
  const chunks = encodeResponseChunks(1, 12, 7, res);
  const same = (a: Buffer, b: Buffer) =>
    a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
  const referenced = views.every((v) => chunks.some((ch) => same(ch, v)));
  return { list: p.records instanceof RecordsList, views: views.length, referenced };
}

test('file engine: a partition read is one view that the encoder references', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-fetch-'));
  const engine = await FileLogEngine.open({ dirs: [dir], background: false });
  try {
    assert.deepEqual(await fetchAll(await managerOver(engine)), { list: false, views: 1, referenced: true });
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory engine: batches from several slabs go out as a RecordsList of views the encoder references', async () => {
  const engine = new MemoryLogEngine();
  try {
    // 8 KB batches: the first two slabs hold one each, the third the other two
    assert.deepEqual(await fetchAll(await managerOver(engine)), { list: true, views: 3, referenced: true });
  } finally {
    await engine.close();
  }
});
