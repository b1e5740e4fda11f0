import { crc32c } from '../primitives/crc32c.ts';
import { DecodeError } from '../primitives/errors.ts';
import { Reader } from '../primitives/reader.ts';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  type BatchHeader,
  type CompressionType,
  OFFSET_CRC,
  OFFSET_MAGIC,
  readBatchHeader,
} from './batch-header.ts';
import { type CompressOptions, compress, decompress } from './compression.ts';
import { assertMagicV2 } from './legacy.ts';

/**
 * RecordBatch v2 encode/decode (the Kafka protocol guide's "Record Batch"
 * section). A record on the wire:
 *
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
 *   | keyLength varint | key | valueLength varint | value
 *   | headerCount varint | (headerKeyLength varint | headerKey | headerValueLength varint | value)*
 *
 * All varints are zig-zag. A length of -1 is null (key, value, header value).
 *
 * `timestampDelta` is a JS number, not a bigint: deltas are milliseconds
 * between timestamps of one batch, and any two timestamps a broker accepts
 * are far less than 2^53 ms (285,000 years) apart. A delta outside the safe
 * integer range is rejected as INVALID_RECORD on decode and as a RangeError
 * on encode. Absolute timestamps (batch fields) stay bigint (int64).
 */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface Record {
  /** Unused by Kafka; always 0 in practice. */
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  /** Decoded keys, values and header values are views into the input (or decompressed) bytes. */
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A record to encode; omitted fields default to 0 / null / [] and offsetDelta to the record's index. */
export interface RecordInput {
  attributes?: number;
  timestampDelta?: number;
  offsetDelta?: number;
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: { key: string; value: Uint8Array | null }[];
}

export interface RecordBatchInput {
  /** Default 0n: the broker assigns offsets on append. */
  baseOffset?: bigint;
  /** Default -1 (no epoch; the leader stamps it). */
  partitionLeaderEpoch?: number;
  /** Codec id 0-4 (default 0). */
  compression?: CompressionType;
  compressionOptions?: CompressOptions;
  /** Extra attribute bits OR-ed in (e.g. ATTR_DELETE_HORIZON); codec bits here are ignored. */
  attributes?: number;
  /** Sets the timestamp-type bit (LogAppendTime). */
  logAppendTime?: boolean;
  isTransactional?: boolean;
  isControl?: boolean;
  baseTimestamp: bigint;
  /** Default: baseTimestamp + the largest timestampDelta (baseTimestamp when there are no records). */
  maxTimestamp?: bigint;
  /** Default -1n (not idempotent). */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Default: the last record's offsetDelta (0 for an empty batch). Compaction keeps it past removed records. */
  lastOffsetDelta?: number;
  records: RecordInput[];
}

export interface DecodedRecordBatch {
  header: BatchHeader;
  records: Record[];
}

export interface DecodeBatchOptions {
  /** Cap on the decompressed size of the records (default DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxDecompressedBytes?: number;
  /** Where the batch starts in `buf` (default 0). Bytes after the batch are ignored. */
  offset?: number;
}

/** Default decompression cap: 64 MiB. Brokers pass their own, derived from max.message.bytes. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;
/** Smallest batchLength of a v2 batch: the header after the batchLength field. */
export const MIN_V2_BATCH_LENGTH = BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD;
/** Smallest encoded record: 7 one-byte fields (length, attributes, deltas, key, value, header count). */
export const MIN_RECORD_SIZE = 7;

// ---------------------------------------------------------------- varints

function uvarintSize(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  if (u < 0x800000000) return 5;
  let n = 5;
  for (let bound = 2 ** 35; u >= bound; bound *= 128) n++;
  return n;
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Beyond this magnitude zig-zag no longer fits a double exactly; such deltas go through bigint. */
const ZIGZAG_EXACT = 2 ** 51;

function varlongSize(v: number): number {
  if (v > -ZIGZAG_EXACT && v < ZIGZAG_EXACT) return uvarintSize(zigzag(v));
  const u = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
  return Math.ceil(u.toString(2).length / 7);
}

function putVarlong(buf: Buffer, pos: number, v: number): number {
  if (v > -ZIGZAG_EXACT && v < ZIGZAG_EXACT) return putUVarint(buf, pos, zigzag(v));
  let u = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
  while (u >= 0x80n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  return pos;
}

/** Writes an unsigned varint (up to 2^53) at `pos`; returns the next position. */
function putUVarint(buf: Buffer, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u = u < 0x80000000 ? u >>> 7 : Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

/** Zig-zag varlong read as a number; throws INVALID_RECORD outside the safe integer range. */
function readVarlongNumber(r: Reader): number {
  const b = r.buf;
  const start = r.offset;
  let o = start;
  let u = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    if (o >= r.end) throw new DecodeError('TRUNCATED', 'truncated varlong', o);
    const byte = b[o++]!;
    u += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      r.offset = o;
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
    mul *= 128;
  }
  // 8+ bytes: exact path through bigint.
  r.offset = start;
  const v = r.readVarlong();
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new DecodeError('INVALID_RECORD', `timestamp delta ${v} is outside ±2^53`, start);
  }
  return Number(v);
}

// ---------------------------------------------------------------- encode

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} ${v} is out of range`);
}

const NO_HEADERS: { key: string; value: Uint8Array | null }[] = [];
const NO_KEYS: Buffer[] = [];

/** Encodes one RecordBatch v2, computing lastOffsetDelta, count, batchLength and the CRC32C. */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const records = input.records;
  const n = records.length;
  const bodySizes = new Array<number>(n);
  const headerKeys: Buffer[][] = new Array(n);
  let recordsSize = 0;
  let maxDelta = 0;
  let lastOffsetDelta = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const ts = r.timestampDelta ?? 0;
    if (!Number.isSafeInteger(ts)) throw new RangeError(`timestampDelta ${ts} is not a safe integer`);
    const od = r.offsetDelta ?? i;
    checkInt('offsetDelta', od, -0x80000000, 0x7fffffff);
    if (i === 0 || ts > maxDelta) maxDelta = ts;
    lastOffsetDelta = od;
    let size = 1 + varlongSize(ts) + uvarintSize(zigzag(od));
    size += r.key == null ? 1 : uvarintSize(zigzag(r.key.length)) + r.key.length;
    size += r.value == null ? 1 : uvarintSize(zigzag(r.value.length)) + r.value.length;
    const headers = r.headers ?? NO_HEADERS;
    size += uvarintSize(zigzag(headers.length));
    const keys: Buffer[] = headers.length === 0 ? NO_KEYS : [];
    for (const h of headers) {
      const k = Buffer.from(h.key, 'utf8');
      keys.push(k);
      size += uvarintSize(zigzag(k.length)) + k.length;
      size += h.value == null ? 1 : uvarintSize(zigzag(h.value.length)) + h.value.length;
    }
    headerKeys[i] = keys;
    bodySizes[i] = size;
    recordsSize += uvarintSize(zigzag(size)) + size;
  }
  const codec = input.compression ?? 0;
  const compressed = codec !== 0;
  const total = compressed ? recordsSize : BATCH_HEADER_SIZE + recordsSize;
  if (total > 0x7fffffff) throw new RangeError(`batch of ${total} bytes is too large`);
  const body = Buffer.allocUnsafe(total);
  let p = compressed ? 0 : BATCH_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    p = putUVarint(body, p, zigzag(bodySizes[i]!));
    body[p++] = (r.attributes ?? 0) & 0xff;
    p = putVarlong(body, p, r.timestampDelta ?? 0);
    p = putUVarint(body, p, zigzag(r.offsetDelta ?? i));
    p = putBytes(body, p, r.key ?? null);
    p = putBytes(body, p, r.value ?? null);
    const headers = r.headers ?? NO_HEADERS;
    const keys = headerKeys[i]!;
    p = putUVarint(body, p, zigzag(headers.length));
    for (let h = 0; h < headers.length; h++) {
      p = putBytes(body, p, keys[h]!);
      p = putBytes(body, p, headers[h]!.value ?? null);
    }
  }
  let out = body;
  if (compressed) {
    const c = compress(codec, body, input.compressionOptions);
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + c.length);
    c.copy(out, BATCH_HEADER_SIZE);
  }
  let attributes = (input.attributes ?? 0) & ~ATTR_COMPRESSION_MASK & 0xffff;
  attributes |= codec;
  if (input.logAppendTime) attributes |= ATTR_TIMESTAMP_TYPE;
  if (input.isTransactional) attributes |= ATTR_TRANSACTIONAL;
  if (input.isControl) attributes |= ATTR_CONTROL;
  const maxTimestamp = input.maxTimestamp ?? input.baseTimestamp + BigInt(n > 0 ? maxDelta : 0);
  out.writeBigInt64BE(input.baseOffset ?? 0n, 0);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, 8);
  out.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12);
  out.writeInt8(2, OFFSET_MAGIC);
  out.writeInt16BE((attributes << 16) >> 16, 21);
  out.writeInt32BE(input.lastOffsetDelta ?? lastOffsetDelta, 23);
  out.writeBigInt64BE(input.baseTimestamp, 27);
  out.writeBigInt64BE(maxTimestamp, 35);
  out.writeBigInt64BE(input.producerId ?? -1n, 43);
  out.writeInt16BE(input.producerEpoch ?? -1, 51);
  out.writeInt32BE(input.baseSequence ?? -1, 53);
  out.writeInt32BE(n, 57);
  out.writeUInt32BE(crc32c(out.subarray(21)), OFFSET_CRC);
  return out;
}

function putBytes(buf: Buffer, pos: number, b: Uint8Array | null): number {
  if (b === null) {
    buf[pos] = 1; // zig-zag(-1)
    return pos + 1;
  }
  pos = putUVarint(buf, pos, zigzag(b.length));
  buf.set(b, pos);
  return pos + b.length;
}

/** Recomputes and writes the CRC of the batch at `pos` (after rewriting a CRC-covered field). */
export function updateBatchCrc(buf: Buffer, pos = 0): void {
  const size = buf.readInt32BE(pos + 8) + BATCH_LOG_OVERHEAD;
  buf.writeUInt32BE(crc32c(buf.subarray(pos + 21, pos + size)), pos + OFFSET_CRC);
}

// ---------------------------------------------------------------- decode

/**
 * Checks magic (legacy 0/1 -> LegacyRecordFormatError), batchLength and that
 * the whole batch is present; returns the batch size in bytes.
 */
export function checkBatchFrame(buf: Buffer, pos: number): number {
  if (buf.length - pos < OFFSET_MAGIC + 1) {
    throw new DecodeError('TRUNCATED', 'record batch shorter than its first 17 bytes', pos);
  }
  assertMagicV2(buf.readInt8(pos + OFFSET_MAGIC), pos);
  const batchLength = buf.readInt32BE(pos + 8);
  if (batchLength < MIN_V2_BATCH_LENGTH) {
    throw new DecodeError(
      batchLength < 0 ? 'NEGATIVE_LENGTH' : 'INVALID_RECORD',
      `batchLength ${batchLength} is below the v2 minimum of ${MIN_V2_BATCH_LENGTH}`,
      pos + 8,
    );
  }
  if (batchLength > buf.length - pos - BATCH_LOG_OVERHEAD) {
    throw new DecodeError(
      'TRUNCATED',
      `batch declares ${batchLength + BATCH_LOG_OVERHEAD} bytes, ${buf.length - pos} present`,
      pos,
    );
  }
  return batchLength + BATCH_LOG_OVERHEAD;
}

/**
 * Verifies the CRC32C of the batch at `pos` (size from checkBatchFrame);
 * throws DecodeError BAD_CRC on a mismatch.
 */
export function verifyBatchCrc(buf: Buffer, pos: number, size: number): void {
  const stored = buf.readUInt32BE(pos + OFFSET_CRC);
  const actual = crc32c(buf.subarray(pos + 21, pos + size));
  if (stored !== actual) {
    throw new DecodeError(
      'BAD_CRC',
      `record batch CRC32C mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`,
      pos + OFFSET_CRC,
    );
  }
}

/**
 * Decodes one RecordBatch v2 at `options.offset` (default 0): checks the
 * frame, verifies the CRC, decompresses within the cap and decodes every
 * record, with every length checked against the bytes present.
 */
export function decodeRecordBatch(buf: Buffer, options: DecodeBatchOptions = {}): DecodedRecordBatch {
  const pos = options.offset ?? 0;
  const size = checkBatchFrame(buf, pos);
  verifyBatchCrc(buf, pos, size);
  const header = readBatchHeader(buf, pos);
  const count = header.recordCount;
  if (count < 0) throw new DecodeError('INVALID_RECORD', `negative record count ${count}`, pos + 57);
  const codec = header.attributes & ATTR_COMPRESSION_MASK;
  let r: Reader;
  if (codec === 0) {
    r = new Reader(buf, pos + BATCH_HEADER_SIZE, pos + size);
  } else {
    const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    r = new Reader(decompress(codec, buf.subarray(pos + BATCH_HEADER_SIZE, pos + size), max));
  }
  if (count > r.remaining / MIN_RECORD_SIZE) {
    throw new DecodeError(
      'LENGTH_EXCEEDS_INPUT',
      `${count} records cannot fit in ${r.remaining} bytes of records`,
      pos + 57,
    );
  }
  const records: Record[] = [];
  for (let i = 0; i < count; i++) records.push(readRecord(r));
  if (r.remaining !== 0) {
    throw new DecodeError('INVALID_RECORD', `${r.remaining} bytes left after ${count} records`, r.offset);
  }
  return { header, records };
}

function readSized(r: Reader, end: number, what: string): Buffer | null {
  const len = r.readVarint();
  if (len < 0) {
    if (len === -1) return null;
    throw new DecodeError('NEGATIVE_LENGTH', `${what} length ${len}`, r.offset);
  }
  if (len > end - r.offset) {
    throw new DecodeError('LENGTH_EXCEEDS_INPUT', `${what} of ${len} bytes runs past its record`, r.offset);
  }
  const o = r.offset;
  r.offset = o + len;
  return r.buf.subarray(o, o + len);
}

function readRecord(r: Reader): Record {
  const start = r.offset;
  const length = r.readVarint();
  if (length < MIN_RECORD_SIZE - 1) {
    throw new DecodeError(
      length < 0 ? 'NEGATIVE_LENGTH' : 'INVALID_RECORD',
      `record length ${length}`,
      start,
    );
  }
  if (length > r.remaining) {
    throw new DecodeError('LENGTH_EXCEEDS_INPUT', `record of ${length} bytes exceeds the batch`, start);
  }
  const end = r.offset + length;
  const attributes = r.readInt8();
  const timestampDelta = readVarlongNumber(r);
  const offsetDelta = r.readVarint();
  const key = readSized(r, end, 'key');
  const value = readSized(r, end, 'value');
  const headerCount = r.readVarint();
  if (headerCount < 0) throw new DecodeError('NEGATIVE_LENGTH', `header count ${headerCount}`, r.offset);
  // Each header takes at least 2 bytes (two one-byte lengths).
  if (headerCount * 2 > end - r.offset) {
    throw new DecodeError(
      'LENGTH_EXCEEDS_INPUT',
      `${headerCount} headers cannot fit in the record`,
      r.offset,
    );
  }
  const headers: RecordHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const k = readSized(r, end, 'header key');
    if (k === null) throw new DecodeError('NULL_NOT_ALLOWED', 'null header key', r.offset);
    headers.push({ key: k.toString('utf8'), value: readSized(r, end, 'header value') });
  }
  if (r.offset !== end) {
    throw new DecodeError(
      'INVALID_RECORD',
      `record declared ${length} bytes but held ${r.offset - (end - length)}`,
      start,
    );
  }
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

/** A record's absolute timestamp: maxTimestamp for LogAppendTime batches, else baseTimestamp + delta. */
export function recordTimestamp(header: BatchHeader, record: Record): bigint {
  if (header.attributes & ATTR_TIMESTAMP_TYPE) return header.maxTimestamp;
  return header.baseTimestamp + BigInt(record.timestampDelta);
}

/** A record's absolute offset. */
export function recordOffset(header: BatchHeader, record: Record): bigint {
  return header.baseOffset + BigInt(record.offsetDelta);
}
