/**
 * The queue checker on hand-built histories: every error type is found when
 * present and absent from clean histories.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History, type PollMop } from '../../support/checker/history.ts';
import { checkQueue, type ErrorType, formatResult } from '../../support/checker/queue-checker.ts';

const K = 't/0';
const K1 = 't/1';

/** One send op: values to one key, completed as `type` with the given offsets. */
function send(
  h: History,
  process: string,
  values: string[],
  type: 'ok' | 'info' | 'fail',
  offsets?: (number | undefined)[],
  key = K,
  producer?: string,
) {
  h.invoke(process, 'send', {
    mops: values.map((value) => ({ f: 'send' as const, key, value })),
    ...(producer ? { producer } : {}),
  });
  h.complete(process, type, {
    mops: values.map((value, i) => ({
      f: 'send' as const,
      key,
      value,
      ...(type === 'ok' && offsets?.[i] !== undefined ? { offset: offsets[i] } : {}),
    })),
  });
}

/** One ok poll returning [offset, value] pairs of `key`. */
function poll(h: History, process: string, pairs: [number, string][], key = K, rebalance?: string[]) {
  h.invoke(process, 'poll');
  h.complete(process, 'ok', {
    mops: pairs.map(([offset, value]): PollMop => ({ f: 'poll', key, offset, value })),
    ...(rebalance ? { rebalance } : {}),
  });
}

function assign(h: History, process: string, keys: string[], seek = false) {
  h.invoke(process, 'assign', { keys, seek });
  h.complete(process, 'ok');
}

/** A clean base: p0 writes a@0 b@1, p1 writes c@2 d@3; consumer c0 reads them all. */
function clean(): History {
  const h = new History();
  assign(h, 'c0', [K]);
  send(h, 'p0', ['p0-0', 'p0-1'], 'ok', [0, 1]);
  send(h, 'p1', ['p1-0', 'p1-1'], 'ok', [2, 3]);
  poll(h, 'c0', [
    [0, 'p0-0'],
    [1, 'p0-1'],
  ]);
  poll(h, 'c0', [
    [2, 'p1-0'],
    [3, 'p1-1'],
  ]);
  return h;
}

function types(h: History, opts = {}): ErrorType[] {
  return checkQueue(h.ops, opts).errorTypes;
}

