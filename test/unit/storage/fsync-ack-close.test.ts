/**
 * fsync-before-ack: an append is acknowledged only once its bytes are
 * fsynced. An append waiting behind another append's fsync must not be
 * acknowledged when the log closes (crash, shutdown after a disk failure)
 * before a sync covered it. Found by STO-PowerLoss: the broker acknowledged
 * a batch during shutdown after a power cut, and the batch was gone after
 * the restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { type FileIO, nodeFileIO } from '../../../src/storage/io.ts';
import { tempDir, valueBatch } from './helpers.ts';

/** nodeFileIO whose fsyncs wait for release() while `hold` is set. */
function gatedIO() {
  let hold = false;
  const waiting: (() => void)[] = [];
  const io: FileIO = {
    ...nodeFileIO,
    async fsync(fd) {
      if (hold) await new Promise<void>((r) => waiting.push(r));
      return nodeFileIO.fsync(fd);
    },
  };
  return {
    io,
    holdOn: () => {
      hold = true;
    },
    release: () => {
      hold = false;
      for (const r of waiting.splice(0)) r();
    },
    waiting: () => waiting.length,
  };
}

describe('fsync before ack', () => {
  it('an append still waiting for its fsync is not acknowledged when the log is dropped', async () => {
    const t = tempDir();
    const g = gatedIO();
    try {
      const e = await FileLogEngine.open({
        dirs: [t.path],
        io: g.io,
        background: false,
        defaultConfig: { fsyncBeforeAck: true },
      });
      const log = await e.openLog('t', 0);
      await log.append(valueBatch('first'));
      g.holdOn();
      const a = log.append(valueBatch('a')); // starts an fsync, held
      for (let i = 0; i < 100 && g.waiting() === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(g.waiting() > 0, 'the first fsync is held');
      const b = log.append(valueBatch('b')); // waits behind it: that fsync does not cover b
      const outcome = b.then(
        () => 'acknowledged',
        () => 'failed',
      );
      await e.crashForTest(); // the log closes without syncing b
      g.release();
      await a.catch(() => {});
      assert.equal(await outcome, 'failed', 'b was acknowledged though it was never fsynced');
    } finally {
      g.release();
      t.cleanup();
    }
  });

  it('appends covered by the final flush of a clean close are acknowledged', async () => {
    const t = tempDir();
    const g = gatedIO();
    try {
      const e = await FileLogEngine.open({
        dirs: [t.path],
        io: g.io,
        background: false,
        defaultConfig: { fsyncBeforeAck: true },
      });
      const log = await e.openLog('t', 0);
      g.holdOn();
      const a = log.append(valueBatch('a'));
      for (let i = 0; i < 100 && g.waiting() === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const b = log.append(valueBatch('b'));
      const closing = e.close();
      g.release();
      await closing;
      assert.equal((await a).baseOffset, 0);
      assert.equal((await b).baseOffset, 1);
    } finally {
      g.release();
      t.cleanup();
    }
  });
});
