import { createRequire } from 'node:module';
import { DecodeError } from '../primitives/errors.ts';
import { xxhash32 } from './xxhash32.ts';

/**
 * Kafka's LZ4 codec: the standard LZ4 frame format (lz4_Frame_format.md
 * v1.6), one or more frames back to back.
 *
 * Header: magic 0x184D2204 (LE), FLG, BD, [content size u64], [dict id u32],
 * HC. HC is the second byte of XXH32(FLG..end of descriptor). Kafka before
 * 0.10 hashed the magic too (KIP-57); Kafka checks HC for every v2 batch, so
 * we check it as well. Blocks: u32 LE size (high bit = stored uncompressed,
 * 0 = end mark), data, [XXH32 of the block data]; after the end mark an
 * optional XXH32 of the whole frame content.
 *
 * Decoding is bounded: each block may inflate to at most the block maximum
 * declared in BD, and the running total stops at `maxBytes` before the output
 * grows past it. Independent blocks (what Kafka clients write) are decoded by
 * lz4-napi, one call per block with the room left as the output bound; it
 * measured 1.5-2x faster than the TS block decoder below (16 KiB and 1 MiB of
 * JSON). The TS decoder handles linked blocks (which need the previous 64 KiB
 * as history), classifies blocks lz4-napi refuses (corrupt vs over the cap),
 * and stands in when lz4-napi is missing (or SAMSA_LZ4=ts).
 */
const FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;

const BLOCK_UNCOMPRESSED = 0x80000000;

interface NativeLz4 {
  compressFrameSync(data: Buffer, options?: { contentChecksum?: boolean; blockChecksums?: boolean }): Buffer;
  /** lz4_flex block decode; input is a u32 LE output bound followed by one raw block. */
  uncompressSync(data: Uint8Array): Buffer;
}

function loadNative(): NativeLz4 | null {
  try {
    return createRequire(import.meta.url)('lz4-napi') as NativeLz4;
  } catch {
    return null;
  }
}

const native = loadNative();

function lz4Native(): NativeLz4 {
  if (native === null) throw new Error('lz4-napi is not installed: LZ4 compression is unavailable');
  return native;
}

/** lz4-napi when it loaded and SAMSA_LZ4 is not 'ts'; else blocks go through the TS decoder. */
let blockNative = process.env.SAMSA_LZ4 === 'ts' ? null : native;

/**
 * Chooses the block decoder for independent blocks (tests and benchmarks);
 * returns whether lz4-napi is now in use (false when it is not installed).
 */
export function useNativeLz4Blocks(on: boolean): boolean {
  blockNative = on ? native : null;
  return blockNative !== null;
}

/**
 * Decodes one independent block natively into a fresh Buffer of at most
 * `room` bytes, or returns null if lz4-napi refuses it (corrupt, or more than
 * `room` bytes); the caller then re-runs the TS decoder to say which.
 */
function nativeBlock(src: Uint8Array, start: number, end: number, room: number): Buffer | null {
  const input = Buffer.allocUnsafe(end - start + 4);
  input.writeUInt32LE(room, 0);
  input.set(src.subarray(start, end), 4);
  try {
    const out = blockNative!.uncompressSync(input);
    return out.length <= room ? out : null;
  } catch {
    return null;
  }
}

function bad(message: string, offset = -1): DecodeError {
  return new DecodeError('BAD_COMPRESSION', `lz4: ${message}`, offset);
}

function readLE32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/**
 * Compresses `data` as one LZ4 frame with independent blocks, the layout
 * Kafka's Java client and librdkafka write and read (FLG version 01, block
 * independence set, correct HC).
 */
export function lz4CompressFrame(data: Uint8Array, contentChecksum = false): Buffer {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return lz4Native().compressFrameSync(buf, contentChecksum ? { contentChecksum: true } : undefined);
}

/** Output of one decompress call: block outputs appended as chunks, never more than `max` bytes in all. */
class Output {
  readonly chunks: Buffer[] = [];
  total = 0;
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
  }
  append(src: Uint8Array, start: number, end: number): void {
    const chunk = Buffer.allocUnsafe(end - start);
    chunk.set(src.subarray(start, end));
    this.chunks.push(chunk);
    this.total += end - start;
  }
  result(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.total);
  }
}

