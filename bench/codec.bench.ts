/**
 * Codec throughput: a Produce request and a Fetch response each carrying
 * 1 MiB of records in 16 KiB batches. Reported as MB/s of frame bytes and as
 * a ratio to a plain Buffer copy of the same number of bytes (ratio > 1 means
 * faster than copying; record bytes are sliced/referenced, not copied).
 */
import { randomBytes } from 'node:crypto';
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseChunks,
  encodeResponseFrame,
} from '../src/protocol/index.ts';
import { fmt, mbps, timeIt } from './util.ts';

const BATCH = 16 * 1024;
const TOTAL = 1024 * 1024;

export async function run(): Promise<void> {
  const batches = Array.from({ length: TOTAL / BATCH }, () => randomBytes(BATCH));

  const produceBody = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: 'bench', partitionData: batches.map((records, index) => ({ index, records })) }],
  };
  const header = { requestApiKey: 0, requestApiVersion: 9, correlationId: 1, clientId: 'bench' };
  const produceFrame = encodeRequestFrame(header, produceBody);

  const fetchBody = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: '',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
        partitions: [0, 1, 2, 3].map((partitionIndex) => ({
          partitionIndex,
          errorCode: 0,
          highWatermark: 1000n,
          lastStableOffset: 1000n,
          logStartOffset: 0n,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: Buffer.concat(batches.slice(partitionIndex * 16, partitionIndex * 16 + 16)),
        })),
      },
    ],
  };
  const fetchFrame = encodeResponseFrame(1, 16, { correlationId: 1 }, fetchBody);

  const copyDst = Buffer.allocUnsafe(produceFrame.length);
  const tCopy = timeIt(() => produceFrame.copy(copyDst));
  const copyMBps = mbps(produceFrame.length, tCopy);
  const pieces = batches.slice();
  const tAlloc = timeIt(() => Buffer.concat(pieces));
  const allocMBps = mbps(produceFrame.length, tAlloc);
  console.log(
    `baseline A, Buffer copy into a preallocated buffer (${produceFrame.length} bytes): ${fmt(copyMBps, 0)} MB/s`,
  );
  console.log(`baseline B, Buffer.concat of the 16 KiB batches (allocate + copy): ${fmt(allocMBps, 0)} MB/s`);

  const rows: [string, number, number][] = [];
  const add = (name: string, bytes: number, fn: () => void) => {
    const s = timeIt(fn);
    rows.push([name, mbps(bytes, s), s]);
  };
  add('Produce v9 request decode', produceFrame.length, () => decodeRequestFrame(produceFrame));
  add('Produce v9 request encode (contiguous)', produceFrame.length, () =>
    encodeRequestFrame(header, produceBody),
  );
  add('Fetch v16 response decode', fetchFrame.length, () => decodeResponseFrame(1, 16, fetchFrame));
  add('Fetch v16 response encode (contiguous)', fetchFrame.length, () =>
    encodeResponseFrame(1, 16, { correlationId: 1 }, fetchBody),
  );
  add('Fetch v16 response encode (chunks for writev)', fetchFrame.length, () =>
    encodeResponseChunks(1, 16, 1, fetchBody),
  );
  for (const [name, rate, s] of rows) {
    console.log(
      `${name.padEnd(48)} ${fmt(rate, 0).padStart(8)} MB/s  ${fmt(s * 1e6, 1).padStart(8)} us/op  vs A ${fmt(rate / copyMBps, 2)}  vs B ${fmt(rate / allocMBps, 2)}`,
    );
  }
}
