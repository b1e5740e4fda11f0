import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { DecodeError, type DecodeErrorKind } from '../../../../src/protocol/primitives/errors.ts';
import { compress, decompress } from '../../../../src/protocol/records/compression.ts';
import { lz4DecompressFrames, useNativeLz4Blocks } from '../../../../src/protocol/records/lz4.ts';
import { snappyCompressRaw, snappyCompressXerial } from '../../../../src/protocol/records/snappy.ts';
import { xxhash32 } from '../../../../src/protocol/records/xxhash32.ts';

const require = createRequire(import.meta.url);
const lz4napi = require('lz4-napi') as {
  compressFrameSync(d: Buffer, o?: { contentChecksum?: boolean; blockChecksums?: boolean }): Buffer;
};
const zstdBinding = require('zstd-napi/binding');

const MiB = 1024 * 1024;

function sample(n: number): Buffer {
  const parts: string[] = [];
  for (let i = 0, len = 0; len < n; i++) {
    const s = JSON.stringify({ id: i, name: `user-${(i * 7919) % 1000}`, tags: ['a', 'b', String(i % 7)] });
    parts.push(s);
    len += s.length + 1;
  }
  return Buffer.from(parts.join('\n')).subarray(0, n);
}

function isKind(kind: DecodeErrorKind) {
  return (e: unknown) => e instanceof DecodeError && e.kind === kind;
}

describe('codecs round trip', () => {
  for (const type of [0, 1, 2, 3, 4] as const) {
    for (const size of [0, 1, 1000, 100_000, 300_000]) {
      test(`codec ${type}, ${size} bytes`, () => {
        const data = sample(size);
        const c = compress(type, data);
        assert.deepEqual(decompress(type, c, size), data);
        if (size > 0) assert.throws(() => decompress(type, c, size - 1), isKind('DECOMPRESSION_LIMIT'));
      });
    }
  }
  test('unknown codec id is BAD_COMPRESSION', () => {
    assert.throws(() => decompress(5, Buffer.alloc(4), 100), isKind('BAD_COMPRESSION'));
  });
});

describe('xxhash32', () => {
  test('reference vectors', () => {
    assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
    assert.equal(xxhash32(Buffer.from('a')), 0x550d7456);
    assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  });
});

describe('snappy', () => {
  test('writes the xerial framing', () => {
    const c = compress(2, sample(70_000));
    assert.deepEqual(c.subarray(0, 16), Buffer.from('82534e41505059000000000100000001', 'hex'));
    // 70,000 bytes in 32 KiB blocks: three chunks.
    let chunks = 0;
    for (let p = 16; p < c.length; p += 4 + c.readInt32BE(p)) chunks++;
    assert.equal(chunks, 3);
  });
  test('reads raw snappy', () => {
    const data = sample(50_000);
    assert.deepEqual(decompress(2, snappyCompressRaw(data), MiB), data);
  });
  test('reads xerial with a second header mid-stream (concatenated streams)', () => {
    const a = sample(40_000);
    const b = Buffer.from('second stream');
    const c = Buffer.concat([snappyCompressXerial(a), snappyCompressXerial(b)]);
    assert.deepEqual(decompress(2, c, MiB), Buffer.concat([a, b]));
  });
  test('corrupt input is BAD_COMPRESSION', () => {
    // Raw snappy has no checksum: corrupt literals go unnoticed, so break the structure.
    const c = snappyCompressRaw(sample(5000));
    assert.throws(() => decompress(2, c.subarray(0, c.length - 5), MiB), isKind('BAD_COMPRESSION'));
    const wrongLength = Buffer.concat([Buffer.from([0xff, 0x7f]), c.subarray(2)]);
    assert.throws(() => decompress(2, wrongLength, MiB), isKind('BAD_COMPRESSION'));
    assert.throws(() => decompress(2, Buffer.alloc(0), MiB), isKind('BAD_COMPRESSION'));
    const x = snappyCompressXerial(sample(5000));
    assert.throws(() => decompress(2, x.subarray(0, x.length - 3), MiB), isKind('BAD_COMPRESSION'));
    const y = Buffer.from(x);
    y.writeInt32BE(1 << 30, 16);
    assert.throws(() => decompress(2, y, MiB), isKind('BAD_COMPRESSION'));
  });
});

