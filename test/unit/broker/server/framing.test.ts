import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder, FrameError } from '../../../../src/broker/server/framing.ts';

const frame = (body: Buffer) => {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
};

test('frames split across arbitrary chunk boundaries are reassembled', () => {
  const bodies = [Buffer.from('a'), Buffer.alloc(1000, 7), Buffer.from('hello world')];
  const stream = Buffer.concat(bodies.map(frame));
  for (const step of [1, 2, 3, 5, 64, stream.length]) {
    const d = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) {
      d.push(stream.subarray(i, i + step));
      for (let f = d.next(); f; f = d.next()) out.push(Buffer.from(f));
    }
    assert.deepEqual(out, bodies, `step ${step}`);
    assert.equal(d.pendingBytes, 0);
  }
});

test('a frame inside one chunk is returned without copying', () => {
  const chunk = frame(Buffer.from('zero-copy'));
  const d = new FrameDecoder(100);
  d.push(chunk);
  const f = d.next()!;
  assert.equal(f.buffer, chunk.buffer);
});

test('invalid and oversized sizes are rejected before allocating', () => {
  for (const size of [0, -1, -2147483648]) {
    const d = new FrameDecoder(100);
    const b = Buffer.alloc(4);
    b.writeInt32BE(size, 0);
    d.push(b);
    assert.throws(() => d.next(), FrameError);
  }
  const d = new FrameDecoder(1000);
  const b = Buffer.alloc(4);
  b.writeInt32BE(0x7fffffff, 0);
  d.push(b);
  assert.throws(() => d.next(), /exceeds socket.request.max.bytes/);
});

test('a large declared frame holds only the bytes received', () => {
  const d = new FrameDecoder(200 * 1024 * 1024);
  const b = Buffer.alloc(4);
  b.writeInt32BE(100 * 1024 * 1024, 0);
  d.push(b);
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 100; i++) {
    d.push(Buffer.alloc(1));
    assert.equal(d.next(), null);
  }
  assert.equal(d.declaredSize(), 100 * 1024 * 1024);
  assert.equal(d.pendingBytes, 104);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
});
