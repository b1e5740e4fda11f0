import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { DecodeError } from '../primitives/errors.ts';
import type { CompressionType } from './batch-header.ts';
import { lz4CompressFrame, lz4DecompressFrames } from './lz4.ts';
import { snappyCompressXerial, snappyDecompress } from './snappy.ts';

/**
 * Record batch compression codecs (attributes bits 0-2): 0 none, 1 gzip,
 * 2 snappy, 3 lz4, 4 zstd.
 *
 * `decompress` is always bounded: it returns at most `maxBytes` bytes and
 * throws DecodeError DECOMPRESSION_LIMIT as soon as the output would pass
 * that, without materialising the rest; corrupt input throws
 * BAD_COMPRESSION. How each codec is bounded:
 *   gzip   node:zlib `maxOutputLength` (inflates in chunks, stops past the cap)
 *   snappy the declared uncompressed length of every block is checked first
 *   lz4    frames parsed here; each block bounded by the frame's block maximum
 *   zstd   zstd-napi's DCtx: one-shot into an exact buffer when every frame
 *          declares its size (after checking the sum), else streamed in
 *          bounded steps through one reused 128 KiB window
 *
 * Nested compression (a compressed batch whose records are themselves a
 * compressed batch) cannot be expressed in v2: the inner payload of a v2
 * batch is a sequence of records, never a wrapper message as in v0/v1, so
 * there is nothing to recurse into and decoding is one decompression per
 * batch. PROTO-BadBatch in RELIABILITY.md still lists "nested compression" as
 * an input: a v2 batch whose decompressed records happen to contain bytes
 * that look like another batch decodes those bytes as record fields (and
 * fails as INVALID_RECORD if they do not parse as records); it never
 * triggers a second decompression.
 */
export type { CompressionType } from './batch-header.ts';

/** Names Kafka uses in `compression.type`. */
export const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export interface CompressOptions {
  /** gzip 1-9 (default 6, as Java's Deflater default); zstd 1-22 (default 3). Ignored by snappy and lz4. */
  level?: number;
}

/**
 * zstd window cap: 2^27 (128 MiB), zstd's own default limit and what
 * zstd-jni (Kafka's Java decoder) accepts, so frames from producers at high
 * levels (KIP-390 allows up to 22) still decode. The window buffer's pages
 * are only touched as output is written, and output stops at the cap, so a
 * frame that asks for a large window costs no more RSS than its capped
 * output (checked in test/hostile/records-bombs.test.ts).
 */
export const ZSTD_WINDOW_LOG_MAX = 27;

interface ZstdBinding {
  DCtx: new () => ZstdDCtx;
  CCtx: new () => ZstdCCtx;
  DParameter: { windowLogMax: number };
  ResetDirective: { sessionOnly: number };
  CParameter: { compressionLevel: number };
  getFrameContentSize(frame: Uint8Array): number | null;
  findFrameCompressedSize(frame: Uint8Array): number;
  compressBound(size: number): number;
}
interface ZstdDCtx {
  setParameter(param: number, value: number): void;
  reset(directive: number): void;
  decompress(dst: Uint8Array, src: Uint8Array): number;
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}
interface ZstdCCtx {
  setParameter(param: number, value: number): void;
  compress(dst: Uint8Array, src: Uint8Array, level: number): number;
}

let zstdBinding: ZstdBinding | null | undefined;
let zstdDctx: ZstdDCtx | null = null;
let zstdCctx: ZstdCCtx | null = null;

function zstd(): ZstdBinding {
  if (zstdBinding === undefined) {
    try {
      zstdBinding = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;
    } catch {
      zstdBinding = null;
    }
  }
  if (zstdBinding === null) throw new Error('zstd-napi is not installed: zstd compression is unavailable');
  return zstdBinding;
}

function dctx(): ZstdDCtx {
  if (zstdDctx === null) {
    const b = zstd();
    zstdDctx = new b.DCtx();
    zstdDctx.setParameter(b.DParameter.windowLogMax, ZSTD_WINDOW_LOG_MAX);
  }
  return zstdDctx;
}

/** Compresses `data` with the batch codec `type` (0 returns `data` itself). */
export function compress(type: CompressionType, data: Uint8Array, options: CompressOptions = {}): Buffer {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  switch (type) {
    case 0:
      return buf;
    case 1:
      return zlib.gzipSync(buf, { level: options.level ?? 6 });
    case 2:
      return snappyCompressXerial(buf);
    case 3:
      return lz4CompressFrame(buf);
    case 4:
      return zstdCompress(buf, options.level ?? 3);
    default:
      throw new RangeError(`unknown compression type ${type as number}`);
  }
}

