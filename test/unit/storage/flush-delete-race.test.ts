/**
 * Deleting a partition while a flush of its log is in flight (a background
 * flush at roll or flush.ms, or an acks-waiting fsync) must not take the log
 * dir offline: the flush then finds the partition directory gone (ENOENT),
 * which is no disk failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { type FileIO, nodeFileIO } from '../../../src/storage/io.ts';
import { tempDir, valueBatch } from './helpers.ts';

test('a partition deleted during its flush leaves the log dir online', async () => {
  const t = tempDir();
  let release: () => void = () => {};
  let hold = false;
  let held: () => void = () => {};
  const fsyncStarted = new Promise<void>((r) => {
    held = r;
  });
  const io: FileIO = {
    ...nodeFileIO,
    async fsync(fd) {
      if (hold) {
        hold = false;
        held();
        await new Promise<void>((r) => {
          release = r;
        });
      }
      return nodeFileIO.fsync(fd);
    },
  };
  try {
    const e = await FileLogEngine.open({ dirs: [t.path], background: false, io });
    const log = await e.openLog('gone', 0);
    for (let i = 0; i < 5; i++) await log.append(valueBatch(`v${i}`));
    hold = true;
    const flushing = log.flush().then(
      () => 'ok',
      (err: Error) => err.message,
    );
    await fsyncStarted;
    await e.deleteLog('gone', 0);
    release();
    await flushing;
    assert.deepEqual(
      e.dirs().map((d) => d.online),
      [true],
    );
    const again = await e.openLog('other', 0);
    await again.append(valueBatch('x'));
    assert.equal(again.logEndOffset, 1);
    await e.close();
  } finally {
    t.cleanup();
  }
});
