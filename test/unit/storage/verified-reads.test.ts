/**
 * Reads check each batch's CRC once per process (segment.ts: verifiedEnd /
 * appendedFrom), continue from remembered positions for sequential
 * consumers, and the memory engine stores batches in slabs. These tests pin
 * the guarantee (a batch that fails its CRC is never served) across the
 * shortcuts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LogConfig } from '../../../src/storage/config.ts';
import type { PartitionLog } from '../../../src/storage/engine.ts';
import type { StorageError } from '../../../src/storage/errors.ts';
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { MemoryLogEngine } from '../../../src/storage/memory/engine.ts';
import { baseOffsetOf, tempDir, valueBatch, valuesOf } from './helpers.ts';

const T0 = 1_700_000_000_000;

function open(dir: string, cfg: Partial<LogConfig> = {}) {
  return FileLogEngine.open({
    dirs: [dir],
    defaultConfig: { fileDeleteDelayMs: 0, ...cfg },
    background: false,
  });
}

const isCorrupt = (err: unknown) => (err as StorageError).kind === 'CORRUPT_LOG';

/** Reads forward from `from` with `maxBytes` per read, as a consumer does, up to a corrupt batch. */
async function readOn(log: PartitionLog, from: number, maxBytes: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let off = from;
  for (let guard = 0; guard < 10_000 && off < log.logEndOffset; guard++) {
    let r: Awaited<ReturnType<PartitionLog['read']>>;
    try {
      r = await log.read(off, maxBytes);
    } catch (err) {
      if (isCorrupt(err)) break;
      throw err;
    }
    if (r.batches.length === 0) break;
    out.push(...r.batches.map((b) => Buffer.from(b)));
    off = r.nextOffset;
  }
  return out;
}

/** Flips one byte inside the records of the `index`-th batch of a segment file. */
function flipInBatch(path: string, index: number): void {
  const buf = readFileSync(path);
  let pos = 0;
  for (let i = 0; i < index; i++) pos += buf.readInt32BE(pos + 8) + 12;
  buf[pos + 70] ^= 0x20;
  writeFileSync(path, buf);
}

