/**
 * Shared helpers for produce tests: hand-built batches, raw Produce requests,
 * reading a partition log back directly from storage, a quiet kafkajs client.
 */
import kafkajs from 'kafkajs';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  recordTimestamp,
  updateBatchCrc,
} from '../../src/protocol/records/record-batch.ts';
import type { TestBroker } from '../../src/testing/index.ts';
import type { RawClient } from './raw-client.ts';

const { Kafka, logLevel } = kafkajs;

export const PRODUCE = 0;

export function batch(
  records: RecordInput[] = [{ key: Buffer.from('k'), value: Buffer.from('v') }],
  opts: Partial<Parameters<typeof encodeRecordBatch>[0]> = {},
): Buffer {
  return encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records, ...opts });
}

/** Rewrites header bytes with `fn`, then fixes the CRC (unless told not to). */
export function patch(buf: Buffer, fn: (b: Buffer) => void, fixCrc = true): Buffer {
  const b = Buffer.from(buf);
  fn(b);
  if (fixCrc) updateBatchCrc(b);
  return b;
}

export function produceBody(topic: string, records: Buffer | null, acks = 1, partition = 0) {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

export async function produce(c: RawClient, topic: string, records: Buffer | null, version = 9, acks = 1) {
  const res = await c.request(PRODUCE, version, produceBody(topic, records, acks));
  return res.responses[0].partitionResponses[0];
}

export interface LoggedRecord {
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
  timestamp: number;
  producerId: number;
  baseSequence: number;
  attributes: number;
}

/** Every record in a partition log, read straight from storage. */
export async function readPartition(
  b: TestBroker,
  topic: string,
  partition: number,
): Promise<LoggedRecord[]> {
  const p = b.broker.replicas.get(topic, partition);
  if (!p) throw new Error(`no partition ${topic}-${partition}`);
  const out: LoggedRecord[] = [];
  let offset = p.log.logStartOffset;
  for (let i = 0; i < 10_000 && offset < p.log.logEndOffset; i++) {
    const r = await p.log.read(offset, 1 << 20);
    if (r.batches.length === 0) break;
    for (const buf of r.batches) {
      const d = decodeRecordBatch(buf);
      for (const rec of d.records) {
        const headers: Record<string, string | null> = {};
        for (const h of rec.headers) headers[h.key] = h.value?.toString() ?? null;
        out.push({
          offset: Number(d.header.baseOffset) + rec.offsetDelta,
          key: rec.key?.toString() ?? null,
          value: rec.value?.toString() ?? null,
          headers,
          timestamp: Number(recordTimestamp(d.header, rec)),
          producerId: Number(d.header.producerId),
          baseSequence: d.header.baseSequence,
          attributes: d.header.attributes,
        });
      }
    }
    offset = r.nextOffset;
  }
  return out;
}

export function kafkaFor(b: TestBroker, clientId = 'produce-test') {
  return new Kafka({
    clientId,
    brokers: [b.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 500 },
  });
}
