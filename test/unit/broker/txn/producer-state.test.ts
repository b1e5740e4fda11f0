import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  lastSequence,
  NUM_BATCHES_TO_RETAIN,
  type ProducerBatch,
  ProducerStateManager,
} from '../../../../src/broker/txn/producer-state.ts';
import { ErrorCode } from '../../../../src/protocol/error-codes.ts';

const INT32_MAX = 0x7fffffff;

const batch = (
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
  count = 1,
): ProducerBatch => ({
  producerId,
  producerEpoch,
  baseSequence,
  lastOffsetDelta: count - 1,
});

/** Appends at the next offset as the produce path does (check, then update). */
function append(m: ProducerStateManager, b: ProducerBatch, offset: { next: number }, ts = 1000) {
  const c = m.check(b);
  if (c.kind !== 'append') return c;
  const first = offset.next;
  offset.next += b.lastOffsetDelta + 1;
  m.update(b, first, offset.next - 1, ts);
  return c;
}

describe('ProducerStateManager', () => {
  test('a new producer is accepted at any sequence (no UNKNOWN_PRODUCER_ID since Kafka 2.5)', () => {
    const m = new ProducerStateManager('t-0');
    assert.equal(m.check(batch(7, 0, 0)).kind, 'append');
    assert.equal(m.check(batch(7, 0, 42)).kind, 'append');
    assert.equal(m.check(batch(7, 3, 1000)).kind, 'append');
  });

  test('in-order batches append; a gap or a repeat of an older range is OUT_OF_ORDER_SEQUENCE_NUMBER', () => {
    const m = new ProducerStateManager('t-0');
    const o = { next: 0 };
    assert.equal(append(m, batch(1, 0, 0, 3), o).kind, 'append');
    assert.equal(append(m, batch(1, 0, 3, 2), o).kind, 'append');
    const gap = m.check(batch(1, 0, 6));
    assert.equal(gap.kind, 'error');
    assert.equal(gap.kind === 'error' && gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // same first sequence as a retained batch but a different range: not a duplicate
    const overlap = m.check(batch(1, 0, 3, 1));
    assert.equal(overlap.kind === 'error' && overlap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(m.check(batch(1, 0, 5)).kind, 'append');
  });

  test('a duplicate of one of the last 5 batches returns its original offsets', () => {
    const m = new ProducerStateManager('t-0');
    const o = { next: 100 };
    for (let i = 0; i < 7; i++) append(m, batch(9, 2, i * 2, 2), o, 5000 + i);
    assert.equal(m.get(9)!.batches.length, NUM_BATCHES_TO_RETAIN);
    // batches 2..6 are retained (sequences 4..13)
    const dup = m.check(batch(9, 2, 4, 2));
    assert.equal(dup.kind, 'duplicate');
    assert.deepEqual(dup.kind === 'duplicate' && dup.batch, {
      firstSeq: 4,
      lastSeq: 5,
      firstOffset: 104,
      lastOffset: 105,
      timestamp: 5002,
    });
    const last = m.check(batch(9, 2, 12, 2));
    assert.equal(last.kind === 'duplicate' && last.batch.firstOffset, 112);
    // batch 1 (sequences 2-3) fell out of the window: out of order, not a duplicate
    const old = m.check(batch(9, 2, 2, 2));
    assert.equal(old.kind === 'error' && old.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  test('a stale epoch is INVALID_PRODUCER_EPOCH; a new epoch must start at 0 and resets the window', () => {
    const m = new ProducerStateManager('t-0');
    const o = { next: 0 };
    append(m, batch(3, 5, 0, 4), o);
    const stale = m.check(batch(3, 4, 4));
    assert.equal(stale.kind === 'error' && stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const bumpedMid = m.check(batch(3, 6, 4));
    assert.equal(bumpedMid.kind === 'error' && bumpedMid.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(append(m, batch(3, 6, 0, 1), o).kind, 'append');
    assert.equal(m.get(3)!.epoch, 6);
    assert.equal(m.get(3)!.batches.length, 1);
    // the old epoch's batch is no longer a duplicate: it is fenced
    const old = m.check(batch(3, 5, 0, 4));
    assert.equal(old.kind === 'error' && old.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  test('sequences wrap from int32 max to 0', () => {
    assert.equal(lastSequence(INT32_MAX, 0), INT32_MAX);
    assert.equal(lastSequence(INT32_MAX, 1), 0);
    assert.equal(lastSequence(INT32_MAX - 1, 3), 1);
    const m = new ProducerStateManager('t-0');
    const o = { next: 0 };
    assert.equal(append(m, batch(4, 0, INT32_MAX - 2, 3), o).kind, 'append'); // ..., MAX
    assert.equal(m.get(4)!.batches[0]!.lastSeq, INT32_MAX);
    assert.equal(append(m, batch(4, 0, 0, 2), o).kind, 'append');
    const wrapped = append(m, batch(4, 0, INT32_MAX, 3), o); // MAX, 0, 1 would not continue from 1
    assert.equal(wrapped.kind, 'error');
    assert.equal(append(m, batch(4, 0, 2, 1), o).kind, 'append');
    // a batch that itself wraps
    const m2 = new ProducerStateManager('t-1');
    const o2 = { next: 0 };
    append(m2, batch(5, 0, INT32_MAX - 1, 1), o2);
    assert.equal(append(m2, batch(5, 0, INT32_MAX, 3), o2).kind, 'append'); // MAX, 0, 1
    assert.equal(m2.get(5)!.batches[1]!.lastSeq, 1);
    assert.equal(m2.check(batch(5, 0, 2)).kind, 'append');
    assert.equal(m2.check(batch(5, 0, INT32_MAX, 3)).kind, 'duplicate');
  });

  test('producers are independent', () => {
    const m = new ProducerStateManager('t-0');
    const o = { next: 0 };
    append(m, batch(1, 0, 0), o);
    append(m, batch(2, 0, 0), o);
    append(m, batch(1, 0, 1), o);
    assert.equal(m.check(batch(2, 0, 1)).kind, 'append');
    assert.equal(m.check(batch(1, 0, 2)).kind, 'append');
    assert.equal(m.size, 2);
  });

  test('replay rebuilds the same state as live appends; control batches only move the epoch', () => {
    const live = new ProducerStateManager('t-0');
    const replayed = new ProducerStateManager('t-0');
    const o = { next: 0 };
    const seq = [batch(1, 0, 0, 2), batch(2, 0, 0, 1), batch(1, 0, 2, 3), batch(1, 1, 0, 1)];
    for (const b of seq) {
      const first = o.next;
      append(live, b, o, 77);
      replayed.replay({ ...b, control: false }, first, o.next - 1, 77);
    }
    assert.deepEqual([...replayed.entries()], [...live.entries()]);
    replayed.replay({ ...batch(2, 3, -1, 1), control: true }, 10, 10, 80);
    assert.equal(replayed.get(2)!.epoch, 3);
    assert.equal(replayed.get(2)!.batches.length, 0);
    // after a marker with a new epoch, the producer's next data batch must start at 0
    assert.equal(replayed.check(batch(2, 3, 0)).kind, 'append');
    assert.equal(replayed.check(batch(2, 3, 1)).kind, 'error');
    replayed.replay({ ...batch(-1, -1, -1, 1), control: false }, 11, 11, 80);
    assert.equal(replayed.size, 2);
  });

  test('expiry by last batch timestamp, and eviction below the log start offset', () => {
    const m = new ProducerStateManager('t-0');
    const o = { next: 0 };
    append(m, batch(1, 0, 0), o, 1_000);
    append(m, batch(2, 0, 0), o, 5_000);
    assert.equal(m.removeExpired(10_000, 6_000), 1);
    assert.equal(m.get(1), undefined);
    assert.ok(m.get(2));
    // an expired producer starts over at any sequence
    assert.equal(m.check(batch(1, 0, 57)).kind, 'append');
    append(m, batch(3, 0, 0), o, 9_000); // offset 2
    m.onLogStartOffsetIncremented(2);
    assert.equal(m.get(2), undefined);
    assert.ok(m.get(3));
  });
});