describe('file engine: CRC checked once per process', () => {
  it('refuses a corrupt batch in the active segment after a clean restart, also after appends behind it', async () => {
    const t = tempDir();
    try {
      let e = await open(t.path);
      let log = await e.openLog('t', 0);
      for (let i = 0; i < 10; i++) await log.append(valueBatch(`a${i}`, 2, T0 + i, 50));
      const before = await readOn(log, 0, 1 << 20);
      await e.close();
      const pdir = join(t.path, 't-0');
      const seg = join(pdir, readdirSync(pdir).filter((f) => f.endsWith('.log'))[0]!);
      flipInBatch(seg, 4); // offsets 8-9
      e = await open(t.path);
      log = await e.openLog('t', 0);
      // appended in this process: verified at append, served without a second check
      for (let i = 0; i < 3; i++) await log.append(valueBatch(`b${i}`, 2, T0 + 20 + i, 50));
      assert.deepEqual(valuesOf((await log.read(20, 1)).batches[0]!)[0], `b0-0:${'x'.repeat(50)}`);
      // a read of a later batch does not vouch for the earlier ones
      assert.deepEqual((await log.read(12, 1)).batches[0], before[6]);
      // reading from the start stops before the corrupt batch, every time
      for (let round = 0; round < 2; round++) {
        const r = await log.read(0, 1 << 20);
        assert.deepEqual(r.batches, before.slice(0, 4));
        assert.equal(r.nextOffset, 8);
        await assert.rejects(log.read(8, 1 << 20), isCorrupt);
        await assert.rejects(log.read(9, 1), isCorrupt);
      }
      // consumer-style reads (remembered positions) stop there too
      assert.deepEqual(await readOn(log, 0, 300), before.slice(0, 4));
      // batches after it are served
      assert.deepEqual(await readOn(log, 10, 300), [...before.slice(5), ...(await readOn(log, 20, 1 << 20))]);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('refuses a corrupt batch in a closed segment after a clean restart, whatever was read before', async () => {
    const t = tempDir();
    try {
      let e = await open(t.path, { segmentBytes: 1500 });
      let log = await e.openLog('t', 0);
      for (let i = 0; i < 30; i++) await log.append(valueBatch(`a${i}`, 2, T0 + i, 100));
      const before = await readOn(log, 0, 1 << 20);
      await e.close();
      const pdir = join(t.path, 't-0');
      const segs = readdirSync(pdir)
        .filter((f) => f.endsWith('.log'))
        .sort();
      assert.ok(segs.length >= 3);
      const victimBase = Number(segs[1]!.slice(0, 20));
      flipInBatch(join(pdir, segs[1]!), 1);
      e = await open(t.path);
      log = await e.openLog('t', 0);
      const expected = before.filter((b) => baseOffsetOf(b) < victimBase + 2);
      assert.deepEqual(await readOn(log, 0, 1 << 20), expected);
      assert.deepEqual(await readOn(log, 0, 200), expected);
      await assert.rejects(log.read(victimBase + 2, 1 << 20), isCorrupt);
      await assert.rejects(log.read(victimBase + 3, 1 << 20), isCorrupt);
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('file engine: sequential reads from remembered positions', () => {
  it('match fresh reads, follow appends at the log end and forget positions on truncation', async () => {
    const t = tempDir();
    try {
      const e = await open(t.path, { segmentBytes: 4000 });
      const log = await e.openLog('t', 0);
      for (let i = 0; i < 40; i++) await log.append(valueBatch(`a${i}`, 2, T0 + i, 60));
      const all = await readOn(log, 0, 1 << 20);
      assert.equal(all.length, 40);
      // one batch per read (maxBytes 1): each read starts where the last one stopped
      assert.deepEqual(await readOn(log, 0, 1), all);
      assert.deepEqual(await readOn(log, 0, 450), all);
      // tail: a read at the end returns nothing, then the next append is read from the remembered end
      let off = log.logEndOffset;
      assert.equal((await log.read(off, 1 << 20)).batches.length, 0);
      await log.append(valueBatch('tail', 2, T0 + 100, 60));
      const tail = await log.read(off, 1 << 20);
      assert.deepEqual(valuesOf(tail.batches[0]!), [`tail-0:${'x'.repeat(60)}`, `tail-1:${'x'.repeat(60)}`]);
      off = tail.nextOffset;
      // truncate below remembered positions, append different batches at the same offsets
      await log.truncateTo(60);
      for (let i = 0; i < 5; i++) await log.append(valueBatch(`new${i}`, 2, T0 + 200 + i));
      assert.equal(log.logEndOffset, 70);
      const again = await readOn(log, 60, 1);
      assert.deepEqual(
        again.map((b) => valuesOf(b)[0]),
        ['new0-0', 'new1-0', 'new2-0', 'new3-0', 'new4-0'],
      );
      assert.deepEqual(await readOn(log, 0, 1), [...all.slice(0, 30), ...again]);
      // maxOffset below the next batch stops reads there, and a later read goes on from it
      log.highWatermark = 64;
      const r = await log.read(60, 1 << 20, { maxOffset: 64 });
      assert.equal(r.nextOffset, 64);
      assert.deepEqual((await log.read(64, 1 << 20)).batches, again.slice(2));
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('memory engine: slabs', () => {
  it('stores copies, reads batches of any size back exactly, adjacent ones as views of one slab', async () => {
    const e = new MemoryLogEngine();
    const log = await e.openLog('t', 0, { maxMessageBytes: 8 << 20, segmentBytes: 64 << 20 });
    const written: Buffer[] = [];
    const sizes = [10, 3000, 20, 5000, 2_000_000, 50, 9000, 700_000, 1, 1];
    for (let i = 0; i < sizes.length; i++) {
      const b = valueBatch(`s${i}`, 1, T0 + i, sizes[i]);
      await log.append(b);
      written.push(Buffer.from(b));
      b.fill(0); // the caller's buffer is not kept
    }
    const r = await log.read(0, 64 << 20);
    assert.deepEqual(r.batches, written);
    for (let i = 0; i < written.length; i++) assert.deepEqual((await log.read(i, 1)).batches, [written[i]]);
    const [x, y] = r.batches; // the first two fit in the first slab
    assert.equal(x!.buffer, y!.buffer);
    assert.equal(x!.byteOffset + x!.length, y!.byteOffset);
    // truncation never rewrites bytes a reader may still hold
    const held = r.batches[9]!;
    const copy = Buffer.from(held);
    await log.truncateTo(9);
    await log.append(valueBatch('other', 1, T0 + 99, 1));
    assert.deepEqual(held, copy);
    assert.deepEqual(valuesOf((await log.read(9, 1)).batches[0]!), ['other-0:x']);
    await e.close();
  });
});

describe('memory engine: handed-over batches', () => {
  it('keeps a large batch that is most of its buffer as a view, copies the rest', async () => {
    const e = new MemoryLogEngine();
    const log = await e.openLog('t', 0, { maxMessageBytes: 8 << 20 });
    const own = valueBatch('own', 1, T0, 20_000); // its own ArrayBuffer
    const inBig = Buffer.alloc(100_000);
    const shared = valueBatch('shared', 1, T0, 20_000);
    shared.copy(inBig, 1000);
    const sharedView = inBig.subarray(1000, 1000 + shared.length); // a fifth of its ArrayBuffer
    const small = valueBatch('small', 1, T0, 100);
    const notHanded = valueBatch('kept', 1, T0, 20_000);
    await log.append(own, { transfer: true });
    await log.append(sharedView, { transfer: true });
    await log.append(small, { transfer: true });
    await log.append(notHanded);
    const r = await log.read(0, 64 << 20);
    assert.equal(r.batches.length, 4);
    assert.equal(r.batches[0]!.buffer, own.buffer, 'adopted');
    assert.notEqual(r.batches[1]!.buffer, inBig.buffer, 'copied: the batch is a small part of its buffer');
    assert.notEqual(r.batches[2]!.buffer, small.buffer, 'copied: small');
    assert.notEqual(r.batches[3]!.buffer, notHanded.buffer, 'copied: not handed over');
    assert.deepEqual(
      r.batches.map((b) => valuesOf(b)[0]!.split(':')[0]),
      ['own-0', 'shared-0', 'small-0', 'kept-0'],
    );
    await e.close();
  });
});
