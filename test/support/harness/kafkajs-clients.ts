/**
 * kafkajs clients that record history events (in-process, so no child to
 * manage): an idempotent acks=all producer and a drain that reads every
 * partition from the beginning to its high watermark.
 *
 * kafkajs keeps one idempotent request in flight per producer (concurrent
 * sends race its sequence bookkeeping), so each producer is one history
 * process. A send that fails is recorded as info (kafkajs cannot tell a
 * definite failure from a timeout); after a non-retriable error the
 * producer is replaced by a fresh one (new producer id), as an application
 * would have to.
 */
import { kafkajs, kafkajsRead } from '../../compat/helpers/kafkajs.ts';
import type { FaultRun } from './fault-run.ts';

export interface KafkajsProducerOptions {
  bootstrap: string;
  topic: string;
  partitions: number[];
  /** Values are p{pid}-{seq}; the history process and producer are `k{pid}`. */
  pid: number;
  /** Records per send (one partition per send). Default 10. */
  batch?: number;
  /** Pause between sends in ms (default 5). */
  pauseMs?: number;
}

export class KafkajsRecordingProducer {
  private readonly run: FaultRun;
  private readonly opts: KafkajsProducerOptions;
  private running = false;
  private loop: Promise<void> | undefined;
  private seq = 0;
  acked = 0;
  errors: string[] = [];
  /** When (Date.now()) and why the producer was replaced. */
  replacements: { at: number; error: string }[] = [];

  constructor(run: FaultRun, opts: KafkajsProducerOptions) {
    this.run = run;
    this.opts = opts;
  }

  private makeProducer() {
    const kafka = kafkajs(this.opts.bootstrap, {
      clientId: `samsa-fault-k${this.opts.pid}`,
      requestTimeout: 5000,
      connectionTimeout: 1000,
      retry: { initialRetryTime: 100, maxRetryTime: 1000 },
    });
    return kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  start(): void {
    this.running = true;
    this.loop = this.body();
    this.run.defer(() => this.stop(5000));
  }

  private async body(): Promise<void> {
    const { topic, partitions, pid } = this.opts;
    const proc = `k${pid}`;
    let producer = this.makeProducer();
    await producer.connect();
    for (let n = 0; this.running; n++) {
      const partition = partitions[n % partitions.length]!;
      const key = `${topic}/${partition}`;
      const values = Array.from({ length: this.opts.batch ?? 10 }, () => `p${pid}-${this.seq++}`);
      this.run.history.invoke(proc, 'send', {
        producer: proc,
        mops: values.map((value) => ({ f: 'send' as const, key, value })),
      });
      try {
        const meta = await producer.send({
          topic,
          acks: -1,
          messages: values.map((value) => ({ value, partition })),
        });
        const base = Number(meta.find((m) => m.partition === partition)?.baseOffset ?? Number.NaN);
        this.run.history.complete(proc, 'ok', {
          mops: values.map((value, i) => ({
            f: 'send' as const,
            key,
            value,
            ...(Number.isFinite(base) ? { offset: base + i } : {}),
          })),
        });
        this.acked += values.length;
      } catch (e) {
        const err = e as Error & { retriable?: boolean; cause?: Error & { type?: string } };
        const text = `${err.name}: ${err.message}${err.cause ? ` (cause ${err.cause.type ?? err.cause.message})` : ''}`;
        this.run.history.complete(proc, 'info', { error: text });
        if (this.errors.length < 20) this.errors.push(text);
        if (!this.running) break;
        // the idempotent producer's sequence state may now be unusable: start over with a new one
        await producer.disconnect().catch(() => {});
        producer = this.makeProducer();
        this.replacements.push({ at: Date.now(), error: text });
        this.run.log(`k${pid}: send failed (${text}); replaced the producer`);
        await producer.connect().catch(() => {});
      }
      if (this.opts.pauseMs !== 0) await new Promise((r) => setTimeout(r, this.opts.pauseMs ?? 5));
    }
    await producer.disconnect().catch(() => {});
  }

  /** Stops after the send in flight (bounded by `ms`; an unfinished send stays open and ends as info). */
  async stop(ms = 20_000): Promise<void> {
    this.running = false;
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.loop.catch((e) => this.errors.push(String(e))),
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * Reads every partition from the beginning to its high watermark with kafkajs
 * and records it as a fresh consumer's polls (process `kdrain{pid}`).
 * Returns the high watermarks.
 */
export async function kafkajsDrain(
  run: FaultRun,
  bootstrap: string,
  topic: string,
  partitions: number[],
  pid: number | string,
  timeoutMs = 30_000,
): Promise<Record<number, number>> {
  const proc = `kdrain${pid}`;
  const keys = partitions.map((p) => `${topic}/${p}`);
  run.history.invoke(proc, 'assign', { keys, seek: true });
  run.history.complete(proc, 'ok');
  const hws: Record<number, number> = {};
  for (const partition of partitions) {
    run.history.invoke(proc, 'poll');
    try {
      const r = await kafkajsRead(bootstrap, topic, { partition, from: 'beginning', timeoutMs });
      hws[partition] = r.highWatermark;
      run.history.complete(proc, 'ok', {
        mops: r.records.map((rec) => ({
          f: 'poll' as const,
          key: `${topic}/${partition}`,
          offset: rec.offset,
          value: rec.value ?? '',
        })),
      });
    } catch (e) {
      run.history.complete(proc, 'fail', { error: String(e) });
      throw e;
    }
  }
  return hws;
}