/** LZ4 matches reach at most 64 KiB back; linked blocks keep that much history. */
const HISTORY = 65536;
/**
 * Reused decode buffer: [history of the previous block (linked blocks only)]
 * [this block's output]. Sized for the largest block seen (at most 4 MiB +
 * 64 KiB); the protocol layer is synchronous, so one per process suffices.
 */
let scratch = new Uint8Array(0);
function scratchFor(size: number): Uint8Array {
  if (scratch.length < size) scratch = new Uint8Array(size);
  return scratch;
}

function limitError(max: number, offset: number): DecodeError {
  return new DecodeError(
    'DECOMPRESSION_LIMIT',
    `lz4: decompressed data exceeds the ${max}-byte limit`,
    offset,
  );
}

/**
 * Decodes one LZ4 block `src[start..end)` into `out.buf` at `out.pos`.
 * `limit` is the highest output position the block may reach (block maximum
 * or the caller's cap); `floor` is the lowest position a match may copy from
 * (the block start for independent blocks). Returns the new output position.
 */
export function lz4DecodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstPos: number,
  limit: number,
  floor: number,
): number {
  let ip = start;
  let op = dstPos;
  if (ip >= end) throw bad('empty block', ip);
  for (;;) {
    const token = src[ip++]!;
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw bad('truncated literal length', ip);
        b = src[ip++]!;
        litLen += b;
      } while (b === 255);
    }
    if (litLen > 0) {
      if (litLen > end - ip) throw bad('literals run past the block', ip);
      if (litLen > limit - op) return -1;
      if (litLen < 16) {
        for (let k = 0; k < litLen; k++) dst[op + k] = src[ip + k]!;
      } else {
        dst.set(src.subarray(ip, ip + litLen), op);
      }
      ip += litLen;
      op += litLen;
    }
    if (ip === end) return op; // the last sequence has literals only
    if (ip + 2 > end) throw bad('truncated match offset', ip);
    const distance = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (distance === 0 || distance > op - floor) throw bad(`match offset ${distance} out of range`, ip - 2);
    let matchLen = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= end) throw bad('truncated match length', ip);
        b = src[ip++]!;
        matchLen += b;
      } while (b === 255);
    }
    if (matchLen > limit - op) return -1;
    let from = op - distance;
    if (matchLen < 32) {
      const stop = op + matchLen;
      while (op < stop) dst[op++] = dst[from++]!;
    } else if (distance >= matchLen) {
      dst.copyWithin(op, from, from + matchLen);
      op += matchLen;
    } else {
      // Overlapping copy: the output repeats with period `distance`, so copy
      // one period and then double the copied run.
      dst.copyWithin(op, from, op);
      let done = distance;
      while (done < matchLen) {
        const n = Math.min(done, matchLen - done);
        dst.copyWithin(op + done, op, op + n);
        done += n;
      }
      op += matchLen;
    }
  }
}

/**
 * Decompresses Kafka LZ4 data (one or more frames) into at most `maxBytes`.
 * Corrupt input: DecodeError BAD_COMPRESSION. More than `maxBytes` of output:
 * DecodeError DECOMPRESSION_LIMIT, raised before the output grows past the cap.
 */
export function lz4DecompressFrames(src: Uint8Array, maxBytes: number): Buffer {
  const out = new Output(maxBytes);
  let ip = 0;
  if (src.length === 0) throw bad('empty input');
  while (ip < src.length) {
    if (ip + 4 > src.length) throw bad('truncated frame magic', ip);
    const magic = readLE32(src, ip);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (ip + 8 > src.length) throw bad('truncated skippable frame', ip);
      const size = readLE32(src, ip + 4);
      if (size > src.length - ip - 8) throw bad('skippable frame runs past the input', ip);
      ip += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw bad(`bad frame magic 0x${magic.toString(16)}`, ip);
    ip = decodeFrame(src, ip + 4, out);
  }
  return out.result();
}

