/**
 * Direct protocol calls for fault tests (topic creation, log end offsets,
 * exact-offset fetches, raw produce), over the test RawClient with every
 * call bounded. Used to check what the broker serves independently of the
 * recording clients.
 */
import { decodeRecordBatch } from '../../../src/protocol/records/record-batch.ts';
import { fetch, part } from '../../helpers/fetch.ts';
import { RawClient } from '../../helpers/raw-client.ts';

export async function withClient<T>(bootstrap: string, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(bootstrap, 3000);
  c.timeoutMs = 10_000;
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export async function createTopic(
  bootstrap: string,
  name: string,
  numPartitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  await withClient(bootstrap, async (c) => {
    const r = await c.request(19, 4, {
      topics: [
        {
          name,
          numPartitions,
          replicationFactor: 1,
          assignments: [],
          configs: Object.entries(configs).map(([k, value]) => ({ name: k, value })),
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    const code = r.topics[0].errorCode;
    if (code !== 0) throw new Error(`CreateTopics ${name}: error ${code} ${r.topics[0].errorMessage ?? ''}`);
  });
}

/** ListOffsets (v4) earliest and latest of one partition; throws on an error code. */
export async function offsetsOf(
  bootstrap: string,
  topic: string,
  partition: number,
): Promise<{ earliest: number; latest: number }> {
  return withClient(bootstrap, async (c) => {
    const one = async (timestamp: bigint) => {
      const r = await c.request(2, 4, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          { name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] },
        ],
      });
      const p = r.topics[0].partitions[0];
      if (p.errorCode !== 0) throw new Error(`ListOffsets ${topic}-${partition}: error ${p.errorCode}`);
      return Number(p.offset);
    };
    return { earliest: await one(-2n), latest: await one(-1n) };
  });
}

export interface FetchedAt {
  errorCode: number;
  highWatermark: number;
  /** Base offset of the first batch returned. */
  firstBatchBase?: number;
  /** The record at exactly the requested offset (undefined: not in the first batch). */
  value?: string | null;
}

/** Fetch (v11) at one offset with a small byte budget: the first batch must hold that offset. */
export async function fetchAt(
  c: RawClient,
  topic: string,
  partition: number,
  offset: number,
): Promise<FetchedAt> {
  const res = await fetch(c, 11, {
    topics: [{ topic, partitions: [{ partition, offset, maxBytes: 1 }] }],
    maxWaitMs: 0,
    maxBytes: 1,
  });
  const p = part(res, topic, partition);
  const out: FetchedAt = { errorCode: p.errorCode, highWatermark: Number(p.highWatermark) };
  if (p.errorCode !== 0 || !p.records || p.records.length === 0) return out;
  const d = decodeRecordBatch(p.records);
  out.firstBatchBase = Number(d.header.baseOffset);
  for (const r of d.records) {
    if (out.firstBatchBase + r.offsetDelta === offset) out.value = r.value?.toString('utf8') ?? null;
  }
  return out;
}
