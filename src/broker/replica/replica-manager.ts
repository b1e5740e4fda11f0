/**
 * Partition replicas hosted by this broker: opens and closes partition logs as
 * topics come and go, and keeps per-partition leader state. Produce, fetch,
 * list-offsets and delete-records logic lives here and in partition.ts.
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { TOPIC_CONFIG_DEFS } from '../../common/config/topic-configs.ts';
import type { Logger } from '../../common/logger.ts';
import type { PartitionInfo, TopicInfo } from '../../metadata/model.ts';
import { fromKafkaConfig, type LogConfig } from '../../storage/config.ts';
import type { LogEngine, PartitionLog } from '../../storage/engine.ts';
import type { TopicListener, TopicManager } from '../topics/topic-manager.ts';
import { FetchManager } from './fetch.ts';

export class Partition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly log: PartitionLog;
  info: PartitionInfo;

  constructor(topic: TopicInfo, info: PartitionInfo, log: PartitionLog) {
    this.topic = topic.name;
    this.topicId = topic.topicId;
    this.partition = info.partition;
    this.info = info;
    this.log = log;
  }

  get leaderEpoch(): number {
    return this.info.leaderEpoch;
  }

  private readonly appendListeners = new Set<() => void>();

  /** Registers a callback run after new data becomes visible (appended and the high watermark moved). */
  addAppendListener(fn: () => void): void {
    this.appendListeners.add(fn);
  }

  removeAppendListener(fn: () => void): void {
    this.appendListeners.delete(fn);
  }

  /** Called by the produce path after an append moved the high watermark (wakes long-polling fetches). */
  notifyAppended(): void {
    for (const fn of [...this.appendListeners]) fn();
  }
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ReplicaManager implements TopicListener {
  private readonly partitions = new Map<string, Partition>();
  readonly engine: LogEngine;
  private readonly topics: TopicManager;
  private readonly config: BrokerConfig;
  private readonly nodeId: number;
  private readonly log: Logger;
  /** Fetch sessions and delayed (long-polling) fetches. */
  readonly fetches: FetchManager;

  constructor(engine: LogEngine, topics: TopicManager, config: BrokerConfig, nodeId: number, log: Logger) {
    this.engine = engine;
    this.topics = topics;
    this.config = config;
    this.nodeId = nodeId;
    this.log = log;
    this.fetches = FetchManager.create(this, topics, config, nodeId);
    topics.addListener(this);
  }

  /** First step of a clean stop, before connections drain: answers waiting fetches now. */
  beginShutdown(): void {
    this.fetches.shutdown();
  }

  /** Opens the logs of every partition this broker hosts (after a restart). */
  async startup(): Promise<void> {
    for (const t of this.topics.list()) await this.partitionsAdded(t, t.partitions);
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(key(topic, partition));
  }

  all(): Partition[] {
    return [...this.partitions.values()];
  }

  logConfigFor(topic: TopicInfo): LogConfig {
    const cfg: Record<string, string | number | boolean | undefined> = {};
    for (const k of TOPIC_CONFIG_DEFS.keys()) cfg[k] = this.topics.effective(topic, k) ?? undefined;
    cfg['samsa.fsync.before.ack'] = this.config.bool('samsa.log.fsync.before.ack');
    return fromKafkaConfig(cfg);
  }

  async partitionsAdded(topic: TopicInfo, partitions: PartitionInfo[]): Promise<void> {
    const logConfig = this.logConfigFor(topic);
    for (const p of partitions) {
      if (!p.replicas.includes(this.nodeId)) continue;
      const k = key(topic.name, p.partition);
      if (this.partitions.has(k)) continue;
      const log = await this.engine.openLog(topic.name, p.partition, logConfig);
      if (log.latestEpoch() < p.leaderEpoch && p.leader === this.nodeId) {
        log.assignEpochStartOffset(p.leaderEpoch, log.logEndOffset);
      }
      // A leader's high watermark is the smallest log end offset in the ISR (Kafka's
      // makeLeader -> maybeIncrementLeaderHW): with ISR {self}, its own log end, at once.
      // The checkpointed value lags after a crash and would hide acknowledged records.
      if (p.leader === this.nodeId && p.isr.every((id) => id === this.nodeId)) {
        log.highWatermark = log.logEndOffset;
      }
      this.partitions.set(k, new Partition(topic, p, log));
    }
  }

  async topicDeleted(topic: TopicInfo): Promise<void> {
    for (const p of topic.partitions) {
      const k = key(topic.name, p.partition);
      if (!this.partitions.delete(k)) continue;
      try {
        await this.engine.deleteLog(topic.name, p.partition);
      } catch (e) {
        this.log.warn({ err: e, topic: topic.name, partition: p.partition }, 'deleting partition log failed');
      }
    }
  }

  topicConfigChanged(topic: TopicInfo): void {
    const cfg = this.logConfigFor(topic);
    for (const p of topic.partitions) this.get(topic.name, p.partition)?.log.updateConfig(cfg);
  }

  async shutdown(): Promise<void> {
    this.fetches.shutdown();
    this.partitions.clear();
  }
}
