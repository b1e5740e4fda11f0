/**
 * Offline access to a broker's partition files, for fault tests: an
 * independent scan of the segments (what recovery must end up with) and the
 * damage a torn write or bad disk leaves behind.
 *
 * The scan follows Kafka's recovery rule: walk the segments in base-offset
 * order, batch by batch; the first batch that is incomplete, has a bad
 * magic/length, a CRC32C mismatch or an offset below the previous batch's
 * end ends the valid log, and everything after it is dropped. Each valid
 * batch keeps (offset range, leader epoch, CRC): the replica comparison of
 * the cluster tests compares these sequences across replicas.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../../../src/protocol/primitives/crc32c.ts';
import { decodeRecordBatch } from '../../../src/protocol/records/record-batch.ts';
import { pick, type Rand, randInt } from './rng.ts';

export function partitionDir(dataDir: string, topic: string, partition: number): string {
  return join(dataDir, `${topic}-${partition}`);
}

export interface ScannedBatch {
  segment: string;
  pos: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  leaderEpoch: number;
  crc: number;
  producerId: number;
  baseSequence: number;
  recordCount: number;
}

export interface PartitionScan {
  dir: string;
  /** .log files in base-offset order. */
  segments: string[];
  /** Valid batches in log order. */
  batches: ScannedBatch[];
  /** The offset after the last valid batch: the log end offset recovery must arrive at. */
  validEnd: number;
  /** Where and why the valid log ends early (undefined: every byte is valid). */
  stop?: { segment: string; pos: number; reason: string };
}

const HEADER = 61;

export function segmentsOf(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort();
}

export function scanPartition(dir: string): PartitionScan {
  const segments = segmentsOf(dir);
  const batches: ScannedBatch[] = [];
  let next = segments.length > 0 ? Number(segments[0]!.slice(0, 20)) : 0;
  let stop: PartitionScan['stop'];
  for (const segment of segments) {
    if (stop) break;
    const buf = readFileSync(join(dir, segment));
    let pos = 0;
    while (pos < buf.length) {
      const fail = (reason: string) => (stop = { segment, pos, reason });
      if (buf.length - pos < HEADER) {
        fail(`${buf.length - pos} trailing bytes, less than a batch header`);
        break;
      }
      const size = buf.readInt32BE(pos + 8) + 12;
      if (size < HEADER) {
        fail(`batch length ${size - 12}`);
        break;
      }
      if (pos + size > buf.length) {
        fail(`batch of ${size} bytes with ${buf.length - pos} present`);
        break;
      }
      if (buf.readInt8(pos + 16) !== 2) {
        fail(`magic ${buf.readInt8(pos + 16)}`);
        break;
      }
      const crc = buf.readUInt32BE(pos + 17);
      if (crc32c(buf.subarray(pos + 21, pos + size)) !== crc) {
        fail('CRC mismatch');
        break;
      }
      const baseOffset = Number(buf.readBigInt64BE(pos));
      const lastOffset = baseOffset + buf.readInt32BE(pos + 23);
      if (baseOffset < next || lastOffset < baseOffset) {
        fail(`offsets ${baseOffset}..${lastOffset} after ${next}`);
        break;
      }
      batches.push({
        segment,
        pos,
        size,
        baseOffset,
        lastOffset,
        leaderEpoch: buf.readInt32BE(pos + 12),
        crc,
        producerId: Number(buf.readBigInt64BE(pos + 43)),
        baseSequence: buf.readInt32BE(pos + 53),
        recordCount: buf.readInt32BE(pos + 57),
      });
      next = lastOffset + 1;
      pos += size;
    }
  }
  return { dir, segments, batches, validEnd: next, stop };
}

/** offset -> value (utf-8) of every record in the scan's valid batches. */
export function scannedValues(scan: PartitionScan): Map<number, string | null> {
  const out = new Map<number, string | null>();
  const files = new Map<string, Buffer>();
  for (const b of scan.batches) {
    let f = files.get(b.segment);
    if (!f) files.set(b.segment, (f = readFileSync(join(scan.dir, b.segment))));
    const d = decodeRecordBatch(f, { offset: b.pos });
    for (const r of d.records) out.set(b.baseOffset + r.offsetDelta, r.value?.toString('utf8') ?? null);
  }
  return out;
}

