import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from '../../../src/storage/engine.ts';
import type { StorageError } from '../../../src/storage/errors.ts';
import { KINDS, makeHarness } from './harness.ts';
import { baseOffsetOf, buildBatch, keysOf, valueBatch, valuesOf } from './helpers.ts';

const T0 = 1_700_000_000_000;

async function rejectsKind(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => (e as StorageError).kind === kind);
}

for (const kind of KINDS) {
  describe(`storage conformance: ${kind}`, () => {
    it('assigns offsets, keeps producer fields, reads back exact bytes', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open();
        const b1 = buildBatch({
          records: [{ value: 'a' }, { value: 'b' }],
          producerId: 42,
          producerEpoch: 3,
          baseSequence: 7,
          baseOffset: 999,
        });
        const r1 = await log.append(Buffer.from(b1));
        assert.equal(r1.baseOffset, 0);
        assert.equal(r1.lastOffset, 1);
        const r2 = await log.append(valueBatch('x', 3));
        assert.equal(r2.baseOffset, 2);
        assert.equal(log.logEndOffset, 5);
        const read = await log.read(0, 1 << 20);
        assert.equal(read.batches.length, 2);
        const got = read.batches[0]!;
        assert.equal(baseOffsetOf(got), 0);
        assert.equal(got.readBigInt64BE(43), 42n);
        assert.equal(got.readInt16BE(51), 3);
        assert.equal(got.readInt32BE(53), 7);
        assert.deepEqual(got.subarray(8), b1.subarray(8)); // same bytes except the base offset
        assert.deepEqual(valuesOf(read.batches[1]!), ['x-0', 'x-1', 'x-2']);
        assert.equal(read.nextOffset, 5);
        // several batches in one append
        const r3 = await log.append(Buffer.concat([valueBatch('p', 2), valueBatch('q', 1)]));
        assert.deepEqual([r3.baseOffset, r3.lastOffset, r3.batches.length], [5, 7, 2]);
        // read in the middle of a batch returns the whole batch
        const mid = await log.read(3, 1 << 20);
        assert.equal(baseOffsetOf(mid.batches[0]!), 2);
      } finally {
        await h.close();
      }
    });

    it('bounds reads by maxBytes (first batch always) and maxOffset', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open();
        for (let i = 0; i < 10; i++) await log.append(valueBatch(`b${i}`, 2, T0, 100));
        const size = (await log.read(0, 1)).batches[0]!.length;
        const one = await log.read(0, 1);
        assert.equal(one.batches.length, 1, 'first batch returned even if larger than maxBytes');
        const none = await log.read(0, 1, { minOneBatch: false });
        assert.equal(none.batches.length, 0);
        const three = await log.read(0, size * 3 + size - 1);
        assert.equal(three.batches.length, 3);
        assert.equal(three.nextOffset, 6);
        const bounded = await log.read(0, 1 << 20, { maxOffset: 5 });
        assert.equal(bounded.batches.length, 2, 'the batch holding offset 5 is excluded');
        const atEnd = await log.read(20, 100);
        assert.equal(atEnd.batches.length, 0);
        assert.equal(atEnd.nextOffset, 20);
        await rejectsKind(log.read(21, 100), 'OFFSET_OUT_OF_RANGE');
        await rejectsKind(log.read(-1, 100), 'OFFSET_OUT_OF_RANGE');
      } finally {
        await h.close();
      }
    });

    it('rejects a batch with a bad CRC or bad structure and appends nothing', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open();
        await log.append(valueBatch('ok'));
        const bad = valueBatch('bad');
        bad[bad.length - 1]! ^= 0xff;
        await rejectsKind(log.append(Buffer.concat([valueBatch('good'), bad])), 'CORRUPT_MESSAGE');
        const trunc = valueBatch('t').subarray(0, 40);
        await rejectsKind(log.append(trunc), 'CORRUPT_MESSAGE');
        const magic = valueBatch('m');
        magic[16] = 1;
        await rejectsKind(log.append(magic), 'INVALID_RECORD');
        await rejectsKind(log.append(Buffer.alloc(0)), 'INVALID_RECORD');
        assert.equal(log.logEndOffset, 1);
        await rejectsKind(
          (await h.open('big', 0, { maxMessageBytes: 100 })).append(valueBatch('x', 1, T0, 200)),
          'MESSAGE_TOO_LARGE',
        );
      } finally {
        await h.close();
      }
    });

    it('follower appends keep offsets, allow gaps, refuse going backwards', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open();
        const a = buildBatch({ records: [{ value: 'a' }, { value: 'b' }], baseOffset: 0, leaderEpoch: 1 });
        const b = buildBatch({ records: [{ value: 'c' }], baseOffset: 10, leaderEpoch: 2 });
        const r = await log.appendAsFollower(Buffer.concat([a, b]));
        assert.deepEqual([r.baseOffset, r.lastOffset], [0, 10]);
        assert.equal(log.logEndOffset, 11);
        assert.deepEqual(log.epochEntries(), [
          { epoch: 1, startOffset: 0 },
          { epoch: 2, startOffset: 10 },
        ]);
        const rd = await log.read(5, 1000);
        assert.equal(baseOffsetOf(rd.batches[0]!), 10);
        await rejectsKind(
          log.appendAsFollower(buildBatch({ records: [{}], baseOffset: 3 })),
          'INVALID_ARGUMENT',
        );
      } finally {
        await h.close();
      }
    });

    it('rolls segments by segment.bytes, segment.ms and a full index; reads span segments', async () => {
      const h = await makeHarness(kind, { segmentBytes: 1000, indexIntervalBytes: 0 });
      try {
        const log = await h.open();
        const batch = valueBatch('r', 1, T0, 200);
        for (let i = 0; i < 12; i++) await log.append(valueBatch(`r${i}`, 1, T0, 200));
        assert.ok(log.segmentCount >= 3, `segments: ${log.segmentCount}`);
        const all = await log.read(0, 1 << 20);
        assert.equal(all.batches.length, 12);
        assert.deepEqual(
          all.batches.map((b) => valuesOf(b)[0]!.split(':')[0]),
          Array.from({ length: 12 }, (_, i) => `r${i}-0`),
        );
        for (let o = 0; o < 12; o++) assert.equal(baseOffsetOf((await log.read(o, 1)).batches[0]!), o);
        assert.ok(batch.length > 200);

        const timed = await h.open('timed', 0, { segmentMs: 1000 });
        await timed.append(valueBatch('a'));
        h.clock.now += 500;
        await timed.append(valueBatch('b'));
        assert.equal(timed.segmentCount, 1);
        h.clock.now += 1000;
        await timed.append(valueBatch('c'));
        assert.equal(timed.segmentCount, 2);

        const idx = await h.open('idx', 0, { segmentIndexBytes: 24, indexIntervalBytes: 0 });
        for (let i = 0; i < 10; i++) await idx.append(valueBatch(`i${i}`));
        assert.ok(idx.segmentCount >= 3, `index-full rolls: ${idx.segmentCount}`);
        assert.equal((await idx.read(0, 1 << 20)).batches.length, 10);
      } finally {
        await h.close();
      }
    });

    it('finds offsets by timestamp (ListOffsets semantics)', async () => {
      const h = await makeHarness(kind, { segmentBytes: 600, indexIntervalBytes: 0 });
      try {
        const log = await h.open();
        assert.equal(await log.offsetForTimestamp(MAX_TIMESTAMP), null);
        // batch i holds records with timestamps T0 + 10i, T0 + 10i + 5 (out of order inside)
        for (let i = 0; i < 10; i++) {
          await log.append(
            buildBatch({
              records: [
                { value: `a${i}`, timestamp: T0 + 10 * i + 5 },
                { value: `b${i}`, timestamp: T0 + 10 * i },
              ],
              baseTimestamp: T0 + 10 * i,
            }),
            { leaderEpoch: i < 5 ? 1 : 2 },
          );
        }
        assert.deepEqual(await log.offsetForTimestamp(EARLIEST_TIMESTAMP), {
          offset: 0,
          timestamp: -1,
          leaderEpoch: 1,
        });
        assert.deepEqual(await log.offsetForTimestamp(LATEST_TIMESTAMP), {
          offset: 20,
          timestamp: -1,
          leaderEpoch: 2,
        });
        assert.deepEqual(await log.offsetForTimestamp(MAX_TIMESTAMP), {
          offset: 18,
          timestamp: T0 + 95,
          leaderEpoch: 2,
        });
        assert.equal((await log.offsetForTimestamp(T0))!.offset, 0);
        assert.equal((await log.offsetForTimestamp(T0 + 3))!.offset, 0); // record 0 has T0+5
        assert.equal((await log.offsetForTimestamp(T0 + 6))!.offset, 2); // batch 1: T0+15 (offset 2), T0+10
        assert.deepEqual(await log.offsetForTimestamp(T0 + 40), {
          offset: 8,
          timestamp: T0 + 45,
          leaderEpoch: 1,
        });
        assert.equal((await log.offsetForTimestamp(T0 + 95))!.offset, 18);
        assert.equal(await log.offsetForTimestamp(T0 + 96), null);
        assert.ok(log.segmentCount > 1);
      } finally {
        await h.close();
      }
    });

    it('stamps LogAppendTime and returns it', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open('lat', 0, { timestampType: 'LogAppendTime' });
        h.clock.now = T0 + 12345;
        const r = await log.append(valueBatch('x', 2, T0));
        assert.equal(r.logAppendTime, T0 + 12345);
        const b = (await log.read(0, 1000)).batches[0]!;
        assert.equal(Number(b.readBigInt64BE(35)), T0 + 12345);
        assert.equal(b.readInt16BE(21) & 0x08, 0x08);
        assert.equal((await log.offsetForTimestamp(T0 + 100))!.offset, 0);
      } finally {
        await h.close();
      }
    });

    it('retention by time and size: whole segments, never the active one, only below the HW', async () => {
      const h = await makeHarness(kind, { segmentBytes: 500, retentionMs: 10_000 });
      try {
        const log = await h.open();
        for (let i = 0; i < 10; i++) await log.append(valueBatch(`o${i}`, 1, T0 + i, 200));
        const segs = log.segmentCount;
        assert.ok(segs >= 4);
        assert.equal(await log.runRetention(T0 + 100_000), 0, 'nothing below HW 0');
        log.highWatermark = log.logEndOffset;
        const deleted = await log.runRetention(T0 + 100_000);
        assert.equal(deleted, segs - 1, 'all but the active segment');
        assert.equal(log.segmentCount, 1);
        assert.equal(
          log.logStartOffset,
          log.logEndOffset - (await log.read(log.logStartOffset, 1 << 20)).batches.length,
        );
        await rejectsKind(log.read(0, 100), 'OFFSET_OUT_OF_RANGE');

        const sz = await h.open('size', 0, { segmentBytes: 500, retentionBytes: 1000, retentionMs: -1 });
        for (let i = 0; i < 12; i++) await sz.append(valueBatch(`s${i}`, 1, T0, 200));
        sz.highWatermark = sz.logEndOffset;
        await sz.runRetention(T0);
        assert.ok(sz.size <= 1000 + 500, `size ${sz.size}`);
        assert.ok(sz.size > 0);
        const rest = await sz.read(sz.logStartOffset, 1 << 20);
        assert.equal(rest.nextOffset, 12);
      } finally {
        await h.close();
      }
    });

    it('DeleteRecords moves the log start offset and deletes whole segments below it', async () => {
      const h = await makeHarness(kind, { segmentBytes: 500 });
      try {
        const log = await h.open();
        for (let i = 0; i < 10; i++) await log.append(valueBatch(`d${i}`, 1, T0, 200));
        await rejectsKind(log.deleteRecordsBefore(5), 'OFFSET_OUT_OF_RANGE');
        log.highWatermark = 10;
        const before = log.segmentCount;
        assert.equal(await log.deleteRecordsBefore(5), 5);
        assert.equal(log.logStartOffset, 5);
        assert.ok(log.segmentCount < before);
        await rejectsKind(log.read(4, 100), 'OFFSET_OUT_OF_RANGE');
        assert.equal(baseOffsetOf((await log.read(5, 1)).batches[0]!), 5);
        assert.equal((await log.offsetForTimestamp(EARLIEST_TIMESTAMP))!.offset, 5);
        assert.equal(await log.deleteRecordsBefore(3), 5, 'never moves backwards');
        await h.restart();
        const again = await h.open();
        assert.equal(again.logStartOffset, 5);
        assert.equal(again.highWatermark, 10);
      } finally {
        await h.close();
      }
    });

    it('truncates to an offset (follower) and continues appending', async () => {
      const h = await makeHarness(kind, { segmentBytes: 500 });
      try {
        const log = await h.open();
        for (let i = 0; i < 10; i++) {
          await log.append(valueBatch(`t${i}`, 2, T0 + i, 150), { leaderEpoch: i < 6 ? 1 : 3 });
        }
        log.highWatermark = 20;
        assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 12 });
        await log.truncateTo(11); // inside batch 5 (offsets 10,11): the whole batch goes
        assert.equal(log.logEndOffset, 10);
        assert.equal(log.highWatermark, 10);
        assert.equal(log.latestEpoch(), 1);
        assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 10 });
        const r = await log.append(valueBatch('new', 1), { leaderEpoch: 4 });
        assert.equal(r.baseOffset, 10);
        const all = await log.read(0, 1 << 20);
        assert.equal(all.batches.length, 6);
        assert.deepEqual(valuesOf(all.batches[5]!), ['new-0']);
        await log.truncateTo(100); // beyond the end: nothing
        assert.equal(log.logEndOffset, 11);
        await log.truncateTo(0);
        assert.equal(log.logEndOffset, 0);
        assert.equal((await log.append(valueBatch('z'))).baseOffset, 0);
      } finally {
        await h.close();
      }
    });

    it('truncates fully and restarts at an offset', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open();
        for (let i = 0; i < 5; i++) await log.append(valueBatch(`f${i}`), { leaderEpoch: 2 });
        await log.truncateFullyAndStartAt(100);
        assert.equal(log.logStartOffset, 100);
        assert.equal(log.logEndOffset, 100);
        assert.deepEqual(log.epochEntries(), []);
        await rejectsKind(log.read(0, 10), 'OFFSET_OUT_OF_RANGE');
        await log.appendAsFollower(buildBatch({ records: [{}], baseOffset: 100, leaderEpoch: 5 }));
        assert.equal(log.logEndOffset, 101);
        await h.restart();
        const again = await h.open();
        assert.equal(again.logStartOffset, 100);
        assert.equal(again.logEndOffset, 101);
        assert.deepEqual(again.epochEntries(), [{ epoch: 5, startOffset: 100 }]);
      } finally {
        await h.close();
      }
    });

    it('leader-epoch cache: OffsetForLeaderEpoch answers', async () => {
      const h = await makeHarness(kind);
      try {
        const log = await h.open();
        log.assignEpochStartOffset(2, 0);
        for (let i = 0; i < 3; i++) await log.append(valueBatch(`e${i}`), { leaderEpoch: 2 });
        for (let i = 0; i < 2; i++) await log.append(valueBatch(`e${i}`), { leaderEpoch: 5 });
        assert.deepEqual(log.epochEntries(), [
          { epoch: 2, startOffset: 0 },
          { epoch: 5, startOffset: 3 },
        ]);
        assert.deepEqual(log.endOffsetForEpoch(5), { epoch: 5, endOffset: 5 });
        assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 2, endOffset: 3 });
        assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 0 });
        assert.deepEqual(log.endOffsetForEpoch(9), { epoch: -1, endOffset: -1 });
        assert.deepEqual(log.endOffsetForEpoch(-1), { epoch: -1, endOffset: -1 });
        await h.restart();
        const again = await h.open();
        assert.deepEqual(again.epochEntries(), [
          { epoch: 2, startOffset: 0 },
          { epoch: 5, startOffset: 3 },
        ]);
      } finally {
        await h.close();
      }
    });

    it('survives a clean restart with offsets, HW and contents intact', async () => {
      const h = await makeHarness(kind, { segmentBytes: 700 });
      try {
        let log = await h.open();
        for (let i = 0; i < 20; i++) await log.append(valueBatch(`c${i}`, 2, T0 + i, 50));
        log.highWatermark = 30;
        const before = await log.read(0, 1 << 20);
        await h.restart();
        log = await h.open();
        assert.equal(log.logEndOffset, 40);
        assert.equal(log.highWatermark, 30);
        const after = await log.read(0, 1 << 20);
        assert.deepEqual(after.batches, before.batches);
        assert.equal((await log.offsetForTimestamp(T0 + 7))!.offset, 14);
        assert.equal((await log.append(valueBatch('more'))).baseOffset, 40);
      } finally {
        await h.close();
      }
    });

    it('scans batch headers from an offset', async () => {
      const h = await makeHarness(kind, { segmentBytes: 400 });
      try {
        const log = await h.open();
        for (let i = 0; i < 8; i++)
          await log.append(buildBatch({ records: [{}, {}], producerId: 9, baseSequence: 2 * i }));
        const seen: number[] = [];
        for await (const b of log.scanBatches(5)) seen.push(b.baseSequence);
        assert.deepEqual(seen, [4, 6, 8, 10, 12, 14]);
      } finally {
        await h.close();
      }
    });

    it('compacts: latest value per key, offsets and batch boundaries kept, tombstones expire', async () => {
      const h = await makeHarness(kind, {
        segmentBytes: 400,
        cleanupCompact: true,
        cleanupDelete: false,
        minCleanableDirtyRatio: 0,
        deleteRetentionMs: 60_000,
      });
      try {
        const log = await h.open();
        const expect = new Map<string, { offset: number; value: string | null }>();
        let off = 0;
        for (let round = 0; round < 6; round++) {
          for (let k = 0; k < 5; k++) {
            const value = round === 4 && k === 2 ? null : `r${round}k${k}`;
            const key = `key${k}`;
            await log.append(buildBatch({ records: [{ key, value }], baseTimestamp: T0 + off }));
            expect.set(key, { offset: off, value });
            off++;
          }
        }
        // key2 tombstoned in round 4, then rewritten in round 5; add a final tombstone for key4
        await log.append(buildBatch({ records: [{ key: 'key4', value: null }] }));
        expect.set('key4', { offset: off, value: null });
        off++;
        // push the tombstone out of the active segment
        for (let i = 0; i < 6; i++)
          await log.append(buildBatch({ records: [{ key: 'tail', value: 'x'.repeat(100) }] }));
        log.highWatermark = log.logEndOffset;
        const sizeBefore = log.size;
        const stats = await log.compact(h.clock.now);
        assert.ok(stats && stats.recordsRemoved > 0, JSON.stringify(stats));
        assert.ok(log.size < sizeBefore);
        const seen = new Map<string, { offset: number; value: string | null }>();
        let prev = -1;
        for (const b of (await log.read(0, 1 << 20)).batches) {
          const base = baseOffsetOf(b);
          assert.ok(base > prev, 'offsets increase');
          prev = base;
          const keys = keysOf(b);
          const vals = valuesOf(b);
          keys.forEach((k, i) => {
            assert.ok(!seen.has(k!) || k === 'tail', `duplicate key ${k}`);
            seen.set(k!, { offset: base + i, value: vals[i]! });
          });
        }
        seen.delete('tail');
        assert.deepEqual(seen, expect, 'latest value per key (tombstone for key4 still there)');
        assert.equal(log.logEndOffset, off + 6);
        // tombstones go once their segment is older than delete.retention.ms
        const stats2 = await log.compact(h.clock.now + 120_000);
        assert.equal(stats2, null, 'nothing dirty: no round');
        await log.append(buildBatch({ records: [{ key: 'key0', value: 'late' }] }));
        for (let i = 0; i < 6; i++)
          await log.append(buildBatch({ records: [{ key: `f${i}`, value: 'x'.repeat(60) }] }));
        log.highWatermark = log.logEndOffset;
        await log.compact(h.clock.now + 120_000);
        const keys = new Set<string>();
        const values = new Map<string, string | null>();
        for (const b of (await log.read(0, 1 << 20)).batches) {
          keysOf(b).forEach((k, i) => {
            keys.add(k!);
            values.set(k!, valuesOf(b)[i]!);
          });
        }
        assert.ok(!keys.has('key4'), 'expired tombstone removed');
        assert.equal(values.get('key0'), 'late');
        assert.equal(values.get('key2'), 'r5k2');
        // a read at an offset that compaction removed returns the next batch
        const gap = await log.read(1, 100);
        assert.ok(baseOffsetOf(gap.batches[0]!) >= 1);
      } finally {
        await h.close();
      }
    });

    it('compaction with a tiny key map takes several rounds and stays correct; appends continue meanwhile', async () => {
      const h = await makeHarness(kind, {
        segmentBytes: 300,
        cleanupCompact: true,
        cleanupDelete: true,
        retentionMs: -1,
        minCleanableDirtyRatio: 0,
      });
      try {
        const log = await h.open();
        for (let i = 0; i < 60; i++)
          await log.append(buildBatch({ records: [{ key: `k${i % 7}`, value: `v${i}` }] }));
        log.highWatermark = log.logEndOffset;
        (log as unknown as { cleanerMaxKeys: number }).cleanerMaxKeys = 3;
        const pending = log.compact(h.clock.now);
        const appended = await log.append(buildBatch({ records: [{ key: 'k1', value: 'during' }] }));
        assert.equal(appended.baseOffset, 60);
        await pending;
        for (let i = 0; i < 10; i++) {
          log.highWatermark = log.logEndOffset;
          if ((await log.compact(h.clock.now)) === null) break;
        }
        const last = new Map<string, string>();
        for (const b of (await log.read(0, 1 << 20)).batches) {
          keysOf(b).forEach((k, i) => {
            last.set(k!, valuesOf(b)[i]!);
          });
        }
        for (let k = 0; k < 7; k++) {
          const lastI = 59 - ((59 - k) % 7);
          assert.equal(last.get(`k${k}`), k === 1 ? 'during' : `v${lastI}`);
        }
        assert.equal(log.logEndOffset, 61);
      } finally {
        await h.close();
      }
    });
  });
}

