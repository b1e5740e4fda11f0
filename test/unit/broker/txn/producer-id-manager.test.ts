import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  FileProducerIdBlockStore,
  MemoryProducerIdBlockStore,
  ProducerIdManager,
} from '../../../../src/broker/txn/producer-id-manager.ts';

test('file store: ids are unique across restarts, the rest of a block is skipped after one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-pid-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = new ProducerIdManager(new FileProducerIdBlockStore(dir), 10);
  const a = await Promise.all(Array.from({ length: 15 }, () => first.generate()));
  assert.deepEqual(
    a,
    Array.from({ length: 15 }, (_, i) => BigInt(i)),
  );
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'producer-id-block.json'), 'utf8')), {
    version: 1,
    nextBlockStart: 20,
  });
  const second = new ProducerIdManager(new FileProducerIdBlockStore(dir), 10);
  assert.equal(await second.generate(), 20n);
  await writeFile(join(dir, 'producer-id-block.json'), '{"nextBlockStart": -3}');
  await assert.rejects(new ProducerIdManager(new FileProducerIdBlockStore(dir)).generate(), /corrupt/);
});

test('memory store: the high-water mark lives with its owner (the memory engine)', async () => {
  const engine = {};
  const a = new ProducerIdManager(new MemoryProducerIdBlockStore(engine), 5);
  await a.generate();
  const b = new ProducerIdManager(new MemoryProducerIdBlockStore(engine), 5);
  assert.equal(await b.generate(), 5n);
  const other = new ProducerIdManager(new MemoryProducerIdBlockStore({}), 5);
  assert.equal(await other.generate(), 0n);
});
