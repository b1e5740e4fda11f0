/**
 * LOAD-MemoryPressure (RELIABILITY.md H.29), single broker: a real `samsa
 * start` process (file storage) under NODE_OPTIONS=--max-old-space-size=256
 * and a small queued.max.request.bytes (16 MiB) takes:
 *  - 50 producer connections, each pipelining 8 produce requests of one
 *    max-size batch (16 x 65,000-byte records, ~1 MiB, under
 *    message.max.bytes), acks=-1, as fast as the broker answers;
 *  - 4 slow fetchers asking for fetch.max.bytes (55 MiB) across every
 *    partition from the start, reading their sockets at 4 MiB/s.
 *
 * Pass:
 *  - the process stays up (no OOM) and answers afterwards;
 *  - its peak RSS (VmHWM) stays under 320 MiB: measured 200-222 MiB from
 *    an idle 86-103 MiB; with the cap off (-1, Kafka's default) the slow
 *    fetchers' 55 MiB responses alone pushed it to 426 MiB;
 *  - producers see no error but retriable timeouts (client-side timeouts and
 *    REQUEST_TIMED_OUT count as unknown outcomes);
 *  - the queue checker passes after a final drain: every acknowledged batch
 *    is at its acknowledged offsets, nothing lost or duplicated, unseen = 0;
 *  - the broker's shutdown line shows the cap was reached (connections were
 *    paused), its peak request bytes stayed near the cap, and the fetch
 *    responses it held peaked at the cap plus one batch per fetcher.
 *
 * Default: at most 15 s of load, capped at ~1.2 GiB written (20-40 s in
 * all, depending on the machine's load).
 * SAMSA_FAULT_LONG=1: 120 s capped at ~5 GiB.
 * Run: node --test test/fault/load-memory-pressure.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/protocol/frames.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../src/protocol/records/record-batch.ts';
import { fetchBody } from '../helpers/fetch.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { SendMop } from '../support/checker/history.ts';
import { checkQueue, formatResult } from '../support/checker/queue-checker.ts';
import { FaultRun, LONG } from '../support/harness/fault-run.ts';
import { createTopic, withClient } from '../support/harness/raw-ops.ts';

const MiB = 1024 * 1024;
const TOPIC = 'pressure';
const PARTITIONS = Array.from({ length: 8 }, (_, i) => i);
const PRODUCERS = 50;
const IN_FLIGHT = 8;
const RECORDS_PER_BATCH = 16;
const RECORD_VALUE = 65_000;
const LOAD_MS = LONG ? 120_000 : 15_000;
const BATCHES_PER_PRODUCER = LONG ? 100 : 24;
const FETCHERS = 4;
const FETCH_MAX_BYTES = 57_671_680; // Kafka's fetch.max.bytes default
const FETCHER_RATE = 4 * MiB; // bytes per second each slow fetcher reads
const QUEUED_MAX_REQUEST_BYTES = 16 * MiB;
const HEAP_MIB = 256;
/** Asserted bound on the broker's resident set. */
const RSS_BOUND_MIB = 320;
const REQUEST_TIMED_OUT = 7;

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function rssOf(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

interface ProducerStats {
  acked: number;
  timeouts: number;
  errors: string[];
  latencies: number[];
}

/** One producer connection: IN_FLIGHT history processes sharing it, each sending one batch at a time. */
async function runProducer(
  run: FaultRun,
  bootstrap: string,
  pid: number,
  until: number,
  stats: ProducerStats,
): Promise<void> {
  const c = await RawClient.connect(bootstrap, 5000);
  c.clientId = `p${pid}`;
  c.timeoutMs = 30_000;
  const filler = Buffer.alloc(RECORD_VALUE, 0x70);
  let seq = 0;
  const slot = async (k: number): Promise<void> => {
    const proc = `p${pid}-${k}`;
    while (Date.now() < until && seq < BATCHES_PER_PRODUCER) {
      const s = seq++;
      const partition = PARTITIONS[(pid + s) % PARTITIONS.length]!;
      const key = `${TOPIC}/${partition}`;
      const values = Array.from(
        { length: RECORDS_PER_BATCH },
        (_, r) => `p${pid}-${s * RECORDS_PER_BATCH + r}`,
      );
      const records = encodeRecordBatch({
        baseTimestamp: BigInt(Date.now()),
        records: values.map((v) => ({ key: Buffer.from(v), value: filler })),
      });
      const mops: SendMop[] = values.map((value) => ({ f: 'send', key, value }));
      run.history.invoke(proc, 'send', { mops, producer: `p${pid}` });
      const t0 = performance.now();
      try {
        const res = await c.request(0, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 30_000,
          topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
        });
        const p = res.responses[0].partitionResponses[0];
        if (p.errorCode === 0) {
          const base = Number(p.baseOffset);
          run.history.complete(proc, 'ok', { mops: mops.map((m, i) => ({ ...m, offset: base + i })) });
          stats.acked++;
          stats.latencies.push(performance.now() - t0);
        } else if (p.errorCode === REQUEST_TIMED_OUT) {
          run.history.complete(proc, 'info', { error: `error ${p.errorCode}` });
          stats.timeouts++;
        } else {
          run.history.complete(proc, 'fail', { error: `error ${p.errorCode} ${p.errorMessage ?? ''}` });
          stats.errors.push(`p${pid}: produce error ${p.errorCode} ${p.errorMessage ?? ''}`);
        }
      } catch (e) {
        const msg = (e as Error).message;
        run.history.complete(proc, 'info', { error: msg });
        if (/timed out/.test(msg)) stats.timeouts++;
        else {
          stats.errors.push(`p${pid}: ${msg}`);
          return;
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, k) => slot(k)));
  } finally {
    c.close();
  }
}

