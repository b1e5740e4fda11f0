/**
 * The fetch path (Kafka's ReplicaManager.fetchMessages for consumers).
 *
 * 1. The fetch session cache decides how the request is served (sessionless,
 *    new session, incremental, or a session error).
 * 2. Partitions are read in order within the request's maxBytes (capped by
 *    the broker's fetch.max.bytes) and each partition's partitionMaxBytes;
 *    whole batches only, and the first batch of the first partition with
 *    data is returned even when larger than both limits (KIP-74). Consumers
 *    read up to the high watermark (READ_UNCOMMITTED) or the last stable
 *    offset (READ_COMMITTED); followers (replicaId >= 0) up to the log end.
 * 3. With less than minBytes found, no error and maxWaitMs > 0, the fetch
 *    waits in the purgatory (delayed-fetch.ts) and reads again when woken.
 * 4. The session cache picks the partitions the response carries.
 *
 * Record batches go out as the Buffers storage returned, never copied:
 * adjacent views of one read are joined into one view, and batches from
 * separate allocations (the memory engine's slabs) become a RecordsList, so
 * the response encoder references them for the connection's vectored write.
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { ConfigError } from '../../common/config/registry.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { FetchRequest } from '../../protocol/generated/messages/fetch-request.ts';
import type {
  FetchResponse,
  FetchResponse_AbortedTransaction,
  FetchResponse_FetchableTopicResponse,
  FetchResponse_PartitionData,
} from '../../protocol/generated/messages/fetch-response.ts';
import { ZERO_UUID } from '../../protocol/generated/runtime.ts';
import { RecordsList } from '../../protocol/primitives/records-list.ts';
import type { PartitionLog } from '../../storage/engine.ts';
import { StorageError } from '../../storage/errors.ts';
import { DelayedFetchPurgatory } from './delayed-fetch.ts';
import {
  type FetchContext,
  type FetchEntry,
  FetchSessionCache,
  type PartitionOutcome,
  partitionKey,
} from './fetch-session.ts';
import {
  findLeader,
  type HostedPartition,
  type LeaderHint,
  type PartitionSource,
  type TopicSource,
} from './partition-lookup.ts';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

const EMPTY = Buffer.alloc(0);
const INT32_MAX = 0x7fffffff;
/** Kafka's defaults for fetch.max.bytes and max.incremental.fetch.session.cache.slots. */
export const DEFAULT_FETCH_MAX_BYTES = 57_671_680;
export const DEFAULT_SESSION_SLOTS = 1000;

/** A registered int config, or `def` while the key is not in the registry. */
function configInt(config: BrokerConfig, key: string, def: number): number {
  try {
    const v = config.get(key);
    return typeof v === 'number' ? v : def;
  } catch (e) {
    if (e instanceof ConfigError) return def;
    throw e;
  }
}

export interface FetchManagerOptions {
  partitions: PartitionSource;
  topics: TopicSource;
  nodeId: number;
  /** The broker's fetch.max.bytes (read per request). */
  fetchMaxBytes: () => number;
  /** max.incremental.fetch.session.cache.slots */
  sessionCacheSlots: number;
  now?: () => number;
}

export interface FetchCall {
  apiVersion: number;
  /** Aborted when the request's connection closes. */
  signal?: AbortSignal;
  /**
   * The broker's response memory (queued.max.request.bytes less responses
   * still being built or written): each partition's read is reserved against
   * it before reading, so concurrent fetches cannot all take the same room;
   * a response cut by it still carries at least one batch (KIP-74) and
   * answers once it has any.
   */
  responseMemory?: { available(): number; reserve(delta: number): void };
}

/** What reading one partition gave. */
export interface PartitionRead {
  entry: FetchEntry;
  errorCode: number;
  records: Buffer | RecordsList;
  bytes: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** Leader known from metadata, on leadership and epoch errors. */
  leader?: LeaderHint;
  /** The partition read, when it resolved. */
  hosted?: HostedPartition;
}

interface ReadSpec {
  usesTopicIds: boolean;
  isolation: number;
  follower: boolean;
}

/**
 * Aborted transactions overlapping [fetchOffset, upperBound) for
 * READ_COMMITTED fetches. Hook for the transactions work: until transaction
 * markers and the aborted-transaction index exist, nothing is ever aborted
 * and the LSO equals the high watermark.
 */
export function abortedTransactions(
  log: PartitionLog,
  fetchOffset: number,
  upperBound: number,
): FetchResponse_AbortedTransaction[] {
  void log;
  void fetchOffset;
  void upperBound;
  return [];
}

