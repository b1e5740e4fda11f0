import assert from 'node:assert/strict';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LogConfig } from '../../../src/storage/config.ts';
import type { PartitionLog } from '../../../src/storage/engine.ts';
import type { StorageError } from '../../../src/storage/errors.ts';
import { faultyIO, PowerLossIO } from '../../../src/storage/fault-io.ts';
import { type FileEngineOptions, FileLogEngine } from '../../../src/storage/file/engine.ts';
import { type FileIO, nodeFileIO } from '../../../src/storage/io.ts';
import { baseOffsetOf, buildBatch, tempDir, valueBatch, valuesOf } from './helpers.ts';

const T0 = 1_700_000_000_000;

function open(dir: string, cfg: Partial<LogConfig> = {}, extra: Partial<FileEngineOptions> = {}) {
  return FileLogEngine.open({
    dirs: [dir],
    defaultConfig: { fileDeleteDelayMs: 0, ...cfg },
    background: false,
    ...extra,
  });
}

async function readAll(log: PartitionLog): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let off = log.logStartOffset;
  for (let guard = 0; guard < 100_000 && off < log.logEndOffset; guard++) {
    const r = await log.read(off, 1 << 20);
    if (r.batches.length === 0) break;
    out.push(...r.batches.map((b) => Buffer.from(b)));
    off = r.nextOffset;
  }
  return out;
}

/** Appends `n` batches and returns copies of them as stored (with offsets). */
async function fill(log: PartitionLog, n: number, tag = 'b', pad = 100): Promise<Buffer[]> {
  for (let i = 0; i < n; i++) await log.append(valueBatch(`${tag}${i}`, 2, T0 + i, pad), { leaderEpoch: 1 });
  return readAll(log);
}

function segFiles(dir: string, ext = '.log'): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort();
}