/**
 * A consumer that asks for fetch.max.bytes from every partition and reads
 * its socket at FETCHER_RATE, so its responses sit in the broker's socket
 * buffers.
 */
class SlowFetcher {
  readonly sock = new Socket();
  bytes = 0;
  responses = 0;
  largest = 0;
  error: string | null = null;
  private stopped = false;
  private readonly offsets = new Map<number, number>(PARTITIONS.map((p) => [p, 0]));

  stop(): void {
    this.stopped = true;
    this.sock.destroy();
  }

  async run(port: number): Promise<void> {
    this.sock.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      this.sock.once('error', reject);
      this.sock.connect(port, '127.0.0.1', () => resolve());
    });
    this.sock.pause();
    for (let id = 1; !this.stopped; id++) {
      const body = fetchBody({
        topics: [
          {
            topic: TOPIC,
            partitions: PARTITIONS.map((p) => ({
              partition: p,
              offset: this.offsets.get(p)!,
              maxBytes: FETCH_MAX_BYTES,
            })),
          },
        ],
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
      });
      const f = encodeRequestFrame(
        { requestApiKey: 1, requestApiVersion: 12, correlationId: id, clientId: 'slow' },
        body,
      );
      const size = Buffer.alloc(4);
      size.writeInt32BE(f.length);
      this.sock.write(Buffer.concat([size, f]));
      const frame = await this.readFrameSlowly();
      if (frame === null) return;
      this.responses++;
      this.largest = Math.max(this.largest, frame.length);
      const res = decodeResponseFrame(1, 12, frame).body;
      for (const t of res.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            this.error = `fetch ${TOPIC}-${p.partitionIndex}: error ${p.errorCode}`;
            continue;
          }
          const recs: Buffer | null = p.records;
          for (let pos = 0; recs && pos + 61 <= recs.length; ) {
            const len = recs.readInt32BE(pos + 8);
            if (pos + 12 + len > recs.length) break;
            const last = Number(recs.readBigInt64BE(pos)) + recs.readInt32BE(pos + 23);
            this.offsets.set(p.partitionIndex, last + 1);
            pos += 12 + len;
          }
        }
      }
    }
  }

  /**
   * One response frame, read at FETCHER_RATE: the socket flows until a
   * tick's share has arrived, then pauses until the next tick; null when
   * stopped or closed.
   */
  private async readFrameSlowly(): Promise<Buffer | null> {
    const chunks: Buffer[] = [];
    let have = 0;
    let need = -1;
    const tickMs = 50;
    const perTick = (FETCHER_RATE * tickMs) / 1000;
    let tick = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      this.bytes += chunk.length;
      tick += chunk.length;
      if (tick >= perTick) this.sock.pause();
    };
    this.sock.on('data', onData);
    try {
      while (!this.stopped && !this.sock.destroyed) {
        if (need < 0 && have >= 4) need = 4 + Buffer.concat(chunks).readInt32BE(0);
        // One request in flight at a time: nothing follows the frame.
        if (need >= 0 && have >= need) return Buffer.concat(chunks, have).subarray(4, need);
        tick = 0;
        this.sock.resume();
        await new Promise((r) => setTimeout(r, tickMs));
      }
      return null;
    } finally {
      this.sock.off('data', onData);
      this.sock.pause();
    }
  }
}

