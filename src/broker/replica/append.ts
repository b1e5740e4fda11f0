/**
 * The produce path of one partition: validation, idempotence checks, the
 * leader append, the high watermark, and acks.
 *
 * Appends to a partition are serialised by a per-partition queue: the
 * producer-state check, the log append and the producer-state update happen
 * as one step with respect to other appends of that partition (single writer,
 * even when the log engine awaits I/O).
 *
 * acks: 0 and 1 complete after the local append; -1 (all) first needs the
 * ISR to hold at least min(min.insync.replicas, replication factor) members
 * (else NOT_ENOUGH_REPLICAS, nothing appended), then waits until the high
 * watermark passes the batch (`awaitHighWatermark`). On a single node the ISR
 * is {self}, so the append itself moves the high watermark to the log end
 * offset and acks=all completes at once; with followers, the replica fetch
 * path advances the high watermark and calls Partition.notifyAppended(),
 * which is what the waiters listen to (timeout: REQUEST_TIMED_OUT).
 *
 * Idempotent-producer state is rebuilt from the log (a header-only scan) the
 * first time an idempotent batch reaches a partition after it was opened, so
 * a producer retrying across a broker restart gets its original offsets back
 * instead of a duplicate. Idle producers expire after producer.id.expiration.ms
 * (checked every min(10 min, that) by a timer).
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import type { Logger } from '../../common/logger.ts';
import type { PartitionInfo, TopicInfo } from '../../metadata/model.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { isControl } from '../../storage/batch.ts';
import type { AppendResult } from '../../storage/engine.ts';
import { StorageError } from '../../storage/errors.ts';
import type { TopicManager } from '../topics/topic-manager.ts';
import { ProducerStateManager } from '../txn/producer-state.ts';
import {
  checkProduceRecords,
  type LogValidationConfig,
  type RecordError,
  targetCompressionOf,
  validateBatch,
} from './batch-validation.ts';
import type { Partition, ReplicaManager } from './replica-manager.ts';

/** Kafka lets only its own admin client (this client id) write to internal topics. */
const ADMIN_CLIENT_ID = '__admin_client';
const DEFAULT_EXPIRATION_CHECK_MS = 600_000;

export interface AppendRequest {
  topic: string;
  partition: number;
  records: Buffer | null;
  acks: number;
  timeoutMs: number;
  apiVersion: number;
  clientId: string | null;
}

export interface PartitionProduceResult {
  errorCode: number;
  baseOffset: number;
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: RecordError[];
  errorMessage: string | null;
}

export interface AppenderDeps {
  replicas: ReplicaManager;
  topics: TopicManager;
  config: BrokerConfig;
  nodeId: number;
  log: Logger;
  now: () => number;
}

interface CachedConfig {
  topic: TopicInfo;
  configs: Record<string, string>;
  metadataVersion: number;
  brokerConfigVersion: number;
  cfg: LogValidationConfig;
  minInsyncReplicas: number;
}

class PartitionAppendState {
  private tail: Promise<unknown> = Promise.resolve();
  producers: ProducerStateManager | null = null;
  /** The topic's validation config with this partition's name, for the cached config it came from. */
  private cfgOf: LogValidationConfig | null = null;
  private cfg: LogValidationConfig | null = null;

  validationConfig(topicCfg: LogValidationConfig, name: () => string): LogValidationConfig {
    if (this.cfgOf !== topicCfg) {
      this.cfg = { ...topicCfg, partitionName: name() };
      this.cfgOf = topicCfg;
    }
    return this.cfg!;
  }
  /** Log start and end offsets when the producer state was last brought up to date. */
  logStartSeen = 0;
  logEndSeen = 0;

  /** Runs `fn` after every earlier task of this partition has finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => {});
    return p;
  }
}

interface LocalAppend {
  result: PartitionProduceResult;
  /** Offset the high watermark must pass for acks=all (lastOffset + 1). */
  requiredOffset: number;
}

