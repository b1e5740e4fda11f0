/**
 * Bad input at the socket (RELIABILITY.md PROTO-FrameLimits, PROTO-Fuzz), in
 * process: hostile size prefixes close the connection within a second, a huge
 * declared frame fed a trickle allocates nothing near its size, and a seeded
 * fuzz run over every registered handler (mutated valid requests and random
 * bytes) leaves the broker up, its responses well-formed, no handler throwing,
 * and a kafkajs canary working throughout.
 *
 * SAMSA_FUZZ_CASES (default 3000) and SAMSA_FUZZ_SEED change the run; a failing
 * case prints its seed and index so it can be replayed.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ALL_HANDLERS } from '../../src/broker/handlers/all.ts';
import type { Logger } from '../../src/common/logger.ts';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/protocol/index.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { createTopicDirect } from '../compat/helpers/broker.ts';
import { type Kafka, kafkajs } from '../compat/helpers/kafkajs.ts';
import { type Mutation, mutate, Rng, validRequest } from './fuzz-gen.ts';

const MiB = 1024 * 1024;
const FUZZ_CASES = Number(process.env.SAMSA_FUZZ_CASES ?? 3000);
const FUZZ_SEED = Number(process.env.SAMSA_FUZZ_SEED ?? 0x5a45a);

/** A raw client socket that collects response frames and notices the close. */
class RawConn {
  readonly sock = new Socket();
  closedAt = 0;
  readonly closed: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly frames: Buffer[] = [];

  constructor() {
    this.closed = new Promise((resolve) => {
      this.sock.on('close', () => {
        this.closedAt = Date.now();
        resolve();
        this.wake();
      });
    });
    this.sock.on('error', () => {});
    this.sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const n = this.buf.readInt32BE(0);
        this.frames.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake();
    });
  }

  static async open(port: number): Promise<RawConn> {
    const c = new RawConn();
    await new Promise<void>((resolve, reject) => {
      c.sock.once('error', reject);
      c.sock.connect(port, '127.0.0.1', () => resolve());
    });
    c.sock.setNoDelay(true);
    return c;
  }

  get isClosed(): boolean {
    return this.closedAt !== 0;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(b: Buffer): void {
    if (!this.isClosed) this.sock.write(b);
  }

  sendFrame(frame: Buffer): void {
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(frame.length);
    this.write(Buffer.concat([size, frame]));
  }

  /** The next response frame, or 'closed', or 'timeout'. */
  async next(timeoutMs: number): Promise<Buffer | 'closed' | 'timeout'> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.isClosed) return 'closed';
      const left = end - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Milliseconds until the broker closed the connection, or -1 after timeoutMs. */
  async closedWithin(timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    const r = await Promise.race([this.closed.then(() => true), sleep(timeoutMs).then(() => false)]);
    return r ? Date.now() - t0 : -1;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n | 0);
  return b;
}

function apiVersionsFrame(correlationId: number): Buffer {
  return encodeRequestFrame(
    { requestApiKey: 18, requestApiVersion: 3, correlationId, clientId: 'raw' },
    {
      clientSoftwareName: 'raw',
      clientSoftwareVersion: '1',
    },
  );
}

/** A fresh connection gets an ApiVersions answer. */
async function brokerAnswers(port: number): Promise<boolean> {
  const c = await RawConn.open(port);
  try {
    c.sendFrame(apiVersionsFrame(4242));
    const r = await c.next(2000);
    return Buffer.isBuffer(r) && r.readInt32BE(0) === 4242;
  } finally {
    c.destroy();
  }
}

/** kafkajs doing Metadata and Produce every 50 ms; counts errors. */
function startCanary(kafka: Kafka, topic: string) {
  const state = { ok: 0, errors: [] as string[], latencies: [] as number[], stop: false };
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const done = (async () => {
    await admin.connect();
    await producer.connect();
    for (let i = 0; !state.stop; i++) {
      const t0 = performance.now();
      try {
        await admin.fetchTopicMetadata({ topics: [topic] });
        await producer.send({ topic, acks: -1, messages: [{ value: `canary-${i}` }] });
        state.ok++;
        state.latencies.push(performance.now() - t0);
      } catch (e) {
        state.errors.push(String(e));
      }
      await sleep(50);
    }
    await admin.disconnect();
    await producer.disconnect();
  })();
  return {
    state,
    async stop() {
      state.stop = true;
      await done;
      return state;
    },
  };
}

