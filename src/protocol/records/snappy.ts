import { createRequire } from 'node:module';
import { DecodeError } from '../primitives/errors.ts';

/**
 * Kafka's snappy codec.
 *
 * Writing: the xerial/snappy-java stream framing, which is what Kafka's Java
 * client writes (`SnappyCompression.wrapForOutput` is a snappy-java
 * `SnappyOutputStream`) and what librdkafka recognises on read (its
 * `rd_kafka_msgset_reader` checks for the `\x82SNAPPY\0` magic and calls
 * `rd_kafka_snappy_java_uncompress`, falling back to raw snappy otherwise):
 *
 *   magic "\x82SNAPPY\0" (8) | version int32 BE = 1 | compatible int32 BE = 1
 *   then chunks: length int32 BE | raw snappy block of <= 32 KiB input
 *
 * Reading: that framing (including a second header in the middle, which
 * snappy-java accepts for concatenated streams) and plain raw snappy, which
 * librdkafka and several other clients write.
 *
 * Bounding: a raw snappy block starts with its uncompressed length as an
 * unsigned varint; the native decoder allocates that much up front and fails
 * unless the data inflates to exactly that. So the declared lengths are
 * summed and checked against the cap before any block is decompressed.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's SnappyOutputStream default block size. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

interface NativeSnappy {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options?: { asBuffer?: boolean }): Buffer | string;
}

let native: NativeSnappy | null | undefined;
function snappyNative(): NativeSnappy {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('snappy') as NativeSnappy;
    } catch {
      native = null;
    }
  }
  if (native === null)
    throw new Error('the snappy package is not installed: snappy compression is unavailable');
  return native;
}

function bad(message: string, offset = -1): DecodeError {
  return new DecodeError('BAD_COMPRESSION', `snappy: ${message}`, offset);
}

function limit(max: number, offset: number): DecodeError {
  return new DecodeError(
    'DECOMPRESSION_LIMIT',
    `snappy: decompressed data exceeds the ${max}-byte limit`,
    offset,
  );
}

/** The uncompressed length a raw snappy block declares (its varint preamble). */
export function snappyDeclaredLength(src: Uint8Array, start = 0, end = src.length): number {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    if (start + i >= end) throw bad('truncated length preamble', start + i);
    const b = src[start + i]!;
    if (i === 4 && b > 0x0f) throw bad('length preamble does not fit in 32 bits', start + i);
    result += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return result;
  }
  throw bad('length preamble longer than 5 bytes', start);
}

function hasXerialMagic(src: Uint8Array, pos: number): boolean {
  if (src.length - pos < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < 8; i++) if (src[pos + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

function rawUncompress(src: Uint8Array): Buffer {
  try {
    return snappyNative().uncompressSync(src, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw new DecodeError('BAD_COMPRESSION', `snappy: corrupt block (${(err as Error).message})`);
  }
}

/** Raw snappy of `data` (one block, no framing). */
export function snappyCompressRaw(data: Uint8Array): Buffer {
  return snappyNative().compressSync(data);
}

/** xerial/snappy-java framed snappy of `data`, as Kafka's Java producer writes it. */
export function snappyCompressXerial(data: Uint8Array): Buffer {
  const codec = snappyNative();
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  parts.push(header);
  let total = XERIAL_HEADER_SIZE;
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    const block = codec.compressSync(data.subarray(pos, Math.min(pos + XERIAL_BLOCK_SIZE, data.length)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    total += 4 + block.length;
  }
  return Buffer.concat(parts, total);
}

/**
 * Decompresses xerial-framed or raw snappy into at most `maxBytes`.
 * Corrupt input: BAD_COMPRESSION; more output than `maxBytes`:
 * DECOMPRESSION_LIMIT, detected from the declared lengths before inflating.
 */
export function snappyDecompress(src: Uint8Array, maxBytes: number): Buffer {
  if (!hasXerialMagic(src, 0)) {
    const declared = snappyDeclaredLength(src);
    if (declared > maxBytes) throw limit(maxBytes, 0);
    return rawUncompress(src);
  }
  const view = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  const chunks: Buffer[] = [];
  let total = 0;
  let ip = 0;
  while (ip < src.length) {
    if (hasXerialMagic(src, ip)) {
      const compatible = view.readInt32BE(ip + 12);
      if (compatible > XERIAL_COMPATIBLE_VERSION) {
        throw bad(`stream needs snappy-java framing version ${compatible}`, ip);
      }
      ip += XERIAL_HEADER_SIZE;
      continue;
    }
    if (src.length - ip < 4) throw bad('truncated chunk length', ip);
    const len = view.readInt32BE(ip);
    ip += 4;
    if (len < 0 || len > src.length - ip) throw bad(`chunk length ${len} exceeds the input`, ip - 4);
    if (len === 0) continue;
    const declared = snappyDeclaredLength(src, ip, ip + len);
    if (declared > maxBytes - total) throw limit(maxBytes, ip);
    const out = rawUncompress(src.subarray(ip, ip + len));
    if (out.length !== declared) throw bad('chunk inflated to a different length than declared', ip);
    chunks.push(out);
    total += out.length;
    ip += len;
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}
