/**
 * Topic lifecycle on one node: names, ids, partition assignment, topic
 * configs, persisted through the MetadataStore. Every change is one
 * serialised step (create/delete never interleave), stored before it is
 * acted on, then applied to the replica manager.
 */
import { randomBytes } from 'node:crypto';
import { BrokerConfig, type DynamicScope } from '../../common/config/broker-config.ts';
import { ConfigError, formatValue } from '../../common/config/registry.ts';
import { TOPIC_SYNONYM_BROKER_KEYS } from '../../common/config/topic-configs.ts';
import type { Logger } from '../../common/logger.ts';
import type { ClusterMetadata, MetadataStore, PartitionInfo, TopicInfo } from '../../metadata/model.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import { topicsCollide, validateTopicConfigs, validateTopicName } from './topic-validation.ts';

export { MAX_TOPIC_NAME, topicsCollide, validateTopicName } from './topic-validation.ts';

export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);
/** Most partitions one CreateTopics or CreatePartitions request may create (Kafka's controller batch limit). */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

export function newTopicId(): string {
  for (;;) {
    const b = randomBytes(16);
    // Kafka reserves the zero UUID and ids starting with '-' in base64url.
    const id = b.toString('base64url');
    if (!id.startsWith('-') && !b.every((x) => x === 0)) return id;
  }
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
  /** Indexes over meta.topics: by topic id, and by collision key ('.' as '_'). */
  private readonly byId = new Map<string, TopicInfo>();
  private readonly byCollisionKey = new Map<string, string>();
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
    this.meta.brokerConfigs ??= {};
    this.applyStoredBrokerConfigs();
    this.byId.clear();
    this.byCollisionKey.clear();
    for (const t of this.list()) this.indexTopic(t);
    return this.meta;
  }

  private indexTopic(t: TopicInfo): void {
    this.byId.set(t.topicId, t);
    this.byCollisionKey.set(t.name.replaceAll('.', '_'), t.name);
  }

  private unindexTopic(t: TopicInfo): void {
    this.byId.delete(t.topicId);
    this.byCollisionKey.delete(t.name.replaceAll('.', '_'));
  }

  /** Key under which a dynamic broker config scope is stored: "" for the cluster default, else the node id. */
  private scopeKey(scope: DynamicScope): string {
    return scope === 'cluster' ? '' : String(this.nodeId);
  }

  /** Applies the stored dynamic broker configs; an entry that no longer parses is skipped with a warning. */
  private applyStoredBrokerConfigs(): void {
    for (const scope of ['cluster', 'broker'] as const) {
      const stored = this.meta.brokerConfigs[this.scopeKey(scope)] ?? {};
      const good: Record<string, string> = {};
      for (const [k, v] of Object.entries(stored)) {
        try {
          BrokerConfig.parseDynamic({ [k]: v });
          good[k] = v;
        } catch (e) {
          this.log.warn(
            { key: k, value: v, err: (e as Error).message },
            'ignoring stored dynamic broker config',
          );
        }
      }
      this.config.replaceDynamic(scope, BrokerConfig.parseDynamic(good));
    }
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
    return this.byId.get(topicId);
  }

  /** Runs `fn` after every earlier change has finished (one change at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Validates a complete set of topic config overrides; returns them as Kafka
   * strings. Throws INVALID_CONFIG naming the key, the value and what is
   * allowed. A null value is refused unless `nullMeansUnset`.
   */
  validateConfigs(
    configs: Record<string, string | null> | undefined,
    nullMeansUnset = true,
  ): Record<string, string> {
    return validateTopicConfigs(this.config, configs, nullMeansUnset);
  }

  /** Checks a create request; returns the partition assignment it would make. */
  plan(spec: CreateTopicSpec): { partitions: PartitionInfo[]; configs: Record<string, string> } {
    validateTopicName(spec.name);
    if (this.get(spec.name)) {
      throw new KafkaProtocolError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`);
    }
    if (!spec.internal && spec.name.startsWith('__') && INTERNAL_TOPICS.has(spec.name)) {
      throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, `${spec.name} is an internal topic`);
    }
    const other = this.byCollisionKey.get(spec.name.replaceAll('.', '_'));
    if (other !== undefined && topicsCollide(spec.name, other))
      throw new KafkaProtocolError(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${spec.name}' collides with existing topic: ${other}`,
      );
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
            'Partitions should be a consecutive 0-based integer sequence',
          );
        this.checkReplicas(a.partition, a.replicas, sorted[0]!.replicas.length);
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
    return { partitions, configs: this.validateConfigs(spec.configs, false) };
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

  /** Checks one partition's replica list: non-empty, no duplicates, live brokers, the topic's replication factor. */
  private checkReplicas(partition: number, replicas: readonly number[], rf: number | undefined): void {
    const bad = (why: string) => new KafkaProtocolError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, why);
    if (replicas.length === 0) throw bad(`The replica assignment for partition ${partition} is empty`);
    if (new Set(replicas).size !== replicas.length)
      throw bad(
        `Duplicate brokers not allowed in replica assignment: ${replicas.join(', ')} for partition ${partition}`,
      );
    for (const r of replicas) {
      if (r !== this.nodeId)
        throw bad(
          `The replica assignment for partition ${partition} names broker ${r}, which is not registered`,
        );
    }
    if (rf !== undefined && replicas.length !== rf)
      throw bad(
        `Inconsistent replication factor: partition ${partition} has ${replicas.length} replicas while the topic has ${rf}`,
      );
  }

  create(spec: CreateTopicSpec): Promise<TopicInfo> {
    return this.createMany([spec]).then(([r]) => {
      if (r instanceof Error) throw r;
      return r!;
    });
  }

  /**
   * Creates several topics in one step with one metadata write (a
   * CreateTopics request): each either gets its TopicInfo or the
   * KafkaProtocolError that refused it. If storing fails, none is created.
   */
  createMany(specs: readonly CreateTopicSpec[]): Promise<(TopicInfo | KafkaProtocolError)[]> {
    return this.serial(async () => {
      const results: (TopicInfo | KafkaProtocolError)[] = [];
      const created: TopicInfo[] = [];
      for (const spec of specs) {
        try {
          const { partitions, configs } = this.plan(spec);
          const topic: TopicInfo = {
            name: spec.name,
            topicId: newTopicId(),
            internal: spec.internal ?? false,
            partitions,
            configs,
          };
          this.meta.topics[spec.name] = topic;
          this.indexTopic(topic);
          created.push(topic);
          results.push(topic);
        } catch (e) {
          if (!(e instanceof KafkaProtocolError)) throw e;
          results.push(e);
        }
      }
      if (created.length === 0) return results;
      this.meta.version++;
      try {
        await this.store.save(this.meta);
      } catch (e) {
        for (const t of created) {
          delete this.meta.topics[t.name];
          this.unindexTopic(t);
        }
        throw e;
      }
      for (const t of created) {
        this.log.info(
          { topic: t.name, topicId: t.topicId, partitions: t.partitions.length },
          'topic created',
        );
        for (const l of this.listeners) await l.partitionsAdded(t, t.partitions);
      }
      return results;
    });
  }

  /**
   * Deletes a topic and (through the listeners) its logs; the name can be
   * created again at once, with a new topic id. With `topicId`, deletes only
   * if the topic still has that id (UNKNOWN_TOPIC_ID otherwise).
   */
  delete(name: string, topicId?: string): Promise<TopicInfo> {
    return this.deleteMany([{ name, topicId }]).then(([r]) => {
      if (r instanceof Error) throw r;
      return r!;
    });
  }

  /** Deletes several topics with one metadata write (a DeleteTopics request); per topic a result or error. */
  deleteMany(
    targets: readonly { name: string; topicId?: string | undefined }[],
  ): Promise<(TopicInfo | KafkaProtocolError)[]> {
    return this.serial(async () => {
      const results: (TopicInfo | KafkaProtocolError)[] = [];
      const deleted: TopicInfo[] = [];
      for (const { name, topicId } of targets) {
        const topic = this.get(name);
        if (topicId !== undefined && topic?.topicId !== topicId) {
          results.push(new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${topicId}`));
        } else if (!topic) {
          results.push(
            new KafkaProtocolError(
              ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              `This server does not host this topic: ${name}`,
            ),
          );
        } else {
          delete this.meta.topics[name];
          this.unindexTopic(topic);
          deleted.push(topic);
          results.push(topic);
        }
      }
      if (deleted.length === 0) return results;
      this.meta.version++;
      try {
        await this.store.save(this.meta);
      } catch (e) {
        for (const t of deleted) {
          this.meta.topics[t.name] = t;
          this.indexTopic(t);
        }
        throw e;
      }
      for (const t of deleted) {
        this.log.info({ topic: t.name, topicId: t.topicId }, 'topic deleted');
        for (const l of this.listeners) await l.topicDeleted(t);
      }
      return results;
    });
  }

  /**
   * Grows a topic to `total` partitions. `assignments` (one replica list per
   * new partition) is optional; without it new partitions go to this broker.
   */
  addPartitions(
    name: string,
    total: number,
    validateOnly: boolean,
    assignments: readonly (readonly number[])[] | null = null,
  ): Promise<TopicInfo> {
    return this.serial(async () => {
      const topic = this.get(name);
      if (!topic)
        throw new KafkaProtocolError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `This server does not host this topic: ${name}`,
        );
      const cur = topic.partitions.length;
      if (total < cur) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_PARTITIONS,
          `Topic currently has ${cur} partitions, which is higher than the requested ${total}.`,
        );
      }
      if (total === cur)
        throw new KafkaProtocolError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${cur} partitions.`);
      if (total - cur > MAX_PARTITIONS_PER_REQUEST)
        throw new KafkaProtocolError(
          ErrorCode.POLICY_VIOLATION,
          'Excessively large number of partitions per request.',
        );
      const rf = topic.partitions[0]?.replicas.length;
      if (assignments !== null) {
        if (assignments.length !== total - cur)
          throw new KafkaProtocolError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Attempted to add ${total - cur} additional partition(s), but only ${assignments.length} assignment(s) were specified.`,
          );
        assignments.forEach((r, i) => {
          this.checkReplicas(cur + i, r, rf);
        });
      }
      const added = Array.from({ length: total - cur }, (_, i) =>
        this.partitionInfo(cur + i, assignments ? [...assignments[i]!] : [this.nodeId]),
      );
      if (validateOnly) return topic;
      topic.partitions.push(...added);
      this.meta.version++;
      try {
        await this.store.save(this.meta);
      } catch (e) {
        topic.partitions.length = cur;
        throw e;
      }
      this.log.info({ topic: name, partitions: total }, 'partitions added');
      for (const l of this.listeners) await l.partitionsAdded(topic, added);
      return topic;
    });
  }

  /** Replaces a topic's config overrides with `next` (legacy AlterConfigs). */
  alterConfigs(name: string, next: Record<string, string | null>, validateOnly: boolean): Promise<void> {
    return this.alterTopicConfigs(name, () => next, validateOnly);
  }

  /**
   * Changes a topic's config overrides: `edit` gets the current overrides and
   * returns the complete new set, inside the serial step (so concurrent
   * incremental changes do not lose each other). Validated whole; stored, then
   * applied to the partition logs.
   */
  alterTopicConfigs(
    name: string,
    edit: (current: Readonly<Record<string, string>>) => Record<string, string | null>,
    validateOnly: boolean,
  ): Promise<void> {
    return this.serial(async () => {
      const topic = this.get(name);
      if (!topic)
        throw new KafkaProtocolError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `This server does not host this topic: ${name}`,
        );
      const validated = this.validateConfigs(edit(topic.configs));
      if (validateOnly) return;
      const before = topic.configs;
      topic.configs = validated;
      this.meta.version++;
      try {
        await this.store.save(this.meta);
      } catch (e) {
        topic.configs = before;
        throw e;
      }
      this.log.info({ topic: name, configs: validated }, 'topic configs changed');
      for (const l of this.listeners) l.topicConfigChanged(topic);
    });
  }

  /** Dynamic broker config overrides of one scope, as Kafka strings. */
  brokerConfigs(scope: DynamicScope): Record<string, string> {
    return this.config.dynamicConfigs(scope);
  }

  /**
   * Changes dynamic broker configs of one scope ('cluster' = Kafka's default
   * broker resource "", 'broker' = this node): `edit` returns the complete new
   * set. Invalid or read-only keys are INVALID_REQUEST (Kafka's code for
   * broker resources) naming the key, the value and what is allowed. Stored,
   * then applied; topic logs follow when a topic default changed.
   */
  alterBrokerConfigs(
    scope: DynamicScope,
    edit: (current: Readonly<Record<string, string>>) => Record<string, string | null>,
    validateOnly: boolean,
  ): Promise<void> {
    return this.serial(async () => {
      const next = edit(this.config.dynamicConfigs(scope));
      let parsed: ReturnType<typeof BrokerConfig.parseDynamic>;
      try {
        parsed = BrokerConfig.parseDynamic(next);
      } catch (e) {
        if (e instanceof ConfigError) throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, e.message);
        throw e;
      }
      if (validateOnly) return;
      const stored: Record<string, string> = {};
      for (const [k, v] of parsed) stored[k] = formatValue(v) ?? '';
      const key = this.scopeKey(scope);
      const before = this.meta.brokerConfigs[key];
      if (Object.keys(stored).length === 0) delete this.meta.brokerConfigs[key];
      else this.meta.brokerConfigs[key] = stored;
      this.meta.version++;
      try {
        await this.store.save(this.meta);
      } catch (e) {
        if (before) this.meta.brokerConfigs[key] = before;
        else delete this.meta.brokerConfigs[key];
        throw e;
      }
      const changed = this.config.replaceDynamic(scope, parsed);
      this.log.info({ scope, configs: stored, changed }, 'dynamic broker configs changed');
      if (changed.some((k) => TOPIC_SYNONYM_BROKER_KEYS.has(k))) {
        for (const t of this.list()) for (const l of this.listeners) l.topicConfigChanged(t);
      }
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