function p99(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

describe('frame limits (PROTO-FrameLimits)', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(() => b?.stop());

  for (const [name, prefix] of [
    ['2^31-1', 0x7fffffff],
    ['-1', -1],
    ['0', 0],
    ['socket.request.max.bytes + 1', 104857601],
    ['-2^31', -0x80000000],
  ] as const) {
    test(`size prefix ${name} closes the connection within 1 s`, async () => {
      const c = await RawConn.open(b.port);
      try {
        c.write(int32(prefix));
        const ms = await c.closedWithin(1000);
        assert.ok(ms >= 0, 'connection closed within 1 s');
        assert.equal(c.frames.length, 0, 'no response to a bad frame');
      } finally {
        c.destroy();
      }
      assert.ok(await brokerAnswers(b.port));
    });
  }

  test('a size prefix split over several writes is still checked before reading on', async () => {
    const c = await RawConn.open(b.port);
    try {
      for (const byte of int32(0x7fffffff)) {
        c.write(Buffer.from([byte]));
        await sleep(20);
      }
      assert.ok((await c.closedWithin(1000)) >= 0);
    } finally {
      c.destroy();
    }
  });

  test('20 connections declaring 100 MiB frames and trickling bytes hold only what they sent', async () => {
    global.gc?.();
    const before = process.memoryUsage();
    const conns = await Promise.all(Array.from({ length: 20 }, () => RawConn.open(b.port)));
    try {
      for (const c of conns) c.write(Buffer.concat([int32(100 * MiB), apiVersionsFrame(1).subarray(0, 8)]));
      // A slow trickle: 16 KiB per connection over ~1 s.
      for (let i = 0; i < 16; i++) {
        for (const c of conns) c.write(Buffer.alloc(1024, 0x41));
        await sleep(60);
      }
      const during = process.memoryUsage();
      const grewAB = (during.arrayBuffers - before.arrayBuffers) / MiB;
      const grewRss = (during.rss - before.rss) / MiB;
      assert.ok(grewAB < 10, `Buffer memory grew ${grewAB.toFixed(1)} MiB for 20 x 100 MiB declared frames`);
      assert.ok(grewRss < 64, `RSS grew ${grewRss.toFixed(1)} MiB`);
      assert.ok(
        conns.every((c) => !c.isClosed),
        'frames within socket.request.max.bytes wait for their bytes',
      );
      assert.ok(await brokerAnswers(b.port), 'broker answers others meanwhile');
    } finally {
      for (const c of conns) c.destroy();
    }
  });

  test('a stalled partial frame is closed at the idle timeout', async (t) => {
    const idle = await startBroker({ config: { 'connections.max.idle.ms': 800 } });
    t.after(() => idle.stop());
    const c = await RawConn.open(idle.port);
    try {
      c.write(Buffer.concat([int32(100 * MiB), Buffer.alloc(100)]));
      const ms = await c.closedWithin(3000);
      assert.ok(ms >= 0 && ms < 2500, `closed after ${ms} ms (idle timeout 800 ms)`);
    } finally {
      c.destroy();
    }
  });

  test('a frame trickled one byte at a time (slowloris) is closed at the idle timeout, not kept alive', async (t) => {
    const idle = await startBroker({ config: { 'connections.max.idle.ms': 800 } });
    t.after(() => idle.stop());
    const c = await RawConn.open(idle.port);
    const trickle = setInterval(() => c.write(Buffer.alloc(1)), 100);
    try {
      c.write(int32(100 * MiB));
      const ms = await c.closedWithin(4000);
      assert.ok(
        ms >= 0 && ms < 2500,
        `closed after ${ms} ms despite a byte every 100 ms (idle timeout 800 ms)`,
      );
    } finally {
      clearInterval(trickle);
      c.destroy();
    }
  });

  test('back-to-back frames that always leave a partial one pending are not closed', async (t) => {
    const idle = await startBroker({ config: { 'connections.max.idle.ms': 600 } });
    t.after(() => idle.stop());
    const c = await RawConn.open(idle.port);
    try {
      // Each write completes the previous frame and starts the next, so a partial frame is always pending.
      const frames = Array.from({ length: 15 }, (_, i) => {
        const f = apiVersionsFrame(i);
        const b = Buffer.alloc(4 + f.length);
        b.writeInt32BE(f.length, 0);
        f.copy(b, 4);
        return b;
      });
      const stream = Buffer.concat(frames);
      const step = Math.ceil(stream.length / 15);
      for (let i = 0; i < stream.length; i += step) {
        c.write(stream.subarray(i, i + step));
        await sleep(100);
      }
      assert.equal(await c.closedWithin(200), -1, 'still open after 1.5 s of steady progress');
    } finally {
      c.destroy();
    }
  });

  test('with a lowered socket.request.max.bytes a larger request is refused, smaller ones served', async (t) => {
    const small = await startBroker({ config: { 'socket.request.max.bytes': 65536 } });
    t.after(() => small.stop());
    const ok = await RawConn.open(small.port);
    ok.sendFrame(apiVersionsFrame(7));
    const r = await ok.next(2000);
    assert.ok(Buffer.isBuffer(r) && r.readInt32BE(0) === 7, 'small request answered');
    ok.destroy();
    const c = await RawConn.open(small.port);
    try {
      c.write(int32(65537));
      assert.ok((await c.closedWithin(1000)) >= 0, 'refused from the size prefix alone');
    } finally {
      c.destroy();
    }
  });
});