describe('queue checker', () => {
  it('clean history: valid, no errors, nothing unseen', () => {
    const r = checkQueue(clean().ops);
    assert.equal(r.valid, true, formatResult(r));
    assert.deepEqual(r.errorTypes, []);
    assert.equal(r.unseen.count, 0);
    assert.equal(r.stats.acknowledged, 4);
    assert.equal(r.stats.readDistinct, 4);
  });

  it('offset gaps (transaction markers) are not skips', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p0', ['b'], 'ok', [2]);
    poll(h, 'c0', [[0, 'a']]);
    poll(h, 'c0', [[2, 'b']]);
    assert.deepEqual(types(h), []);
  });

  it('unknown and failed sends that never appear are fine', () => {
    const h = clean();
    send(h, 'p0', ['p0-2'], 'info');
    send(h, 'p0', ['p0-3'], 'fail');
    const r = checkQueue(h.ops);
    assert.equal(r.valid, true, formatResult(r));
    assert.deepEqual(r.stats.sendOps, { ok: 2, info: 1, fail: 1 });
  });

  it('an unknown send that was read counts as written (and in order)', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'info');
    send(h, 'p0', ['b'], 'ok', [1]);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'b'],
    ]);
    assert.deepEqual(types(h), []);
  });

  it('an operation never completed is treated as unknown', () => {
    const h = clean();
    h.invoke('p9', 'send', { mops: [{ f: 'send', key: K, value: 'p9-0' }] });
    assert.equal(checkQueue(h.ops).valid, true);
  });

  it('lost-write: an acknowledged write below the highest read, never read', () => {
    const h = new History();
    send(h, 'p0', ['a', 'b', 'c'], 'ok', [0, 1, 2]);
    poll(h, 'c0', [[0, 'a']]);
    poll(h, 'c1', [[2, 'c']]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, ['lost-write']);
    assert.deepEqual(
      r.errors['lost-write']!.examples.map((e) => (e as { value: string }).value),
      ['b'],
    );
    assert.equal(r.unseen.count, 1);
    assert.equal(r.valid, false);
  });

  it('lost-write: an unknown send that some poll saw, at an offset another poll skipped', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p1', ['b'], 'info'); // seen by c9 at offset 1, so it happened
    send(h, 'p0', ['c'], 'ok', [2]);
    poll(h, 'c9', [[1, 'b']]);
    poll(h, 'c0', [
      [0, 'a'],
      [2, 'c'],
    ]);
    // c0 skipped b within one poll; b itself was read by c9, so nothing is lost
    assert.deepEqual(types(h), ['int-poll-skip']);
  });

  it('unseen: acknowledged and never read, beyond the highest read (not provably lost)', () => {
    const h = new History();
    send(h, 'p0', ['a', 'b'], 'ok', [0, 1]);
    poll(h, 'c0', [[0, 'a']]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, []);
    assert.equal(r.unseen.count, 1);
    assert.deepEqual(r.unseen.byKey, { [K]: 1 });
    assert.equal(r.valid, false, 'drain required by default');
    assert.equal(checkQueue(h.ops, { requireDrained: false }).valid, true);
  });

  it('duplicate: one value at two offsets', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p0', ['b'], 'ok', [1]);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'b'],
      [2, 'a'],
    ]);
    const r = checkQueue(h.ops);
    assert.ok(r.errorTypes.includes('duplicate'), formatResult(r));
    assert.deepEqual(r.errors.duplicate!.examples[0], {
      kind: 'positions',
      value: 'a',
      positions: [`${K}@0`, `${K}@2`],
    });
  });

  it('duplicate: one value in two partitions', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    poll(h, 'c0', [[0, 'a']]);
    poll(h, 'c0', [[0, 'a']], K1);
    assert.deepEqual(types(h), ['duplicate']);
  });

  it('duplicate: a consumer handed the same offset twice without a seek (redelivery)', () => {
    const h = new History();
    assign(h, 'c0', [K]);
    send(h, 'p0', ['a', 'b'], 'ok', [0, 1]);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'b'],
    ]);
    poll(h, 'c0', [[1, 'b']]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, ['duplicate', 'nonmonotonic-poll']);
    assert.equal((r.errors.duplicate!.examples[0] as { kind: string }).kind, 'redelivery');
  });

  it('re-reading after an explicit seek is neither duplicate nor nonmonotonic', () => {
    const h = clean();
    assign(h, 'c0', [K], true);
    poll(h, 'c0', [
      [0, 'p0-0'],
      [1, 'p0-1'],
    ]);
    assert.deepEqual(types(h), []);
  });

  it('a seek of some keys resets only those', () => {
    const h = new History();
    assign(h, 'c0', [K, K1]);
    send(h, 'p0', ['a', 'b'], 'ok', [0, 1]);
    send(h, 'p0', ['x', 'y'], 'ok', [0, 1], K1);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'b'],
    ]);
    poll(
      h,
      'c0',
      [
        [0, 'x'],
        [1, 'y'],
      ],
      K1,
    );
    h.invoke('c0', 'assign', { keys: [K, K1], seek: [K] });
    h.complete('c0', 'ok');
    poll(h, 'c0', [[0, 'a']]);
    assert.deepEqual(types(h), []);
    poll(h, 'c0', [[0, 'x']], K1);
    assert.deepEqual(types(h), ['duplicate', 'nonmonotonic-poll']);
  });

  it('re-assigning without a seek keeps the position check', () => {
    const h = clean();
    assign(h, 'c0', [K]);
    poll(h, 'c0', [[0, 'p0-0']]);
    assert.deepEqual(types(h), ['duplicate', 'nonmonotonic-poll']);
  });

  it('inconsistent-offsets: two values at one offset (send ack vs read)', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p1', ['b'], 'ok', [1]);
    poll(h, 'c0', [[0, 'b']]);
    const r = checkQueue(h.ops);
    assert.ok(r.errorTypes.includes('inconsistent-offsets'), formatResult(r));
    assert.deepEqual(r.errors['inconsistent-offsets']!.examples[0], {
      key: K,
      offset: 0,
      values: ['a', 'b'],
    });
  });

  it('inconsistent-offsets: two acknowledgements of one offset', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p1', ['b'], 'ok', [0]);
    poll(h, 'c0', [[0, 'a']]);
    assert.ok(types(h).includes('inconsistent-offsets'));
  });

  it('G1a: reading a value whose send failed definitely', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p0', ['x'], 'fail');
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'x'],
    ]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, ['G1a']);
    assert.equal((r.errors.G1a!.examples[0] as { value: string }).value, 'x');
  });

  it('unknown-value: reading something nobody sent', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'garbage'],
    ]);
    assert.deepEqual(types(h), ['unknown-value']);
  });

  it('precommitted-read: a transaction reading its own write', () => {
    const h = new History();
    h.invoke('t0', 'txn', { mops: [{ f: 'send', key: K, value: 'a' }] });
    h.complete('t0', 'ok', {
      mops: [
        { f: 'send', key: K, value: 'a', offset: 0 },
        { f: 'poll', key: K, offset: 0, value: 'a' },
      ],
    });
    assert.deepEqual(types(h), ['precommitted-read']);
  });

  it('poll-skip across polls and int-poll-skip within one poll', () => {
    const h = clean();
    poll(h, 'c1', [[0, 'p0-0']]);
    poll(h, 'c1', [[2, 'p1-0']]);
    poll(h, 'c2', [
      [0, 'p0-0'],
      [3, 'p1-1'],
    ]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, ['int-poll-skip', 'poll-skip']);
    assert.deepEqual((r.errors['poll-skip']!.examples[0] as { skipped: string[] }).skipped, ['p0-1']);
    assert.deepEqual((r.errors['int-poll-skip']!.examples[0] as { skipped: string[] }).skipped, [
      'p0-1',
      'p1-0',
    ]);
  });

  it('nonmonotonic-poll across polls and within one poll', () => {
    const h = clean();
    poll(h, 'c1', [[2, 'p1-0']]);
    poll(h, 'c1', [[1, 'p0-1']]);
    poll(h, 'c2', [
      [1, 'p0-1'],
      [0, 'p0-0'],
    ]);
    assert.deepEqual(types(h), ['int-nonmonotonic-poll', 'nonmonotonic-poll']);
  });

  it('subscribe mode allows poll-skip and nonmonotonic-poll; a rebalance resets the position', () => {
    const h = clean();
    poll(h, 'c1', [[0, 'p0-0']]);
    poll(h, 'c1', [[2, 'p1-0']]);
    assert.equal(checkQueue(h.ops).valid, false);
    const r = checkQueue(h.ops, { mode: 'subscribe' });
    assert.equal(r.valid, true);
    assert.deepEqual(r.errorTypes, ['poll-skip']);
    const h2 = clean();
    poll(h2, 'c1', [[0, 'p0-0']]);
    poll(h2, 'c1', [[2, 'p1-0']], K, [K]);
    assert.deepEqual(types(h2), []);
  });

  it('nonmonotonic-send: a producer whose later record sits before its earlier one', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [1]);
    send(h, 'p0', ['b'], 'ok', [0]);
    poll(h, 'c0', [
      [0, 'b'],
      [1, 'a'],
    ]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, ['nonmonotonic-send']);
  });

  it('nonmonotonic-send: send order is invoke order across one producer’s concurrent requests', () => {
    const h = new History();
    h.invoke('p0/0', 'send', { producer: 'p0', mops: [{ f: 'send', key: K, value: 'a' }] });
    h.invoke('p0/1', 'send', { producer: 'p0', mops: [{ f: 'send', key: K, value: 'b' }] });
    h.complete('p0/1', 'ok', { mops: [{ f: 'send', key: K, value: 'b', offset: 0 }] });
    h.complete('p0/0', 'ok', { mops: [{ f: 'send', key: K, value: 'a', offset: 1 }] });
    poll(h, 'c0', [
      [0, 'b'],
      [1, 'a'],
    ]);
    assert.deepEqual(types(h), ['nonmonotonic-send']);
    // two different producers may interleave freely
    const h2 = new History();
    send(h2, 'p0', ['a'], 'ok', [1]);
    send(h2, 'p1', ['b'], 'ok', [0]);
    poll(h2, 'c0', [
      [0, 'b'],
      [1, 'a'],
    ]);
    assert.deepEqual(types(h2), []);
  });

  it('int-send-skip is reported but allowed', () => {
    const h = new History();
    send(h, 'p0', ['a', 'c'], 'ok', [0, 2]);
    send(h, 'p1', ['b'], 'ok', [1]);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ]);
    const r = checkQueue(h.ops);
    assert.deepEqual(r.errorTypes, ['int-send-skip']);
    assert.deepEqual(r.badErrorTypes, []);
    assert.equal(r.valid, true);
  });

  it('allow: extra error types can be allowed', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p0', ['x'], 'fail');
    poll(h, 'c0', [[1, 'x']]);
    assert.equal(checkQueue(h.ops, { allow: ['G1a'] }).valid, false, 'still unseen a');
    poll(h, 'c0', [[0, 'a']]);
    assert.equal(checkQueue(h.ops, { allow: ['G1a', 'nonmonotonic-poll'] }).valid, true);
  });

  it('truncate notes: destroyed writes are neither lost nor unseen, reused offsets are not inconsistent', () => {
    const mk = (withNote: boolean) => {
      const h = new History();
      assign(h, 'c0', [K]);
      send(h, 'p0', ['a', 'b'], 'ok', [0, 1]);
      poll(h, 'c0', [
        [0, 'a'],
        [1, 'b'],
      ]);
      send(h, 'p0', ['c'], 'ok', [2]);
      if (withNote) h.note('nemesis', 'truncate', { key: K, offset: 1 });
      send(h, 'p0', ['d'], 'ok', [1]);
      assign(h, 'c0', [K], true);
      poll(h, 'c0', [
        [0, 'a'],
        [1, 'd'],
      ]);
      return h;
    };
    const r = checkQueue(mk(true).ops);
    assert.equal(r.valid, true, formatResult(r));
    assert.equal(r.stats.destroyed, 2);
    const bad = checkQueue(mk(false).ops);
    assert.ok(bad.errorTypes.includes('inconsistent-offsets'), formatResult(bad));
    assert.equal(bad.unseen.count, 1, 'c');
  });

  it('truncate notes with values: a prefetched copy of destroyed data delivered after the note is forgotten', () => {
    const mk = (values?: string[]) => {
      const h = new History();
      assign(h, 'c0', [K]);
      send(h, 'p0', ['a', 'b'], 'ok', [0, 1]);
      poll(h, 'c0', [[0, 'a']]);
      h.note('nemesis', 'truncate', { key: K, offset: 1, ...(values ? { values } : {}) });
      poll(h, 'c0', [[1, 'b']]); // fetched before the crash, handed to the application after the note
      send(h, 'p1', ['c'], 'ok', [1]);
      assign(h, 'c0', [K], true);
      poll(h, 'c0', [
        [0, 'a'],
        [1, 'c'],
      ]);
      return h;
    };
    const r = checkQueue(mk(['b']).ops);
    assert.equal(r.valid, true, formatResult(r));
    assert.equal(r.stats.destroyed, 1);
    assert.ok(checkQueue(mk().ops).errorTypes.includes('inconsistent-offsets'));
  });

  it('a truncate note resets consumer positions for that key', () => {
    const h = new History();
    send(h, 'p0', ['a', 'b'], 'ok', [0, 1]);
    poll(h, 'c0', [
      [0, 'a'],
      [1, 'b'],
    ]);
    h.note('nemesis', 'truncate', { key: K, offset: 1 });
    send(h, 'p0', ['c'], 'ok', [1]);
    poll(h, 'c0', [[1, 'c']]);
    assert.deepEqual(types(h), []);
  });

  it('malformed histories are rejected', () => {
    const h = new History();
    send(h, 'p0', ['a'], 'ok', [0]);
    send(h, 'p1', ['a'], 'ok', [1]);
    assert.throws(() => checkQueue(h.ops), /sent twice/);
    const ops = clean().ops.filter((o) => !(o.type === 'invoke' && o.f === 'poll'));
    assert.throws(() => checkQueue(ops), /no matching invoke/);
    const h2 = new History();
    h2.invoke('x', 'poll');
    assert.throws(() => h2.invoke('x', 'poll'), /still open/);
  });

  it('histories round-trip through JSONL', () => {
    const h = clean();
    h.closeOpen();
    const back = History.parse(h.toJSONL());
    assert.deepEqual(back, h.ops);
    assert.equal(checkQueue(back).valid, true);
  });
});