/** The valid prefix of `before` must be exactly the start of `after`, which must be contiguous and clean. */
export function assertContinues(before: PartitionScan, after: PartitionScan, what: string): void {
  assert.ok(
    after.batches.length >= before.batches.length,
    `${what}: ${after.batches.length} batches now, ${before.batches.length} valid before the restart`,
  );
  for (let i = 0; i < before.batches.length; i++) {
    const a = before.batches[i]!;
    const b = after.batches[i]!;
    assert.deepEqual(
      [b.baseOffset, b.lastOffset, b.leaderEpoch, b.crc],
      [a.baseOffset, a.lastOffset, a.leaderEpoch, a.crc],
      `${what}: batch ${i} changed across recovery`,
    );
  }
  const next = after.batches[before.batches.length];
  if (next)
    assert.equal(
      next.baseOffset,
      before.validEnd,
      `${what}: the first batch after recovery starts at the valid end`,
    );
  for (let i = 1; i < after.batches.length; i++) {
    assert.equal(
      after.batches[i]!.baseOffset,
      after.batches[i - 1]!.lastOffset + 1,
      `${what}: offsets contiguous at batch ${i}`,
    );
  }
}

// ------------------------------------------------------------------ damage

export interface Damage {
  kind: string;
  detail: string;
  /** First offset the damage destroyed (undefined: nothing valid was destroyed). */
  destroyedFrom?: number;
  /** Values of the records destroyed. */
  destroyedValues?: string[];
}

/** Cuts the log's last batch at a random byte strictly inside it (a torn write). */
export function truncateInsideLastBatch(dir: string, rand: Rand): Damage {
  const scan = scanPartition(dir);
  const last = scan.batches.at(-1);
  if (!last) return { kind: 'truncate', detail: 'no batch to cut' };
  const cut = last.pos + randInt(rand, 1, last.size - 1);
  const file = readFileSync(join(dir, last.segment));
  const destroyedValues = decodeRecordBatch(file, { offset: last.pos }).records.map(
    (r) => r.value?.toString('utf8') ?? '',
  );
  truncateSync(join(dir, last.segment), cut);
  // later (empty) segments past the cut stay: recovery must drop them
  return {
    kind: 'truncate',
    detail: `${last.segment} cut at byte ${cut} inside batch ${last.baseOffset}..${last.lastOffset} (${last.pos}+${last.size})`,
    destroyedFrom: last.baseOffset,
    destroyedValues,
  };
}

/** Appends 0..maxBytes random bytes to the active (last) segment. */
export function appendGarbage(dir: string, rand: Rand, maxBytes = 4096): Damage {
  const segs = segmentsOf(dir);
  const active = segs.at(-1);
  if (!active) return { kind: 'garbage', detail: 'no segment' };
  const n = randInt(rand, 0, maxBytes);
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(rand() * 256);
  const fd = openSync(join(dir, active), 'a');
  try {
    writeSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
  return { kind: 'garbage', detail: `${n} random bytes appended to ${active}` };
}

/** Deletes or zeroes (same length) every .index and .timeindex file. */
export function damageIndexes(dir: string, rand: Rand): Damage {
  const done: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.index') && !f.endsWith('.timeindex')) continue;
    const p = join(dir, f);
    if (rand() < 0.5) {
      unlinkSync(p);
      done.push(`deleted ${f}`);
    } else {
      writeFileSync(p, Buffer.alloc(statSync(p).size));
      done.push(`zeroed ${f}`);
    }
  }
  return { kind: 'indexes', detail: done.join(', ') || 'no index files' };
}

const GARBAGE_CHECKPOINTS = [
  '0\n1\nnot a checkpoint\n',
  '\u0000\u0000\u0000\u0000\u0000\u0000',
  '0\n7\n',
  '',
  '1\n1\nx 0 0\n',
  '0\n1\n',
];

/**
 * A well-formed recovery-point checkpoint that claims far more is flushed than
 * exists (the partition dir is `<topic>-<partition>`): recovery must still
 * check the active segment.
 */
export function lyingRecoveryPoint(dataDir: string, dir: string): Damage {
  const m = /^(.+)-(\d+)$/.exec(dir.split('/').at(-1)!)!;
  const text = `0\n1\n${m[1]} ${m[2]} 1000000000\n`;
  writeFileSync(join(dataDir, 'recovery-point-offset-checkpoint'), text);
  return { kind: 'lying-recovery-point', detail: `recovery-point := ${JSON.stringify(text)}` };
}

/** Replaces the log dir's recovery-point checkpoint and the partition's leader-epoch checkpoint with garbage. */
export function corruptCheckpoints(dataDir: string, dir: string, rand: Rand): Damage {
  const rp = join(dataDir, 'recovery-point-offset-checkpoint');
  const le = join(dir, 'leader-epoch-checkpoint');
  const a = pick(rand, GARBAGE_CHECKPOINTS);
  const b = pick(rand, GARBAGE_CHECKPOINTS);
  writeFileSync(rp, a);
  writeFileSync(le, b);
  return {
    kind: 'checkpoints',
    detail: `recovery-point := ${JSON.stringify(a)}; ${existsSync(le) ? 'leader-epoch' : 'new leader-epoch'} := ${JSON.stringify(b)}`,
  };
}
