/**
 * Topic lifecycle on one node: names, ids, partition assignment, topic
 * configs, persisted through the MetadataStore. Every change is one
 * serialised step (create/delete never interleave), stored before it is
 * acted on, then applied to the replica manager.
 */
import { randomBytes } from 'node:crypto';
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { ConfigError, formatValue, parseValue } from '../../common/config/registry.ts';
import { TOPIC_CONFIG_DEFS } from '../../common/config/topic-configs.ts';
import type { Logger } from '../../common/logger.ts';
import type { ClusterMetadata, MetadataStore, PartitionInfo, TopicInfo } from '../../metadata/model.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';

export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME = 249;

export function newTopicId(): string {
  for (;;) {
    const b = randomBytes(16);
    // Kafka reserves the zero UUID and ids starting with '-' in base64url.
    const id = b.toString('base64url');
    if (!id.startsWith('-') && !b.every((x) => x === 0)) return id;
  }
}

/** Throws INVALID_TOPIC_EXCEPTION unless `name` is a legal Kafka topic name. */
export function validateTopicName(name: string): void {
  const err = (why: string) =>
    new KafkaProtocolError(ErrorCode.INVALID_TOPIC_EXCEPTION, `topic name ${JSON.stringify(name)} ${why}`);
  if (name.length === 0) throw err('is empty');
  if (name === '.' || name === '..') throw err('cannot be "." or ".."');
  if (name.length > MAX_TOPIC_NAME) throw err(`is longer than ${MAX_TOPIC_NAME} characters`);
  if (!LEGAL_TOPIC.test(name)) throw err('may contain only ASCII letters, digits, ".", "_" and "-"');
}

export interface CreateTopicSpec {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  /** Explicit assignment: partition -> replica broker ids. */
  assignments?: { partition: number; replicas: number[] }[];
  configs?: Record<string, string | null>;
  internal?: boolean;
}

export interface TopicListener {
  /** Called after a topic's partitions are stored (created or added). */
  partitionsAdded(topic: TopicInfo, partitions: PartitionInfo[]): Promise<void>;
  /** Called after a topic is removed from metadata. */
  topicDeleted(topic: TopicInfo): Promise<void>;
  /** Called after topic configs change. */
  topicConfigChanged(topic: TopicInfo): void;
}

export class TopicManager {
  private meta!: ClusterMetadata;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: TopicListener[] = [];
  private readonly store: MetadataStore;
  private readonly config: BrokerConfig;
  private readonly nodeId: number;
  private readonly log: Logger;

  constructor(store: MetadataStore, config: BrokerConfig, nodeId: number, log: Logger) {
    this.store = store;
    this.config = config;
    this.nodeId = nodeId;
    this.log = log;
  }

  async load(clusterId: string | null): Promise<ClusterMetadata> {
    const stored = await this.store.load();
    this.meta = stored ?? {
      clusterId: clusterId ?? randomBytes(16).toString('base64url'),
      controllerId: this.nodeId,
      version: 0,
      topics: {},
      brokerConfigs: {},
    };
    if (clusterId && stored && stored.clusterId !== clusterId) {
      throw new ConfigError(
        'cluster.id',
        `cluster.id ${clusterId} does not match ${stored.clusterId} stored in the log directory; use the same cluster.id or a fresh log.dirs`,
      );
    }
    if (!stored) await this.store.save(this.meta);
    return this.meta;
  }

  addListener(l: TopicListener): void {
    this.listeners.push(l);
  }

  get clusterId(): string {
    return this.meta.clusterId;
  }
  get metadataVersion(): number {
    return this.meta.version;
  }

  list(): TopicInfo[] {
    return Object.values(this.meta.topics);
  }
  get(name: string): TopicInfo | undefined {
    return Object.hasOwn(this.meta.topics, name) ? this.meta.topics[name] : undefined;
  }
  getById(topicId: string): TopicInfo | undefined {
    return this.list().find((t) => t.topicId === topicId);
  }

