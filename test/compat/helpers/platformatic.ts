/**
 * @platformatic/kafka in-process: client factories with string serde and a
 * group-less reader built on the client's own Consumer.fetch (Fetch v12+ by
 * topic id), so reading back does not depend on consumer groups.
 */
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { ReadRecord } from './records.ts';

const common = (bootstrap: string) => ({
  clientId: 'samsa-compat-platformatic',
  bootstrapBrokers: [bootstrap],
  connectTimeout: 3000,
  timeout: 10_000,
  retries: 3,
  retryDelay: 100,
});

export function pltAdmin(bootstrap: string): Admin {
  return new Admin(common(bootstrap));
}

export function pltProducer(bootstrap: string, extra: Record<string, unknown> = {}) {
  return new Producer({ ...common(bootstrap), serializers: stringSerializers, ...extra });
}

export function pltConsumer(bootstrap: string, groupId: string, extra: Record<string, unknown> = {}) {
  return new Consumer({ ...common(bootstrap), groupId, deserializers: stringDeserializers, ...extra });
}

/**
 * Reads a partition from `from` (or the log start) with Consumer.fetch until
 * `count` records or the high watermark. Offsets and timestamps are rebuilt
 * from the batch base values plus the record deltas, as the client reports them.
 */
export async function pltRead(
  bootstrap: string,
  topic: string,
  opts: { partition?: number; from?: number | 'beginning'; count?: number; timeoutMs?: number } = {},
): Promise<{ records: ReadRecord[]; highWatermark: number; logStartOffset: number }> {
  const consumer = new Consumer({ ...common(bootstrap), groupId: `samsa-compat-reader-${process.pid}` });
  const partition = opts.partition ?? 0;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  try {
    const md = await consumer.metadata({ topics: [topic] });
    const t = md.topics.get(topic);
    if (!t) throw new Error(`no metadata for ${topic}`);
    const node = t.partitions[partition]!.leader;
    let offset: number;
    if (opts.from === undefined || opts.from === 'beginning') {
      const offs = await consumer.listOffsets({ topics: [topic], timestamp: -2n });
      offset = Number(offs.get(topic)![partition]);
    } else offset = opts.from;
    const records: ReadRecord[] = [];
    let hw = -1;
    let logStart = -1;
    for (;;) {
      const res = await consumer.fetch({
        node,
        maxWaitTime: 50,
        topics: [
          {
            topicId: t.id,
            partitions: [
              {
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: BigInt(offset),
                lastFetchedEpoch: -1,
                partitionMaxBytes: 4 << 20,
              },
            ],
          },
        ],
      });
      const p = res.responses[0]!.partitions[0]!;
      if (p.errorCode !== 0) throw new Error(`platformatic fetch: error code ${p.errorCode}`);
      hw = Number(p.highWatermark);
      logStart = Number(p.logStartOffset);
      let got = 0;
      for (const batch of p.records ?? []) {
        if (batch.attributes & 0x20) continue; // control batch
        for (const r of batch.records) {
          const o = Number(batch.firstOffset) + r.offsetDelta;
          if (o < offset) continue;
          got++;
          records.push({
            offset: o,
            key: r.key === null || r.key === undefined ? null : r.key.toString(),
            value: r.value === null || r.value === undefined ? null : r.value.toString(),
            headers: r.headers.map(([k, v]) => [String(k ?? ''), String(v ?? '')] as [string, string]),
            timestamp: Number(batch.firstTimestamp + r.timestampDelta),
          });
          offset = o + 1;
        }
        offset = Math.max(offset, Number(batch.firstOffset) + batch.lastOffsetDelta + 1);
      }
      if (opts.count !== undefined && records.length >= opts.count) break;
      if (opts.count === undefined && offset >= hw) break;
      if (Date.now() > deadline) break;
      if (got === 0) await new Promise((r) => setTimeout(r, 50));
    }
    return { records, highWatermark: hw, logStartOffset: logStart };
  } finally {
    await consumer.close(true);
  }
}
