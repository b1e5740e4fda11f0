/**
 * Validation of the records a client sends in a Produce request, with the
 * error codes Apache Kafka 4 answers (checked against ProduceRequest.
 * validateRecords, UnifiedLog.analyzeAndValidateRecords and LogValidator):
 *
 *   no complete batch, magic != 2, more than one batch   INVALID_RECORD (87)
 *   batch size field below 14 (Kafka's minimum)          CORRUPT_MESSAGE (2)
 *   zstd on Produce v3-v6                                UNSUPPORTED_COMPRESSION_TYPE (76)
 *   baseOffset != 0                                      INVALID_RECORD
 *   batch larger than max.message.bytes                  MESSAGE_TOO_LARGE (10)
 *   bad CRC (or a header too short to hold one)          CORRUPT_MESSAGE
 *   lastOffsetDelta+1 <= 0, count <= 0, or they differ   INVALID_RECORD
 *   control bit set                                      INVALID_RECORD
 *   producer id >= 0 with a negative base sequence       INVALID_RECORD
 *   record framing wrong / count lies                    INVALID_RECORD
 *   keyless record on a compacted topic                  INVALID_RECORD + recordErrors
 *   timestamp outside message.timestamp.before/after     INVALID_TIMESTAMP (32) + recordErrors
 *   LogAppendTime bit from a producer                    INVALID_TIMESTAMP + recordErrors
 *   batch larger than segment.bytes                      RECORD_LIST_TOO_LARGE (18)
 *
 * Samsa additions: a compressed batch whose records the broker must read
 * (compacted topic, a finite timestamp bound, recompression to the topic's
 * compression.type) is decompressed only up to samsa.decompression.max.bytes;
 * past that it is MESSAGE_TOO_LARGE (Kafka streams records without a cap; a
 * Java producer answers MESSAGE_TOO_LARGE by splitting the batch). Corrupt
 * compressed data is CORRUPT_MESSAGE. An unknown codec id (5-7) is
 * INVALID_RECORD. "Nested compression" cannot occur in v2 (records are never
 * wrapper messages; see compression.ts), and magic < 2 is INVALID_RECORD as
 * in Kafka 4 (legacy.ts).
 *
 * Hot path: an uncompressed batch's records are walked by their lengths (a
 * few varint reads per record, no allocation), as Kafka iterates them;
 * compressed batches are checked from the 61-byte header alone unless the
 * topic needs their records.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_SEQUENCE,
  OFFSET_BATCH_LENGTH,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
} from '../../protocol/records/batch-header.ts';
import { batchCrcOk, readInt64 } from '../../storage/batch.ts';
import {
  type BatchRejection,
  checkRecords,
  type LogValidationConfig,
  recompress,
} from './record-validation.ts';

export type { BatchRejection, LogValidationConfig, RecordError } from './record-validation.ts';
export { targetCompressionOf } from './record-validation.ts';

/** Kafka's LegacyRecord.RECORD_OVERHEAD_V0: the smallest size field a batch may declare. */
const MIN_SIZE_FIELD = 14;

/** Header fields of a validated batch (offsets and timestamps as JS numbers). */
export interface ValidBatch {
  /** The batch to append (the request's bytes, or a recompressed copy). */
  buf: Buffer;
  attributes: number;
  lastOffsetDelta: number;
  recordCount: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
}

const reject = (errorCode: number, message: string) => ({
  ok: false as const,
  rejection: { errorCode, message },
});

/**
 * ProduceRequest.validateRecords (v3+): exactly one complete v2 batch. A
 * trailing partial batch is ignored, as Kafka trims it. Returns the batch.
 */
