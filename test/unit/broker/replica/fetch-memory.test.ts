/**
 * FetchManager and the broker's response memory (queued.max.request.bytes):
 * concurrent fetches whose reads really wait (a log read that yields, as a
 * cold file read may) reserve each read before it, so together they stay
 * within the room left plus one batch each (KIP-74), and never more than
 * one batch is served past an empty budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FetchManager } from '../../../../src/broker/replica/fetch.ts';
import type { HostedPartition } from '../../../../src/broker/replica/partition-lookup.ts';
import type { PartitionInfo, TopicInfo } from '../../../../src/metadata/model.ts';
import { recordsBuffer } from '../../../../src/protocol/primitives/records-list.ts';
import type { PartitionLog } from '../../../../src/storage/engine.ts';
import { MemoryLogEngine } from '../../../../src/storage/memory/engine.ts';
import { fetchBody } from '../../../helpers/fetch.ts';
import { batchCount, batchOf } from '../../../helpers/log-data.ts';

const KiB = 1024;
const PARTITIONS = 4;
const BATCH_VALUE = 100 * KiB;

/** A log whose reads yield to the event loop before answering. */
function slowReads(log: PartitionLog): PartitionLog {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'read') {
        return async (...args: Parameters<PartitionLog['read']>) => {
          await new Promise((r) => setTimeout(r, 5));
          return target.read(...args);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value, target);
    },
  });
}

async function manager(): Promise<{ fm: FetchManager; engine: MemoryLogEngine }> {
  const engine = new MemoryLogEngine();
  const infos: PartitionInfo[] = [];
  const hosted: HostedPartition[] = [];
  for (let n = 0; n < PARTITIONS; n++) {
    const log = await engine.openLog('t', n);
    for (let i = 0; i < 8; i++)
      await log.append(batchOf([{ value: Buffer.alloc(BATCH_VALUE, 0x61 + n) }]), { leaderEpoch: 0 });
    log.highWatermark = log.logEndOffset;
    const info = {
      partition: n,
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    };
    infos.push(info);
    hosted.push({
      topic: 't',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
      partition: n,
      log: slowReads(log),
      leaderEpoch: 0,
      info,
      addAppendListener: () => {},
      removeAppendListener: () => {},
      notifyAppended: () => {},
    });
  }
  const topic: TopicInfo = {
    name: 't',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    internal: false,
    partitions: infos,
    configs: {},
  };
  const fm = new FetchManager({
    partitions: { get: (t, n) => (t === 't' ? hosted[n] : undefined) },
    topics: {
      get: (n) => (n === 't' ? topic : undefined),
      getById: (id) => (id === topic.topicId ? topic : undefined),
    },
    nodeId: 1,
    fetchMaxBytes: () => 50 << 20,
    sessionCacheSlots: 10,
  });
  return { fm, engine };
}

/** A response memory like the connection's: a cap, what is reserved, its peak. */
function memory(cap: number) {
  const m = {
    used: 0,
    peak: 0,
    available: () => Math.max(0, cap - m.used),
    reserve: (delta: number) => {
      m.used += delta;
      m.peak = Math.max(m.peak, m.used);
    },
  };
  return m;
}

const everything = fetchBody({
  topics: [
    {
      topic: 't',
      partitions: Array.from({ length: PARTITIONS }, (_, p) => ({
        partition: p,
        offset: 0,
        maxBytes: 50 << 20,
      })),
    },
  ],
  maxBytes: 50 << 20,
});

function recordBytes(res: Awaited<ReturnType<FetchManager['fetch']>>): { bytes: number; batches: number } {
  let bytes = 0;
  let batches = 0;
  for (const t of res.responses) {
    for (const p of t.partitions) {
      const b = recordsBuffer(p.records!);
      bytes += b.length;
      batches += batchCount(b);
    }
  }
  return { bytes, batches };
}

test('concurrent fetches with yielding reads stay within the response memory plus one batch each', async () => {
  const { fm, engine } = await manager();
  try {
    const cap = 1024 * KiB;
    const mem = memory(cap);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => fm.fetch(everything, { apiVersion: 12, responseMemory: mem })),
    );
    const got = results.map(recordBytes);
    const batch = BATCH_VALUE + 100;
    assert.ok(mem.peak <= cap + 4 * batch, `reserved at most ${mem.peak} bytes against ${cap}`);
    assert.equal(
      mem.used,
      got.reduce((n, g) => n + g.bytes, 0),
      'reservations trued up to what the responses carry',
    );
    for (const g of got) assert.ok(g.batches >= 1, 'every fetch gets at least one batch');
    // Without a response memory the same four fetches take everything: 4 x 3.2 MB.
    const free = await Promise.all(Array.from({ length: 4 }, () => fm.fetch(everything, { apiVersion: 12 })));
    assert.ok(free.every((r) => recordBytes(r).batches === PARTITIONS * 8));
  } finally {
    await engine.close();
  }
});

test('an empty budget still serves one batch (KIP-74) and answers at once', async () => {
  const { fm, engine } = await manager();
  try {
    const mem = memory(0);
    const body = { ...everything, minBytes: 10 << 20, maxWaitMs: 5000 };
    const t0 = Date.now();
    const res = await fm.fetch(body, { apiVersion: 12, responseMemory: mem });
    assert.equal(recordBytes(res).batches, 1);
    assert.ok(Date.now() - t0 < 1000, 'no long poll for bytes that could not be held anyway');
  } finally {
    await engine.close();
  }
});
