/**
 * Record batches written by real clients (the Produce requests under
 * test/golden/captures: kcat/librdkafka, confluent-kafka-python, kafka-python,
 * kafkajs, @platformatic/kafka, one topic per codec). Every batch must pass
 * the CRC and decode; re-encoding its records must give the client's
 * (decompressed) record bytes exactly, and an uncompressed batch must
 * re-encode to the very same batch.
 *
 * What the captures show the clients write: snappy is raw except
 * kafka-python (xerial framing); lz4 frames are FLG 0x60 (independent blocks)
 * with 64 KiB blocks, kafka-python adds the content size (FLG 0x68); zstd
 * frames come with (librdkafka: without) a declared content size.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeRequestFrame } from '../../../../src/protocol/index.ts';
import { ATTR_COMPRESSION_MASK } from '../../../../src/protocol/records/batch-header.ts';
import { decompress } from '../../../../src/protocol/records/compression.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../../../src/protocol/records/record-batch.ts';
import { splitBatches } from '../../../../src/protocol/records/split.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../golden/captures');
const clients = existsSync(root) ? readdirSync(root) : [];

describe('batches from real clients', { skip: clients.length === 0 ? 'no captures' : false }, () => {
  for (const client of clients) {
    test(client, () => {
      const codecs = new Set<number>();
      const files = readdirSync(join(root, client)).filter((f) => /-Produce-v\d+\.request\.bin$/.test(f));
      for (const file of files) {
        const req = decodeRequestFrame(readFileSync(join(root, client, file)));
        for (const topic of req.body.topicData) {
          for (const partition of topic.partitionData) {
            const records = partition.records as Buffer | null;
            if (!records) continue;
            const split = splitBatches(records);
            assert.equal(split.partialBytes, 0, `${file}: partial batch`);
            for (const span of split.batches) {
              const batch: Buffer = records.subarray(span.offset, span.offset + span.size);
              const { header, records: decoded } = decodeRecordBatch(batch);
              const codec = header.attributes & ATTR_COMPRESSION_MASK;
              codecs.add(codec);
              assert.equal(decoded.length, header.recordCount);
              const again = encodeRecordBatch({
                baseOffset: header.baseOffset,
                partitionLeaderEpoch: header.partitionLeaderEpoch,
                attributes: header.attributes,
                baseTimestamp: header.baseTimestamp,
                maxTimestamp: header.maxTimestamp,
                producerId: header.producerId,
                producerEpoch: header.producerEpoch,
                baseSequence: header.baseSequence,
                lastOffsetDelta: header.lastOffsetDelta,
                records: decoded,
              });
              const inner: Buffer =
                codec === 0 ? batch.subarray(61) : decompress(codec, batch.subarray(61), 1 << 26);
              assert.deepEqual(again.subarray(61), inner, `${file}: records re-encode differently`);
              if (codec === 0) assert.deepEqual(again, batch, `${file}: batch re-encodes differently`);
            }
          }
        }
      }
      assert.deepEqual([...codecs].sort(), [0, 1, 2, 3, 4], `${client}: expected a batch in every codec`);
    });
  }
});
