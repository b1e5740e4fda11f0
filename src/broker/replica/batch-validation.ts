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
import { DecodeError } from '../../protocol/primitives/errors.ts';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  type CompressionType,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_SEQUENCE,
  OFFSET_BASE_TIMESTAMP,
  OFFSET_BATCH_LENGTH,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
} from '../../protocol/records/batch-header.ts';
import { decompress } from '../../protocol/records/compression.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { batchCrcOk, readInt64 } from '../../storage/batch.ts';

/** Kafka's LegacyRecord.RECORD_OVERHEAD_V0: the smallest size field a batch may declare. */
const MIN_SIZE_FIELD = 14;
const NO_TIMESTAMP = -1;

export interface RecordError {
  batchIndex: number;
  message: string | null;
}

export interface BatchRejection {
  errorCode: number;
  message: string;
  recordErrors?: RecordError[];
}

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

export interface LogValidationConfig {
  /** "topic-partition", for messages. */
  partitionName: string;
  maxMessageBytes: number;
  segmentBytes: number;
  compacted: boolean;
  logAppendTime: boolean;
  /** message.timestamp.before.max.ms; Infinity when unbounded. */
  timestampBeforeMaxMs: number;
  /** message.timestamp.after.max.ms; Infinity when unbounded. */
  timestampAfterMaxMs: number;
  /** Codec to store (compression.type), or 'producer' to keep the producer's. */
  targetCompression: CompressionType | 'producer';
  maxDecompressedBytes: number;
}

