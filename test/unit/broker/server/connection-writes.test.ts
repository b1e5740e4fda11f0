/**
 * The connection's write path: responses produced in one turn of the event
 * loop (pipelined requests handled back to back) leave in one vectored
 * write; a lone response, or one finished later by a timer, still goes out
 * at once; order is kept.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { HandlerRegistry } from '../../../../src/broker/handlers/registry.ts';
import type { Handler } from '../../../../src/broker/handlers/types.ts';
import { Connection } from '../../../../src/broker/server/connection.ts';
import type { BrokerServices } from '../../../../src/broker/services.ts';
import type { Logger } from '../../../../src/common/logger.ts';
import { decodeResponseFrame, encodeRequestFrame } from '../../../../src/protocol/frames.ts';

const produceBody = {
  transactionalId: null,
  acks: 1,
  timeoutMs: 5000,
  topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(100, 0x61) }] }],
};

/** A Produce v9 frame with its size prefix; `delayed` asks the handler to answer from a timer. */
function frame(correlationId: number, delayed = false): Buffer {
  const body = { ...produceBody, timeoutMs: delayed ? 1 : 5000 };
  const f = encodeRequestFrame(
    { requestApiKey: 0, requestApiVersion: 9, correlationId, clientId: 'w' },
    body,
  );
  const head = Buffer.alloc(4);
  head.writeInt32BE(f.length, 0);
  return Buffer.concat([head, f]);
}

async function harness() {
  const registry = new HandlerRegistry();
  const produce: Handler = {
    apiKey: 0,
    minVersion: 3,
    maxVersion: 9,
    async handle(req: { timeoutMs: number }) {
      if (req.timeoutMs === 1) await new Promise((r) => setTimeout(r, 5));
      return { responses: [], throttleTimeMs: 0 };
    },
  };
  registry.register(produce);
  const log = pino({ level: 'silent' }) as unknown as Logger;
  const writes = { calls: 0 };
  const conns: Connection[] = [];
  const server: Server = createServer((socket) => {
    // count what reaches the stream implementation (one per write or writev)
    type Impl = (...a: unknown[]) => unknown;
    const s = socket as Socket & { _write: Impl; _writev: Impl };
    const w = s._write.bind(s);
    const wv = s._writev.bind(s);
    s._write = (...a: unknown[]) => {
      writes.calls++;
      return w(...a);
    };
    s._writev = (...a: unknown[]) => {
      writes.calls++;
      return wv(...a);
    };
    conns.push(
      new Connection({
        id: 'c',
        socket,
        services: {} as BrokerServices,
        registry,
        listenerName: 'PLAINTEXT',
        securityProtocol: 'PLAINTEXT',
        maxFrameBytes: 1 << 20,
        idleTimeoutMs: 60_000,
        log,
        onClose: () => {},
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const { connect } = await import('node:net');
  const client = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((r, j) => {
    client.once('connect', r);
    client.once('error', j);
  });
  let data = Buffer.alloc(0);
  client.on('data', (c: Buffer) => {
    data = Buffer.concat([data, c]);
  });
  /** Correlation ids of the complete responses received so far. */
  const received = () => {
    const ids: number[] = [];
    for (let p = 0; p + 4 <= data.length; ) {
      const n = data.readInt32BE(p);
      if (p + 4 + n > data.length) break;
      ids.push(decodeResponseFrame(0, 9, data.subarray(p + 4, p + 4 + n)).header.correlationId);
      p += 4 + n;
    }
    return ids;
  };
  const waitFor = async (n: number) => {
    const t0 = Date.now();
    while (received().length < n && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 2));
    return Date.now() - t0;
  };
  return {
    client,
    writes,
    received,
    waitFor,
    async close() {
      client.destroy();
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('pipelined requests handled in one turn are answered with one write, in order', async () => {
  const h = await harness();
  try {
    const frames = Array.from({ length: 40 }, (_, i) => frame(100 + i));
    h.client.write(Buffer.concat(frames));
    await h.waitFor(40);
    assert.deepEqual(
      h.received(),
      frames.map((_, i) => 100 + i),
    );
    // all 40 frames usually arrive in one read; allow a few reads, never one write per response
    assert.ok(h.writes.calls <= 4, `${h.writes.calls} writes for 40 responses`);
  } finally {
    await h.close();
  }
});

test('a lone response and one finished by a timer go out without waiting for more', async () => {
  const h = await harness();
  try {
    h.client.write(frame(1));
    assert.ok((await h.waitFor(1)) < 1000);
    h.client.write(frame(2, true));
    assert.ok((await h.waitFor(2)) < 1000);
    h.client.write(Buffer.concat([frame(3, true), frame(4), frame(5, true)]));
    await h.waitFor(5);
    assert.deepEqual(h.received(), [1, 2, 3, 4, 5]);
  } finally {
    await h.close();
  }
});
