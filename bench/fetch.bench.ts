/**
 * Fetch throughput for a catching-up consumer: 64 MiB preloaded in 16 KiB
 * batches (16 records of 1 KiB), read back with Fetch v12 requests asking
 * 1 MiB per partition, one request in flight (as a consumer has per broker),
 * over a raw connection. The client runs in a worker thread, so the broker
 * has the main thread to itself (as a separate consumer process would leave
 * it); it parses the response, walks the batch headers to find its next
 * offsets and counts record bytes.
 *
 * Baseline, same run, same client: a trivial TCP server in this process that
 * answers each request frame with the same number of bytes from the same
 * preloaded batch buffers (size prefix + 1 MiB per partition, corked writes
 * of Buffers it already holds); the client walks their batch headers as it
 * does for Samsa's. Ratio = Samsa MB/s / baseline MB/s.
 *
 * Storage: the memory engine (startBroker) and the file engine (page cache;
 * a broker wired to FileLogEngine directly). FETCH_BENCH_INLINE=1 runs the
 * client on the main thread instead (broker and client then share one core).
 * For profiling one case: BENCH_FETCH_STORAGE=memory|file,
 * BENCH_FETCH_PARTITIONS=1|4, BENCH_FETCH_ROUNDS (default 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Broker } from '../src/broker/broker.ts';
import { BrokerConfig } from '../src/common/config/broker-config.ts';
import { DEV_PRESET, loadBrokerConfig } from '../src/common/config/load.ts';
import { MemoryMetadataStore } from '../src/metadata/embedded/file-store.ts';
import { decodeResponseFrame, encodeRequestFrame } from '../src/protocol/frames.ts';
import { batchSizeAt } from '../src/protocol/records/batch-header.ts';
import { encodeRecordBatch } from '../src/protocol/records/record-batch.ts';
import type { LogEngine } from '../src/storage/engine.ts';
import { FileLogEngine } from '../src/storage/file/engine.ts';
import { MemoryLogEngine } from '../src/storage/memory/engine.ts';
import { fmt } from './util.ts';

const TOTAL = 64 * 1024 * 1024;
const RECORD = 1024;
const PER_BATCH = 16;
const PART_MAX = 1024 * 1024;
const TOPIC = 'fetch-bench';

interface ClientJob {
  role: 'fetch-bench-client';
  mode: 'samsa' | 'baseline';
  port: number;
  partitions: number;
  /** Log end offset per partition (samsa), or total payload bytes (baseline). */
  ends: number[];
  totalBytes: number;
}

interface ClientResult {
  bytes: number;
  seconds: number;
  requests: number;
}

// ---------------------------------------------------------------- client (worker)

function fetchRequest(offsets: number[], correlationId: number): Buffer {
  const frame = encodeRequestFrame(
    { requestApiKey: 1, requestApiVersion: 12, correlationId, clientId: 'fetch-bench' },
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
          partitions: offsets.map((o, partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(o),
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: PART_MAX,
          })),
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
  );
  const out = Buffer.allocUnsafe(4 + frame.length);
  out.writeInt32BE(frame.length, 0);
  frame.copy(out, 4);
  return out;
}

/** Reads size-prefixed frames from a socket, one at a time. */
class FrameReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private want = -1;
  private waiter: ((f: Buffer) => void) | null = null;
  constructor(s: Socket) {
    s.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.have += c.length;
      this.pump();
    });
  }
  private pump(): void {
    for (;;) {
      if (this.want < 0) {
        if (this.have < 4) return;
        const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
        this.chunks = [head];
        this.want = head.readInt32BE(0);
      }
      if (this.have < 4 + this.want || this.waiter === null) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
      const frame = all.subarray(4, 4 + this.want);
      const rest = all.subarray(4 + this.want);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.have = rest.length;
      this.want = -1;
      const w = this.waiter;
      this.waiter = null;
      w(frame);
    }
  }
  next(): Promise<Buffer> {
    return new Promise((r) => {
      this.waiter = r;
      this.pump();
    });
  }
}

