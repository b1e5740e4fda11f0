/**
 * After a crash the high-watermark checkpoint (written every few seconds)
 * lags the log. A sole-replica leader must not hide acknowledged records
 * behind it: as in Kafka (Partition.makeLeader -> maybeIncrementLeaderHW),
 * the leader's high watermark is the smallest log end offset in the ISR,
 * which with ISR {self} is its own log end offset, right at start-up and not
 * only after the next append. Found by the STO-TornTail fault test.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBroker } from '../../src/testing/index.ts';
import { fetch, part } from '../helpers/fetch.ts';
import { batch, produce } from '../helpers/produce.ts';
import { RawClient } from '../helpers/raw-client.ts';

test('a restarted sole-replica leader serves every record up to its log end, whatever the checkpointed high watermark', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-hw-restart-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let b = await startBroker({ storage: 'file', dir });
  t.after(() => b.stop());
  await b.broker.topics.create({ name: 'hw', numPartitions: 1, replicationFactor: 1, configs: {} });
  let c = await RawClient.connect(b.bootstrapServers);
  for (let i = 0; i < 5; i++) {
    const r = await produce(c, 'hw', batch([{ key: null, value: Buffer.from(`v${i}`) }]), 9, -1);
    assert.equal(r.errorCode, 0);
  }
  c.close();
  await b.stop();

  // as after a SIGKILL before the periodic checkpoint: the file still says 0
  const cp = join(dir, 'replication-offset-checkpoint');
  writeFileSync(cp, readFileSync(cp, 'utf8').replace(/^hw 0 \d+$/m, 'hw 0 0'));
  assert.match(readFileSync(cp, 'utf8'), /^hw 0 0$/m);

  b = await startBroker({ storage: 'file', dir });
  c = await RawClient.connect(b.bootstrapServers);
  t.after(() => c.close());
  const lo = await c.request(2, 4, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: 'hw', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
  });
  assert.equal(lo.topics[0].partitions[0].offset, 5n, 'latest offset after the restart');
  const f = part(
    await fetch(c, 11, { topics: [{ topic: 'hw', partitions: [{ partition: 0, offset: 0 }] }] }),
    'hw',
    0,
  );
  assert.equal(f.errorCode, 0);
  assert.equal(f.highWatermark, 5n);
  assert.ok(f.records && f.records.length > 0, 'records served below the log end');
});
