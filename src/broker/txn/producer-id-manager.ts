/**
 * Producer id allocation (InitProducerId). Ids are handed out from blocks
 * reserved in a store before any id of the block is used, so ids never repeat
 * across restarts: after a crash the unused rest of a block is skipped, as
 * Kafka's controller-allocated blocks are.
 *
 * Stores:
 * - file: `producer-id-block.json` in the first log dir, written atomically
 *   (temp file, fsync, rename, fsync dir) before the block is used;
 * - memory: a high-water mark kept per log engine instance, so an in-process
 *   broker restarted on the same memory engine (startBroker().restart())
 *   never reuses an id.
 * In a cluster the block store moves to the metadata store (etcd), shared by
 * every broker; the manager stays the same.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { SamsaError } from '../../common/errors.ts';
import type { LogEngine } from '../../storage/engine.ts';

export const PRODUCER_ID_BLOCK_SIZE = 1000;

export interface ProducerIdBlockStore {
  /** Reserves `size` ids durably; returns the first. */
  reserve(size: number): Promise<number>;
}

export class ProducerIdManager {
  private readonly store: ProducerIdBlockStore;
  private readonly blockSize: number;
  private next = 0;
  private end = 0;
  private refilling: Promise<void> | null = null;

  constructor(store: ProducerIdBlockStore, blockSize = PRODUCER_ID_BLOCK_SIZE) {
    this.store = store;
    this.blockSize = blockSize;
  }

  /** A producer id never handed out before (by this broker's store). */
  async generate(): Promise<bigint> {
    for (let i = 0; this.next >= this.end; i++) {
      if (i >= 3) throw new SamsaError('SAMSA_ERR_PRODUCER_ID', 'could not reserve a producer id block');
      this.refilling ??= this.refill().finally(() => {
        this.refilling = null;
      });
      await this.refilling;
    }
    return BigInt(this.next++);
  }

  private async refill(): Promise<void> {
    const start = await this.store.reserve(this.blockSize);
    this.next = start;
    this.end = start + this.blockSize;
  }
}

/** Reservations in a small JSON file in a log dir. */
export class FileProducerIdBlockStore implements ProducerIdBlockStore {
  readonly path: string;
  private nextStart: number | null = null;

  constructor(dir: string) {
    this.path = join(dir, 'producer-id-block.json');
  }

  async reserve(size: number): Promise<number> {
    if (this.nextStart === null) this.nextStart = await this.load();
    const start = this.nextStart;
    await this.write(start + size);
    this.nextStart = start + size;
    return start;
  }

  private async load(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    const v = (JSON.parse(text) as { nextBlockStart?: unknown }).nextBlockStart;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new SamsaError(
        'SAMSA_ERR_PRODUCER_ID',
        `${this.path} is corrupt (nextBlockStart ${String(v)}); restore it or delete it only if no idempotent producer wrote to this broker`,
      );
    }
    return v;
  }

  private async write(nextBlockStart: number): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ version: 1, nextBlockStart }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

const memoryHighWater = new WeakMap<object, { next: number }>();

/** Reservations kept in memory, per `owner` (the memory log engine, which outlives broker restarts). */
export class MemoryProducerIdBlockStore implements ProducerIdBlockStore {
  private readonly state: { next: number };
  constructor(owner: object) {
    let s = memoryHighWater.get(owner);
    if (s === undefined) {
      s = { next: 0 };
      memoryHighWater.set(owner, s);
    }
    this.state = s;
  }
  async reserve(size: number): Promise<number> {
    const start = this.state.next;
    this.state.next = start + size;
    return start;
  }
}

/** The block store for a broker: in its first log dir, or in memory for the memory engine. */
export function producerIdStoreFor(engine: LogEngine, config: BrokerConfig): ProducerIdBlockStore {
  if (engine.kind === 'memory') return new MemoryProducerIdBlockStore(engine);
  return new FileProducerIdBlockStore(config.logDirs()[0]!);
}
