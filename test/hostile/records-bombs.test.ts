/**
 * Decompression bombs, one per codec: small inputs that would inflate past
 * 1 GiB must stop at the cap with DECOMPRESSION_LIMIT, quickly, and without
 * growing RSS. This file runs in its own process (node --test), and the
 * bombs are built from small pieces so building them costs no memory either.
 *
 * gzip and zstd really can go past 1 GiB from under 1 MiB. snappy (about
 * 21:1 at best) and LZ4 (about 255:1) cannot honestly: their bombs are a
 * block or frame that *declares* a huge size (which a naive decoder
 * allocates up front) plus an honest maximal-ratio stream past the cap.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { crc32c } from '../../src/protocol/primitives/crc32c.ts';
import { DecodeError } from '../../src/protocol/primitives/errors.ts';
import { compress, decompress } from '../../src/protocol/records/compression.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../src/protocol/records/record-batch.ts';
import { xxhash32 } from '../../src/protocol/records/xxhash32.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The cap the bombs run into: a broker's max.message.bytes-sized budget. */
const CAP = 8 * MiB;

/**
 * gzip of 1 GiB + 1 MiB of zeros from identical pieces: deflating zeros with
 * a full flush resets the history, so every piece encodes the same and the
 * stream is the header, the pieces, a final empty block and the trailer.
 * 4 MiB pieces (1 MiB ones carry too much flush overhead to stay under
 * 1 MiB in all). The trailer's CRC is left 0: the cap is hit long before it.
 */
function gzipBomb(): Buffer {
  const flush = { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH };
  const piece = zlib.deflateRawSync(Buffer.alloc(4 * MiB), flush);
  const small = zlib.deflateRawSync(Buffer.alloc(MiB), flush);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
  const end = zlib.deflateRawSync(Buffer.alloc(0));
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE((GiB + MiB) % 2 ** 32, 4);
  return Buffer.concat([header, ...new Array<Buffer>(GiB / (4 * MiB)).fill(piece), small, end, trailer]);
}

/** One zstd frame of RLE blocks (4 bytes each for 128 KiB of zeros), no declared size, window 2^windowLog. */
function zstdBomb(outBytes: number, windowLog = 17): Buffer {
  const blocks = Math.ceil(outBytes / (128 * 1024));
  const buf = Buffer.alloc(6 + blocks * 4);
  buf.writeUInt32LE(0xfd2fb528, 0);
  buf[4] = 0x00; // frame header descriptor: no content size, not single segment, no checksum
  buf[5] = (windowLog - 10) << 3; // window descriptor: exponent only
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const h = ((128 * 1024) << 3) | (1 << 1) | last; // RLE block of 128 KiB
    buf.writeUIntLE(h, 6 + i * 4, 3);
    buf[6 + i * 4 + 3] = 0;
  }
  return buf;
}

/** zstd frame declaring a 1 TiB content size (single segment), holding almost nothing. */
function zstdDeclaredBomb(): Buffer {
  const buf = Buffer.alloc(4 + 1 + 8 + 4);
  buf.writeUInt32LE(0xfd2fb528, 0);
  buf[4] = 0xe0; // FCS field 8 bytes, single segment
  buf.writeBigUInt64LE(2n ** 40n, 5);
  buf.writeUIntLE((1 << 3) | (1 << 1) | 1, 13, 3); // last RLE block of 1
  return buf;
}

/** LZ4 frame (4 MiB block maximum) of as many 4 MiB zero blocks (about 16 KiB each) as fit in the budget. */
function lz4Bomb(compressedBudget: number): Buffer {
  const desc = Buffer.from([0x60, 0x70]);
  const hc = (xxhash32(desc) >>> 8) & 0xff;
  const block = lz4ZeroBlock(4 * MiB);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(block.length);
  const count = Math.floor((compressedBudget - 11) / (block.length + 4));
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), desc, Buffer.from([hc])];
  for (let i = 0; i < count; i++) parts.push(size, block);
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** An LZ4 block decoding to `n` zero bytes: one literal, one long match at distance 1, five literals. */
function lz4ZeroBlock(n: number): Buffer {
  const matchLen = n - 6;
  const extra = matchLen - 4 - 15;
  const bytes: number[] = [0x1f, 0x00, 0x01, 0x00];
  let rest = extra;
  while (rest >= 255) {
    bytes.push(255);
    rest -= 255;
  }
  bytes.push(rest);
  bytes.push(0x50, 0, 0, 0, 0, 0);
  return Buffer.from(bytes);
}

