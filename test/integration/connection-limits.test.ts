/** max.connections.per.ip: extra connections from one address are closed, and a closed one frees its slot. */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { startBroker } from '../../src/testing/index.ts';

async function open(port: number): Promise<{ sock: Socket; closed: () => boolean }> {
  const sock = new Socket();
  let closed = false;
  sock.on('close', () => {
    closed = true;
  });
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.connect(port, '127.0.0.1', () => r()));
  return { sock, closed: () => closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('max.connections.per.ip is enforced and freed slots are reused', async (t) => {
  const b = await startBroker({ config: { 'max.connections.per.ip': 3 } });
  t.after(() => b.stop());
  const conns: Awaited<ReturnType<typeof open>>[] = [];
  for (let i = 0; i < 5; i++) conns.push(await open(b.port));
  t.after(() => {
    for (const c of conns) c.sock.destroy();
  });
  await sleep(200);
  assert.deepEqual(
    conns.map((c) => c.closed()),
    [false, false, false, true, true],
  );
  conns[0]!.sock.destroy();
  await sleep(200);
  const again = await open(b.port);
  conns.push(again);
  await sleep(200);
  assert.equal(again.closed(), false, 'the freed slot serves a new connection');
  const over = await open(b.port);
  conns.push(over);
  await sleep(200);
  assert.equal(over.closed(), true);
  assert.equal(b.broker.requestMemory!.used, 0);
});
