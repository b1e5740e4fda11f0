/**
 * The fault harness's offline segment scan (the oracle for "the log ends at
 * the last fully valid batch") and its damage helpers, on hand-written files.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  appendGarbage,
  assertContinues,
  corruptCheckpoints,
  damageIndexes,
  lyingRecoveryPoint,
  scannedValues,
  scanPartition,
  truncateInsideLastBatch,
} from '../../support/harness/log-files.ts';
import { mulberry32 } from '../../support/harness/rng.ts';
import { buildBatch, tempDir } from '../storage/helpers.ts';

const seg = (base: number) => `${String(base).padStart(20, '0')}.log`;

/** A partition dir `t-0` with segments of batches: [[values of batch, ...], ...] per segment. */
function makePartition(root: string, segments: string[][][]): string {
  const dir = join(root, 't-0');
  mkdirSync(dir, { recursive: true });
  let offset = 0;
  for (const batches of segments) {
    const file = join(dir, seg(offset));
    writeFileSync(file, Buffer.alloc(0));
    writeFileSync(file.replace(/\.log$/, '.index'), Buffer.alloc(16, 1));
    writeFileSync(file.replace(/\.log$/, '.timeindex'), Buffer.alloc(24, 1));
    for (const values of batches) {
      appendFileSync(
        file,
        buildBatch({ baseOffset: offset, leaderEpoch: 3, records: values.map((value) => ({ value })) }),
      );
      offset += values.length;
    }
  }
  return dir;
}

describe('fault harness: offline segment scan and damage', () => {
  it('scans valid batches across segments with offsets, epochs and values', () => {
    const t = tempDir();
    try {
      const dir = makePartition(t.path, [[['a', 'b'], ['c']], [['d', 'e', 'f']]]);
      const s = scanPartition(dir);
      assert.equal(s.stop, undefined);
      assert.equal(s.validEnd, 6);
      assert.deepEqual(
        s.batches.map((b) => [b.segment, b.baseOffset, b.lastOffset, b.leaderEpoch]),
        [
          [seg(0), 0, 1, 3],
          [seg(0), 2, 2, 3],
          [seg(3), 3, 5, 3],
        ],
      );
      assert.deepEqual([...scannedValues(s)], [...['a', 'b', 'c', 'd', 'e', 'f'].entries()]);
    } finally {
      t.cleanup();
    }
  });

  it('a cut inside the last batch ends the valid log before it, and names what it destroyed', () => {
    const t = tempDir();
    try {
      const dir = makePartition(t.path, [
        [
          ['a', 'b'],
          ['c', 'd'],
        ],
      ]);
      const d = truncateInsideLastBatch(dir, mulberry32(7));
      assert.equal(d.destroyedFrom, 2);
      assert.deepEqual(d.destroyedValues, ['c', 'd']);
      const s = scanPartition(dir);
      assert.equal(s.validEnd, 2);
      assert.match(s.stop!.reason, /present|less than a batch header/);
    } finally {
      t.cleanup();
    }
  });

  it('garbage, a flipped CRC byte and offsets going backwards end the valid log', () => {
    const t = tempDir();
    try {
      let dir = makePartition(t.path, [[['a'], ['b']]]);
      const g = appendGarbage(dir, mulberry32(1), 4096);
      const s = scanPartition(dir);
      assert.equal(s.validEnd, 2);
      if (!g.detail.startsWith('0 ')) assert.ok(s.stop);

      const t2 = tempDir();
      dir = makePartition(t2.path, [[['a'], ['b']]]);
      const f = join(dir, seg(0));
      const buf = readFileSync(f);
      buf[buf.length - 1]! ^= 0xff;
      writeFileSync(f, buf);
      assert.equal(scanPartition(dir).validEnd, 1);
      assert.equal(scanPartition(dir).stop!.reason, 'CRC mismatch');
      t2.cleanup();

      const t3 = tempDir();
      dir = join(t3.path, 't-0');
      mkdirSync(dir);
      writeFileSync(
        join(dir, seg(0)),
        Buffer.concat([
          buildBatch({ baseOffset: 5, records: [{ value: 'x' }] }),
          buildBatch({ baseOffset: 3, records: [{ value: 'y' }] }),
        ]),
      );
      assert.equal(scanPartition(dir).validEnd, 6);
      assert.match(scanPartition(dir).stop!.reason, /offsets 3\.\.3 after 6/);
      t3.cleanup();
    } finally {
      t.cleanup();
    }
  });

  it('index and checkpoint damage', () => {
    const t = tempDir();
    try {
      const dir = makePartition(t.path, [[['a']]]);
      const rand = mulberry32(3);
      damageIndexes(dir, rand);
      for (const ext of ['.index', '.timeindex']) {
        const p = join(dir, seg(0).replace('.log', ext));
        assert.ok(!existsSync(p) || readFileSync(p).every((b) => b === 0), `${ext} deleted or zeroed`);
      }
      corruptCheckpoints(t.path, dir, rand);
      assert.ok(existsSync(join(t.path, 'recovery-point-offset-checkpoint')));
      assert.ok(existsSync(join(dir, 'leader-epoch-checkpoint')));
      lyingRecoveryPoint(t.path, dir);
      assert.equal(
        readFileSync(join(t.path, 'recovery-point-offset-checkpoint'), 'utf8'),
        '0\n1\nt 0 1000000000\n',
      );
      assert.ok(statSync(join(dir, seg(0))).size > 0, 'the log itself is untouched');
    } finally {
      t.cleanup();
    }
  });

  it('assertContinues: the valid prefix must survive byte for byte and the log continue from its end', () => {
    const t = tempDir();
    const t2 = tempDir();
    const t3 = tempDir();
    try {
      const before = scanPartition(makePartition(t.path, [[['a'], ['b']]]));
      assertContinues(before, scanPartition(makePartition(t2.path, [[['a'], ['b'], ['c']]])), 'grown');
      assert.throws(
        () => assertContinues(before, scanPartition(makePartition(t3.path, [[['a'], ['x']]])), 'changed'),
        /batch 1 changed/,
      );
    } finally {
      t.cleanup();
      t2.cleanup();
      t3.cleanup();
    }
  });
});