/** The offset a fetcher may read up to (exclusive). */
export function readBound(log: PartitionLog, isolation: number, follower: boolean): number {
  if (follower) return log.logEndOffset;
  return isolation === READ_COMMITTED ? log.lastStableOffset : log.highWatermark;
}

/**
 * A partition's batches without copying: runs of batches adjacent in memory
 * become one view each; one run is returned as a Buffer, several as a
 * RecordsList of the runs.
 */
export function joinBatches(bufs: readonly Buffer[], total: number): Buffer | RecordsList {
  if (bufs.length === 0) return EMPTY;
  if (bufs.length === 1) return bufs[0]!;
  const runs: Buffer[] = [];
  let start = bufs[0]!;
  let end = start.byteOffset + start.length;
  for (let i = 1; i < bufs.length; i++) {
    const b = bufs[i]!;
    if (b.buffer === start.buffer && b.byteOffset === end) {
      end += b.length;
      continue;
    }
    runs.push(viewOf(start, end));
    start = b;
    end = b.byteOffset + b.length;
  }
  runs.push(viewOf(start, end));
  return runs.length === 1 ? runs[0]! : new RecordsList(runs, total);
}

/** `first`'s memory up to byte offset `end` of its ArrayBuffer (first itself when that is all of it). */
function viewOf(first: Buffer, end: number): Buffer {
  if (first.byteOffset + first.length === end) return first;
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

export class FetchManager {
  readonly sessions: FetchSessionCache;
  readonly purgatory = new DelayedFetchPurgatory();
  private readonly opts: FetchManagerOptions;

  constructor(opts: FetchManagerOptions) {
    this.opts = opts;
    this.sessions = new FetchSessionCache({ maxSlots: opts.sessionCacheSlots, now: opts.now });
  }

  /** Wires a manager to the broker's replicas, topics and config. */
  static create(
    partitions: PartitionSource,
    topics: TopicSource,
    config: BrokerConfig,
    nodeId: number,
  ): FetchManager {
    return new FetchManager({
      partitions,
      topics,
      nodeId,
      fetchMaxBytes: () => configInt(config, 'fetch.max.bytes', DEFAULT_FETCH_MAX_BYTES),
      sessionCacheSlots: configInt(
        config,
        'max.incremental.fetch.session.cache.slots',
        DEFAULT_SESSION_SLOTS,
      ),
    });
  }

  /** Ends waiting fetches (they answer with what they have) and makes new ones answer at once. */
  shutdown(): void {
    this.purgatory.shutdown();
  }

  async fetch(req: FetchRequest, call: FetchCall): Promise<FetchResponse<Buffer | RecordsList>> {
    const v = call.apiVersion;
    const usesTopicIds = v >= 13;
    const replicaId = v >= 15 ? (req.replicaState?.replicaId ?? -1) : (req.replicaId ?? -1);
    const spec: ReadSpec = {
      usesTopicIds,
      isolation: req.isolationLevel ?? READ_UNCOMMITTED,
      // Hook for replication: follower fetches read to the log end; updating
      // follower state (ISR, high watermark) belongs to the replication work.
      follower: replicaId >= 0,
    };
    const maxBytes = Math.max(0, Math.min(req.maxBytes ?? INT32_MAX, this.opts.fetchMaxBytes()));

    const ctx = this.sessions.newContext({
      version: v,
      sessionId: req.sessionId ?? 0,
      epoch: req.sessionEpoch ?? -1,
      entries: this.entries(req, usesTopicIds),
      forgotten: this.forgotten(req, usesTopicIds),
      privileged: spec.follower,
    });
    if (ctx.kind === 'error') return emptyResponse(ctx.errorCode);

    const targets = this.sessions.targets(ctx);
    const mem = call.responseMemory;
    const first = Math.min(maxBytes, mem?.available() ?? INT32_MAX);
    let reads = await this.readAll(targets, maxBytes, spec, mem);
    // Cut by memory pressure: waiting for more than fits would only delay the consumer.
    const minBytes = first < maxBytes ? Math.min(req.minBytes, Math.max(1, first)) : req.minBytes;
    const bytes = reads.reduce((n, r) => n + r.bytes, 0);
    const answerNow =
      req.maxWaitMs <= 0 ||
      targets.length === 0 ||
      bytes >= minBytes ||
      reads.some((r) => r.errorCode !== ErrorCode.NONE);
    if (!answerNow) {
      mem?.reserve(-bytes); // these reads are dropped; the wait ends in fresh ones
      const end = await this.waitForData(reads, minBytes, req.maxWaitMs, spec, call.signal);
      if (end === 'aborted') return emptyResponse(ErrorCode.NONE);
      reads = await this.readAll(targets, maxBytes, spec, mem);
    }
    return this.respond(ctx, reads, spec);
  }

  private entries(req: FetchRequest, usesTopicIds: boolean): FetchEntry[] {
    const out: FetchEntry[] = [];
    for (const t of req.topics) {
      const topicId = t.topicId ?? ZERO_UUID;
      const name = usesTopicIds ? (this.opts.topics.getById(topicId)?.name ?? null) : (t.topic ?? '');
      for (const p of t.partitions) {
        out.push({
          key: partitionKey(usesTopicIds, name, topicId, p.partition),
          topic: name,
          topicId: usesTopicIds ? topicId : ZERO_UUID,
          partition: p.partition,
          fetchOffset: Number(p.fetchOffset),
          maxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
          lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
          logStartOffset: Number(p.logStartOffset ?? -1n),
        });
      }
    }
    return out;
  }

  private forgotten(req: FetchRequest, usesTopicIds: boolean): string[] {
    const out: string[] = [];
    for (const t of req.forgottenTopicsData ?? []) {
      for (const p of t.partitions)
        out.push(partitionKey(usesTopicIds, t.topic ?? '', t.topicId ?? ZERO_UUID, p));
    }
    return out;
  }

  /**
   * Reads the partitions in order within the request's byte budget and, when
   * given, the broker's response memory: each read's budget is reserved
   * before reading and trued up to what was read.
   */
  async readAll(
    targets: readonly FetchEntry[],
    maxBytes: number,
    spec: ReadSpec,
    mem?: FetchCall['responseMemory'],
  ): Promise<PartitionRead[]> {
    const out: PartitionRead[] = [];
    let limit = maxBytes;
    let minOne = true;
    for (const e of targets) {
      const want = Math.max(0, Math.min(e.maxBytes, limit, mem?.available() ?? INT32_MAX));
      mem?.reserve(want);
      const r = await this.readOne(e, want, minOne, spec);
      mem?.reserve(r.bytes - want);
      if (r.bytes > 0) minOne = false;
      limit = Math.max(0, limit - r.bytes);
      out.push(r);
    }
    return out;
  }

  private lookup(e: FetchEntry, spec: ReadSpec) {
    const topic = spec.usesTopicIds
      ? this.opts.topics.getById(e.topicId)
      : e.topic === null
        ? undefined
        : this.opts.topics.get(e.topic);
    if (topic === undefined && spec.usesTopicIds) {
      return { ok: false as const, errorCode: ErrorCode.UNKNOWN_TOPIC_ID };
    }
    return findLeader(this.opts.partitions, this.opts.nodeId, topic, e.partition, e.currentLeaderEpoch);
  }

  private async readOne(
    e: FetchEntry,
    budget: number,
    minOne: boolean,
    spec: ReadSpec,
  ): Promise<PartitionRead> {
    const found = this.lookup(e, spec);
    if (!found.ok) return errorRead(e, found.errorCode, found.leader);
    const hosted = found.partition;
    const log = hosted.log;
    try {
      const r = await log.read(e.fetchOffset, budget, {
        maxOffset: readBound(log, spec.isolation, spec.follower),
        minOneBatch: minOne,
      });
      return {
        entry: e,
        errorCode: ErrorCode.NONE,
        records: joinBatches(r.batches, r.bytes),
        bytes: r.bytes,
        highWatermark: log.highWatermark,
        lastStableOffset: log.lastStableOffset,
        logStartOffset: log.logStartOffset,
        hosted,
      };
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      if (err.kind === 'OFFSET_OUT_OF_RANGE') {
        return {
          ...errorRead(e, ErrorCode.OFFSET_OUT_OF_RANGE),
          highWatermark: log.highWatermark,
          lastStableOffset: log.lastStableOffset,
          logStartOffset: log.logStartOffset,
          hosted,
        };
      }
      const code = err.kafkaErrorCode > 0 ? err.kafkaErrorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
      return { ...errorRead(e, code), hosted };
    }
  }

  /** Waits until minBytes are readable, an error shows, or the wait ends. */
  private waitForData(
    reads: readonly PartitionRead[],
    minBytes: number,
    maxWaitMs: number,
    spec: ReadSpec,
    signal: AbortSignal | undefined,
  ) {
    const byPartition = new Map<HostedPartition, PartitionRead[]>();
    const available = new Map<PartitionRead, number>();
    for (const r of reads) {
      available.set(r, r.bytes);
      if (r.hosted === undefined) continue;
      const list = byPartition.get(r.hosted);
      if (list) list.push(r);
      else byPartition.set(r.hosted, [r]);
    }
    const check = async (changed: ReadonlySet<HostedPartition>): Promise<boolean> => {
      for (const p of changed) {
        for (const r of byPartition.get(p) ?? []) {
          const probe = await this.probe(r.entry, minBytes, spec);
          if (probe === 'ready') return true;
          available.set(r, probe);
        }
      }
      let total = 0;
      for (const n of available.values()) total += n;
      return total >= minBytes;
    };
    return this.purgatory.wait({ partitions: [...byPartition.keys()], maxWaitMs, signal, check });
  }

  /** Bytes readable for a waiting partition, or 'ready' when the fetch should be answered now. */
  private async probe(e: FetchEntry, minBytes: number, spec: ReadSpec): Promise<number | 'ready'> {
    const found = this.lookup(e, spec);
    if (!found.ok) return 'ready'; // leadership, epoch or topic changed: answer with the error
    const log = found.partition.log;
    if (e.fetchOffset < log.logStartOffset || e.fetchOffset > log.logEndOffset) return 'ready';
    const bound = readBound(log, spec.isolation, spec.follower);
    if (bound <= e.fetchOffset) return 0;
    if (minBytes <= 1) return 'ready';
    // As Kafka, a partition counts at most its partitionMaxBytes. A read that
    // stopped short of the bound has more than its budget available.
    const budget = Math.min(Math.max(0, e.maxBytes), minBytes);
    try {
      const r = await log.read(e.fetchOffset, budget, { maxOffset: bound, minOneBatch: true });
      return r.nextOffset < bound ? Math.max(budget, r.bytes) : r.bytes;
    } catch {
      return 'ready';
    }
  }

  private respond(
    ctx: FetchContext,
    reads: readonly PartitionRead[],
    spec: ReadSpec,
  ): FetchResponse<Buffer | RecordsList> {
    const outcomes = new Map<string, PartitionOutcome>();
    const byKey = new Map<string, PartitionRead>();
    for (const r of reads) {
      byKey.set(r.entry.key, r);
      outcomes.set(r.entry.key, {
        errorCode: r.errorCode,
        highWatermark: r.highWatermark,
        logStartOffset: r.logStartOffset,
        recordBytes: r.bytes,
      });
    }
    const { sessionId, keys } = this.sessions.complete(ctx, outcomes);
    const responses: FetchResponse_FetchableTopicResponse<Buffer | RecordsList>[] = [];
    let cur: FetchResponse_FetchableTopicResponse<Buffer | RecordsList> | undefined;
    let curKey = '';
    for (const k of keys) {
      const r = byKey.get(k);
      if (r === undefined) continue;
      const topicKey = spec.usesTopicIds ? r.entry.topicId : (r.entry.topic ?? '');
      if (cur === undefined || topicKey !== curKey) {
        cur = { topic: r.entry.topic ?? '', topicId: r.entry.topicId, partitions: [] };
        curKey = topicKey;
        responses.push(cur);
      }
      cur.partitions.push(partitionData(r, spec));
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId, responses, nodeEndpoints: [] };
  }
}

function errorRead(e: FetchEntry, errorCode: number, leader?: LeaderHint): PartitionRead {
  return {
    entry: e,
    errorCode,
    records: EMPTY,
    bytes: 0,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    leader,
  };
}

function partitionData(r: PartitionRead, spec: ReadSpec): FetchResponse_PartitionData<Buffer | RecordsList> {
  const committed = spec.isolation === READ_COMMITTED && r.errorCode === ErrorCode.NONE;
  const d: FetchResponse_PartitionData<Buffer | RecordsList> = {
    partitionIndex: r.entry.partition,
    errorCode: r.errorCode,
    highWatermark: BigInt(r.highWatermark),
    lastStableOffset: BigInt(r.lastStableOffset),
    logStartOffset: BigInt(r.logStartOffset),
    abortedTransactions:
      committed && r.hosted
        ? abortedTransactions(r.hosted.log, r.entry.fetchOffset, r.lastStableOffset)
        : null,
    preferredReadReplica: -1,
    records: r.records,
  };
  if (r.leader !== undefined)
    d.currentLeader = { leaderId: r.leader.leaderId, leaderEpoch: r.leader.leaderEpoch };
  return d;
}

function emptyResponse(errorCode: number): FetchResponse {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] };
}
