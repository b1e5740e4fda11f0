/**
 * Cluster metadata model shared by every backend: brokers, topics with ids,
 * partition assignments (leader, epochs, replicas, ISR) and topic configs.
 * Single node: the embedded store; cluster: etcd (later issue).
 */
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicInfo {
  name: string;
  /** Kafka topic id, base64url of 16 bytes. */
  topicId: string;
  internal: boolean;
  partitions: PartitionInfo[];
  /** Topic-level overrides only (Kafka's string values). */
  configs: Record<string, string>;
}

export interface ClusterMetadata {
  clusterId: string;
  controllerId: number;
  /** Bumped on every change. */
  version: number;
  topics: Record<string, TopicInfo>;
  /** Dynamic broker configs (cluster-wide default and per broker). */
  brokerConfigs: Record<string, Record<string, string>>;
}

/** Persistence for cluster metadata. Writes are atomic: a change is either stored whole or not at all. */
export interface MetadataStore {
  load(): Promise<ClusterMetadata | null>;
  save(meta: ClusterMetadata): Promise<void>;
  close(): Promise<void>;
}
