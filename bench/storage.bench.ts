/**
 * Storage benchmark (issue 3). Every figure comes with a baseline measured
 * in the same run on the same disk:
 *   append (page cache)      1 MiB of 16 KiB batches vs plain sequential fs.writeSync of the same bytes
 *   append (fsync per ack)   same, each append awaited, vs write + fdatasync per 16 KiB
 *   sequential read          log.read() in 1 MiB fetches vs plain 1 MiB readSync of the segment file:
 *                            batches appended in this process (already verified), and the first
 *                            read after a clean restart (every batch's CRC checked once)
 *   lookups                  read(offset) and offsetForTimestamp() latency on a large log
 *   recovery                 full CRC scan of that log after a simulated SIGKILL (files hot in page cache)
 *   compaction               MB/s of cleaned input
 * The large log is 1 GiB by default; SAMSA_BENCH_LOG_GIB=10 builds the 10 GiB log the issue asks for.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../src/protocol/primitives/crc32c.ts';
import type { PartitionLog } from '../src/storage/engine.ts';
import { FileLogEngine } from '../src/storage/file/engine.ts';
import { fmt, mbps } from './util.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const T0 = 1_700_000_000_000;

/** A valid v2 batch of `size` bytes holding `n` records (keys k<i % keys>), uncompressed. */
function batchOf(size: number, n: number, seq: number, keys = 1 << 30): Buffer {
  const recSize = Math.floor((size - 61) / n);
  const parts: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(`k${(seq * n + i) % keys}`);
    const target = i === n - 1 ? size - 61 - total : recSize;
    // body: attrs(1) tsDelta(1) offsetDelta(varint) keyLen(1) key valueLen(varint) value headers(1)
    const offDelta = zz(i);
    let valueLen = target - 1 - 1 - 1 - offDelta.length - 1 - key.length - 1 - 3; // length prefix ~2 + valueLen varint ~2
    let body: Buffer;
    for (;;) {
      const vl = zz(valueLen);
      body = Buffer.concat([
        Buffer.from([0, 0]),
        offDelta,
        zz(key.length),
        key,
        vl,
        Buffer.alloc(valueLen, 0x61 + (i % 26)),
        Buffer.from([0]),
      ]);
      const rec = Buffer.concat([zz(body.length), body]);
      if (rec.length === target || valueLen <= 0) {
        parts.push(rec);
        total += rec.length;
        break;
      }
      valueLen += target - rec.length;
    }
  }
  const records = Buffer.concat(parts);
  const b = Buffer.alloc(61 + records.length);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(-1, 12);
  b[16] = 2;
  b.writeInt32BE(n - 1, 23);
  b.writeBigInt64BE(BigInt(T0 + seq), 27);
  b.writeBigInt64BE(BigInt(T0 + seq), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(n, 57);
  records.copy(b, 61);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

function zz(n: number): Buffer {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

async function appendBench(root: string): Promise<void> {
  const batches = Array.from({ length: 64 }, (_, i) => batchOf(16 * KiB, 8, i));
  const rounds = 64; // 64 MiB per measurement, 1 MiB per round
  const samplesEngine: number[] = [];
  const samplesNoCrc: number[] = [];
  const samplesPlain: number[] = [];
  for (let trial = 0; trial < 5; trial++) {
    const dir = join(root, `append-${trial}`);
    const e = await FileLogEngine.open({
      dirs: [dir],
      background: false,
      defaultConfig: { segmentBytes: 256 * MiB },
    });
    const log = await e.openLog('bench', 0);
    let t = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const b of batches) await log.append(b, { verifyCrc: true });
    samplesEngine.push(Number(process.hrtime.bigint() - t) / 1e9);
    const log2 = await e.openLog('bench', 1);
    t = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const b of batches) await log2.append(b, { verifyCrc: false });
    samplesNoCrc.push(Number(process.hrtime.bigint() - t) / 1e9);
    await e.close();
    const plainPath = join(root, `plain-${trial}.log`);
    const fd = fs.openSync(plainPath, 'w');
    let pos = 0;
    t = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      for (const b of batches) {
        fs.writeSync(fd, b, 0, b.length, pos);
        pos += b.length;
      }
    }
    samplesPlain.push(Number(process.hrtime.bigint() - t) / 1e9);
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(plainPath, { force: true });
  }
  const bytes = rounds * MiB;
  const eng = mbps(bytes, median(samplesEngine));
  const noCrc = mbps(bytes, median(samplesNoCrc));
  const plain = mbps(bytes, median(samplesPlain));
  console.log(
    `append, page cache, 16 KiB batches, CRC verified: ${fmt(eng)} MB/s vs plain writes ${fmt(plain)} MB/s  ratio ${fmt(eng / plain, 2)} (goal >= 0.8)`,
  );
  console.log(
    `append, page cache, 16 KiB batches, CRC already checked by the caller: ${fmt(noCrc)} MB/s  ratio ${fmt(noCrc / plain, 2)}`,
  );

  // fsync before ack: 1 MiB, every append awaited
  const dir = join(root, 'append-fsync');
  const e = await FileLogEngine.open({
    dirs: [dir],
    background: false,
    defaultConfig: { fsyncBeforeAck: true },
  });
  const log = await e.openLog('bench', 0);
  await log.append(batchOf(16 * KiB, 8, 0)); // first flush also syncs the new directories
  let t = process.hrtime.bigint();
  for (const b of batches) await log.append(b);
  const engSec = Number(process.hrtime.bigint() - t) / 1e9;
  await e.close();
  const plainPath = join(root, 'plain-fsync.log');
  const fd = fs.openSync(plainPath, 'w');
  let pos = 0;
  t = process.hrtime.bigint();
  for (const b of batches) {
    fs.writeSync(fd, b, 0, b.length, pos);
    pos += b.length;
    await new Promise<void>((res, rej) => fs.fdatasync(fd, (err) => (err ? rej(err) : res())));
  }
  const plainSec = Number(process.hrtime.bigint() - t) / 1e9;
  fs.closeSync(fd);
  const ef = mbps(MiB, engSec);
  const pf = mbps(MiB, plainSec);
  console.log(
    `append, fsync before ack (one fsync per 16 KiB): ${fmt(ef, 2)} MB/s vs write+fdatasync ${fmt(pf, 2)} MB/s  ratio ${fmt(ef / pf, 2)}`,
  );
  // and with concurrency: 64 appends in flight share fsyncs (group commit)
  const e2 = await FileLogEngine.open({
    dirs: [`${dir}-gc`],
    background: false,
    defaultConfig: { fsyncBeforeAck: true },
  });
  const log2 = await e2.openLog('bench', 0);
  await log2.append(batchOf(16 * KiB, 8, 0));
  t = process.hrtime.bigint();
  await Promise.all(batches.map((b) => log2.append(b)));
  const gcSec = Number(process.hrtime.bigint() - t) / 1e9;
  await e2.close();
  console.log(`append, fsync before ack, 64 in flight (group commit): ${fmt(mbps(MiB, gcSec), 1)} MB/s`);
}