describe('storage conformance: compressed batches', () => {
  for (const kind of KINDS) {
    it(`${kind}: compacts gzip batches (recompressed with the same codec) and finds timestamps inside them`, async () => {
      const { encodeRecordBatch } = await import('../../../src/protocol/records/record-batch.ts');
      const h = await makeHarness(kind, {
        segmentBytes: 500,
        cleanupCompact: true,
        cleanupDelete: false,
        minCleanableDirtyRatio: 0,
      });
      try {
        const log = await h.open();
        for (let i = 0; i < 12; i++) {
          const b = encodeRecordBatch({
            compression: 1,
            baseTimestamp: BigInt(T0 + i * 10),
            records: [0, 1, 2].map((j) => ({
              key: Buffer.from(`k${(i * 3 + j) % 4}`),
              value: Buffer.from(`v${i * 3 + j}`),
              offsetDelta: j,
              timestampDelta: j,
            })),
          });
          await log.append(b);
        }
        assert.equal((await log.offsetForTimestamp(T0 + 51))!.offset, 16);
        log.highWatermark = log.logEndOffset;
        const stats = await log.compact(h.clock.now);
        assert.ok(stats && stats.recordsRemoved > 0);
        const { decodeRecordBatch } = await import('../../../src/protocol/records/record-batch.ts');
        const latest = new Map<string, string>();
        for (const b of (await log.read(0, 1 << 20)).batches) {
          assert.equal(b.readInt16BE(21) & 7, 1, 'still gzip');
          const d = decodeRecordBatch(b);
          for (const r of d.records) latest.set(r.key!.toString(), r.value!.toString());
        }
        assert.ok(latest.size === 4);
      } finally {
        await h.close();
      }
    });
  }
});