interface LogLine {
  msg?: string;
  api?: string;
  apiVersion?: number;
  err?: { type?: string; message?: string; stack?: string };
}

/** Error-level broker log lines, parsed. */
function captureErrors(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'error' },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  ) as unknown as Logger;
  return { logger, lines };
}

/**
 * Handler throws other than KafkaProtocolError (a handler's documented way to
 * close the connection, e.g. for acks=0 produce errors as Kafka does), as
 * distinct "type: message @ stack" strings.
 */
function handlerBugs(lines: LogLine[]): string[] {
  const thrown = lines.filter(
    (j) => j.msg?.includes('unexpected error handling request') && j.err?.type !== 'KafkaProtocolError',
  );
  return [
    ...new Set(
      thrown.map(
        (j) =>
          `${j.err?.type}: ${j.err?.message} @ ${(j.err?.stack ?? '')
            .split('\n')
            .slice(1, 5)
            .map((x) => x.trim())
            .join(' < ')}`,
      ),
    ),
  ];
}

describe('connection floods (PROTO-ConnFlood, without SASL)', () => {
  test('max.connections is enforced: extra connections are refused, freed slots are reused', async (t) => {
    const b = await startBroker({ config: { 'max.connections': 20 } });
    t.after(() => b.stop());
    const conns = await Promise.all(Array.from({ length: 30 }, () => RawConn.open(b.port).catch(() => null)));
    t.after(() => {
      for (const c of conns) c?.destroy();
    });
    await sleep(300);
    const open = conns.filter((c) => c && !c.isClosed);
    assert.equal(open.length, 20, 'exactly max.connections stay open');
    for (const c of open.slice(0, 5)) c!.destroy();
    await sleep(200);
    const fresh = await RawConn.open(b.port);
    t.after(() => fresh.destroy());
    fresh.sendFrame(apiVersionsFrame(5));
    const r = await fresh.next(2000);
    assert.ok(Buffer.isBuffer(r), 'a freed slot serves a new client');
  });

  test('2,000 idle connections: memory bounded, a canary keeps working', async (t) => {
    const b = await startBroker();
    t.after(() => b.stop());
    await createTopicDirect(b, 'flood-canary', 1);
    const canary = startCanary(kafkajs(b.bootstrapServers), 'flood-canary');
    t.after(() => canary.stop());
    await sleep(300);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const conns: RawConn[] = [];
    t.after(() => {
      for (const c of conns) c.destroy();
    });
    for (let i = 0; i < 2000; i += 100) {
      conns.push(...(await Promise.all(Array.from({ length: 100 }, () => RawConn.open(b.port)))));
    }
    // Half of them start a frame and stall.
    for (const c of conns.slice(0, 1000)) c.write(Buffer.concat([int32(1000), Buffer.alloc(10)]));
    await sleep(500);
    global.gc?.();
    const grew = (process.memoryUsage().rss - before) / MiB;
    const c = await canary.stop();
    t.diagnostic(
      `RSS +${grew.toFixed(1)} MiB for 2,000 connections (both ends in this process); canary ${c.ok} ok, p99 ${p99(c.latencies).toFixed(1)} ms`,
    );
    assert.ok(
      conns.every((x) => !x.isClosed),
      'idle connections stay until the idle timeout',
    );
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MiB`);
    assert.deepEqual(c.errors, []);
    assert.ok(c.ok > 0);
    assert.ok(await brokerAnswers(b.port));
  });
});

describe('seeded fuzz over every registered handler (PROTO-Fuzz)', () => {
  const run = {
    outcomes: { response: 0, closed: 0, timeout: 0, unencodable: 0 } as Record<string, number>,
    byMutation: new Map<Mutation | 'random', number>(),
    badResponses: [] as string[],
    bugs: [] as string[],
    canary: { ok: 0, errors: [] as string[], latencies: [] as number[] },
    answersAfter: false,
    rssGrowth: 0,
    retainedGrowth: -1,
    elapsed: 0,
    topics: 0,
  };
  let b: TestBroker;

  before(async () => {
    const cap = captureErrors();
    b = await startBroker({ logger: cap.logger });
    const canaryTopic = 'fuzz-canary';
    await createTopicDirect(b, canaryTopic, 1);
    const canary = startCanary(kafkajs(b.bootstrapServers), canaryTopic);
    try {
      await sleep(200);
      global.gc?.();
      const memBefore = process.memoryUsage();
      const handlers = [...ALL_HANDLERS].sort((x, y) => x.apiKey - y.apiKey);
      let nextCase = 0;
      const t0 = Date.now();

      const worker = async (): Promise<void> => {
        let conn: RawConn | null = null;
        try {
          for (;;) {
            const i = nextCase++;
            if (i >= FUZZ_CASES) return;
            const rng = new Rng((FUZZ_SEED * 2654435761 + i * 40503) >>> 0);
            const h = handlers[i % handlers.length]!;
            const version = rng.int(h.minVersion, h.maxVersion);
            const correlationId = (i + 1) & 0x7fffffff;
            let frame: Buffer;
            let kind: Mutation | 'random';
            if (rng.chance(0.08)) {
              kind = 'random';
              frame = rng.bytes(rng.int(0, 120));
              if (rng.chance(0.5) && frame.length >= 8) {
                frame.writeInt16BE(h.apiKey, 0);
                frame.writeInt16BE(version, 2);
                frame.writeInt32BE(correlationId, 4);
              }
            } else {
              const valid = validRequest(rng, h.apiKey, version, correlationId);
              if (!valid) {
                run.outcomes.unencodable!++;
                continue;
              }
              ({ frame, kind } = mutate(rng, valid, h.maxVersion));
            }
            run.byMutation.set(kind, (run.byMutation.get(kind) ?? 0) + 1);
            if (!conn || conn.isClosed) {
              conn?.destroy();
              conn = await RawConn.open(b.port);
            }
            // An empty frame is a size prefix of 0: the broker must close.
            if (frame.length === 0) conn.write(int32(0));
            else conn.sendFrame(frame);
            const r = await conn.next(250);
            if (r === 'closed' || r === 'timeout') {
              run.outcomes[r]!++;
              conn.destroy();
              conn = null;
              continue;
            }
            run.outcomes.response!++;
            const intactHeader = kind !== 'random' && kind !== 'bad-version' && frame.length >= 8;
            if (!intactHeader) continue;
            const where = `seed ${FUZZ_SEED} case ${i}: api ${h.apiKey} v${version} (${kind})`;
            if (r.readInt32BE(0) !== correlationId) {
              run.badResponses.push(`${where}: correlation id ${r.readInt32BE(0)}`);
              continue;
            }
            try {
              decodeResponseFrame(h.apiKey, version, r);
            } catch (e) {
              run.badResponses.push(`${where}: undecodable response: ${e}`);
            }
          }
        } finally {
          conn?.destroy();
        }
      };

      await Promise.all(Array.from({ length: 8 }, () => worker()));
      run.elapsed = Date.now() - t0;
      global.gc?.();
      const memAfter = process.memoryUsage();
      run.rssGrowth = (memAfter.rss - memBefore.rss) / MiB;
      if (global.gc) {
        run.retainedGrowth =
          (memAfter.heapUsed + memAfter.arrayBuffers - memBefore.heapUsed - memBefore.arrayBuffers) / MiB;
      }
      run.topics = b.broker.topics.list().length;
      run.answersAfter = await brokerAnswers(b.port);
    } finally {
      Object.assign(run.canary, await canary.stop());
      run.bugs = handlerBugs(cap.lines);
    }
  });
  after(() => b?.stop());

  test(`${FUZZ_CASES} cases (seed ${FUZZ_SEED}): the broker stays up and answers`, (t) => {
    t.diagnostic(
      `${FUZZ_CASES} cases over ${ALL_HANDLERS.length} APIs in ${run.elapsed} ms: ${JSON.stringify(run.outcomes)}; mutations ${JSON.stringify(Object.fromEntries(run.byMutation))}`,
    );
    assert.ok(run.answersAfter, 'a fresh connection gets ApiVersions answered');
    assert.ok(run.outcomes.response! > 0 && run.outcomes.closed! > 0, 'both answers and closes happened');
  });

  test('the canary client saw no errors', (t) => {
    const c = run.canary;
    t.diagnostic(`canary ${c.ok} ok, ${c.errors.length} errors, p99 ${p99(c.latencies).toFixed(1)} ms`);
    assert.deepEqual(c.errors, []);
    assert.ok(c.ok > 0, 'canary made progress');
  });

  test("every response decodes and carries its request's correlation id", () => {
    assert.deepEqual(run.badResponses.slice(0, 20), []);
  });

  test('no handler threw (errors belong in the response; a throw is a bug)', () => {
    assert.deepEqual(run.bugs.slice(0, 10), []);
  });

  test('memory stays bounded', (t) => {
    t.diagnostic(
      `RSS growth ${run.rssGrowth.toFixed(1)} MiB; retained heap+buffers ${run.retainedGrowth < 0 ? 'n/a (run with --expose-gc)' : `${run.retainedGrowth.toFixed(1)} MiB`}; ${run.topics} topics (fuzzed Metadata/CreateTopics create some)`,
    );
    assert.ok(run.rssGrowth < 256, `RSS grew ${run.rssGrowth.toFixed(1)} MiB`);
    if (run.retainedGrowth >= 0)
      assert.ok(run.retainedGrowth < 64, `retained ${run.retainedGrowth.toFixed(1)} MiB`);
  });
});

describe('regressions found by the fuzz run', () => {
  test('Metadata v10/v11 naming a topic only by id is refused without a handler throw', async (t) => {
    const cap = captureErrors();
    const b = await startBroker({ logger: cap.logger });
    t.after(() => b.stop());
    for (const version of [10, 11]) {
      const c = await RawConn.open(b.port);
      try {
        c.sendFrame(
          encodeRequestFrame(
            { requestApiKey: 3, requestApiVersion: version, correlationId: 99, clientId: 'fuzz-regression' },
            {
              topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', name: null }],
              allowAutoTopicCreation: false,
              includeTopicAuthorizedOperations: false,
            },
          ),
        );
        const r = await c.next(2000);
        assert.ok(Buffer.isBuffer(r), `v${version}: answered, not closed`);
        const res = decodeResponseFrame(3, version, r);
        assert.equal(res.body.topics[0].errorCode, ErrorCode.INVALID_REQUEST, `v${version}: INVALID_REQUEST`);
      } finally {
        c.destroy();
      }
    }
    // Kafka rejects topic ids below v12 (INVALID_REQUEST); the encoder must never see a null v10/v11 name.
    assert.deepEqual(handlerBugs(cap.lines), []);
  });
});