  /** Runs `fn` after every earlier change has finished (one change at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Validates topic config overrides; returns them as Kafka strings. Throws INVALID_CONFIG. */
  validateConfigs(configs: Record<string, string | null> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(configs ?? {})) {
      const def = TOPIC_CONFIG_DEFS.get(k);
      if (!def) throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `unknown topic config ${k}`);
      if (v === null) continue;
      try {
        out[k] = formatValue(parseValue(def, v)) ?? '';
      } catch (e) {
        throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, (e as Error).message);
      }
    }
    return out;
  }

  /** Checks a create request; returns the partition assignment it would make. */
  plan(spec: CreateTopicSpec): { partitions: PartitionInfo[]; configs: Record<string, string> } {
    validateTopicName(spec.name);
    if (this.get(spec.name)) {
      throw new KafkaProtocolError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${spec.name} already exists`);
    }
    if (!spec.internal && spec.name.startsWith('__') && INTERNAL_TOPICS.has(spec.name)) {
      throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, `${spec.name} is an internal topic`);
    }
    const live = [this.nodeId];
    let partitions: PartitionInfo[];
    if (spec.assignments && spec.assignments.length > 0) {
      if (spec.numPartitions !== -1 || spec.replicationFactor !== -1) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REQUEST,
          'numPartitions and replicationFactor must be -1 when a replica assignment is given',
        );
      }
      const sorted = [...spec.assignments].sort((a, b) => a.partition - b.partition);
      sorted.forEach((a, i) => {
        if (a.partition !== i)
          throw new KafkaProtocolError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'partitions must be numbered 0..n-1',
          );
        if (a.replicas.length === 0 || new Set(a.replicas).size !== a.replicas.length) {
          throw new KafkaProtocolError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `partition ${i} has an empty or duplicate replica list`,
          );
        }
        for (const r of a.replicas) {
          if (!live.includes(r))
            throw new KafkaProtocolError(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `broker ${r} is not registered`,
            );
        }
      });
      partitions = sorted.map((a) => this.partitionInfo(a.partition, a.replicas));
    } else {
      const n = spec.numPartitions === -1 ? this.config.int('num.partitions') : spec.numPartitions;
      const rf =
        spec.replicationFactor === -1
          ? this.config.int('default.replication.factor')
          : spec.replicationFactor;
      if (n <= 0)
        throw new KafkaProtocolError(
          ErrorCode.INVALID_PARTITIONS,
          `number of partitions must be at least 1, got ${n}`,
        );
      if (rf <= 0)
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `replication factor must be at least 1, got ${rf}`,
        );
      if (rf > live.length) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Replication factor: ${rf} larger than available brokers: ${live.length}.`,
        );
      }
      partitions = Array.from({ length: n }, (_, p) => this.partitionInfo(p, [live[p % live.length]!]));
    }
    return { partitions, configs: this.validateConfigs(spec.configs) };
  }

  private partitionInfo(partition: number, replicas: number[]): PartitionInfo {
    return {
      partition,
      leader: replicas[0]!,
      leaderEpoch: 0,
      partitionEpoch: 0,
      replicas,
      isr: [...replicas],
      offlineReplicas: [],
    };
  }

  create(spec: CreateTopicSpec): Promise<TopicInfo> {
    return this.serial(async () => {
      const { partitions, configs } = this.plan(spec);
      const topic: TopicInfo = {
        name: spec.name,
        topicId: newTopicId(),
        internal: spec.internal ?? false,
        partitions,
        configs,
      };
      this.meta.topics[spec.name] = topic;
      this.meta.version++;
      try {
        await this.store.save(this.meta);
      } catch (e) {
        delete this.meta.topics[spec.name];
        throw e;
      }
      this.log.info({ topic: spec.name, partitions: partitions.length }, 'topic created');
      for (const l of this.listeners) await l.partitionsAdded(topic, partitions);
      return topic;
    });
  }

  delete(name: string): Promise<TopicInfo> {
    return this.serial(async () => {
      const topic = this.get(name);
      if (!topic)
        throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      delete this.meta.topics[name];
      this.meta.version++;
      await this.store.save(this.meta);
      this.log.info({ topic: name }, 'topic deleted');
      for (const l of this.listeners) await l.topicDeleted(topic);
      return topic;
    });
  }

  /** Adds partitions up to `total`. */
  addPartitions(name: string, total: number, validateOnly: boolean): Promise<TopicInfo> {
    return this.serial(async () => {
      const topic = this.get(name);
      if (!topic)
        throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      const cur = topic.partitions.length;
      if (total <= cur) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_PARTITIONS,
          `Topic currently has ${cur} partitions, which is higher than the requested ${total}.`,
        );
      }
      const added = Array.from({ length: total - cur }, (_, i) => this.partitionInfo(cur + i, [this.nodeId]));
      if (validateOnly) return topic;
      topic.partitions.push(...added);
      this.meta.version++;
      await this.store.save(this.meta);
      for (const l of this.listeners) await l.partitionsAdded(topic, added);
      return topic;
    });
  }

  /** Replaces (set) or edits (incremental) topic config overrides. */
  alterConfigs(name: string, next: Record<string, string>, validateOnly: boolean): Promise<void> {
    return this.serial(async () => {
      const topic = this.get(name);
      if (!topic)
        throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      const validated = this.validateConfigs(next);
      if (validateOnly) return;
      topic.configs = validated;
      this.meta.version++;
      await this.store.save(this.meta);
      for (const l of this.listeners) l.topicConfigChanged(topic);
    });
  }

  /** Persists the current metadata (after a leader epoch change, say). */
  persist(): Promise<void> {
    return this.serial(async () => {
      this.meta.version++;
      await this.store.save(this.meta);
    });
  }

  /** Effective value of a topic config: override, else the broker-level default. */
  effective(topic: TopicInfo, key: string): string | null {
    if (Object.hasOwn(topic.configs, key)) return topic.configs[key]!;
    return formatValue(this.config.topicDefault(key));
  }
}