const reject = (errorCode: number, message: string, recordErrors?: RecordError[]) => ({
  ok: false as const,
  rejection: { errorCode, message, ...(recordErrors ? { recordErrors } : {}) },
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

/** Per-record checks (LogValidator.validateRecord); null when the records are fine. */
function checkRecords(
  batch: Buffer,
  cfg: LogValidationConfig,
  now: number,
  codec: number,
  count: number,
  maxTimestamp: number,
): BatchRejection | null {
  const batchLat = (batch.readInt16BE(OFFSET_ATTRIBUTES) & ATTR_TIMESTAMP_TYPE) !== 0;
  const before = cfg.timestampBeforeMaxMs;
  const after = cfg.timestampAfterMaxMs;
  const bounded = Number.isFinite(before) || Number.isFinite(after);
  let read = codec === 0 || cfg.compacted || Number.isFinite(before);
  // A future timestamp shows in the header's max timestamp; read the records only to name the culprits.
  if (!read && Number.isFinite(after) && !cfg.logAppendTime && maxTimestamp - now > after) read = true;
  if (!read) {
    if (cfg.logAppendTime && batchLat) return timestampTypeErrors(count);
    return null;
  }
  let body: Buffer;
  if (codec === 0) {
    body = batch.subarray(BATCH_HEADER_SIZE);
  } else {
    try {
      body = decompress(codec, batch.subarray(BATCH_HEADER_SIZE), cfg.maxDecompressedBytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      if (e.kind === 'DECOMPRESSION_LIMIT') {
        return {
          errorCode: ErrorCode.MESSAGE_TOO_LARGE,
          message: `The records of the batch in the append to ${cfg.partitionName} decompress to more than samsa.decompression.max.bytes (${cfg.maxDecompressedBytes})`,
        };
      }
      return {
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        message: `The compressed records of the batch in the append to ${cfg.partitionName} are corrupt: ${e.message}`,
      };
    }
  }
  const baseTimestamp = readInt64(batch, OFFSET_BASE_TIMESTAMP);
  const createTime = !cfg.logAppendTime;
  const errors: RecordError[] = [];
  let anyTimestampError = false;
  const w = new RecordWalker(body);
  try {
    for (let i = 0; i < count; i++) {
      w.next();
      if (cfg.compacted && w.keyLength < 0) {
        errors.push({
          batchIndex: i,
          message: `Compacted topic cannot accept message without key in topic partition ${cfg.partitionName}.`,
        });
        continue;
      }
      if (!bounded && !batchLat) continue;
      const ts = batchLat ? maxTimestamp : baseTimestamp + w.timestampDelta;
      if (createTime && ts !== NO_TIMESTAMP) {
        if (now - ts > before || ts - now > after) {
          anyTimestampError = true;
          errors.push({
            batchIndex: i,
            message: `Timestamp ${ts} of message with offset ${w.offsetDelta} is out of range. The timestamp should be within [${now - before}, ${now + after}]`,
          });
        }
      } else if (batchLat) {
        anyTimestampError = true;
        errors.push({
          batchIndex: i,
          message:
            'Invalid timestamp type in message. Producer should not set timestamp type to LogAppendTime.',
        });
      }
    }
    if (w.pos !== body.length) {
      return {
        errorCode: ErrorCode.INVALID_RECORD,
        message: `Incorrect declared batch size, records still remaining in file (${cfg.partitionName})`,
      };
    }
  } catch (e) {
    if (!(e instanceof MalformedRecord)) throw e;
    return {
      errorCode: ErrorCode.INVALID_RECORD,
      message: `${e.message} in topic partition ${cfg.partitionName}`,
    };
  }
  if (errors.length === 0) return null;
  if (anyTimestampError) {
    return {
      errorCode: ErrorCode.INVALID_TIMESTAMP,
      message: 'One or more records have been rejected due to invalid timestamp',
      recordErrors: errors,
    };
  }
  const shown = errors
    .slice(0, 3)
    .map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`)
    .join(', ');
  return {
    errorCode: ErrorCode.INVALID_RECORD,
    message: `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    recordErrors: errors,
  };
}

function timestampTypeErrors(count: number): BatchRejection {
  const recordErrors: RecordError[] = [];
  for (let i = 0; i < count; i++) {
    recordErrors.push({
      batchIndex: i,
      message: 'Invalid timestamp type in message. Producer should not set timestamp type to LogAppendTime.',
    });
  }
  return {
    errorCode: ErrorCode.INVALID_TIMESTAMP,
    message: 'One or more records have been rejected due to invalid timestamp',
    recordErrors,
  };
}

class MalformedRecord extends Error {}

/**
 * Walks records by their length prefixes, reading only the fields validation
 * needs (timestamp delta, offset delta, key length).
 */
class RecordWalker {
  private readonly buf: Buffer;
  pos = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  keyLength = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  next(): void {
    const end = this.buf.length;
    const length = this.varint(end);
    // attributes, timestampDelta, offsetDelta, key length, value length, header count: a byte each at least
    if (length < 6) throw new MalformedRecord(`Invalid record size ${length}`);
    if (length > end - this.pos) {
      throw new MalformedRecord(
        `Invalid record size: expected ${length} bytes in record payload, but instead the buffer has only ${end - this.pos} remaining bytes.`,
      );
    }
    const recEnd = this.pos + length;
    this.pos++; // attributes
    this.timestampDelta = this.varint(recEnd);
    this.offsetDelta = this.varint(recEnd);
    const keyLength = this.varint(recEnd);
    if (keyLength < -1 || keyLength > recEnd - this.pos) {
      throw new MalformedRecord(`Invalid key length ${keyLength}`);
    }
    this.keyLength = keyLength;
    this.pos = recEnd;
  }

  /** A zig-zag varint/varlong (up to 10 bytes) within `end`, as a JS number. */
  private varint(end: number): number {
    const b = this.buf;
    let u = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new MalformedRecord('Found invalid record structure');
      const x = b[this.pos++]!;
      u += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      mul *= 128;
    }
    throw new MalformedRecord('Found invalid record structure (varint longer than 10 bytes)');
  }
}

/** Re-encodes a batch with the topic's compression.type (Kafka's LogValidator does the same). */
function recompress(
  batch: Buffer,
  cfg: LogValidationConfig,
): { ok: true; buf: Buffer } | { ok: false; rejection: BatchRejection } {
  let decoded: ReturnType<typeof decodeRecordBatch>;
  try {
    decoded = decodeRecordBatch(batch, { maxDecompressedBytes: cfg.maxDecompressedBytes });
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return reject(
      e.kind === 'DECOMPRESSION_LIMIT' ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.INVALID_RECORD,
      `Cannot recompress the batch in the append to ${cfg.partitionName}: ${e.message}`,
    );
  }
  const h = decoded.header;
  const buf = encodeRecordBatch({
    compression: cfg.targetCompression as CompressionType,
    attributes: h.attributes & ~ATTR_COMPRESSION_MASK,
    baseTimestamp: h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    records: decoded.records,
  });
  if (buf.length > cfg.maxMessageBytes) {
    return reject(
      ErrorCode.MESSAGE_TOO_LARGE,
      `Message batch size is ${buf.length} bytes in append to partition ${cfg.partitionName} which exceeds the maximum configured size of ${cfg.maxMessageBytes}.`,
    );
  }
  return { ok: true, buf };
}

/** compression.type -> codec id to store, or 'producer'. */
export function targetCompressionOf(compressionType: string | null): CompressionType | 'producer' {
  switch (compressionType) {
    case 'uncompressed':
      return 0;
    case 'gzip':
      return 1;
    case 'snappy':
      return 2;
    case 'lz4':
      return 3;
    case 'zstd':
      return 4;
    default:
      return 'producer';
  }
}