describe('file engine: layout and checkpoints', () => {
  it("uses Kafka's directory layout and checkpoint text formats, and a clean-shutdown marker", async () => {
    const t = tempDir();
    try {
      const e = await open(t.path);
      const log = await e.openLog('orders.v1', 3);
      await fill(log, 3);
      log.highWatermark = 4;
      await e.close();
      const pdir = join(t.path, 'orders.v1-3');
      assert.deepEqual(readdirSync(pdir).sort(), [
        '00000000000000000000.index',
        '00000000000000000000.log',
        '00000000000000000000.timeindex',
        'leader-epoch-checkpoint',
      ]);
      assert.equal(readFileSync(join(pdir, 'leader-epoch-checkpoint'), 'utf8'), '0\n1\n1 0\n');
      assert.equal(
        readFileSync(join(t.path, 'replication-offset-checkpoint'), 'utf8'),
        '0\n1\norders.v1 3 4\n',
      );
      assert.equal(
        readFileSync(join(t.path, 'recovery-point-offset-checkpoint'), 'utf8'),
        '0\n1\norders.v1 3 6\n',
      );
      assert.equal(
        readFileSync(join(t.path, 'log-start-offset-checkpoint'), 'utf8'),
        '0\n1\norders.v1 3 0\n',
      );
      assert.ok(readdirSync(t.path).includes('.kafka_cleanshutdown'));
      assert.equal(statSync(join(pdir, '00000000000000000000.timeindex')).size % 12, 0);
      const e2 = await open(t.path);
      assert.ok(!readdirSync(t.path).includes('.kafka_cleanshutdown'), 'marker consumed at start');
      assert.deepEqual(e2.list(), [{ topic: 'orders.v1', partition: 3 }]);
      const l2 = await e2.openLog('orders.v1', 3);
      assert.equal(e2.lastOpenInfo.get('orders.v1-3')!.recovered, false);
      assert.equal(l2.logEndOffset, 6);
      await e2.close();
    } finally {
      t.cleanup();
    }
  });

  it('deletes segments through .deleted files after file.delete.delay.ms', async () => {
    const t = tempDir();
    try {
      const e = await open(t.path, { segmentBytes: 400, fileDeleteDelayMs: 150 });
      const log = await e.openLog('t', 0);
      await fill(log, 8);
      log.highWatermark = log.logEndOffset;
      await log.deleteRecordsBefore(6);
      const pdir = join(t.path, 't-0');
      assert.ok(readdirSync(pdir).some((f) => f.endsWith('.deleted')));
      await new Promise((r) => setTimeout(r, 400));
      assert.ok(!readdirSync(pdir).some((f) => f.endsWith('.deleted')));
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('file engine: crash recovery', () => {
  async function crashed(cfg: Partial<LogConfig> = {}, n = 20) {
    const t = tempDir();
    const e = await open(t.path, { segmentBytes: 1200, indexIntervalBytes: 200, ...cfg });
    const log = await e.openLog('t', 0);
    const written = await fill(log, n);
    log.highWatermark = log.logEndOffset;
    await e.checkpoint();
    await e.crashForTest();
    return { t, written, pdir: join(t.path, 't-0') };
  }

  it('recovers after a crash without losing page-cache data', async () => {
    const { t, written } = await crashed();
    try {
      const e = await open(t.path);
      const log = await e.openLog('t', 0);
      assert.equal(e.lastOpenInfo.get('t-0')!.recovered, true);
      assert.deepEqual(await readAll(log), written);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('cuts a torn tail at the end of the last valid batch and rebuilds deleted indexes', async () => {
    const { t, written, pdir } = await crashed();
    try {
      const logs = segFiles(pdir);
      const active = join(pdir, logs[logs.length - 1]!);
      const size = statSync(active).size;
      const last = written[written.length - 1]!;
      truncateSync(active, size - Math.floor(last.length / 2));
      for (const f of readdirSync(pdir)) if (f.endsWith('index')) truncateSync(join(pdir, f), 0);
      writeFileSync(join(t.path, 'recovery-point-offset-checkpoint'), 'garbage\n');
      writeFileSync(join(pdir, 'leader-epoch-checkpoint'), '0\n7\n1 x\n');
      const e = await open(t.path);
      const log = await e.openLog('t', 0);
      assert.equal(log.logEndOffset, baseOffsetOf(last));
      assert.deepEqual(await readAll(log), written.slice(0, -1));
      assert.deepEqual(log.epochEntries(), [{ epoch: 1, startOffset: 0 }]);
      for (let o = 0; o < log.logEndOffset; o++) {
        assert.equal(baseOffsetOf((await log.read(o, 1)).batches[0]!), o - (o % 2));
      }
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('drops garbage appended after the last batch', async () => {
    const { t, written, pdir } = await crashed();
    try {
      const logs = segFiles(pdir);
      const active = join(pdir, logs[logs.length - 1]!);
      const size = statSync(active).size;
      const fd = openSync(active, 'a');
      writeSync(fd, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)));
      closeSync(fd);
      const e = await open(t.path);
      const log = await e.openLog('t', 0);
      assert.equal(log.logEndOffset, 40);
      assert.equal(statSync(active).size, size);
      assert.deepEqual(await readAll(log), written);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('truncates at a corrupt batch in a closed segment when the recovery point is before it, dropping later segments', async () => {
    const { t, written, pdir } = await crashed();
    try {
      const logs = segFiles(pdir);
      assert.ok(logs.length >= 3);
      const victim = join(pdir, logs[1]!);
      const victimBase = Number(logs[1]!.slice(0, 20));
      const buf = readFileSync(victim);
      const secondBatch = buf.readInt32BE(8) + 12;
      buf[secondBatch + 70] ^= 0x55; // inside a record of the second batch
      writeFileSync(victim, buf);
      writeFileSync(join(t.path, 'recovery-point-offset-checkpoint'), `0\n1\nt 0 ${victimBase}\n`);
      const e = await open(t.path);
      const log = await e.openLog('t', 0);
      const info = e.lastOpenInfo.get('t-0')!;
      assert.equal(info.truncatedAt?.segment, victimBase);
      assert.equal(log.logEndOffset, victimBase + 2);
      assert.deepEqual(segFiles(pdir), logs.slice(0, 2));
      assert.deepEqual(
        await readAll(log),
        written.filter((b) => baseOffsetOf(b) < victimBase + 2),
      );
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('never serves a batch that fails its CRC below the recovery point', async () => {
    const t = tempDir();
    try {
      let e = await open(t.path, { segmentBytes: 1200 });
      let log = await e.openLog('t', 0);
      const written = await fill(log, 20);
      await e.close(); // clean: no recovery scan at the next start
      const pdir = join(t.path, 't-0');
      const first = join(pdir, segFiles(pdir)[0]!);
      const buf = readFileSync(first);
      const b0 = buf.readInt32BE(8) + 12;
      buf[b0 + 80] ^= 0x01; // batch 1 (offsets 2-3)
      writeFileSync(first, buf);
      e = await open(t.path);
      log = await e.openLog('t', 0);
      await assert.rejects(
        log.read(2, 1 << 20),
        (err: unknown) => (err as StorageError).kind === 'CORRUPT_LOG',
      );
      const prefix = await log.read(0, 1 << 20);
      assert.deepEqual(prefix.batches, [written[0]]);
      assert.equal(baseOffsetOf((await log.read(4, 1)).batches[0]!), 4);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('rebuilds zeroed index files after a clean shutdown', async () => {
    const t = tempDir();
    try {
      let e = await open(t.path, { segmentBytes: 100_000, indexIntervalBytes: 100 });
      let log = await e.openLog('t', 0);
      const written = await fill(log, 30);
      await e.close();
      const pdir = join(t.path, 't-0');
      for (const f of readdirSync(pdir)) {
        if (f.endsWith('.index') || f.endsWith('.timeindex'))
          writeFileSync(join(pdir, f), Buffer.alloc(statSync(join(pdir, f)).size));
      }
      e = await open(t.path);
      log = await e.openLog('t', 0);
      assert.equal(log.logEndOffset, 60);
      for (let i = 0; i < 30; i++) assert.deepEqual((await log.read(2 * i + 1, 1)).batches[0], written[i]);
      assert.equal((await log.offsetForTimestamp(T0 + 17))!.offset, 34);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('finishes an interrupted compaction swap', async () => {
    const t = tempDir();
    try {
      let e = await open(t.path, { segmentBytes: 500, cleanupCompact: true, minCleanableDirtyRatio: 0 });
      let log = await e.openLog('t', 0);
      for (let i = 0; i < 20; i++)
        await log.append(buildBatch({ records: [{ key: `k${i % 3}`, value: `v${i}` }] }));
      log.highWatermark = log.logEndOffset;
      const expected = await readAll(log);
      await e.close();
      // an interrupted swap: a copy of segment 0 renamed to .swap, originals still there
      const pdir = join(t.path, 't-0');
      const s0 = join(pdir, '00000000000000000000.log');
      writeFileSync(`${s0}.swap`, readFileSync(s0));
      writeFileSync(join(pdir, '00000000000000000000.log.cleaned'), 'junk');
      e = await open(t.path);
      log = await e.openLog('t', 0);
      assert.ok(!readdirSync(pdir).some((f) => f.endsWith('.swap') || f.endsWith('.cleaned')));
      assert.deepEqual(await readAll(log), expected);
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('file engine: disk errors', () => {
  it('ENOSPC on append: fails, acknowledges nothing, stays readable, marks the dir offline', async () => {
    const t = tempDir();
    try {
      let full = false;
      const io = faultyIO(nodeFileIO, {
        write: (p) => (full && p.endsWith('.log') ? { code: 'ENOSPC', partial: 50 } : null),
      });
      let e = await open(t.path, {}, { io });
      const offline: string[] = [];
      e.onDirOffline((d) => offline.push(d));
      let log = await e.openLog('t', 0);
      const written = await fill(log, 5);
      full = true;
      await assert.rejects(log.append(valueBatch('x', 3)), (err: unknown) => {
        const se = err as StorageError;
        return se.kind === 'KAFKA_STORAGE_ERROR' && se.kafkaErrorCode === 56 && /ENOSPC/.test(se.message);
      });
      assert.equal(log.logEndOffset, 10);
      assert.deepEqual(await readAll(log), written);
      assert.deepEqual(offline, [t.path]);
      assert.equal(e.dirs()[0]!.online, false);
      full = false;
      await assert.rejects(log.append(valueBatch('y')), /offline/);
      await e.close();
      e = await open(t.path);
      log = await e.openLog('t', 0);
      assert.deepEqual(await readAll(log), written);
      assert.equal((await log.append(valueBatch('z'))).baseOffset, 10);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('fsync failure in fsync-before-ack mode fails the append', async () => {
    const t = tempDir();
    try {
      let fail = false;
      const io = faultyIO(nodeFileIO, { fsync: (p) => (fail && p.endsWith('.log') ? 'EIO' : null) });
      const e = await open(t.path, { fsyncBeforeAck: true }, { io });
      const log = await e.openLog('t', 0);
      await log.append(valueBatch('ok'));
      fail = true;
      await assert.rejects(log.append(valueBatch('bad')), /EIO/);
      assert.equal(e.dirs()[0]!.online, false);
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('file engine: power loss', () => {
  async function run(fsyncBeforeAck: boolean) {
    const t = tempDir();
    const io = new PowerLossIO(nodeFileIO);
    const e = await open(t.path, { segmentBytes: 2000, fsyncBeforeAck }, { io });
    const log = await e.openLog('t', 0);
    const acked: Buffer[] = [];
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const p = log.append(valueBatch(`p${i}`, 2, T0 + i, 60)).then(async (r) => {
        acked.push(Buffer.from((await log.read(r.baseOffset, 1)).batches[0]!));
      });
      if (i % 4 === 3) await p;
      else inflight.push(p);
    }
    await Promise.all(inflight.slice(0, -3));
    const recoveryPoint = (e.getInternalLog('t', 0) as { recoveryPoint: number }).recoveryPoint;
    await e.crashForTest();
    const dropped = io.dropUnsynced();
    return { t, acked, dropped, recoveryPoint, fsyncs: io.fsyncCount };
  }

  it('fsync-before-ack loses nothing acknowledged', async () => {
    const { t, acked } = await run(true);
    try {
      const e = await open(t.path);
      const log = await e.openLog('t', 0);
      const got = await readAll(log);
      const byOffset = new Map(got.map((b) => [baseOffsetOf(b), b]));
      for (const a of acked)
        assert.deepEqual(byOffset.get(baseOffsetOf(a)), a, `acked batch ${baseOffsetOf(a)}`);
      await e.close();
    } finally {
      t.cleanup();
    }
  });

  it('page-cache mode loses at most the unflushed tail and stays a valid prefix', async () => {
    const { t, acked, dropped, recoveryPoint } = await run(false);
    try {
      assert.ok(dropped.truncatedBytes > 0 || dropped.undone > 0, 'the shim dropped unsynced data');
      const e = await open(t.path);
      const log = await e.openLog('t', 0);
      const got = await readAll(log);
      assert.ok(log.logEndOffset >= recoveryPoint, `LEO ${log.logEndOffset} >= flushed ${recoveryPoint}`);
      const byOffset = new Map(acked.map((b) => [baseOffsetOf(b), b]));
      for (const g of got)
        assert.deepEqual(g, byOffset.get(baseOffsetOf(g)), 'survivors are exactly what was written');
      assert.deepEqual(
        got.map(baseOffsetOf),
        Array.from({ length: got.length }, (_, i) => 2 * i),
      );
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('file engine: many partitions', () => {
  // SAMSA_STORAGE_LONG=1 runs the 5000-partition variant
  const n = process.env.SAMSA_STORAGE_LONG ? 5000 : 500;
  it(`serves ${n} partitions with at most 64 open segment fds`, async () => {
    const t = tempDir();
    try {
      let e = await open(t.path, {}, { maxOpenFiles: 64 });
      for (let p = 0; p < n; p++) {
        const log = await e.openLog('many', p);
        await log.append(valueBatch(`m${p}`));
        assert.ok(e.fds.size <= 64);
      }
      for (let p = 0; p < n; p += 97) {
        const log = e.getLog('many', p)!;
        assert.deepEqual(valuesOf((await log.read(0, 100)).batches[0]!), [`m${p}-0`]);
        await log.append(valueBatch(`again${p}`));
      }
      assert.ok(e.fds.size <= 64);
      await e.close();
      e = await open(t.path, {}, { maxOpenFiles: 64 });
      assert.equal(e.list().length, n);
      const log = await e.openLog('many', 97 * Math.floor((n - 1) / 97));
      assert.equal(log.logEndOffset, 2);
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});

describe('file engine: fsync before ack', () => {
  it('group-commits concurrent appends and advances the recovery point', async () => {
    const t = tempDir();
    try {
      const io = new PowerLossIO(nodeFileIO as FileIO);
      const e = await open(t.path, { fsyncBeforeAck: true }, { io });
      const log = await e.openLog('t', 0);
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(valueBatch(`g${i}`))));
      assert.deepEqual(
        rs.map((r) => r.baseOffset).sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.ok(io.fsyncCount < 50, `fsyncs shared: ${io.fsyncCount}`);
      assert.equal((e.getInternalLog('t', 0) as { recoveryPoint: number }).recoveryPoint, 50);
      await e.close();
    } finally {
      t.cleanup();
    }
  });
});
