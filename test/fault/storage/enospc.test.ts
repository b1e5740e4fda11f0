/**
 * STO-DiskFull at the storage level, on a real full filesystem: a 2 MiB
 * tmpfs the test mounts (skipped when mounting is not permitted; the
 * injected-writer variant in test/unit/storage/file-engine.test.ts always runs).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PartitionLog } from '../../../src/storage/engine.ts';
import type { StorageError } from '../../../src/storage/errors.ts';
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { tempDir, valueBatch } from '../../unit/storage/helpers.ts';

function tryMount(dir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
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

describe('disk full on a real filesystem', () => {
  const t = tempDir('samsa-enospc-');
  const mnt = join(t.path, 'mnt');
  mkdirSync(mnt);
  const mounted = tryMount(mnt);
  it('append fails with KAFKA_STORAGE_ERROR, nothing acknowledged is lost or corrupt', {
    skip: mounted ? false : 'needs root to mount a tmpfs',
  }, async () => {
    try {
      const dir = join(mnt, 'logs');
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(256 * 1024));
      let e = await FileLogEngine.open({
        dirs: [dir],
        background: false,
        defaultConfig: { segmentBytes: 256 * 1024 },
      });
      let log = await e.openLog('full', 0);
      const acked: Buffer[] = [];
      let failure: StorageError | null = null;
      for (let i = 0; i < 10_000 && !failure; i++) {
        try {
          const r = await log.append(valueBatch(`f${i}`, 4, undefined, 2000));
          acked.push(Buffer.from((await log.read(r.baseOffset, 1)).batches[0]!));
        } catch (err) {
          failure = err as StorageError;
        }
      }
      assert.ok(failure, 'the filesystem filled up');
      assert.equal(failure.kind, 'KAFKA_STORAGE_ERROR');
      assert.equal(e.dirs()[0]!.online, false);
      assert.deepEqual(await readAll(log), acked, 'still readable');
      await e.close();
      rmSync(join(mnt, 'filler'));
      e = await FileLogEngine.open({ dirs: [dir], background: false });
      log = await e.openLog('full', 0);
      assert.deepEqual(await readAll(log), acked, 'after restart: exactly the acknowledged batches');
      await log.append(valueBatch('after'));
      await e.close();
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore', timeout: 5000 });
      t.cleanup();
    }
  });
  if (!mounted) it('cleanup', () => t.cleanup());
});