/**
 * Decompresses `data` (codec `type`) into at most `maxBytes` bytes.
 * Throws DecodeError BAD_COMPRESSION for corrupt input or an unknown codec id,
 * DECOMPRESSION_LIMIT when the output would exceed `maxBytes`.
 */
export function decompress(type: number, data: Uint8Array, maxBytes: number): Buffer {
  switch (type) {
    case 0:
      if (data.length > maxBytes) throw limitError('none', maxBytes);
      return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    case 1:
      return gunzipBounded(data, maxBytes);
    case 2:
      return snappyDecompress(data, maxBytes);
    case 3:
      return lz4DecompressFrames(data, maxBytes);
    case 4:
      return zstdDecompressBounded(data, maxBytes);
    default:
      throw new DecodeError('BAD_COMPRESSION', `unknown compression type ${type}`);
  }
}

function limitError(codec: string, maxBytes: number, offset = -1): DecodeError {
  return new DecodeError(
    'DECOMPRESSION_LIMIT',
    `${codec}: decompressed data exceeds the ${maxBytes}-byte limit`,
    offset,
  );
}

function gunzipBounded(data: Uint8Array, maxBytes: number): Buffer {
  try {
    // maxOutputLength must be >= 1; a 0 cap still has to reject any output.
    const out = zlib.gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
    if (out.length > maxBytes) throw limitError('gzip', maxBytes);
    return out;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw limitError('gzip', maxBytes);
    throw new DecodeError('BAD_COMPRESSION', `gzip: ${(err as Error).message}`);
  }
}

function zstdCompress(data: Buffer, level: number): Buffer {
  const b = zstd();
  if (zstdCctx === null) zstdCctx = new b.CCtx();
  const dst = Buffer.allocUnsafe(b.compressBound(data.length));
  const n = zstdCctx.compress(dst, data, level);
  // Copy out so the (compressBound-sized) scratch is not pinned by the result.
  return Buffer.from(dst.subarray(0, n));
}

/** Bytes one streaming step may produce: the output grows by at most this much past what is needed. */
const ZSTD_STEP = 128 * 1024;

function zstdDecompressBounded(data: Uint8Array, maxBytes: number): Buffer {
  const b = zstd();
  const ctx = dctx();
  try {
    // Sum the sizes the frames declare; all declared and within the cap means
    // one native call into an exact buffer.
    let declared = 0;
    let frame = data;
    while (frame.length > 0) {
      const size = b.getFrameContentSize(frame);
      if (size === null) {
        declared = -1;
        break;
      }
      declared += size;
      if (declared > maxBytes) throw limitError('zstd', maxBytes);
      frame = frame.subarray(b.findFrameCompressedSize(frame));
    }
    if (declared >= 0) {
      const out = Buffer.allocUnsafe(declared);
      const n = ctx.decompress(out, data);
      if (n !== declared) throw new DecodeError('BAD_COMPRESSION', 'zstd: frame content size mismatch');
      return out;
    }
    return zstdStream(ctx, data, maxBytes);
  } catch (err) {
    ctx.reset(b.ResetDirective.sessionOnly);
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('BAD_COMPRESSION', `zstd: ${(err as Error).message}`);
  }
}

/** Reused output window for streaming zstd decodes (the protocol layer is synchronous). */
let zstdScratch: Buffer | null = null;

/** Streaming decode for frames without a declared size; never holds more than maxBytes + one step. */
function zstdStream(ctx: ZstdDCtx, data: Uint8Array, maxBytes: number): Buffer {
  if (zstdScratch === null) zstdScratch = Buffer.allocUnsafe(ZSTD_STEP);
  const scratch = zstdScratch;
  const chunks: Buffer[] = [];
  let total = 0;
  let src = data;
  for (;;) {
    // One byte past the cap is enough to know the cap is passed.
    const step = Math.min(ZSTD_STEP, maxBytes - total + 1);
    const [hint, produced, consumed] = ctx.decompressStream(scratch.subarray(0, step), src);
    src = src.subarray(consumed);
    if (produced > 0) {
      total += produced;
      if (total > maxBytes) throw limitError('zstd', maxBytes);
      chunks.push(Buffer.from(scratch.subarray(0, produced)));
    }
    // hint 0: a frame ended and everything is flushed.
    if (hint === 0 && src.length === 0) break;
    if (produced === 0 && consumed === 0) {
      throw new DecodeError(
        'BAD_COMPRESSION',
        src.length === 0 ? 'zstd: truncated frame' : 'zstd: no progress',
      );
    }
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
