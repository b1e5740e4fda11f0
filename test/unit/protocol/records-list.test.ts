/**
 * RecordsList: a `records` field of a response given as several buffers is
 * encoded byte-for-byte as the concatenated Buffer would be, with its large
 * chunks referenced (not copied) in the output chunks; decoders return a Buffer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeResponseFrame, encodeResponseChunks } from '../../../src/protocol/frames.ts';
import type { FetchResponse } from '../../../src/protocol/generated/messages/fetch-response.ts';
import { RecordsList, recordsBuffer } from '../../../src/protocol/primitives/records-list.ts';

function fetchResponse(records: Buffer | RecordsList | null): FetchResponse<Buffer | RecordsList> {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 10n,
            lastStableOffset: 10n,
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          },
          {
            partitionIndex: 1,
            errorCode: 0,
            highWatermark: 0n,
            lastStableOffset: 0n,
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: Buffer.from('tail'),
          },
        ],
      },
    ],
    nodeEndpoints: [],
  };
}

const concat = (chunks: Buffer[]) => Buffer.concat(chunks);

test('a RecordsList encodes exactly as its concatenation, in every Fetch version', () => {
  const parts = [randomBytes(10), randomBytes(5000), randomBytes(1), randomBytes(70_000), randomBytes(300)];
  const list = new RecordsList(parts);
  const joined = Buffer.concat(parts);
  assert.equal(list.length, joined.length);
  for (let v = 4; v <= 17; v++) {
    const a = concat(encodeResponseChunks(1, v, 9, fetchResponse(list)));
    const b = concat(encodeResponseChunks(1, v, 9, fetchResponse(joined)));
    assert.deepEqual(a, b, `v${v}`);
    const decoded = decodeResponseFrame(1, v, a.subarray(4)).body as FetchResponse;
    const p = decoded.responses[0]!.partitions[0]!;
    assert.ok(Buffer.isBuffer(p.records));
    assert.deepEqual(p.records, joined);
  }
});

test('large chunks of a RecordsList are referenced by the output, small ones copied', () => {
  const big1 = randomBytes(20_000);
  const big2 = randomBytes(8192);
  const small = randomBytes(100);
  const chunks = encodeResponseChunks(1, 12, 1, fetchResponse(new RecordsList([big1, small, big2])));
  assert.ok(chunks.includes(big1));
  assert.ok(chunks.includes(big2));
  assert.ok(!chunks.includes(small));
});

test('empty and null records, and recordsBuffer', () => {
  for (const v of [4, 12]) {
    const empty = concat(encodeResponseChunks(1, v, 1, fetchResponse(new RecordsList([]))));
    assert.deepEqual(empty, concat(encodeResponseChunks(1, v, 1, fetchResponse(Buffer.alloc(0)))));
    const none = decodeResponseFrame(
      1,
      v,
      concat(encodeResponseChunks(1, v, 1, fetchResponse(null))).subarray(4),
    ).body as FetchResponse;
    assert.equal(none.responses[0]!.partitions[0]!.records, null);
  }
  const one = Buffer.from('abc');
  assert.equal(recordsBuffer(new RecordsList([one])), one);
  assert.deepEqual(recordsBuffer(new RecordsList([one, Buffer.from('de')])), Buffer.from('abcde'));
  assert.equal(recordsBuffer(one), one);
  assert.equal(recordsBuffer(null), null);
});
