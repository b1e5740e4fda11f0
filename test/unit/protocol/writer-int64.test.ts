/** Writer.writeInt64 splits safe integers without BigInt arithmetic; every int64 must still encode exactly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writer } from '../../../src/protocol/primitives/writer.ts';

function viaBuffer(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}

test('writeInt64 matches writeBigInt64BE at the edges and on random values', () => {
  const edges = [
    0n,
    -1n,
    1n,
    2n ** 31n,
    -(2n ** 31n),
    2n ** 32n - 1n,
    2n ** 32n,
    -(2n ** 32n),
    2n ** 53n - 1n,
    -(2n ** 53n - 1n),
    2n ** 53n,
    -(2n ** 53n),
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
  ];
  const values = [...edges];
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  for (let i = 0; i < 20_000; i++) {
    const v = (BigInt(rnd()) << BigInt(rnd() % 33)) ^ BigInt(rnd());
    values.push(BigInt.asIntN(64, i % 2 ? -v : v));
  }
  const w = new Writer(8);
  for (const v of values) w.writeInt64(v);
  const out = w.toBuffer();
  values.forEach((v, i) => {
    assert.deepEqual(out.subarray(i * 8, i * 8 + 8), viaBuffer(v), `value ${v}`);
  });
});