function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

/** Reads every partition from the start (RawClient, 8 MiB per fetch) into the history as poll ops. */
async function drain(run: FaultRun, bootstrap: string): Promise<number> {
  const proc = 'drain';
  run.history.invoke(proc, 'assign', { keys: PARTITIONS.map((p) => `${TOPIC}/${p}`), seek: true });
  run.history.complete(proc, 'ok');
  let total = 0;
  await withClient(bootstrap, async (c) => {
    c.timeoutMs = 30_000;
    for (const partition of PARTITIONS) {
      let offset = 0;
      for (let round = 0; round < 100_000; round++) {
        run.history.invoke(proc, 'poll');
        const res = await c.request(1, 12, {
          ...fetchBody({
            topics: [{ topic: TOPIC, partitions: [{ partition, offset, maxBytes: 8 * MiB }] }],
            maxBytes: 8 * MiB,
          }),
        });
        const p = res.responses[0].partitions[0];
        assert.equal(p.errorCode, 0, `drain fetch ${TOPIC}-${partition} at ${offset}`);
        const mops: { f: 'poll'; key: string; offset: number; value: string }[] = [];
        const recs: Buffer | null = p.records;
        for (let pos = 0; recs && pos + 61 <= recs.length; ) {
          const len = recs.readInt32BE(pos + 8);
          const d = decodeRecordBatch(recs.subarray(pos, pos + 12 + len));
          const base = Number(d.header.baseOffset);
          for (const r of d.records) {
            mops.push({
              f: 'poll',
              key: `${TOPIC}/${partition}`,
              offset: base + r.offsetDelta,
              value: r.key?.toString() ?? '',
            });
          }
          offset = base + d.header.lastOffsetDelta + 1;
          pos += 12 + len;
        }
        run.history.complete(proc, 'ok', { mops });
        total += mops.length;
        if (mops.length === 0 || offset >= Number(p.highWatermark)) break;
      }
    }
  });
  return total;
}

