/**
 * Connection + RequestMemoryPool over real loopback sockets, with fake
 * handlers that can be held: the broker-wide cap on request bytes and queued
 * requests pauses reading (TCP backpressure) and drops nothing; a frame larger
 * than the cap still gets through; a close returns every byte; responses
 * stuck in a slow reader's socket are counted and shrink the response budget.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, Socket } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { HandlerRegistry } from '../../../../src/broker/handlers/registry.ts';
import type { Handler, RequestContext } from '../../../../src/broker/handlers/types.ts';
import { Connection } from '../../../../src/broker/server/connection.ts';
import { RequestMemoryPool } from '../../../../src/broker/server/request-memory-pool.ts';
import type { BrokerServices } from '../../../../src/broker/services.ts';
import type { Logger } from '../../../../src/common/logger.ts';
import { encodeRequestFrame } from '../../../../src/protocol/frames.ts';
import { RawClient } from '../../../helpers/raw-client.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Something handlers wait on until the test opens it. */
class Gate {
  private open_!: () => void;
  readonly promise = new Promise<void>((r) => {
    this.open_ = r;
  });
  open(): void {
    this.open_();
  }
}

interface Harness {
  pool: RequestMemoryPool;
  port: number;
  bootstrap: string;
  conns: Connection[];
  budgets: number[];
  close(): Promise<void>;
}

async function harness(opts: {
  maxBytes: number;
  maxRequests?: number;
  idleTimeoutMs?: number;
  gate?: Gate;
  fetchRecords?: Buffer;
  /** Bytes the fake Fetch reserves, then waits for `gate`, before answering. */
  fetchReserve?: number;
}): Promise<Harness> {
  const pool = new RequestMemoryPool({ maxBytes: opts.maxBytes, maxRequests: opts.maxRequests ?? 500 });
  const budgets: number[] = [];
  const registry = new HandlerRegistry();
  const produce: Handler = {
    apiKey: 0,
    minVersion: 3,
    maxVersion: 9,
    async handle() {
      await opts.gate?.promise;
      return { responses: [], throttleTimeMs: 0 };
    },
  };
  const fetch: Handler = {
    apiKey: 1,
    minVersion: 4,
    maxVersion: 4,
    async handle(_req: unknown, ctx: RequestContext) {
      budgets.push(ctx.responseMemory?.available() ?? -1);
      if (opts.fetchReserve) {
        ctx.responseMemory?.reserve(opts.fetchReserve);
        await opts.gate?.promise;
      }
      return {
        throttleTimeMs: 0,
        responses: [
          {
            topic: 't',
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 0n,
                lastStableOffset: 0n,
                abortedTransactions: [],
                // The first fetch gets the big records, later ones nothing.
                records: budgets.length === 1 ? (opts.fetchRecords ?? Buffer.alloc(0)) : Buffer.alloc(0),
              },
            ],
          },
        ],
      };
    },
  };
  registry.register(produce);
  registry.register(fetch);
  const log = pino({ level: 'silent' }) as unknown as Logger;
  const conns: Connection[] = [];
  let n = 0;
  const server: Server = createServer((socket) => {
    conns.push(
      new Connection({
        id: `c${++n}`,
        socket,
        services: {} as BrokerServices,
        registry,
        listenerName: 'PLAINTEXT',
        securityProtocol: 'PLAINTEXT',
        maxFrameBytes: 100 * MiB,
        idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
        log,
        pool,
        onClose: () => {},
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    pool,
    port,
    bootstrap: `127.0.0.1:${port}`,
    conns,
    budgets,
    async close() {
      for (const c of conns) c.close();
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function produceBody(bytes: number) {
  return {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(bytes, 0x61) }] }],
  };
}

/** A Produce frame with its size prefix. */
function produceFrame(bytes: number, correlationId = 1): Buffer {
  const f = encodeRequestFrame(
    { requestApiKey: 0, requestApiVersion: 9, correlationId, clientId: 'mem' },
    produceBody(bytes),
  );
  const size = Buffer.alloc(4);
  size.writeInt32BE(f.length);
  return Buffer.concat([size, f]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function drained(pool: RequestMemoryPool): boolean {
  return pool.used === 0 && pool.frameBytes === 0 && pool.queued === 0 && pool.responseBytes === 0;
}

test('pipelining producers are held near the byte cap by pausing reads, and nothing is dropped', async (t) => {
  const gate = new Gate();
  const h = await harness({ maxBytes: 1 * MiB, gate });
  t.after(() => h.close());
  const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(h.bootstrap)));
  t.after(() => {
    for (const c of clients) c.close();
  });
  // 4 x 12 requests of 256 KiB = 12 MiB offered against a 1 MiB cap.
  const pending = clients.flatMap((c) =>
    Array.from({ length: 12 }, () => c.request(0, 9, produceBody(256 * KiB))),
  );
  await until('the pool to fill', () => h.pool.full);
  await sleep(300);
  const slack = 4 * 64 * KiB; // each connection may read one socket chunk past the cap
  assert.ok(
    h.pool.used <= h.pool.maxBytes + 256 * KiB + slack,
    `held ${(h.pool.used / MiB).toFixed(2)} MiB against a 1 MiB cap`,
  );
  assert.ok(h.pool.peakUsed <= h.pool.maxBytes + 256 * KiB + slack, `peak ${h.pool.peakUsed}`);
  assert.ok(h.pool.waitingCount > 0, 'connections wait for the pool');
  gate.open();
  const res = await Promise.all(pending);
  assert.equal(res.length, 48, 'every request answered');
  await until('the pool to drain', () => drained(h.pool));
});

test('a frame larger than the cap is admitted when nothing else is queued; two at once do not deadlock', async (t) => {
  const h = await harness({ maxBytes: 64 * KiB });
  t.after(() => h.close());
  const a = await RawClient.connect(h.bootstrap);
  const b = await RawClient.connect(h.bootstrap);
  t.after(() => {
    a.close();
    b.close();
  });
  await a.request(0, 9, produceBody(1 * MiB));
  assert.ok(h.pool.peakUsed >= 1 * MiB);
  // Both start frames 8x the cap at once: only partial frames hold the pool, so one is let through at a time.
  const res = await Promise.all([
    a.request(0, 9, produceBody(512 * KiB)),
    b.request(0, 9, produceBody(512 * KiB)),
    a.request(0, 9, produceBody(512 * KiB)),
    b.request(0, 9, produceBody(512 * KiB)),
  ]);
  assert.equal(res.length, 4);
  await until('the pool to drain', () => drained(h.pool));
});

test('queued.max.requests: connections stop reading once that many requests wait', async (t) => {
  const gate = new Gate();
  const h = await harness({ maxBytes: -1, maxRequests: 3, gate });
  t.after(() => h.close());
  const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(h.bootstrap)));
  t.after(() => {
    for (const c of clients) c.close();
  });
  const pending: Promise<unknown>[] = [];
  let maxQueued = 0;
  for (let i = 0; i < 6; i++) {
    for (const c of clients) pending.push(c.request(0, 9, produceBody(100)));
    await sleep(30);
    maxQueued = Math.max(maxQueued, h.pool.queued);
  }
  // Unbounded, 4 x 5 would wait; each connection reads at most one more write after the cap.
  assert.ok(maxQueued <= 3 + 4, `${maxQueued} requests queued with queued.max.requests=3`);
  assert.ok(h.pool.pauses > 0);
  gate.open();
  assert.equal((await Promise.all(pending)).length, 24);
  await until('the pool to drain', () => drained(h.pool));
});

