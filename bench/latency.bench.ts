/**
 * End-to-end latency at a fixed moderate rate: 1,000 records/s of 1 KiB, one
 * record per Produce v9 request (acks=1, pipelined: the producer does not wait
 * for acknowledgements), read by a consumer that long-polls with Fetch v12
 * (maxWaitMs 500, minBytes 1, one fetch in flight). Latency = the consumer's
 * receive time minus the producer's send time, carried in the record value.
 * Producer and consumer are two child processes (as they would be; the
 * monotonic clock is the same for all processes), the broker has the bench
 * process to itself.
 *
 * Baseline, same run, same rate: a trivial echo server in this process that
 * writes every byte it reads back to the sender (one child process sends and
 * receives); latency = echo received minus sent, for the same Produce frames.
 * Ratio = echo / Samsa (1.0: the broker adds nothing to a trip through a
 * server). LAT_ACKS=0 produces with acks=0.
 *
 * Storage: memory and file (page cache). BENCH_LATENCY_MS sets the measured
 * time per run (default 5000 ms, after 1000 ms of warm-up), BENCH_LATENCY_RATE
 * the records per second (default 1000).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { decodeResponseFrame, encodeRequestFrame } from '../src/protocol/frames.ts';
import { batchSizeAt } from '../src/protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../src/protocol/records/record-batch.ts';
import { fmt } from './util.ts';

const RECORD = 1024;
const RATE = Number(process.env.BENCH_LATENCY_RATE ?? 1000);
const RUN_MS = Number(process.env.BENCH_LATENCY_MS ?? 5000);
const WARMUP_MS = 1000;
const TOPIC = 'latency';

interface Job {
  mode: 'echo' | 'produce' | 'consume';
  port: number;
  /** Monotonic clock (ns, decimal): records sent from `from` until `to` are measured. */
  from: string;
  to: string;
}
interface Result {
  /** Latencies in microseconds, measured part only. */
  us: number[];
  sent: number;
}

// ---------------------------------------------------------------- client (child process)

const now = () => process.hrtime.bigint();

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Calls `onFrame` with each size-prefixed frame's body. */
function frames(s: Socket, onFrame: (f: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  s.on('data', (c: Buffer) => {
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const n = buf.readInt32BE(0);
      onFrame(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  });
}

const filler = randomBytes(RECORD);

/** A Produce v9 frame (size-prefixed) carrying one record whose value starts with the send time. */
function produceFrame(correlationId: number, sentNs: bigint): Buffer {
  const value = Buffer.from(filler);
  value.writeBigInt64BE(sentNs, 0);
  const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ key: null, value }] });
  const f = encodeRequestFrame(
    { requestApiKey: 0, requestApiVersion: 9, correlationId, clientId: 'latency-bench' },
    {
      transactionalId: null,
      acks: Number(process.env.LAT_ACKS ?? 1),
      timeoutMs: 30000,
      topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }],
    },
  );
  const head = Buffer.allocUnsafe(4);
  head.writeInt32BE(f.length, 0);
  return Buffer.concat([head, f]);
}

function fetchFrame(offset: number, correlationId: number): Buffer {
  const f = encodeRequestFrame(
    { requestApiKey: 1, requestApiVersion: 12, correlationId, clientId: 'latency-bench' },
    {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 50 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: TOPIC,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: BigInt(offset),
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1024 * 1024,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
  );
  const head = Buffer.allocUnsafe(4);
  head.writeInt32BE(f.length, 0);
  return Buffer.concat([head, f]);
}

/** Sends one record per 1/RATE s (catching up after late timer ticks) until `stop()`. */
function paced(send: () => void): { stop: () => void } {
  const start = now();
  const interval = 1e9 / RATE;
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(Number(now() - start) / interval);
    while (sent < due) {
      send();
      sent++;
    }
  }, 1);
  return { stop: () => clearInterval(timer) };
}

const sleepUntil = (t: bigint) => new Promise((r) => setTimeout(r, Math.max(0, Number(t - now()) / 1e6)));

