/**
 * Test data straight into a broker's partition logs (no Produce needed):
 * builds v2 batches, appends them as the leader, moves the high watermark
 * and wakes long-polling fetches, as the produce path does.
 */

import { batchSizeAt } from '../../src/protocol/records/batch-header.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
} from '../../src/protocol/records/record-batch.ts';
import type { TestBroker } from '../../src/testing/index.ts';

export async function createTopic(
  b: TestBroker,
  name: string,
  numPartitions = 1,
  configs: Record<string, string> = {},
) {
  return b.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs });
}

export interface AppendSpec {
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: { key: string; value: Buffer | null }[];
  /** Absolute timestamp (ms); defaults to now. */
  timestamp?: number;
}

const bytes = (v: string | Buffer | null | undefined) =>
  v == null ? null : typeof v === 'string' ? Buffer.from(v) : v;

/** Encodes one batch of records (timestamps relative to the first). */
export function batchOf(records: AppendSpec[], now = Date.now()): Buffer {
  const base = records[0]?.timestamp ?? now;
  const input: RecordInput[] = records.map((r, i) => ({
    offsetDelta: i,
    timestampDelta: (r.timestamp ?? now) - base,
    key: bytes(r.key),
    value: bytes(r.value),
    headers: r.headers ?? [],
  }));
  return encodeRecordBatch({ baseTimestamp: BigInt(base), records: input });
}

/** Appends one batch per call as the leader; returns the base offset. */
export async function appendBatch(
  b: TestBroker,
  topic: string,
  partition: number,
  batch: Buffer,
): Promise<number> {
  const p = b.broker.replicas.get(topic, partition);
  if (!p) throw new Error(`partition ${topic}-${partition} is not hosted`);
  const r = await p.log.append(batch, { leaderEpoch: p.leaderEpoch });
  p.log.highWatermark = p.log.logEndOffset;
  p.notifyAppended();
  return r.baseOffset;
}

export async function appendRecords(
  b: TestBroker,
  topic: string,
  partition: number,
  records: AppendSpec[],
): Promise<number> {
  return appendBatch(b, topic, partition, batchOf(records));
}

export interface ReadRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
}

/** Decodes every record of the whole batches in a fetch response's `records`. */
export function recordsOf(buf: Buffer | null | undefined): ReadRecord[] {
  const out: ReadRecord[] = [];
  if (!buf) return out;
  let pos = 0;
  while (pos + 12 <= buf.length) {
    const size = batchSizeAt(buf, pos);
    if (pos + size > buf.length) throw new Error(`partial batch at ${pos} in a fetch response`);
    const { header, records } = decodeRecordBatch(buf, { offset: pos });
    for (const r of records) {
      out.push({
        offset: Number(header.baseOffset) + r.offsetDelta,
        timestamp: Number(header.baseTimestamp) + r.timestampDelta,
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
      });
    }
    pos += size;
  }
  return out;
}

/** Number of whole batches in a fetch response's `records`. */
export function batchCount(buf: Buffer | null | undefined): number {
  let n = 0;
  let pos = 0;
  while (buf && pos + 12 <= buf.length) {
    pos += batchSizeAt(buf, pos);
    n++;
  }
  return n;
}
