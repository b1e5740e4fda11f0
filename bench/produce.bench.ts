/**
 * Produce throughput: 1 KiB records (incompressible, uncompressed) in 16 KiB
 * and 1 MiB batches, acks=1 and acks=-1, against an in-process broker with
 * memory storage and with file storage.
 *
 * Load generator: a child process (so it does not share the broker's event
 * loop) pipelining Produce v9 requests over 4 raw connections, one partition
 * each, with a fixed window of requests in flight per connection.
 *
 * Baseline, measured in the same run: a trivial sink server in this process
 * that frames the same requests with the broker's FrameDecoder and answers
 * each with a minimal pre-encoded Produce response. It is measured before,
 * between and after the broker runs of each batch size; the median is the
 * baseline. ratio = broker MB/s / sink MB/s (1.0: the produce path costs
 * nothing beyond reading the bytes off the socket).
 *
 * BENCH_PRODUCE_MS sets the measured time per run (default 2000 ms),
 * BENCH_PRODUCE_CONNECTIONS the number of connections (default 4).
 * For profiling one case: BENCH_PRODUCE_STORAGE=memory|file,
 * BENCH_PRODUCE_SIZES=16 (KiB, comma-separated), BENCH_PRODUCE_ACKS=1 (comma-separated).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FrameDecoder } from '../src/broker/server/framing.ts';
import { encodeRequestFrame, encodeResponseFrame } from '../src/protocol/frames.ts';
import { encodeRecordBatch } from '../src/protocol/records/record-batch.ts';
import { fmt } from './util.ts';

const RECORD = 1024;
const CONNECTIONS = Number(process.env.BENCH_PRODUCE_CONNECTIONS ?? 4);
const RUN_MS = Number(process.env.BENCH_PRODUCE_MS ?? 2000);
const WARMUP_MS = 300;
const VERSION = 9;
const SIZES = [
  { batchBytes: 16 * 1024, window: 32 },
  { batchBytes: 1024 * 1024, window: 4 },
].filter(
  (s) =>
    !process.env.BENCH_PRODUCE_SIZES ||
    process.env.BENCH_PRODUCE_SIZES.split(',')
      .map(Number)
      .includes(s.batchBytes / 1024),
);
const STORAGES = (['memory', 'file'] as const).filter(
  (s) => !process.env.BENCH_PRODUCE_STORAGE || process.env.BENCH_PRODUCE_STORAGE === s,
);
const ACKS = (process.env.BENCH_PRODUCE_ACKS ?? '1,-1').split(',').map(Number);

interface Job {
  port: number;
  topic: string;
  batchBytes: number;
  window: number;
  acks: number;
  ms: number;
}
interface Result {
  seconds: number;
  requests: number;
  bytes: number;
  records: number;
}

// ---------------------------------------------------------------- load generator (child)

function batchOf(records: number): Buffer {
  const value = randomBytes(RECORD);
  return encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    records: Array.from({ length: records }, (_, i) => ({ key: Buffer.from(`key-${i}`), value })),
  });
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const batches = new Map<number, Buffer>();

async function generate(job: Job): Promise<Result> {
  const records = job.batchBytes / RECORD;
  let batch = batches.get(job.batchBytes);
  if (!batch) batches.set(job.batchBytes, (batch = batchOf(records)));
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => connectTo(job.port)));
  let completed = 0;
  let stopping = false;
  const t0 = process.hrtime.bigint();
  const timer = setTimeout(() => {
    stopping = true;
  }, job.ms);
  await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise<void>((resolve, reject) => {
          const frame = encodeRequestFrame(
            { requestApiKey: 0, requestApiVersion: VERSION, correlationId: 0, clientId: 'bench' },
            {
              transactionalId: null,
              acks: job.acks,
              timeoutMs: 30000,
              topicData: [{ name: job.topic, partitionData: [{ index: i, records: batch }] }],
            },
          );
          const rest = frame.subarray(8); // after api key, version, correlation id
          let corr = 0;
          let inFlight = 0;
          let buf: Buffer = Buffer.alloc(0);
          const send = () => {
            const prefix = Buffer.allocUnsafe(12);
            prefix.writeInt32BE(frame.length, 0);
            frame.copy(prefix, 4, 0, 4);
            prefix.writeInt32BE(++corr, 8);
            s.cork();
            s.write(prefix);
            s.write(rest);
            s.uncork();
            inFlight++;
          };
          s.on('data', (chunk: Buffer) => {
            buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
            while (buf.length >= 4) {
              const size = buf.readInt32BE(0);
              if (buf.length < 4 + size) break;
              buf = buf.subarray(4 + size);
              inFlight--;
              completed++;
              if (!stopping) send();
            }
            if (stopping && inFlight === 0) resolve();
          });
          s.on('error', reject);
          for (let k = 0; k < job.window; k++) send();
        }),
    ),
  );
  clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const s of sockets) s.destroy();
  return { seconds, requests: completed, bytes: completed * batch.length, records: completed * records };
}

async function childMain(): Promise<void> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const job = JSON.parse(line) as Job;
    await generate({ ...job, ms: WARMUP_MS });
    process.stdout.write(`${JSON.stringify(await generate(job))}\n`);
  }
}

// ---------------------------------------------------------------- parent

class Generator {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  constructor() {
    this.child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--generate'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env },
    });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  async run(job: Omit<Job, 'ms'>): Promise<Result> {
    this.child.stdin!.write(`${JSON.stringify({ ...job, ms: RUN_MS })}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error('load generator exited');
    return JSON.parse(next.value) as Result;
  }
  stop(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}

/** Frames requests like the broker and answers each with a fixed minimal Produce response. */
async function startSink(): Promise<{ port: number; close: () => Promise<void> }> {
  const body = encodeResponseFrame(
    0,
    VERSION,
    { correlationId: 0 },
    {
      responses: [
        {
          name: 'bench',
          partitionResponses: [
            {
              index: 0,
              errorCode: 0,
              baseOffset: 0n,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
    },
  );
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    const decoder = new FrameDecoder(100 * 1024 * 1024);
    s.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        const res = Buffer.allocUnsafe(4 + body.length);
        res.writeInt32BE(body.length, 0);
        body.copy(res, 4);
        res.writeInt32BE(f.readInt32BE(4), 4); // correlation id
        s.write(res);
      }
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

type BenchBroker = Awaited<ReturnType<typeof startBenchBroker>>;

async function startBenchBroker(storage: 'memory' | 'file') {
  const { Broker } = await import('../src/broker/broker.ts');
  const { BrokerConfig } = await import('../src/common/config/broker-config.ts');
  const { loadBrokerConfig } = await import('../src/common/config/load.ts');
  const { MemoryMetadataStore } = await import('../src/metadata/embedded/file-store.ts');
  const { FileLogEngine } = await import('../src/storage/file/engine.ts');
  const { MemoryLogEngine } = await import('../src/storage/memory/engine.ts');
  const dir = await mkdtemp(join(tmpdir(), 'samsa-bench-'));
  const config = new BrokerConfig(
    loadBrokerConfig({
      dev: true,
      overrides: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
    }),
  );
  const broker = await Broker.start({
    config,
    createEngine: async () =>
      storage === 'memory' ? new MemoryLogEngine() : FileLogEngine.open({ dirs: [dir], background: true }),
    createMetadataStore: () => new MemoryMetadataStore(),
  });
  return {
    storage,
    broker,
    port: broker.boundListeners[0]!.boundPort,
    async stop() {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const line = (cells: string[]) =>
  console.log(cells.map((c, i) => (i === 0 ? c.padEnd(30) : c.padStart(10))).join(''));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (r: Result) => r.bytes / r.seconds;

export async function run(): Promise<void> {
  const gen = new Generator();
  const sink = await startSink();
  const brokers: BenchBroker[] = [];
  for (const storage of STORAGES) {
    try {
      brokers.push(await startBenchBroker(storage));
    } catch (e) {
      console.log(`${storage} storage: skipped (${(e as Error).message})`);
    }
  }
  let n = 0;
  try {
    line(['case', 'MB/s', 'records/s', 'req/s', 'ratio']);
    for (const size of SIZES) {
      const sinkRuns: Result[] = [];
      const rows: { name: string; r: Result }[] = [];
      const sinkRun = async () =>
        sinkRuns.push(await gen.run({ port: sink.port, topic: 'bench', acks: 1, ...size }));
      await sinkRun();
      for (const b of brokers) {
        for (const acks of ACKS) {
          const topic = `bench-${n++}`;
          await b.broker.topics.create({
            name: topic,
            numPartitions: CONNECTIONS,
            replicationFactor: 1,
            configs: {
              'max.message.bytes': String(4 * 1024 * 1024),
              'segment.bytes': String(256 * 1024 * 1024),
            },
          });
          const r = await gen.run({ port: b.port, topic, acks, ...size });
          let stored = 0;
          for (let p = 0; p < CONNECTIONS; p++) stored += b.broker.replicas.get(topic, p)!.log.logEndOffset;
          // every answered request appended its batch (warm-up included)
          if (stored < r.records)
            throw new Error(`${topic}: ${stored} records stored, ${r.records} acknowledged`);
          await b.broker.topics.delete(topic);
          rows.push({ name: `${b.storage}, ${size.batchBytes / 1024} KiB, acks=${acks}`, r });
        }
        await sinkRun();
      }
      const base = median(sinkRuns.map(rate));
      const s = sinkRuns.find((x) => rate(x) === base)!;
      line([
        `sink, ${size.batchBytes / 1024} KiB`,
        fmt(base / 1e6),
        fmt(s.records / s.seconds, 0),
        fmt(s.requests / s.seconds, 0),
        '1.00',
      ]);
      for (const { name, r } of rows) {
        line([
          name,
          fmt(rate(r) / 1e6),
          fmt(r.records / r.seconds, 0),
          fmt(r.requests / r.seconds, 0),
          fmt(rate(r) / base, 2),
        ]);
      }
    }
  } finally {
    gen.stop();
    await sink.close();
    for (const b of brokers) await b.stop();
  }
}

if (process.argv.includes('--generate')) await childMain();
else if (import.meta.url === `file://${process.argv[1]}`) await run();