async function clientMain(job: ClientJob): Promise<ClientResult> {
  const s = netConnect({ host: '127.0.0.1', port: job.port, noDelay: true });
  await new Promise<void>((r, j) => {
    s.once('connect', r);
    s.once('error', j);
  });
  const reader = new FrameReader(s);
  const offsets = new Array<number>(job.partitions).fill(0);
  let bytes = 0;
  let requests = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    if (job.mode === 'samsa' ? offsets.every((o, i) => o >= job.ends[i]!) : bytes >= job.totalBytes) break;
    s.write(fetchRequest(offsets, ++requests));
    const frame = await reader.next();
    if (job.mode === 'baseline') {
      // the same per-batch work as for a Samsa response: walk the batch headers
      let pos = 0;
      let last = 0;
      while (pos + 61 <= frame.length) {
        const size = batchSizeAt(frame, pos);
        if (pos + size > frame.length) break;
        last = Number(frame.readBigInt64BE(pos)) + frame.readInt32BE(pos + 23);
        pos += size;
      }
      if (last < 0) throw new Error('unreachable');
      bytes += frame.length;
      continue;
    }
    const res = decodeResponseFrame(1, 12, frame).body;
    if (res.errorCode !== 0) throw new Error(`fetch error ${res.errorCode}`);
    for (const t of res.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new Error(`partition ${p.partitionIndex} error ${p.errorCode}`);
        const recs: Buffer | null = p.records;
        if (!recs) continue;
        let pos = 0;
        while (pos + 61 <= recs.length) {
          const size = batchSizeAt(recs, pos);
          if (pos + size > recs.length) break;
          const last = Number(recs.readBigInt64BE(pos)) + recs.readInt32BE(pos + 23);
          offsets[p.partitionIndex] = last + 1;
          pos += size;
        }
        bytes += pos;
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  s.destroy();
  return { bytes, seconds, requests };
}

if (!isMainThread && (workerData as ClientJob | undefined)?.role === 'fetch-bench-client') {
  clientMain(workerData as ClientJob).then(
    (r) => parentPort!.postMessage(r),
    (e) => parentPort!.postMessage({ error: String(e?.stack ?? e) }),
  );
}

function runClient(job: Omit<ClientJob, 'role'>): Promise<ClientResult> {
  if (process.env.FETCH_BENCH_INLINE) return clientMain({ ...job, role: 'fetch-bench-client' });
  return new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), {
      workerData: { ...job, role: 'fetch-bench-client' },
    });
    w.once('message', (m: ClientResult & { error?: string }) => {
      void w.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

// ---------------------------------------------------------------- servers

function makeBatches(count: number): Buffer[] {
  const value = Buffer.alloc(RECORD - 16, 0x61);
  const out: Buffer[] = [];
  const now = BigInt(Date.now());
  for (let i = 0; i < count; i++) {
    out.push(
      encodeRecordBatch({
        baseTimestamp: now,
        records: Array.from({ length: PER_BATCH }, (_, j) => ({ key: Buffer.from(`key-${i}-${j}`), value })),
      }),
    );
  }
  return out;
}

/** The trivial server: per request frame, 1 MiB per partition of the same batch bytes. */
async function startBaseline(batches: Buffer[], partitions: number): Promise<Server> {
  let next = 0;
  const server = createServer({ noDelay: true }, (sock) => {
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        buf = buf.subarray(4 + buf.readInt32BE(0));
        const out: Buffer[] = [];
        let size = 0;
        for (let p = 0; p < partitions; p++) {
          let part = 0;
          while (part + batches[next % batches.length]!.length <= PART_MAX) {
            const b = batches[next++ % batches.length]!;
            out.push(b);
            part += b.length;
          }
          size += part;
        }
        const head = Buffer.allocUnsafe(4);
        head.writeInt32BE(size, 0);
        sock.cork();
        sock.write(head);
        for (const b of out) sock.write(b);
        sock.uncork();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

async function startSamsa(engine: LogEngine): Promise<Broker> {
  return Broker.start({
    config: new BrokerConfig(
      loadBrokerConfig({ dev: true, overrides: { ...DEV_PRESET, listeners: 'PLAINTEXT://127.0.0.1:0' } }),
    ),
    createEngine: async () => engine,
    createMetadataStore: () => new MemoryMetadataStore(),
    ownsStorage: false,
  });
}

async function preload(broker: Broker, batches: Buffer[], partitions: number): Promise<number[]> {
  await broker.topics.create({ name: TOPIC, numPartitions: partitions, replicationFactor: 1 });
  const ends: number[] = [];
  const per = batches.length / partitions;
  for (let p = 0; p < partitions; p++) {
    const part = broker.replicas.get(TOPIC, p)!;
    for (let i = 0; i < per; i++)
      await part.log.append(batches[p * per + i]!, { leaderEpoch: part.leaderEpoch });
    part.log.highWatermark = part.log.logEndOffset;
    ends.push(part.log.logEndOffset);
  }
  return ends;
}

const rate = (r: ClientResult) => r.bytes / r.seconds / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Rounds per figure; the median is reported (this machine is shared and noisy). */
const ROUNDS = Number(process.env.BENCH_FETCH_ROUNDS ?? 3);
const STORAGES = (['memory', 'file'] as const).filter(
  (s) => !process.env.BENCH_FETCH_STORAGE || process.env.BENCH_FETCH_STORAGE === s,
);
const PARTITIONS = [1, 4].filter(
  (n) => !process.env.BENCH_FETCH_PARTITIONS || Number(process.env.BENCH_FETCH_PARTITIONS) === n,
);

export async function run(): Promise<void> {
  const batches = makeBatches(Math.floor(TOTAL / (PER_BATCH * RECORD)));
  const totalBytes = batches.reduce((n, b) => n + b.length, 0);
  console.log(
    `${batches.length} batches of ${batches[0]!.length} bytes (${fmt(totalBytes / 1048576, 1)} MiB), ${PART_MAX / 1024} KiB per partition per request, one request in flight, client in a worker thread; median of ${ROUNDS} rounds, baseline and Samsa interleaved`,
  );
  for (const partitions of PARTITIONS) {
    const server = await startBaseline(batches, partitions);
    const port = (server.address() as { port: number }).port;
    const baseline = () => runClient({ mode: 'baseline', port, partitions, ends: [], totalBytes });
    const samsa: { kind: string; broker: Broker; engine: LogEngine; dir: string; ends: number[] }[] = [];
    try {
      for (const kind of STORAGES) {
        const dir = kind === 'file' ? await mkdtemp(join(tmpdir(), 'samsa-fetch-bench-')) : '';
        const engine: LogEngine =
          kind === 'memory'
            ? new MemoryLogEngine()
            : await FileLogEngine.open({ dirs: [dir], background: false });
        const broker = await startSamsa(engine);
        samsa.push({ kind, broker, engine, dir, ends: await preload(broker, batches, partitions) });
      }
      const samsaRun = (i: number, ends = samsa[i]!.ends) =>
        runClient({
          mode: 'samsa',
          port: samsa[i]!.broker.boundListeners[0]!.boundPort,
          partitions,
          ends,
          totalBytes,
        });
      // Warm-up.
      await runClient({ mode: 'baseline', port, partitions, ends: [], totalBytes: totalBytes / 4 });
      for (let i = 0; i < samsa.length; i++)
        await samsaRun(
          i,
          samsa[i]!.ends.map((e) => Math.floor(e / 4)),
        );
      const base: number[] = [];
      const rates: number[][] = samsa.map(() => []);
      const requests: number[] = samsa.map(() => 0);
      for (let round = 0; round < ROUNDS; round++) {
        base.push(rate(await baseline()));
        for (let i = 0; i < samsa.length; i++) {
          const r = await samsaRun(i);
          rates[i]!.push(rate(r));
          requests[i] = r.requests;
        }
      }
      const b = median(base);
      console.log(
        `baseline TCP server, ${partitions} partition(s)`.padEnd(40),
        `${fmt(b, 0).padStart(6)} MB/s`,
      );
      for (let i = 0; i < samsa.length; i++) {
        const m = median(rates[i]!);
        console.log(
          `samsa ${samsa[i]!.kind} storage, ${partitions} partition(s)`.padEnd(40),
          `${fmt(m, 0).padStart(6)} MB/s  ratio ${fmt(m / b, 2)}  (${requests[i]} fetches; rounds ${rates[i]!.map((x) => fmt(x, 0)).join(', ')} vs ${base.map((x) => fmt(x, 0)).join(', ')})`,
        );
      }
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      for (const s of samsa) {
        await s.broker.stop();
        await s.engine.close();
        if (s.dir) await rm(s.dir, { recursive: true, force: true });
      }
    }
  }
}