const failure = (errorCode: number, errorMessage: string | null = null): PartitionProduceResult => ({
  errorCode,
  baseOffset: -1,
  logAppendTimeMs: -1,
  logStartOffset: -1,
  recordErrors: [],
  errorMessage,
});

function num(v: string | null, fallback: number): number {
  if (v === null) return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

/** A timestamp bound; Long.MAX_VALUE-like values mean unbounded. */
function bound(v: string | null): number {
  const n = num(v, Number.POSITIVE_INFINITY);
  return n >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : n;
}

export class Appender {
  private readonly deps: AppenderDeps;
  private readonly states = new WeakMap<Partition, PartitionAppendState>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweepEveryMs = 0;
  private closed = false;
  /** Parsed topic configs, valid while the topic's configs, the metadata version and broker configs are unchanged. */
  private readonly configCache = new Map<string, CachedConfig>();
  private brokerConfigVersion = 0;
  private readonly unsubscribe: () => void;

  constructor(deps: AppenderDeps) {
    this.deps = deps;
    this.unsubscribe = deps.config.onChange(() => {
      this.brokerConfigVersion++;
    });
    this.scheduleSweep();
  }

  /** Validates and appends one partition's records; never throws for client input. */
  async append(req: AppendRequest): Promise<PartitionProduceResult> {
    const { topics, replicas, nodeId } = this.deps;
    const topic = topics.get(req.topic);
    const at = topic?.partitions[req.partition];
    const info =
      at?.partition === req.partition ? at : topic?.partitions.find((p) => p.partition === req.partition);
    if (!topic || !info) {
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    const first = checkProduceRecords(req.records, req.apiVersion);
    if (!first.ok) return failure(first.rejection.errorCode, first.rejection.message);
    if (topic.internal && req.clientId !== ADMIN_CLIENT_ID) {
      return failure(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic.name}`);
    }
    const partition = replicas.get(req.topic, req.partition);
    if (!partition || info.leader !== nodeId) {
      return failure(
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `Leader not local for partition ${req.topic}-${req.partition} on broker ${nodeId}`,
      );
    }
    const { cfg, minInsyncReplicas } = this.topicConfig(topic);
    if (req.acks === -1) {
      const minIsr = Math.min(minInsyncReplicas, info.replicas.length);
      if (info.isr.length < minIsr) {
        return failure(
          ErrorCode.NOT_ENOUGH_REPLICAS,
          `The size of the current ISR ${info.isr.length} is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${req.topic}-${req.partition}`,
        );
      }
    }
    const state = this.stateFor(partition);
    const pcfg = state.validationConfig(cfg, () => `${topic.name}-${req.partition}`);
    const local = await state.run(() => this.appendLocked(partition, info, state, first.batch, pcfg));
    if (req.acks !== -1 || local.result.errorCode !== ErrorCode.NONE) return local.result;
    const waited = await awaitHighWatermark(partition, local.requiredOffset, req.timeoutMs);
    if (waited !== ErrorCode.NONE) return failure(waited);
    return local.result;
  }

  /** The producer state of a partition, rebuilt from its log on first use. */
  producerState(partition: Partition): Promise<ProducerStateManager> {
    const state = this.stateFor(partition);
    if (state.producers) return Promise.resolve(state.producers);
    return state.run(() => this.loadProducers(partition, state));
  }

  /** Forgets idle producers on every partition (the timer calls this). */
  expireProducers(now = this.deps.now()): number {
    const expirationMs = this.deps.config.int('producer.id.expiration.ms');
    let removed = 0;
    for (const p of this.deps.replicas.all()) {
      const producers = this.states.get(p)?.producers;
      if (producers) removed += producers.removeExpired(now, expirationMs);
    }
    return removed;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepEveryMs = Math.min(
      DEFAULT_EXPIRATION_CHECK_MS,
      this.deps.config.int('producer.id.expiration.ms'),
    );
    this.sweepTimer = setTimeout(() => {
      try {
        const n = this.expireProducers();
        if (n > 0) this.deps.log.debug({ removed: n }, 'expired idle producer ids');
      } catch (err) {
        this.deps.log.warn({ err }, 'producer id expiration failed');
      }
      this.scheduleSweep();
    }, this.sweepEveryMs);
    this.sweepTimer.unref();
  }

  private stateFor(partition: Partition): PartitionAppendState {
    let s = this.states.get(partition);
    if (s === undefined) {
      s = new PartitionAppendState();
      this.states.set(partition, s);
    }
    return s;
  }

  private topicConfig(topic: TopicInfo): CachedConfig {
    const version = this.deps.topics.metadataVersion;
    const c = this.configCache.get(topic.name);
    if (
      c !== undefined &&
      c.topic === topic &&
      c.configs === topic.configs &&
      c.metadataVersion === version &&
      c.brokerConfigVersion === this.brokerConfigVersion
    ) {
      return c;
    }
    const { topics, config } = this.deps;
    const eff = (k: string) => topics.effective(topic, k);
    const policy = (eff('cleanup.policy') ?? '').split(',').map((s) => s.trim());
    const cfg: LogValidationConfig = {
      partitionName: topic.name,
      maxMessageBytes: num(eff('max.message.bytes'), 1048588),
      segmentBytes: num(eff('segment.bytes'), 1073741824),
      compacted: policy.includes('compact'),
      logAppendTime: eff('message.timestamp.type') === 'LogAppendTime',
      timestampBeforeMaxMs: bound(eff('message.timestamp.before.max.ms')),
      timestampAfterMaxMs: bound(eff('message.timestamp.after.max.ms')),
      targetCompression: targetCompressionOf(eff('compression.type')),
      maxDecompressedBytes: config.int('samsa.decompression.max.bytes'),
    };
    if (this.configCache.size > 10_000) this.configCache.clear();
    const fresh: CachedConfig = {
      topic,
      configs: topic.configs,
      metadataVersion: version,
      brokerConfigVersion: this.brokerConfigVersion,
      cfg,
      minInsyncReplicas: num(eff('min.insync.replicas'), 1),
    };
    this.configCache.set(topic.name, fresh);
    return fresh;
  }

  /**
   * Forgets a partition's producer state, to be rebuilt from the log on next
   * use (after a truncation, say). Appends notice truncation themselves.
   */
  resetProducerState(partition: Partition): void {
    const s = this.states.get(partition);
    if (s) s.producers = null;
  }

  /** The producer state, rebuilt if the log was truncated, pruned if its start moved (retention, DeleteRecords). */
  private async currentProducers(
    partition: Partition,
    state: PartitionAppendState,
  ): Promise<ProducerStateManager> {
    const log = partition.log;
    if (state.producers && log.logEndOffset < state.logEndSeen) state.producers = null;
    const m = await this.loadProducers(partition, state);
    if (log.logStartOffset > state.logStartSeen) {
      m.onLogStartOffsetIncremented(log.logStartOffset);
      state.logStartSeen = log.logStartOffset;
    }
    return m;
  }

  private async loadProducers(
    partition: Partition,
    state: PartitionAppendState,
  ): Promise<ProducerStateManager> {
    if (state.producers) return state.producers;
    const log = partition.log;
    const m = new ProducerStateManager(`${partition.topic}-${partition.partition}`);
    for await (const b of log.scanBatches(log.logStartOffset)) {
      if (b.producerId < 0) continue;
      m.replay(
        {
          producerId: b.producerId,
          producerEpoch: b.producerEpoch,
          baseSequence: b.baseSequence,
          lastOffsetDelta: b.lastOffset - b.baseOffset,
          control: isControl(b.attributes),
        },
        b.baseOffset,
        b.lastOffset,
        b.maxTimestamp,
      );
    }
    m.removeExpired(this.deps.now(), this.deps.config.int('producer.id.expiration.ms'));
    state.producers = m;
    state.logStartSeen = log.logStartOffset;
    state.logEndSeen = log.logEndOffset;
    return m;
  }

  /** Runs inside the partition's queue. */
  private async appendLocked(
    partition: Partition,
    info: PartitionInfo,
    state: PartitionAppendState,
    batch: Buffer,
    cfg: LogValidationConfig,
  ): Promise<LocalAppend> {
    const log = partition.log;
    const now = this.deps.now();
    const v = validateBatch(batch, cfg, now);
    if (!v.ok) {
      const r = failure(v.rejection.errorCode, v.rejection.message);
      r.recordErrors = v.rejection.recordErrors ?? [];
      return { result: r, requiredOffset: 0 };
    }
    const b = v.batch;
    if (b.transactional) {
      // Until the transactions issue adds the coordinator and KIP-890 verification, no partition is ever
      // part of an ongoing transaction: Kafka answers such a batch with INVALID_TXN_STATE.
      return {
        result: failure(ErrorCode.INVALID_TXN_STATE, 'Record was not part of an ongoing transaction'),
        requiredOffset: 0,
      };
    }
    let producers: ProducerStateManager | null = null;
    if (b.producerId >= 0) {
      producers = await this.currentProducers(partition, state);
      const c = producers.check(b);
      if (c.kind === 'error') return { result: failure(c.errorCode, c.message), requiredOffset: 0 };
      if (c.kind === 'duplicate') {
        return {
          result: {
            errorCode: ErrorCode.NONE,
            baseOffset: c.batch.firstOffset,
            logAppendTimeMs: cfg.logAppendTime ? c.batch.timestamp : -1,
            logStartOffset: log.logStartOffset,
            recordErrors: [],
            errorMessage: null,
          },
          requiredOffset: c.batch.lastOffset + 1,
        };
      }
    }
    let res: AppendResult;
    try {
      // validated (CRC included) above; the request's bytes are not used after this
      res = await log.append(b.buf, { verifyCrc: false, leaderEpoch: info.leaderEpoch, now, transfer: true });
    } catch (e) {
      if (e instanceof StorageError && e.kafkaErrorCode > 0) {
        return { result: failure(e.kafkaErrorCode, e.message), requiredOffset: 0 };
      }
      throw e;
    }
    if (producers) {
      producers.update(b, res.baseOffset, res.lastOffset, res.batches[0]?.maxTimestamp ?? b.maxTimestamp);
      state.logEndSeen = log.logEndOffset;
    }
    this.advanceHighWatermark(partition, info);
    partition.notifyAppended();
    return {
      result: {
        errorCode: ErrorCode.NONE,
        baseOffset: res.baseOffset,
        logAppendTimeMs: res.logAppendTime ?? -1,
        logStartOffset: log.logStartOffset,
        recordErrors: [],
        errorMessage: null,
      },
      requiredOffset: res.lastOffset + 1,
    };
  }

  /**
   * The high watermark is the smallest log end offset in the ISR. With the ISR
   * {self} that is our own log end offset; followers' offsets come with
   * replication (the fetch path moves the high watermark then).
   */
  private advanceHighWatermark(partition: Partition, info: PartitionInfo): void {
    const self = this.deps.nodeId;
    if (info.isr.every((id) => id === self)) partition.log.highWatermark = partition.log.logEndOffset;
  }
}

/**
 * Resolves with NONE once the partition's high watermark reaches `required`,
 * or REQUEST_TIMED_OUT after `timeoutMs` (Kafka's delayed produce).
 */
export function awaitHighWatermark(
  partition: Partition,
  required: number,
  timeoutMs: number,
): Promise<number> {
  if (partition.log.highWatermark >= required) return Promise.resolve(ErrorCode.NONE);
  return new Promise((resolve) => {
    const done = (code: number) => {
      partition.removeAppendListener(check);
      clearTimeout(timer);
      resolve(code);
    };
    const check = () => {
      if (partition.log.highWatermark >= required) done(ErrorCode.NONE);
    };
    const timer = setTimeout(() => done(ErrorCode.REQUEST_TIMED_OUT), Math.max(0, timeoutMs));
    partition.addAppendListener(check);
  });
}
