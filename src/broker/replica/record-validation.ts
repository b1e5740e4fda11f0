/**
 * The record-level half of produce validation (LogValidator.validateRecord):
 * keys on compacted topics, timestamp bounds, the LogAppendTime bit, record
 * framing and count; and recompression to a topic's compression.type.
 * Records are walked by their length prefixes (no allocation) and a
 * compressed batch is decompressed only when these checks need its records,
 * never past samsa.decompression.max.bytes.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import { DecodeError } from '../../protocol/primitives/errors.ts';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TIMESTAMP_TYPE,
  BATCH_HEADER_SIZE,
  type CompressionType,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_TIMESTAMP,
} from '../../protocol/records/batch-header.ts';
import { decompress } from '../../protocol/records/compression.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { readInt64 } from '../../storage/batch.ts';

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

/** Per-record checks (LogValidator.validateRecord); null when the records are fine. */
export function checkRecords(
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
export function recompress(
  batch: Buffer,
  cfg: LogValidationConfig,
): { ok: true; buf: Buffer } | { ok: false; rejection: BatchRejection } {
  let decoded: ReturnType<typeof decodeRecordBatch>;
  try {
    decoded = decodeRecordBatch(batch, { maxDecompressedBytes: cfg.maxDecompressedBytes });
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return {
      ok: false,
      rejection: {
        errorCode: e.kind === 'DECOMPRESSION_LIMIT' ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.INVALID_RECORD,
        message: `Cannot recompress the batch in the append to ${cfg.partitionName}: ${e.message}`,
      },
    };
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
    return {
      ok: false,
      rejection: {
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        message: `Message batch size is ${buf.length} bytes in append to partition ${cfg.partitionName} which exceeds the maximum configured size of ${cfg.maxMessageBytes}.`,
      },
    };
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