async function measure(job: Job): Promise<Result> {
  const from = BigInt(job.from);
  const to = BigInt(job.to);
  const us: number[] = [];
  let sent = 0;
  const record = (sentNs: bigint) => {
    if (sentNs >= from && sentNs < to) us.push(Number(now() - sentNs) / 1000);
  };
  const sock = await connectTo(job.port);
  let corr = 0;
  if (job.mode === 'consume') {
    let offset = 0;
    frames(sock, (f) => {
      const res = decodeResponseFrame(1, 12, f).body;
      const p = res.responses[0]?.partitions[0];
      if (p && p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode}`);
      const recs: Buffer | null = p?.records ?? null;
      for (let pos = 0; recs && pos + 61 <= recs.length; ) {
        const size = batchSizeAt(recs, pos);
        const b = decodeRecordBatch(recs, { offset: pos });
        for (const r of b.records) record(r.value!.readBigInt64BE(0));
        offset = Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1;
        pos += size;
      }
      if (!sock.destroyed) sock.write(fetchFrame(offset, ++corr));
    });
    sock.write(fetchFrame(0, ++corr));
    // until the last records have arrived
    await sleepUntil(to + 300_000_000n);
    sock.destroy();
    return { us, sent };
  }
  if (job.mode === 'echo') {
    // the echoed Produce frame: its record value holds the send time
    frames(sock, (f) => {
      const at = f.indexOf(filler.subarray(8, 24));
      record(f.readBigInt64BE(at - 8));
    });
  } else {
    frames(sock, () => {}); // acks, not waited for
  }
  const pacer = paced(() => {
    const t = now();
    if (t >= from && t < to) sent++;
    sock.write(produceFrame(++corr, t));
  });
  await sleepUntil(to);
  pacer.stop();
  if (job.mode === 'echo') await sleepUntil(to + 300_000_000n);
  sock.destroy();
  return { us, sent };
}

async function childMain(): Promise<void> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    process.stdout.write(`${JSON.stringify(await measure(JSON.parse(line) as Job))}\n`);
  }
}

/** Warm-up and measured window, from now (the same monotonic clock in every process). */
function window(): { from: string; to: string } {
  const from = now() + BigInt(WARMUP_MS + 300) * 1_000_000n;
  return { from: String(from), to: String(from + BigInt(RUN_MS) * 1_000_000n) };
}

// ---------------------------------------------------------------- parent

class Client {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  constructor() {
    this.child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--latency-client'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  async run(job: Job): Promise<Result> {
    this.child.stdin!.write(`${JSON.stringify(job)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error('latency client exited');
    return JSON.parse(next.value) as Result;
  }
  stop(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}

async function startEcho(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (s) => {
    sockets.add(s);
    s.on('data', (c: Buffer) => s.write(c));
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

async function startBenchBroker(storage: 'memory' | 'file') {
  const { Broker } = await import('../src/broker/broker.ts');
  const { BrokerConfig } = await import('../src/common/config/broker-config.ts');
  const { loadBrokerConfig } = await import('../src/common/config/load.ts');
  const { MemoryMetadataStore } = await import('../src/metadata/embedded/file-store.ts');
  const { FileLogEngine } = await import('../src/storage/file/engine.ts');
  const { MemoryLogEngine } = await import('../src/storage/memory/engine.ts');
  const dir = await mkdtemp(join(tmpdir(), 'samsa-latency-bench-'));
  const broker = await Broker.start({
    config: new BrokerConfig(
      loadBrokerConfig({ dev: true, overrides: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir } }),
    ),
    createEngine: async () =>
      storage === 'memory' ? new MemoryLogEngine() : FileLogEngine.open({ dirs: [dir], background: true }),
    createMetadataStore: () => new MemoryMetadataStore(),
  });
  await broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1 });
  return {
    port: broker.boundListeners[0]!.boundPort,
    async stop() {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
}

export async function run(): Promise<void> {
  const client = new Client();
  const client2 = new Client();
  const echo = await startEcho();
  console.log(
    `${RATE} records/s of ${RECORD} B, one record per Produce (acks=1), consumer long-polling (Fetch v12, maxWaitMs 500); ${RUN_MS} ms measured per run`,
  );
  const row = (name: string, r: Result, base?: Result) => {
    const p50 = pct(r.us, 0.5);
    const p99 = pct(r.us, 0.99);
    const ratio = base
      ? `  ratio p50 ${fmt(pct(base.us, 0.5) / p50, 2)}, p99 ${fmt(pct(base.us, 0.99) / p99, 2)}`
      : '';
    console.log(
      `${name.padEnd(24)} p50 ${fmt(p50 / 1000, 3).padStart(7)} ms  p99 ${fmt(p99 / 1000, 3).padStart(7)} ms  max ${fmt(Math.max(...r.us) / 1000, 1).padStart(6)} ms  (${r.us.length}/${r.sent} records)${ratio}`,
    );
    if (r.us.length < r.sent)
      console.log(`  (${r.sent - r.us.length} records sent in the measured time not received)`);
  };
  try {
    for (const storage of ['memory', 'file'] as const) {
      const b = await startBenchBroker(storage);
      try {
        const before = await client.run({ mode: 'echo', port: echo.port, ...window() });
        const w = window();
        const [consumed, produced] = await Promise.all([
          client.run({ mode: 'consume', port: b.port, ...w }),
          client2.run({ mode: 'produce', port: b.port, ...w }),
        ]);
        const samsa = { us: consumed.us, sent: produced.sent };
        const after = await client.run({ mode: 'echo', port: echo.port, ...window() });
        // the echo run with the lower p50 is the baseline (least disturbed by other load)
        const base = pct(before.us, 0.5) <= pct(after.us, 0.5) ? before : after;
        row('echo server', base);
        row(`samsa, ${storage} storage`, samsa, base);
      } finally {
        await b.stop();
      }
    }
  } finally {
    client.stop();
    client2.stop();
    await echo.close();
  }
}

if (process.argv.includes('--latency-client')) await childMain();
else if (import.meta.url === `file://${process.argv[1]}`) await run();