/** Builds an LZ4 frame by hand: FLG, BD and blocks as given. */
function lz4Frame(
  flg: number,
  bd: number,
  blocks: { data: Buffer; stored?: boolean }[],
  extra?: Buffer,
): Buffer {
  const desc = Buffer.from([flg, bd]);
  const hc = (xxhash32(desc) >>> 8) & 0xff;
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), desc, Buffer.from([hc])];
  for (const b of blocks) {
    const w = Buffer.alloc(4);
    w.writeUInt32LE((b.data.length | (b.stored ? 0x80000000 : 0)) >>> 0);
    parts.push(w, b.data);
  }
  parts.push(Buffer.alloc(4));
  if (extra) parts.push(extra);
  return Buffer.concat(parts);
}

describe('lz4', () => {
  for (const native of [true, false]) {
    const label = native ? 'lz4-napi blocks' : 'TS blocks';
    test(`${label}: frames from lz4-napi, with and without checksums`, () => {
      useNativeLz4Blocks(native);
      try {
        const data = sample(600_000);
        for (const opts of [
          undefined,
          { contentChecksum: true },
          { contentChecksum: true, blockChecksums: true },
        ]) {
          const f = lz4napi.compressFrameSync(data, opts);
          assert.deepEqual(lz4DecompressFrames(f, MiB), data);
        }
        const withSum = lz4napi.compressFrameSync(data, { contentChecksum: true });
        assert.ok(withSum[4]! & 0x04, 'content checksum flag set');
        const broken = Buffer.from(withSum);
        broken[broken.length - 1] ^= 0xff;
        assert.throws(() => lz4DecompressFrames(broken, MiB), isKind('BAD_COMPRESSION'));
      } finally {
        useNativeLz4Blocks(true);
      }
    });
  }

  test('our frames are what Kafka reads: version 01, independent blocks, valid HC', () => {
    const f = compress(3, sample(1000));
    assert.equal(f.readUInt32LE(0), 0x184d2204);
    assert.equal(f[4]! & 0xe0, 0x60);
    assert.equal(f[6], (xxhash32(f, 4, 6) >>> 8) & 0xff);
  });

  test('linked blocks, stored blocks, content size', () => {
    const first = Buffer.from('0123456789abcdef');
    // Block 2: token (0 literals, match 4+15+1=20), offset 16 (reaches into block 1),
    // extra match length 1, then a literal-only last sequence "Z".
    const second = Buffer.from([0x0f, 16, 0, 1, 0x10, 0x5a]);
    const expected = Buffer.concat([first, Buffer.from('0123456789abcdef0123Z')]);
    const linked = lz4Frame(0x40, 0x40, [{ data: first, stored: true }, { data: second }]);
    assert.deepEqual(lz4DecompressFrames(linked, MiB), expected);
    // The same block is out of range when blocks are independent.
    const indep = lz4Frame(0x60, 0x40, [{ data: first, stored: true }, { data: second }]);
    assert.throws(() => lz4DecompressFrames(indep, MiB), isKind('BAD_COMPRESSION'));
    // A wrong header checksum.
    const badHc = Buffer.from(linked);
    badHc[6]! ^= 1;
    assert.throws(() => lz4DecompressFrames(badHc, MiB), isKind('BAD_COMPRESSION'));
  });

  test('content size field and content checksum', () => {
    const data = Buffer.from('hello, hello, hello, lz4');
    const desc = Buffer.alloc(10);
    desc[0] = 0x40 | 0x20 | 0x08 | 0x04;
    desc[1] = 0x40;
    desc.writeUInt32LE(data.length, 2);
    const hc = (xxhash32(desc) >>> 8) & 0xff;
    const blockSize = Buffer.alloc(4);
    blockSize.writeUInt32LE((data.length | 0x80000000) >>> 0);
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(xxhash32(data));
    const frame = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18]),
      desc,
      Buffer.from([hc]),
      blockSize,
      data,
      Buffer.alloc(4),
      sum,
    ]);
    assert.deepEqual(lz4DecompressFrames(frame, MiB), data);
    assert.throws(() => lz4DecompressFrames(frame, data.length - 1), isKind('DECOMPRESSION_LIMIT'));
  });

  test('reserved bits, dictionaries and unknown versions are refused', () => {
    const data = Buffer.from('abc');
    for (const [flg, bd] of [
      [0x62, 0x40],
      [0x61, 0x40],
      [0xa0, 0x40],
      [0x60, 0x41],
      [0x60, 0x30],
    ] as const) {
      assert.throws(
        () => lz4DecompressFrames(lz4Frame(flg, bd, [{ data, stored: true }]), MiB),
        isKind('BAD_COMPRESSION'),
      );
    }
  });
});