/** Decodes one frame whose descriptor starts at `ip`; returns the position after it. */
function decodeFrame(src: Uint8Array, ip: number, out: Output): number {
  const descStart = ip;
  if (ip + 3 > src.length) throw bad('truncated frame descriptor', ip);
  const flg = src[ip]!;
  const bd = src[ip + 1]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) {
    throw bad(`unsupported frame version in FLG 0x${flg.toString(16)}`, ip);
  }
  if (flg & FLG_RESERVED) throw bad('reserved FLG bit set', ip);
  if (flg & FLG_DICT_ID) throw bad('frames that need a dictionary are not supported', ip);
  if (bd & 0x8f) throw bad(`reserved BD bits set (0x${bd.toString(16)})`, ip + 1);
  const sizeId = (bd >>> 4) & 7;
  if (sizeId < 4) throw bad(`invalid block maximum size id ${sizeId}`, ip + 1);
  const blockMax = 1 << (8 + 2 * sizeId); // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
  ip += 2;
  let contentSize = -1;
  if (flg & FLG_CONTENT_SIZE) {
    if (ip + 9 > src.length) throw bad('truncated content size', ip);
    const lo = readLE32(src, ip);
    const hi = readLE32(src, ip + 4);
    contentSize = hi > 0x1fffff ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 + lo;
    ip += 8;
  }
  if (ip >= src.length) throw bad('truncated frame descriptor', ip);
  const hc = (xxhash32(src, descStart, ip) >>> 8) & 0xff;
  if (src[ip] !== hc) throw bad('frame descriptor checksum mismatch', ip);
  ip++;
  if (contentSize > out.max - out.total) {
    throw new DecodeError(
      'DECOMPRESSION_LIMIT',
      `lz4: frame declares ${contentSize} bytes, over the ${out.max}-byte limit`,
      ip,
    );
  }
  const independent = (flg & FLG_BLOCK_INDEPENDENT) !== 0;
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  const frameStart = out.total;
  const frameEnd = contentSize >= 0 ? frameStart + contentSize : Number.POSITIVE_INFINITY;
  const firstChunk = out.chunks.length;
  const buf = scratchFor((independent ? 0 : HISTORY) + blockMax);
  let hist = 0; // bytes of history at the start of `buf` (linked blocks only)
  for (;;) {
    if (ip + 4 > src.length) throw bad('truncated block size', ip);
    const word = readLE32(src, ip);
    ip += 4;
    if (word === 0) break;
    const size = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
    if (size > blockMax)
      throw bad(`block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`, ip - 4);
    if (size > src.length - ip) throw bad('block runs past the input', ip);
    const dataEnd = ip + size;
    if (blockChecksum) {
      if (dataEnd + 4 > src.length) throw bad('truncated block checksum', dataEnd);
      if (xxhash32(src, ip, dataEnd) !== readLE32(src, dataEnd))
        throw bad('block checksum mismatch', dataEnd);
    }
    // Room for a full block unless the cap or the declared content size is lower.
    const capRoom = out.max - out.total;
    const room = Math.min(blockMax, capRoom, frameEnd - out.total);
    let n: number;
    if (independent && blockNative !== null && (word & BLOCK_UNCOMPRESSED) === 0) {
      const chunk = nativeBlock(src, ip, dataEnd, room);
      if (chunk !== null) {
        out.push(chunk);
        ip = dataEnd + (blockChecksum ? 4 : 0);
        continue;
      }
      // Refused: fall through to the TS decoder, which tells a cap overrun from corruption.
    }
    if (word & BLOCK_UNCOMPRESSED) {
      if (size > room) {
        if (size > capRoom) throw limitError(out.max, ip);
        throw bad('stored block runs past the declared content size', ip);
      }
      buf.set(src.subarray(ip, dataEnd), hist);
      n = size;
    } else {
      const end = lz4DecodeBlock(src, ip, dataEnd, buf, hist, hist + room, 0);
      if (end < 0) {
        if (room === capRoom && capRoom < blockMax) throw limitError(out.max, ip);
        throw bad(`block inflates past the frame's ${blockMax}-byte block maximum`, ip);
      }
      n = end - hist;
    }
    out.append(buf, hist, hist + n);
    if (!independent) {
      // Keep the last 64 KiB of this frame's output as the next block's history.
      const keep = Math.min(HISTORY, hist + n);
      buf.copyWithin(0, hist + n - keep, hist + n);
      hist = keep;
    }
    ip = dataEnd + (blockChecksum ? 4 : 0);
  }
  const produced = out.total - frameStart;
  if (contentSize >= 0 && produced !== contentSize) {
    throw bad(`frame declared ${contentSize} bytes but held ${produced}`, ip);
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (ip + 4 > src.length) throw bad('truncated content checksum', ip);
    let h: number;
    if (out.chunks.length - firstChunk === 1) h = xxhash32(out.chunks[firstChunk]!);
    else h = xxhash32(Buffer.concat(out.chunks.slice(firstChunk), produced));
    if (h !== readLE32(src, ip)) throw bad('content checksum mismatch', ip);
    ip += 4;
  }
  return ip;
}
