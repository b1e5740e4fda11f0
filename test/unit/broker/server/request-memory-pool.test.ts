import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PoolMember, RequestMemoryPool } from '../../../../src/broker/server/request-memory-pool.ts';

class Member implements PoolMember {
  partialBytes = 0;
  resumed = 0;
  resumeReading(): void {
    this.resumed++;
  }
}

test('below the caps members keep reading', () => {
  const pool = new RequestMemoryPool({ maxBytes: 1000, maxRequests: 10 });
  const m = new Member();
  pool.charge(500);
  pool.framed(500);
  assert.equal(pool.mayRead(m), true);
  assert.equal(pool.waitingCount, 0);
});

test('at the byte cap a member waits and resumes below the low watermark (3/4)', () => {
  const pool = new RequestMemoryPool({ maxBytes: 1000, maxRequests: 100 });
  const a = new Member();
  const b = new Member();
  pool.charge(600);
  pool.framed(600);
  pool.charge(500);
  pool.framed(500);
  assert.equal(pool.full, true);
  assert.equal(pool.mayRead(a), false);
  assert.equal(pool.mayRead(b), false);
  assert.equal(pool.waitingCount, 2);
  assert.equal(pool.pauses, 2);
  pool.started();
  pool.release(300, 300); // 800 left: under the cap, above 750
  assert.equal(a.resumed + b.resumed, 0, 'not resumed above the low watermark');
  pool.release(100, 100); // 700
  assert.equal(a.resumed, 1);
  assert.equal(b.resumed, 1);
  assert.equal(pool.waitingCount, 0);
  assert.equal(pool.peakUsed, 1100);
});

test('queued.max.requests: waiting starts at the count and ends below 3/4 of it', () => {
  const pool = new RequestMemoryPool({ maxBytes: -1, maxRequests: 4 });
  const m = new Member();
  for (let i = 0; i < 4; i++) {
    pool.charge(10);
    pool.framed(10);
  }
  assert.equal(pool.mayRead(m), false);
  pool.started(); // 3 queued: ceil(4 * 0.75) = 3, not below
  assert.equal(m.resumed, 0);
  pool.started(); // 2
  assert.equal(m.resumed, 1);
});

test('no cap (-1 or 0) never pauses on bytes', () => {
  for (const maxBytes of [-1, 0]) {
    const pool = new RequestMemoryPool({ maxBytes, maxRequests: 500 });
    pool.charge(10 * 1024 * 1024 * 1024);
    assert.equal(pool.full, false);
    assert.equal(pool.responseBudget(), Number.POSITIVE_INFINITY);
  }
});

test('a frame larger than the cap is finished when nothing complete is queued', () => {
  const pool = new RequestMemoryPool({ maxBytes: 1000, maxRequests: 100 });
  const big = new Member();
  big.partialBytes = 1200;
  pool.charge(1200);
  assert.equal(pool.mayRead(big), true, 'only reading on can release these bytes');
  const other = new Member();
  other.partialBytes = 10;
  pool.charge(10);
  assert.equal(pool.mayRead(other), false, 'one finisher at a time');
  // The big frame completes: now it is queued and the finisher role ends.
  big.partialBytes = 0;
  pool.charge(300);
  pool.framed(1500);
  assert.equal(pool.mayRead(big), false);
  assert.equal(other.resumed, 0, 'a complete frame will drain the pool: nobody else is let through');
  pool.started();
  pool.release(1500, 1500);
  assert.equal(other.resumed, 1);
});

test('only partial frames over the cap: waiting members are let through one at a time', () => {
  const pool = new RequestMemoryPool({ maxBytes: 1000, maxRequests: 100 });
  const a = new Member();
  const b = new Member();
  const idle = new Member();
  // A complete frame holds the pool while a and b are mid-frame.
  pool.charge(900);
  pool.framed(900);
  a.partialBytes = 400;
  pool.charge(400);
  b.partialBytes = 400;
  pool.charge(400);
  pool.charge(0);
  assert.equal(pool.mayRead(idle), false);
  assert.equal(pool.mayRead(a), false);
  assert.equal(pool.mayRead(b), false);
  // The complete frame is answered: 800 partial bytes remain, above the low watermark.
  pool.started();
  pool.release(900, 900);
  assert.equal(a.resumed, 1, 'the first waiting member with a partial frame finishes it');
  assert.equal(b.resumed, 0);
  assert.equal(idle.resumed, 0);
  assert.equal(pool.mayRead(a), true, 'the finisher keeps reading while over the cap');
  // a completes its frame, which is handled and answered.
  a.partialBytes = 0;
  pool.charge(300);
  pool.framed(700);
  assert.equal(pool.mayRead(a), false);
  pool.started();
  pool.release(700, 700); // 400 left (b's partial): below 750, everyone resumes
  assert.equal(b.resumed, 1);
  assert.equal(idle.resumed, 1);
  assert.equal(a.resumed, 2);
});

test('a finisher that closes hands the role on', () => {
  const pool = new RequestMemoryPool({ maxBytes: 100, maxRequests: 100 });
  const a = new Member();
  const b = new Member();
  a.partialBytes = 80;
  b.partialBytes = 80;
  pool.charge(160);
  assert.equal(pool.mayRead(a), true);
  assert.equal(pool.mayRead(b), false);
  // a closes: its bytes go back and the pool is below the low watermark.
  pool.release(80, 0);
  pool.leave(a);
  assert.equal(b.resumed, 1);
});

test('responses are counted apart and shrink the response budget', () => {
  const pool = new RequestMemoryPool({ maxBytes: 1000, maxRequests: 100 });
  assert.equal(pool.responseBudget(), 1000);
  pool.chargeResponse(700);
  assert.equal(pool.responseBudget(), 300);
  assert.equal(pool.full, false, 'responses do not stop reading');
  pool.chargeResponse(700);
  assert.equal(pool.responseBudget(), 0);
  pool.releaseResponse(1400);
  assert.equal(pool.responseBudget(), 1000);
  assert.equal(pool.peakResponseBytes, 1400);
});