export function checkProduceRecords(
  records: Buffer | null,
  apiVersion: number,
): { ok: true; batch: Buffer } | { ok: false; rejection: BatchRejection } {
  const v = apiVersion;
  if (records === null || records.length < BATCH_LOG_OVERHEAD) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${v} must have at least one record batch per partition`,
    );
  }
  const sizeField = records.readInt32BE(OFFSET_BATCH_LENGTH);
  if (sizeField < MIN_SIZE_FIELD) {
    return reject(
      ErrorCode.CORRUPT_MESSAGE,
      `Record size ${sizeField} is less than the minimum record overhead (${MIN_SIZE_FIELD})`,
    );
  }
  const size = sizeField + BATCH_LOG_OVERHEAD;
  if (size > records.length) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${v} must have at least one record batch per partition`,
    );
  }
  if (records.readInt8(OFFSET_MAGIC) !== 2) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${v} are only allowed to contain record batches with magic version 2`,
    );
  }
  if (v < 7 && (records.readInt16BE(OFFSET_ATTRIBUTES) & ATTR_COMPRESSION_MASK) === 4) {
    return reject(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `Produce requests with version ${v} are not allowed to use ZStandard compression`,
    );
  }
  if (records.length - size >= BATCH_LOG_OVERHEAD) {
    const next = records.readInt32BE(size + OFFSET_BATCH_LENGTH);
    if (next < MIN_SIZE_FIELD) {
      return reject(
        ErrorCode.CORRUPT_MESSAGE,
        `Record size ${next} is less than the minimum record overhead (${MIN_SIZE_FIELD})`,
      );
    }
    if (next + BATCH_LOG_OVERHEAD <= records.length - size) {
      return reject(
        ErrorCode.INVALID_RECORD,
        `Produce requests with version ${v} are only allowed to contain exactly one record batch per partition`,
      );
    }
  }
  return { ok: true, batch: size === records.length ? records : records.subarray(0, size) };
}

/**
 * The leader-side checks (analyzeAndValidateRecords + LogValidator) of one
 * batch that passed checkProduceRecords. `now` is the broker's wall clock.
 */
export function validateBatch(
  batch: Buffer,
  cfg: LogValidationConfig,
  now: number,
): { ok: true; batch: ValidBatch } | { ok: false; rejection: BatchRejection } {
  const tp = cfg.partitionName;
  const size = batch.length;
  const baseOffset = readInt64(batch, 0);
  if (baseOffset !== 0) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `The baseOffset of the record batch in the append to ${tp} should be 0, but it is ${baseOffset}`,
    );
  }
  if (size > cfg.maxMessageBytes) {
    return reject(
      ErrorCode.MESSAGE_TOO_LARGE,
      `The record batch size in the append to ${tp} is ${size} bytes which exceeds the maximum configured value of ${cfg.maxMessageBytes}.`,
    );
  }
  if (size < BATCH_HEADER_SIZE || !batchCrcOk(batch, 0, size)) {
    const stored = size >= 21 ? batch.readUInt32BE(17) : -1;
    return reject(
      ErrorCode.CORRUPT_MESSAGE,
      `Record is corrupt (stored crc = ${stored}) in topic partition ${tp}.`,
    );
  }
  const attributes = batch.readInt16BE(OFFSET_ATTRIBUTES);
  const codec = attributes & ATTR_COMPRESSION_MASK;
  if (codec > 4) return reject(ErrorCode.INVALID_RECORD, `Unknown compression type id ${codec} in ${tp}`);
  const lastOffsetDelta = batch.readInt32BE(OFFSET_LAST_OFFSET_DELTA);
  const count = batch.readInt32BE(OFFSET_RECORD_COUNT);
  if (lastOffsetDelta + 1 <= 0) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Batch has an invalid offset range: [0, ${lastOffsetDelta}] in topic partition ${tp}`,
    );
  }
  if (count <= 0) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Invalid reported count for record batch: ${count} in topic partition ${tp}`,
    );
  }
  if (lastOffsetDelta + 1 !== count) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Inconsistent batch offset range [0, ${lastOffsetDelta}] and count of records ${count} in topic partition ${tp}`,
    );
  }
  if (attributes & ATTR_CONTROL) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Clients are not allowed to write control records in topic partition ${tp}`,
    );
  }
  const producerId = readInt64(batch, OFFSET_PRODUCER_ID);
  const baseSequence = batch.readInt32BE(OFFSET_BASE_SEQUENCE);
  if (producerId >= 0 && baseSequence < 0) {
    return reject(
      ErrorCode.INVALID_RECORD,
      `Invalid sequence number ${baseSequence} in record batch with producerId ${producerId} in topic partition ${tp}`,
    );
  }
  const maxTimestamp = readInt64(batch, OFFSET_MAX_TIMESTAMP);
  const r = checkRecords(batch, cfg, now, codec, count, maxTimestamp);
  if (r !== null) return { ok: false, rejection: r };
  let out = batch;
  if (cfg.targetCompression !== 'producer' && cfg.targetCompression !== codec) {
    const re = recompress(batch, cfg);
    if (!re.ok) return re;
    out = re.buf;
  }
  if (out.length > cfg.segmentBytes) {
    return reject(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `Message batch size is ${out.length} bytes in append to partition ${tp}, which exceeds the maximum configured segment size of ${cfg.segmentBytes}.`,
    );
  }
  return {
    ok: true,
    batch: {
      buf: out,
      attributes: out === batch ? attributes : out.readInt16BE(OFFSET_ATTRIBUTES),
      lastOffsetDelta,
      recordCount: count,
      maxTimestamp,
      producerId,
      producerEpoch: batch.readInt16BE(OFFSET_PRODUCER_EPOCH),
      baseSequence,
      transactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    },
  };
}
