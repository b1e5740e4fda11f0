import { DecodeError } from '../primitives/errors.ts';
import { assertMagicV2 } from './legacy.ts';

/**
 * RecordBatch v2 header layout (61 bytes), read and patched in place so that
 * batches stay as bytes on the hot path.
 *
 *   0 baseOffset int64        8 batchLength int32      12 partitionLeaderEpoch int32
 *  16 magic int8             17 crc uint32 (CRC32C of bytes 21..end)
 *  21 attributes int16       23 lastOffsetDelta int32  27 baseTimestamp int64
 *  35 maxTimestamp int64     43 producerId int64       51 producerEpoch int16
 *  53 baseSequence int32     57 recordCount int32      61 records...
 */
export const BATCH_HEADER_SIZE = 61;
/** Bytes before batchLength counts: baseOffset + batchLength. */
export const BATCH_LOG_OVERHEAD = 12;

export const OFFSET_BASE_OFFSET = 0;
export const OFFSET_BATCH_LENGTH = 8;
export const OFFSET_PARTITION_LEADER_EPOCH = 12;
export const OFFSET_MAGIC = 16;
export const OFFSET_CRC = 17;
export const OFFSET_ATTRIBUTES = 21;
export const OFFSET_LAST_OFFSET_DELTA = 23;
export const OFFSET_BASE_TIMESTAMP = 27;
export const OFFSET_MAX_TIMESTAMP = 35;
export const OFFSET_PRODUCER_ID = 43;
export const OFFSET_PRODUCER_EPOCH = 51;
export const OFFSET_BASE_SEQUENCE = 53;
export const OFFSET_RECORD_COUNT = 57;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionType = 0 | 1 | 2 | 3 | 4;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08; // 1 = LogAppendTime
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

export interface BatchHeader {
  baseOffset: bigint;
  /** Bytes after the batchLength field; the whole batch is batchLength + 12 bytes. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Size in bytes of the whole batch starting at `pos`, or -1 if fewer than 12 bytes are present. */
export function batchSizeAt(buf: Buffer, pos: number): number {
  if (pos + BATCH_LOG_OVERHEAD > buf.length) return -1;
  return buf.readInt32BE(pos + OFFSET_BATCH_LENGTH) + BATCH_LOG_OVERHEAD;
}

/** Reads a v2 batch header at `pos` without touching the records. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  if (pos + 17 > buf.length) throw new DecodeError('TRUNCATED', 'record batch header truncated', pos);
  const magic = buf.readInt8(pos + OFFSET_MAGIC);
  // Magic 0/1 throws LegacyRecordFormatError (a BAD_MAGIC DecodeError carrying Kafka's INVALID_RECORD).
  assertMagicV2(magic, pos);
  if (pos + BATCH_HEADER_SIZE > buf.length)
    throw new DecodeError('TRUNCATED', 'record batch header truncated', pos);
  return {
    baseOffset: buf.readBigInt64BE(pos),
    batchLength: buf.readInt32BE(pos + OFFSET_BATCH_LENGTH),
    partitionLeaderEpoch: buf.readInt32BE(pos + OFFSET_PARTITION_LEADER_EPOCH),
    magic,
    crc: buf.readUInt32BE(pos + OFFSET_CRC),
    attributes: buf.readInt16BE(pos + OFFSET_ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(pos + OFFSET_LAST_OFFSET_DELTA),
    baseTimestamp: buf.readBigInt64BE(pos + OFFSET_BASE_TIMESTAMP),
    maxTimestamp: buf.readBigInt64BE(pos + OFFSET_MAX_TIMESTAMP),
    producerId: buf.readBigInt64BE(pos + OFFSET_PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + OFFSET_PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + OFFSET_BASE_SEQUENCE),
    recordCount: buf.readInt32BE(pos + OFFSET_RECORD_COUNT),
  };
}

/** Rewrites the base offset in place (not covered by the CRC). */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: bigint): void {
  buf.writeBigInt64BE(baseOffset, pos + OFFSET_BASE_OFFSET);
}

/** Rewrites the partition leader epoch in place (not covered by the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + OFFSET_PARTITION_LEADER_EPOCH);
}