/** LZ4 frame whose descriptor claims 1 TiB of content. */
function lz4DeclaredBomb(): Buffer {
  const desc = Buffer.alloc(10);
  desc[0] = 0x68;
  desc[1] = 0x70;
  desc.writeBigUInt64LE(2n ** 40n, 2);
  const hc = (xxhash32(desc) >>> 8) & 0xff;
  return Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), desc, Buffer.from([hc]), Buffer.alloc(4)]);
}

/** Raw snappy claiming 4 GiB - 1, and a xerial stream of chunks each claiming 1 GiB. */
function snappyDeclaredBombs(): Buffer[] {
  const raw = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00]);
  const header = Buffer.from('82534e41505059000000000100000001', 'hex');
  const chunk = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00]); // preamble 2^30
  const len = Buffer.alloc(4);
  len.writeInt32BE(chunk.length);
  return [raw, Buffer.concat([header, ...new Array(1000).fill(Buffer.concat([len, chunk]))])];
}

/** xerial snappy of zeros at snappy's best ratio: about 21:1. */
function snappyHonestBomb(compressedBudget: number): Buffer {
  const one = compress(2, Buffer.alloc(32 * 1024)).subarray(16); // one chunk with its length
  const n = Math.floor((compressedBudget - 16) / one.length);
  return Buffer.concat([Buffer.from('82534e41505059000000000100000001', 'hex'), ...new Array(n).fill(one)]);
}

function expectBomb(codec: number, bomb: Buffer): void {
  assert.ok(bomb.length < MiB, `bomb is ${bomb.length} bytes`);
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const peak0 = process.resourceUsage().maxRSS * 1024;
  const t0 = performance.now();
  assert.throws(
    () => decompress(codec, bomb, CAP),
    (e: unknown) => e instanceof DecodeError && e.kind === 'DECOMPRESSION_LIMIT',
  );
  const ms = performance.now() - t0;
  const rssGrowth = process.memoryUsage().rss - rss0;
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - peak0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  assert.ok(rssGrowth < 64 * MiB, `RSS grew ${(rssGrowth / MiB).toFixed(1)} MiB`);
  assert.ok(peakGrowth < 64 * MiB, `peak RSS grew ${(peakGrowth / MiB).toFixed(1)} MiB`);
}

describe('decompression bombs stop at the cap', () => {
  test('gzip: ~1 MiB inflating past 1 GiB', () => {
    expectBomb(1, gzipBomb());
  });
  test('zstd: 32 KiB of RLE blocks inflating past 1 GiB, and a frame declaring 1 TiB', () => {
    expectBomb(4, zstdBomb(GiB + MiB));
    // The largest window the decoder accepts (128 MiB) costs no more than the capped output.
    expectBomb(4, zstdBomb(GiB + MiB, 27));
    expectBomb(4, zstdDeclaredBomb());
  });
  test('snappy: blocks declaring 4 GiB / 1000 x 1 GiB, and a maximal-ratio stream past the cap', () => {
    for (const b of snappyDeclaredBombs()) expectBomb(2, b);
    expectBomb(2, snappyHonestBomb(MiB - 1));
  });
  test('lz4: a frame declaring 1 TiB, and ~1 MiB of 4 MiB zero blocks (about 255 MiB)', () => {
    expectBomb(3, lz4DeclaredBomb());
    expectBomb(3, lz4Bomb(MiB - 64));
  });
  test('a bomb inside a batch is refused the same way', () => {
    const batch = encodeRecordBatch({
      baseTimestamp: 0n,
      compression: 4,
      records: [{ value: Buffer.alloc(1) }],
    });
    const bomb = zstdBomb(GiB);
    const b = Buffer.concat([batch.subarray(0, 61), bomb]);
    b.writeInt32BE(b.length - 12, 8);
    b.writeUInt32BE(crc32c(b.subarray(21)), 17);
    assert.throws(
      () => decodeRecordBatch(b, { maxDecompressedBytes: CAP }),
      (e: unknown) => e instanceof DecodeError && e.kind === 'DECOMPRESSION_LIMIT',
    );
  });
});