test('a closed connection returns its queued, in-flight and partial bytes', async (t) => {
  const gate = new Gate();
  const h = await harness({ maxBytes: 64 * MiB, gate });
  t.after(() => h.close());
  const s = new Socket();
  s.on('error', () => {});
  await new Promise<void>((r) => s.connect(h.port, '127.0.0.1', () => r()));
  const partial = produceFrame(100 * KiB);
  s.write(
    Buffer.concat([produceFrame(200 * KiB, 1), produceFrame(200 * KiB, 2), produceFrame(200 * KiB, 3)]),
  );
  s.write(partial.subarray(0, 50 * KiB));
  await until('bytes to arrive', () => h.pool.used >= 650 * KiB);
  assert.equal(h.pool.queued, 2, 'one request in flight, two queued');
  s.destroy();
  await until('the pool to drain', () => drained(h.pool));
  gate.open(); // the in-flight handler finishes after the close: nothing is released twice
  await sleep(50);
  assert.ok(drained(h.pool), JSON.stringify(h.pool));
});

test('a connection waiting for the pool is not closed by the idle or partial-frame timeout', async (t) => {
  const gate = new Gate();
  const h = await harness({ maxBytes: 256 * KiB, idleTimeoutMs: 300, gate });
  t.after(() => h.close());
  const a = await RawClient.connect(h.bootstrap);
  t.after(() => a.close());
  const pendingA = [a.request(0, 9, produceBody(200 * KiB)), a.request(0, 9, produceBody(200 * KiB))];
  await until('the pool to fill', () => h.pool.full);
  const b = new Socket();
  b.on('error', () => {});
  let bClosed = false;
  b.on('close', () => {
    bClosed = true;
  });
  const answers: Buffer[] = [];
  b.on('data', (d: Buffer) => answers.push(d));
  await new Promise<void>((r) => b.connect(h.port, '127.0.0.1', () => r()));
  t.after(() => b.destroy());
  const frame = produceFrame(20 * KiB, 77);
  b.write(frame.subarray(0, 10 * KiB));
  await until('b to wait', () => h.pool.waitingCount > 0);
  await sleep(900); // 3x the idle timeout
  assert.equal(bClosed, false, 'still open while waiting for the pool');
  b.write(frame.subarray(10 * KiB));
  gate.open();
  await Promise.all(pendingA);
  await until('b answered', () => Buffer.concat(answers).length >= 8);
  assert.equal(Buffer.concat(answers).readInt32BE(4), 77);
  await until('the pool to drain', () => drained(h.pool));
});

