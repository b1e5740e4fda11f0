import {
  ATTR_COMPRESSION_MASK,
  BATCH_HEADER_SIZE,
  OFFSET_BASE_TIMESTAMP,
} from '../protocol/records/batch-header.ts';
import type { CompressionType } from '../protocol/records/compression.ts';
import { compress, decompress } from '../protocol/records/compression.ts';
import { isLogAppendTime, readInt64 } from './batch.ts';

/**
 * A minimal reader of v2 records inside a batch: just enough for compaction
 * (keys, tombstones) and timestamp lookups. Record layout (Kafka protocol
 * guide): length varint, attributes int8, timestampDelta varlong,
 * offsetDelta varint, keyLength varint (-1 = null), key, valueLength varint
 * (-1 = null), value, headerCount varint, headers.
 */
export interface RecordView {
  /** Start of the record (its length varint) in the records buffer. */
  start: number;
  /** End of the record (exclusive). */
  end: number;
  offsetDelta: number;
  timestampDelta: number;
  /** Key bytes, or null. A view into the records buffer. */
  key: Buffer | null;
  /** True if the value is null (a tombstone). */
  nullValue: boolean;
}

/** Optional codec hook so storage can look inside compressed batches without importing a codec itself. */
export interface RecordCodec {
  decompress(codec: number, data: Buffer): Buffer;
  compress(codec: number, data: Buffer): Buffer;
}

/** Bound on one decompressed batch (compaction, timestamp lookups). */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** The protocol layer's codecs (src/protocol/records/compression.ts). */
export const defaultRecordCodec: RecordCodec = {
  decompress: (type, data) => decompress(type, data, MAX_DECOMPRESSED_BYTES),
  compress: (type, data) => compress(type as CompressionType, data),
};

let codec: RecordCodec | null = defaultRecordCodec;

/** Replaces the compression codec (null: treat compressed batches as opaque). */
export function setRecordCodec(c: RecordCodec | null): void {
  codec = c;
}
export function getRecordCodec(): RecordCodec | null {
  return codec;
}

export class RecordFormatError extends Error {}

/** Zig-zag varint/varlong decoded as a JS number; `pos` is advanced through `state`. */
function readVarNum(buf: Buffer, state: { pos: number }, end: number, maxBytes: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (state.pos >= end) throw new RecordFormatError('truncated varint');
    const b = buf[state.pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      // zig-zag: (n >>> 1) ^ -(n & 1), in float-safe arithmetic
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    mul *= 128;
  }
  throw new RecordFormatError('varint too long');
}

/**
 * Returns the records section of a batch (decompressed if needed), or null
 * when the batch is compressed and no codec is installed or it fails to inflate.
 */
export function recordsSection(batch: Buffer): Buffer | null {
  const attrs = batch.readInt16BE(21);
  const compression = attrs & ATTR_COMPRESSION_MASK;
  const raw = batch.subarray(BATCH_HEADER_SIZE);
  if (compression === 0) return raw;
  if (!codec) return null;
  try {
    return codec.decompress(compression, raw);
  } catch {
    return null;
  }
}

/** Iterates the records of `records` (an uncompressed records section), `count` of them. */
export function* iterateRecords(records: Buffer, count: number): Generator<RecordView> {
  const st = { pos: 0 };
  const end = records.length;
  for (let i = 0; i < count; i++) {
    const start = st.pos;
    const len = readVarNum(records, st, end, 5);
    const bodyStart = st.pos;
    const recEnd = bodyStart + len;
    if (len < 0 || recEnd > end) throw new RecordFormatError('record length exceeds batch');
    st.pos += 1; // attributes
    const timestampDelta = readVarNum(records, st, recEnd, 10);
    const offsetDelta = readVarNum(records, st, recEnd, 5);
    const keyLen = readVarNum(records, st, recEnd, 5);
    let key: Buffer | null = null;
    if (keyLen >= 0) {
      if (st.pos + keyLen > recEnd) throw new RecordFormatError('key exceeds record');
      key = records.subarray(st.pos, st.pos + keyLen);
      st.pos += keyLen;
    }
    const valueLen = readVarNum(records, st, recEnd, 5);
    st.pos = recEnd;
    yield { start, end: recEnd, offsetDelta, timestampDelta, key, nullValue: valueLen < 0 };
  }
}

/**
 * First record in the batch with timestamp >= `ts` (and offset >= minOffset),
 * or null. Falls back to the batch (its max timestamp) when the records cannot be read.
 */
export function firstOffsetAtOrAfter(
  batch: Buffer,
  ts: number,
  minOffset: number,
): { offset: number; timestamp: number } | null {
  const baseOffset = readInt64(batch, 0);
  const attrs = batch.readInt16BE(21);
  const maxTs = readInt64(batch, 35);
  const lastOffset = baseOffset + batch.readInt32BE(23);
  if (maxTs < ts || lastOffset < minOffset) return null;
  const count = batch.readInt32BE(57);
  const fallback = { offset: Math.max(baseOffset, minOffset), timestamp: maxTs };
  if (isLogAppendTime(attrs)) return fallback;
  const recs = safeRecords(batch);
  if (!recs) return fallback;
  const baseTs = readInt64(batch, OFFSET_BASE_TIMESTAMP);
  try {
    for (const r of iterateRecords(recs, count)) {
      const off = baseOffset + r.offsetDelta;
      const t = baseTs + r.timestampDelta;
      if (off >= minOffset && t >= ts) return { offset: off, timestamp: t };
    }
  } catch {
    return fallback;
  }
  return null;
}

/** Offset of the first record whose timestamp equals the batch max timestamp. */
export function offsetOfMaxTimestamp(batch: Buffer): number {
  const baseOffset = readInt64(batch, 0);
  const attrs = batch.readInt16BE(21);
  if (isLogAppendTime(attrs)) return baseOffset;
  const maxTs = readInt64(batch, 35);
  const recs = safeRecords(batch);
  if (!recs) return baseOffset;
  const baseTs = readInt64(batch, OFFSET_BASE_TIMESTAMP);
  try {
    for (const r of iterateRecords(recs, batch.readInt32BE(57))) {
      if (baseTs + r.timestampDelta === maxTs) return baseOffset + r.offsetDelta;
    }
  } catch {
    // unreadable records: fall back to the batch
  }
  return baseOffset;
}

function safeRecords(batch: Buffer): Buffer | null {
  return recordsSection(batch);
}
