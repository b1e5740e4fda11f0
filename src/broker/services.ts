/**
 * The services the composition root (broker.ts) wires together and hands to
 * every handler through the request context.
 */
import type { BrokerConfig } from '../common/config/broker-config.ts';
import type { Logger } from '../common/logger.ts';
import type { BrokerInfo } from '../metadata/model.ts';
import type { GroupCoordinator } from './group/coordinator.ts';
import type { Appender } from './replica/append.ts';
import type { ReplicaManager } from './replica/replica-manager.ts';
import type { TopicManager } from './topics/topic-manager.ts';
import type { ProducerIdManager } from './txn/producer-id-manager.ts';

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface BrokerServices {
  readonly config: BrokerConfig;
  readonly nodeId: number;
  readonly clusterId: string;
  readonly log: Logger;
  /** The registered APIs and their versions (ApiVersions answers from this). */
  readonly registry: { versions(): ApiVersionRange[]; get(apiKey: number): unknown };
  readonly topics: TopicManager;
  readonly replicas: ReplicaManager;
  /** Consumer groups and committed offsets. */
  readonly groups: GroupCoordinator;
  /** The produce path (validation, idempotence, append, acks). */
  readonly appender: Appender;
  /** Producer ids for InitProducerId. */
  readonly producerIds: ProducerIdManager;
  /** Brokers as clients on `listenerName` should reach them. */
  brokersFor(listenerName: string): BrokerInfo[];
  /** Wall clock in ms. */
  now(): number;
}