describe('zstd', () => {
  test('reads frames with and without a declared content size', () => {
    const data = sample(300_000);
    assert.deepEqual(decompress(4, zlib.zstdCompressSync(data), MiB), data);
    // Streaming compression without a pledged size leaves the content size unknown.
    const cctx = new zstdBinding.CCtx();
    const dst = Buffer.alloc(zstdBinding.compressBound(data.length) + 64);
    const [, p1, c1] = cctx.compressStream2(dst, data, zstdBinding.EndDirective.continue);
    const [, p2] = cctx.compressStream2(dst.subarray(p1), data.subarray(c1), zstdBinding.EndDirective.end);
    const frame = dst.subarray(0, p1 + p2);
    assert.equal(zstdBinding.getFrameContentSize(frame), null);
    assert.deepEqual(decompress(4, frame, MiB), data);
    assert.throws(() => decompress(4, frame, 200_000), isKind('DECOMPRESSION_LIMIT'));
    assert.throws(() => decompress(4, frame.subarray(0, frame.length - 10), MiB), isKind('BAD_COMPRESSION'));
    // Two frames back to back.
    assert.deepEqual(decompress(4, Buffer.concat([frame, frame]), MiB), Buffer.concat([data, data]));
  });
  test('a window above 2^27 is refused', () => {
    // Frame header without content size, window 2^31, then one last RLE block of 16 zeros.
    const f = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (31 - 10) << 3, 0, 0, 0, 0]);
    f.writeUIntLE((16 << 3) | (1 << 1) | 1, 6, 3);
    assert.throws(() => decompress(4, f, MiB), isKind('BAD_COMPRESSION'));
    f[5] = (27 - 10) << 3;
    assert.deepEqual(decompress(4, f, MiB), Buffer.alloc(16));
  });
  test('corrupt input is BAD_COMPRESSION', () => {
    assert.throws(() => decompress(4, Buffer.from('not zstd at all'), MiB), isKind('BAD_COMPRESSION'));
    const c = Buffer.from(compress(4, sample(20_000)));
    c.fill(0x55, 20, 60);
    assert.throws(() => decompress(4, c, MiB), isKind('BAD_COMPRESSION'));
  });
});

describe('gzip', () => {
  test('reads multi-member gzip; corrupt is BAD_COMPRESSION', () => {
    const a = sample(1000);
    const two = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(a)]);
    assert.deepEqual(decompress(1, two, MiB), Buffer.concat([a, a]));
    const c = Buffer.from(zlib.gzipSync(a));
    c[c.length - 6]! ^= 0xff; // CRC32 trailer
    assert.throws(() => decompress(1, c, MiB), isKind('BAD_COMPRESSION'));
    assert.throws(() => decompress(1, Buffer.from('xx'), MiB), isKind('BAD_COMPRESSION'));
  });
});