test('response bytes stuck in a slow reader are counted and shrink the response budget', async (t) => {
  const records = Buffer.alloc(48 * MiB, 0x62);
  const h = await harness({ maxBytes: 64 * MiB, fetchRecords: records });
  t.after(() => h.close());
  const fetchBody = {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 30,
    isolationLevel: 0,
    topics: [],
  };
  const slow = new Socket();
  slow.on('error', () => {});
  await new Promise<void>((r) => slow.connect(h.port, '127.0.0.1', () => r()));
  t.after(() => slow.destroy());
  slow.pause(); // reads nothing
  const f = encodeRequestFrame(
    { requestApiKey: 1, requestApiVersion: 4, correlationId: 9, clientId: 'slow' },
    fetchBody,
  );
  const size = Buffer.alloc(4);
  size.writeInt32BE(f.length);
  slow.write(Buffer.concat([size, f]));
  await until('the response to be charged', () => h.pool.responseBytes > 0);
  assert.ok(h.pool.responseBytes >= 48 * MiB, `${h.pool.responseBytes}`);
  assert.equal(h.pool.used, 0, 'the request itself was released when answered');
  // Another fetch now sees a budget of what is left of the cap.
  const other = await RawClient.connect(h.bootstrap);
  t.after(() => other.close());
  await other.request(1, 4, fetchBody);
  assert.ok(h.budgets.at(-1)! <= 16 * MiB, `budget ${h.budgets.at(-1)}`);
  // The slow reader catches up: everything is released.
  let got = 0;
  slow.on('data', (d: Buffer) => {
    got += d.length;
  });
  slow.resume();
  await until('the slow reader to get its response', () => got >= 48 * MiB, 10_000);
  await until('the pool to drain', () => h.pool.responseBytes === 0);
});

test('bytes a handler reserves count until its response is sent, then the response counts', async (t) => {
  const gate = new Gate();
  const h = await harness({
    maxBytes: 8 * MiB,
    fetchReserve: 5 * MiB,
    fetchRecords: Buffer.alloc(1000),
    gate,
  });
  t.after(() => h.close());
  const c = await RawClient.connect(h.bootstrap);
  t.after(() => c.close());
  const body = { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 30, isolationLevel: 0, topics: [] };
  const pending = c.request(1, 4, body);
  await until('the reservation', () => h.pool.responseBytes === 5 * MiB);
  assert.equal(h.pool.responseBudget(), 3 * MiB, 'others see what is left');
  gate.open();
  await pending;
  await until('the pool to drain', () => drained(h.pool));
  assert.ok(h.pool.peakResponseBytes >= 5 * MiB);
});

test('a reservation is returned when the connection closes mid-request', async (t) => {
  const gate = new Gate();
  const h = await harness({ maxBytes: 8 * MiB, fetchReserve: 5 * MiB, gate });
  t.after(() => h.close());
  const c = await RawClient.connect(h.bootstrap);
  const body = { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 30, isolationLevel: 0, topics: [] };
  c.request(1, 4, body).catch(() => {});
  await until('the reservation', () => h.pool.responseBytes === 5 * MiB);
  c.close();
  await until('the pool to drain', () => drained(h.pool));
  gate.open(); // the handler ends after the close: nothing is returned twice
  await sleep(50);
  assert.ok(drained(h.pool), JSON.stringify(h.pool));
});