async function buildLargeLog(
  dir: string,
  bytes: number,
): Promise<{ e: FileLogEngine; leo: number; batches: number }> {
  const e = await FileLogEngine.open({ dirs: [dir], background: false });
  const log = await e.openLog('big', 0);
  const tpl = Array.from({ length: 16 }, (_, i) => batchOf(16 * KiB, 16, i));
  const n = Math.floor(bytes / tpl[0]!.length);
  for (let i = 0; i < n; i++) {
    const b = tpl[i % 16]!;
    // distinct increasing timestamps: patch and re-CRC
    b.writeBigInt64BE(BigInt(T0 + i), 27);
    b.writeBigInt64BE(BigInt(T0 + i), 35);
    b.writeUInt32BE(crc32c(b.subarray(21)), 17);
    await log.append(b, { verifyCrc: false });
  }
  return { e, leo: log.logEndOffset, batches: n };
}

async function readAndLookupBench(root: string, gib: number): Promise<{ dir: string; bytes: number }> {
  const dir = join(root, 'large');
  const bytes = gib * 1024 * MiB;
  const t = process.hrtime.bigint();
  const { e, leo, batches } = await buildLargeLog(dir, bytes);
  const buildSec = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(
    `built a ${gib} GiB log (${batches} batches, ${leo} records) in ${fmt(buildSec)} s (${fmt(mbps(bytes, buildSec))} MB/s)`,
  );
  // Sequential reads of the first 256 MiB (hot in the page cache) vs plain reads of the
  // segment file, 3 rounds interleaved (medians): with the batches verified at append, and
  // after a clean restart (each round restarts; the first pass checks every CRC once).
  const span = Math.min(bytes, 256 * MiB);
  const readOnce = async (log: PartitionLog) => {
    const t0 = process.hrtime.bigint();
    let off = 0;
    let got = 0;
    while (got < span) {
      const r = await log.read(off, MiB);
      got += r.bytes;
      off = r.nextOffset;
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const segPath = join(dir, 'big-0', '00000000000000000000.log');
  const fd = fs.openSync(segPath, 'r');
  const plainOnce = () => {
    const t0 = process.hrtime.bigint();
    for (let pos = 0; pos < span; pos += MiB) fs.readSync(fd, Buffer.allocUnsafe(MiB), 0, MiB, pos);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  let eng = e;
  let log = e.getLog('big', 0)!;
  await readOnce(log);
  plainOnce();
  const hot: number[] = [];
  const plain: number[] = [];
  const cold: number[] = [];
  for (let round = 0; round < 3; round++) {
    hot.push(await readOnce(log));
    plain.push(plainOnce());
  }
  for (let round = 0; round < 3; round++) {
    await eng.close();
    eng = await FileLogEngine.open({ dirs: [dir], background: false });
    log = await eng.openLog('big', 0);
    cold.push(await readOnce(log));
    plain.push(plainOnce());
  }
  fs.closeSync(fd);
  const plainSec = median(plain);
  const line = (what: string, xs: number[]) =>
    console.log(
      `sequential read (1 MiB fetches), ${what}: ${fmt(mbps(span, median(xs)))} MB/s vs plain reads ${fmt(mbps(span, plainSec))} MB/s  ratio ${fmt(plainSec / median(xs), 2)} (rounds ${xs.map((x) => fmt(plainSec / x, 2)).join(', ')})`,
    );
  line('batches verified at append', hot);
  line('first read after a clean restart (CRC checked)', cold);

  // lookups
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const lat: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const o = rnd(leo);
    const s = process.hrtime.bigint();
    await log.read(o, 1);
    lat.push(Number(process.hrtime.bigint() - s) / 1e3);
  }
  console.log(
    `offset lookup (read 1 batch at a random offset): p50 ${fmt(median(lat))} µs, p99 ${fmt(pct(lat, 0.99))} µs`,
  );
  const tl: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const ts = T0 + rnd(batches);
    const s = process.hrtime.bigint();
    await log.offsetForTimestamp(ts);
    tl.push(Number(process.hrtime.bigint() - s) / 1e3);
  }
  console.log(`timestamp lookup (ListOffsets): p50 ${fmt(median(tl))} µs, p99 ${fmt(pct(tl, 0.99))} µs`);
  await eng.crashForTest(); // no clean-shutdown marker
  return { dir, bytes };
}

async function recoveryBench(dir: string, bytes: number): Promise<void> {
  // recovery point 0: every segment is scanned and CRC-checked
  fs.writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), '0\n1\nbig 0 0\n');
  const t = process.hrtime.bigint();
  const e = await FileLogEngine.open({ dirs: [dir], background: false });
  await e.openLog('big', 0);
  const sec = Number(process.hrtime.bigint() - t) / 1e9;
  const info = e.lastOpenInfo.get('big-0')!;
  console.log(
    `recovery after a crash (full scan, files in page cache): ${fmt(sec, 2)} s for ${fmt(info.scannedBytes / 1024 / MiB, 2)} GiB = ${fmt(sec / (bytes / 1024 / MiB), 2)} s/GiB`,
  );
  await e.close();
}

