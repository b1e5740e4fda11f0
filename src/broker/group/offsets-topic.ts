/**
 * `__consumer_offsets` as the coordinator's store: creates the compacted
 * internal topic on first use, appends coordinator records as v2 record
 * batches straight to the group's partition log (moving the high watermark:
 * single node, so an append is committed once the log has it), and reads
 * every partition back on start-up.
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import type { Logger } from '../../common/logger.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { StorageError } from '../../storage/errors.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { TopicManager } from '../topics/topic-manager.ts';
import { partitionForGroup } from './partitioner.ts';
import { type CoordinatorRecord, decodeRecord, encodeRecord } from './records.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Where the coordinator keeps its records; an interface so unit tests can fail appends at will. */
export interface CoordinatorStore {
  /** Creates the topic if needed; resolves once groups can be served. */
  ensureReady(): Promise<void>;
  readonly ready: boolean;
  /** Partition of `__consumer_offsets` for a group. */
  partitionFor(groupId: string): number;
  /** Appends records for one group; resolves once they are in the log. Throws KafkaProtocolError with the append's own error code. */
  append(groupId: string, records: CoordinatorRecord[], now: number): Promise<void>;
  /** Every record in the topic, partition by partition, in log order. */
  load(): AsyncIterable<CoordinatorRecord>;
}

export type OffsetsTopicDeps = {
  topics: TopicManager;
  replicas: ReplicaManager;
  config: BrokerConfig;
  log: Logger;
};

/** Kafka's mapping of append errors to what a group client can act on (JoinGroup, SyncGroup, ...). */
export function appendErrorToCoordinatorError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

/** The same for OffsetCommit, where a too-large append is INVALID_COMMIT_OFFSET_SIZE. */
export function appendErrorToCommitError(code: number): number {
  switch (code) {
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return appendErrorToCoordinatorError(code);
  }
}

export class OffsetsTopicStore implements CoordinatorStore {
  private readonly deps: OffsetsTopicDeps;
  private creating: Promise<void> | null = null;

  constructor(deps: OffsetsTopicDeps) {
    this.deps = deps;
  }

  get ready(): boolean {
    return this.deps.topics.get(OFFSETS_TOPIC) !== undefined;
  }

  get numPartitions(): number {
    return (
      this.deps.topics.get(OFFSETS_TOPIC)?.partitions.length ??
      this.deps.config.int('offsets.topic.num.partitions')
    );
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.numPartitions);
  }

  ensureReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.creating ??= this.create().finally(() => {
      this.creating = null;
    });
    return this.creating;
  }

  private async create(): Promise<void> {
    const { topics, config, log } = this.deps;
    if (topics.get(OFFSETS_TOPIC)) return;
    // Replication factor is capped by the live brokers (one here), as Kafka does for this topic.
    const live = 1;
    try {
      await topics.create({
        name: OFFSETS_TOPIC,
        numPartitions: config.int('offsets.topic.num.partitions'),
        replicationFactor: Math.min(config.int('offsets.topic.replication.factor'), live),
        internal: true,
        configs: {
          'cleanup.policy': 'compact',
          'compression.type': 'producer',
          'segment.bytes': String(config.int('offsets.topic.segment.bytes')),
        },
      });
      log.info({ topic: OFFSETS_TOPIC }, 'created the offsets topic');
    } catch (e) {
      if (e instanceof KafkaProtocolError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) return;
      log.warn({ err: e }, 'creating the offsets topic failed');
      throw new KafkaProtocolError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${OFFSETS_TOPIC}`);
    }
  }

  async append(groupId: string, records: CoordinatorRecord[], now: number): Promise<void> {
    if (records.length === 0) return;
    const partition = this.deps.replicas.get(OFFSETS_TOPIC, this.partitionFor(groupId));
    if (!partition) {
      throw new KafkaProtocolError(
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        `${OFFSETS_TOPIC} is not hosted here`,
      );
    }
    const batch = encodeRecordBatch({
      baseTimestamp: BigInt(now),
      records: records.map((r) => {
        const e = encodeRecord(r);
        return { key: e.key, value: e.value };
      }),
    });
    try {
      const res = await partition.log.append(batch, { leaderEpoch: partition.leaderEpoch });
      const log = partition.log;
      log.highWatermark = Math.max(log.highWatermark, res.lastOffset + 1);
    } catch (e) {
      const code = e instanceof StorageError ? e.kafkaErrorCode : ErrorCode.KAFKA_STORAGE_ERROR;
      this.deps.log.warn({ err: e, group: groupId }, 'appending to the offsets topic failed');
      throw new KafkaProtocolError(code, (e as Error).message);
    }
    partition.notifyAppended();
  }

  async *load(): AsyncIterable<CoordinatorRecord> {
    const topic = this.deps.topics.get(OFFSETS_TOPIC);
    if (!topic) return;
    for (const p of topic.partitions) {
      const partition = this.deps.replicas.get(OFFSETS_TOPIC, p.partition);
      if (!partition) continue;
      const log = partition.log;
      // Everything in the log was appended by this coordinator before it answered; single node, so it is committed.
      const end = log.logEndOffset;
      let offset = log.logStartOffset;
      while (offset < end) {
        const res = await log.read(offset, 1 << 20, { maxOffset: end });
        if (res.batches.length === 0) break;
        for (const b of res.batches) {
          const batch = decodeRecordBatch(b);
          if (batch.header.attributes & 0x20) continue; // control batch
          for (const rec of batch.records) {
            if (rec.key === null) continue;
            let decoded: CoordinatorRecord | null;
            try {
              decoded = decodeRecord(rec.key, rec.value);
            } catch (e) {
              this.deps.log.warn(
                { err: e, partition: p.partition },
                'skipping an undecodable offsets record',
              );
              continue;
            }
            if (decoded) yield decoded;
          }
        }
        if (res.nextOffset <= offset) break;
        offset = res.nextOffset;
      }
      if (log.highWatermark < end) log.highWatermark = end;
    }
  }
}