test('LOAD-MemoryPressure: 50 producers of max-size batches and slow fetch.max.bytes fetchers under a 256 MiB heap', {
  timeout: LONG ? 600_000 : 180_000,
}, async (t) => {
  const run = FaultRun.create(t, 'load-memory-pressure');
  const nodeOptions = [process.env.NODE_OPTIONS, `--max-old-space-size=${HEAP_MIB}`]
    .filter(Boolean)
    .join(' ');
  const broker = await run.startSamsa('b0', {
    env: { NODE_OPTIONS: nodeOptions },
    sets: { 'queued.max.request.bytes': QUEUED_MAX_REQUEST_BYTES },
  });
  const pid = broker.pid!;
  await createTopic(broker.bootstrap, TOPIC, PARTITIONS.length);
  const idle = rssOf(pid).rss;

  const samples: number[] = [];
  let deadAt = 0;
  const sampler = setInterval(() => {
    if (!broker.alive) {
      deadAt ||= Date.now();
      return;
    }
    samples.push(rssOf(pid).rss);
  }, 100);
  run.defer(() => clearInterval(sampler));

  const fetchers = Array.from({ length: FETCHERS }, () => new SlowFetcher());
  run.defer(() => {
    for (const f of fetchers) f.stop();
  });
  const fetching = fetchers.map((f) =>
    f.run(broker.port).catch((e) => {
      f.error = String(e);
    }),
  );

  const t0 = Date.now();
  const until = t0 + LOAD_MS;
  const stats: ProducerStats = { acked: 0, timeouts: 0, errors: [], latencies: [] };
  const producing = Array.from({ length: PRODUCERS }, (_, i) =>
    runProducer(run, broker.bootstrap, i, until, stats).catch((e) => {
      stats.errors.push(`p${i}: ${(e as Error).message}`);
    }),
  );
  await Promise.all(producing);
  const loadMs = Date.now() - t0;
  // Slow fetchers carry on until each has had a response (bounded).
  for (let i = 0; i < 300 && fetchers.some((f) => f.responses === 0 && f.error === null); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const f of fetchers) f.stop();
  await Promise.all(fetching);
  clearInterval(sampler);
  const peakSampled = Math.max(0, ...samples);
  const hwm = rssOf(pid).hwm;
  const mb = (n: number) => (n / MiB).toFixed(0);
  const written = stats.acked * RECORDS_PER_BATCH * RECORD_VALUE;
  t.diagnostic(
    `load ${loadMs} ms: ${stats.acked} batches acknowledged (${mb(written)} MiB, ${((written / MiB / loadMs) * 1000).toFixed(0)} MiB/s), ${stats.timeouts} timeouts, ${stats.errors.length} errors; produce latency p50 ${percentile(stats.latencies, 0.5).toFixed(0)} ms p99 ${percentile(stats.latencies, 0.99).toFixed(0)} ms`,
  );
  t.diagnostic(
    `slow fetchers: ${fetchers.map((f) => `${f.responses} responses/${mb(f.bytes)} MiB (largest ${mb(f.largest)} MiB)${f.error ? ` error: ${f.error}` : ''}`).join(', ')}`,
  );
  t.diagnostic(
    `broker RSS: idle ${mb(idle)} MiB, peak sampled ${mb(peakSampled)} MiB, VmHWM ${mb(hwm)} MiB (bound ${RSS_BOUND_MIB} MiB; heap limit ${HEAP_MIB} MiB; queued.max.request.bytes ${mb(QUEUED_MAX_REQUEST_BYTES)} MiB)`,
  );
  assert.ok(broker.alive, `the broker died (OOM?):\n${broker.output().slice(-3000)}`);
  assert.equal(deadAt, 0);

  const records = await drain(run, broker.bootstrap);
  const result = run.check(checkQueue(run.history.ops, { mode: 'assign' }));
  t.diagnostic(`drained ${records} records; ${formatResult(result)}`);

  await broker.stop();
  const line = readFileSync(run.logFile('b0'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('request memory at shutdown'))
    .pop();
  const pool = line ? (JSON.parse(line) as Record<string, number>) : undefined;
  t.diagnostic(
    `pool at shutdown: ${pool ? `peak requests ${mb(pool.peakRequestBytes!)} MiB, peak responses ${mb(pool.peakResponseBytes!)} MiB, ${pool.pauses} pauses` : 'no line'}`,
  );

  assert.deepEqual(stats.errors.slice(0, 10), [], 'producers see only retriable timeouts');
  assert.ok(stats.acked > PRODUCERS, 'producers made progress');
  assert.ok(
    fetchers.every((f) => f.error === null && f.responses > 0),
    fetchers.map((f) => f.error).join('; '),
  );
  assert.ok(hwm < RSS_BOUND_MIB * MiB, `broker VmHWM ${mb(hwm)} MiB`);
  assert.ok(pool, 'the broker logged its request memory at shutdown');
  assert.ok(pool.pauses! > 0, 'the cap was reached: connections paused');
  // The cap, plus one frame (the admitted over-cap frame) and one socket read per connection.
  assert.ok(
    pool.peakRequestBytes! <= QUEUED_MAX_REQUEST_BYTES + 2 * MiB + (PRODUCERS + FETCHERS + 2) * 64 * 1024,
    `peak request bytes ${pool.peakRequestBytes}`,
  );
  // Fetch responses held: the cap plus one batch per slow fetcher (KIP-74's first batch past an empty budget).
  assert.ok(
    pool.peakResponseBytes! <= QUEUED_MAX_REQUEST_BYTES + FETCHERS * 1.1 * MiB + MiB,
    `peak response bytes ${pool.peakResponseBytes}`,
  );
  assert.ok(result.valid, formatResult(result));
  assert.equal(result.unseen.count, 0);
  assert.equal(result.stats.acknowledged, stats.acked * RECORDS_PER_BATCH);
});