async function compactionBench(root: string): Promise<void> {
  const dir = join(root, 'compact');
  const e = await FileLogEngine.open({
    dirs: [dir],
    background: false,
    defaultConfig: {
      cleanupCompact: true,
      cleanupDelete: false,
      minCleanableDirtyRatio: 0,
      segmentBytes: 16 * MiB,
    },
  });
  const log = await e.openLog('c', 0);
  const total = 128 * MiB;
  const n = total / (16 * KiB);
  for (let i = 0; i < n; i++) await log.append(batchOf(16 * KiB, 64, i, 20_000), { verifyCrc: false });
  await log.append(batchOf(16 * KiB, 64, n, 20_000)); // roll marker
  log.highWatermark = log.logEndOffset;
  const t = process.hrtime.bigint();
  const stats = await log.compact();
  const sec = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(
    `compaction: ${fmt(mbps(stats!.bytesRead, sec))} MB/s of input (${fmt(stats!.bytesRead / MiB)} MiB -> ${fmt(stats!.bytesWritten / MiB)} MiB, ${stats!.recordsRemoved} records removed, 20k keys)`,
  );
  await e.close();
}

export async function run(): Promise<void> {
  const root = fs.mkdtempSync(join(process.env.SAMSA_BENCH_DIR ?? tmpdir(), 'samsa-storage-bench-'));
  try {
    await appendBench(root);
    const gib = Number(process.env.SAMSA_BENCH_LOG_GIB ?? 1);
    const { dir, bytes } = await readAndLookupBench(root, gib);
    await recoveryBench(dir, bytes);
    fs.rmSync(dir, { recursive: true, force: true });
    await compactionBench(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
