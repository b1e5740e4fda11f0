import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Appendable, DelayedFetchPurgatory } from '../../../../src/broker/replica/delayed-fetch.ts';

class FakePartition implements Appendable {
  readonly listeners = new Set<() => void>();
  addAppendListener(fn: () => void): void {
    this.listeners.add(fn);
  }
  removeAppendListener(fn: () => void): void {
    this.listeners.delete(fn);
  }
  append(): void {
    for (const fn of [...this.listeners]) fn();
  }
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

test('wakes on append when the check passes, and cleans up', async () => {
  const pg = new DelayedFetchPurgatory();
  const p = new FakePartition();
  let ready = false;
  const checks: number[] = [];
  const t0 = performance.now();
  const w = pg.wait({
    partitions: [p],
    maxWaitMs: 5000,
    check: (changed) => {
      checks.push(changed.size);
      return ready;
    },
  });
  assert.equal(pg.size, 1);
  assert.equal(p.listeners.size, 1);
  await until(() => checks.length > 0);
  assert.deepEqual(checks, [1], 'initial check closes the read/register race');
  ready = true;
  p.append();
  assert.equal(await w, 'satisfied');
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(pg.size, 0);
  assert.equal(p.listeners.size, 0);
});

test('expires after maxWaitMs', async () => {
  const pg = new DelayedFetchPurgatory();
  const p = new FakePartition();
  const t0 = performance.now();
  const end = await pg.wait({ partitions: [p], maxWaitMs: 50, check: () => false });
  const took = performance.now() - t0;
  assert.equal(end, 'expired');
  assert.ok(took >= 45 && took < 1000, `took ${took}`);
  assert.equal(p.listeners.size, 0);
});

test('coalesces bursts of appends into few checks', async () => {
  const pg = new DelayedFetchPurgatory();
  const a = new FakePartition();
  const b = new FakePartition();
  let calls = 0;
  let seen = new Set<Appendable>();
  const w = pg.wait({
    partitions: [a, b],
    maxWaitMs: 200,
    check: (changed) => {
      calls++;
      seen = new Set(changed);
      return false;
    },
  });
  await until(() => calls > 0);
  calls = 0;
  for (let i = 0; i < 100; i++) {
    a.append();
    b.append();
  }
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls, 1);
  assert.equal(seen.size, 2);
  assert.equal(await w, 'expired');
});

test('an async check that is slow does not run concurrently; appends during it trigger one more', async () => {
  const pg = new DelayedFetchPurgatory();
  const p = new FakePartition();
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const w = pg.wait({
    partitions: [p],
    maxWaitMs: 5000,
    check: async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return calls >= 3;
    },
  });
  await until(() => running === 1);
  p.append(); // during the first (initial) check: one more check follows it
  await until(() => calls === 2 && running === 1);
  p.append();
  p.append();
  assert.equal(await w, 'satisfied');
  assert.equal(maxRunning, 1);
  assert.equal(calls, 3);
});

test('aborts when the signal fires; an aborted signal returns at once', async () => {
  const pg = new DelayedFetchPurgatory();
  const p = new FakePartition();
  const ac = new AbortController();
  const w = pg.wait({ partitions: [p], maxWaitMs: 5000, signal: ac.signal, check: () => false });
  setTimeout(() => ac.abort(), 10);
  assert.equal(await w, 'aborted');
  assert.equal(p.listeners.size, 0);
  assert.equal(
    await pg.wait({ partitions: [p], maxWaitMs: 5000, signal: ac.signal, check: () => false }),
    'aborted',
  );
  assert.equal(pg.size, 0);
});

test('shutdown ends every wait and later waits return at once', async () => {
  const pg = new DelayedFetchPurgatory();
  const p = new FakePartition();
  const w1 = pg.wait({ partitions: [p], maxWaitMs: 5000, check: () => false });
  const w2 = pg.wait({ partitions: [p], maxWaitMs: 5000, check: () => false });
  pg.shutdown();
  assert.deepEqual(await Promise.all([w1, w2]), ['shutdown', 'shutdown']);
  assert.equal(p.listeners.size, 0);
  assert.equal(await pg.wait({ partitions: [p], maxWaitMs: 5000, check: () => false }), 'shutdown');
});

test('a throwing check ends the wait as satisfied (the final read reports the problem)', async () => {
  const pg = new DelayedFetchPurgatory();
  const p = new FakePartition();
  const end = await pg.wait({
    partitions: [p],
    maxWaitMs: 5000,
    check: () => {
      throw new Error('boom');
    },
  });
  assert.equal(end, 'satisfied');
});
