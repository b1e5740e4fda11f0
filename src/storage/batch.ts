import { crc32cRange } from '../protocol/primitives/crc32c.ts';
import {
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_SEQUENCE,
  OFFSET_BATCH_LENGTH,
  OFFSET_CRC,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  OFFSET_PARTITION_LEADER_EPOCH,
  OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
} from '../protocol/records/batch-header.ts';

/**
 * Header-only view of RecordBatch v2 bytes, with offsets and timestamps as JS
 * numbers (int64 values up to 2^53 are exact; offsets never get near that).
 */
export interface BatchInfo {
  /** Position of the batch in the buffer it was parsed from. */
  position: number;
  /** Whole batch size in bytes (batchLength + 12). */
  size: number;
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

const TWO_32 = 2 ** 32;

/** Reads a big-endian int64 as a JS number (exact for |v| < 2^53). */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** Writes a JS number (integral, |v| < 2^53) as a big-endian int64. */
export function writeInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * TWO_32, pos + 4);
}

export function isTransactional(attributes: number): boolean {
  return (attributes & ATTR_TRANSACTIONAL) !== 0;
}
export function isControl(attributes: number): boolean {
  return (attributes & ATTR_CONTROL) !== 0;
}
export function isLogAppendTime(attributes: number): boolean {
  return (attributes & ATTR_TIMESTAMP_TYPE) !== 0;
}

/** CRC32C over bytes 21..end of the batch at `pos`, compared with the stored CRC. */
export function batchCrcOk(buf: Buffer, pos: number, size: number): boolean {
  const stored = buf.readUInt32BE(pos + OFFSET_CRC);
  return crc32cRange(buf, pos + OFFSET_ATTRIBUTES, pos + size) === stored;
}

/** Recomputes and stores the CRC of the batch at `pos`. */
export function rewriteCrc(buf: Buffer, pos: number, size: number): void {
  buf.writeUInt32BE(crc32cRange(buf, pos + OFFSET_ATTRIBUTES, pos + size), pos + OFFSET_CRC);
}

export function headerAt(buf: Buffer, pos: number, size: number): BatchInfo {
  const baseOffset = readInt64(buf, pos);
  return {
    position: pos,
    size,
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(pos + OFFSET_LAST_OFFSET_DELTA),
    partitionLeaderEpoch: buf.readInt32BE(pos + OFFSET_PARTITION_LEADER_EPOCH),
    attributes: buf.readInt16BE(pos + OFFSET_ATTRIBUTES),
    maxTimestamp: readInt64(buf, pos + OFFSET_MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + OFFSET_PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + OFFSET_PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + OFFSET_BASE_SEQUENCE),
    recordCount: buf.readInt32BE(pos + OFFSET_RECORD_COUNT),
  };
}

export type BatchProblem =
  | 'truncated'
  | 'bad-length'
  | 'bad-magic'
  | 'bad-crc'
  | 'bad-offsets'
  | 'bad-record-count';

/**
 * Checks the structure of the batch at `pos` (length, magic, offsets, count,
 * and the CRC when `verifyCrc`). Returns the batch size, or a problem.
 * `end` bounds the bytes that belong to the log (never read beyond it).
 */
export function checkBatchAt(
  buf: Buffer,
  pos: number,
  end: number,
  verifyCrc: boolean,
): { size: number; problem?: undefined } | { size: -1; problem: BatchProblem } {
  if (pos + BATCH_LOG_OVERHEAD > end) return { size: -1, problem: 'truncated' };
  const batchLength = buf.readInt32BE(pos + OFFSET_BATCH_LENGTH);
  const size = batchLength + BATCH_LOG_OVERHEAD;
  if (batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD) return { size: -1, problem: 'bad-length' };
  if (pos + size > end) return { size: -1, problem: 'truncated' };
  if (buf[pos + OFFSET_MAGIC] !== 2) return { size: -1, problem: 'bad-magic' };
  const baseOffset = readInt64(buf, pos);
  const delta = buf.readInt32BE(pos + OFFSET_LAST_OFFSET_DELTA);
  if (baseOffset < 0 || delta < 0 || baseOffset + delta > Number.MAX_SAFE_INTEGER) {
    return { size: -1, problem: 'bad-offsets' };
  }
  const count = buf.readInt32BE(pos + OFFSET_RECORD_COUNT);
  if (count < 0 || count > delta + 1) return { size: -1, problem: 'bad-record-count' };
  if (verifyCrc && !batchCrcOk(buf, pos, size)) return { size: -1, problem: 'bad-crc' };
  return { size };
}
