/**
 * Composition root: wires config, storage, metadata, replicas, handlers and
 * listeners into one broker, and shuts them down in the reverse order.
 */
import { BrokerConfig } from '../common/config/broker-config.ts';
import { type LoadOptions, loadBrokerConfig } from '../common/config/load.ts';
import { type Logger, silentLogger } from '../common/logger.ts';
import type { BrokerInfo, MetadataStore } from '../metadata/model.ts';
import type { LogEngine } from '../storage/engine.ts';
import { createGroupCoordinator, type GroupCoordinator } from './group/coordinator.ts';
import { registerAllHandlers } from './handlers/all.ts';
import { HandlerRegistry } from './handlers/registry.ts';
import { Appender } from './replica/append.ts';
import { ReplicaManager } from './replica/replica-manager.ts';
import { type BoundListener, ListenerSet, parseListener } from './server/listeners.ts';
import type { RequestMemoryPool } from './server/request-memory-pool.ts';
import type { BrokerServices } from './services.ts';
import { TopicManager } from './topics/topic-manager.ts';
import { ProducerIdManager, producerIdStoreFor } from './txn/producer-id-manager.ts';

export interface BrokerOptions {
  /** Config sources; or a ready BrokerConfig. */
  config?: LoadOptions | BrokerConfig;
  logger?: Logger;
  /** Creates the log engine for the configured log dirs. */
  createEngine: (config: BrokerConfig, log: Logger) => Promise<LogEngine>;
  /** Creates the metadata store. */
  createMetadataStore: (config: BrokerConfig) => MetadataStore;
  /** When false, stop() leaves the engine and store open (the caller closes them). Default true. */
  ownsStorage?: boolean;
}

export class Broker implements BrokerServices {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly registry = new HandlerRegistry();
  topics!: TopicManager;
  replicas!: ReplicaManager;
  groups!: GroupCoordinator;
  appender!: Appender;
  producerIds!: ProducerIdManager;
  engine!: LogEngine;
  private store!: MetadataStore;
  private listeners!: ListenerSet;
  private stopped = false;
  private readonly opts: BrokerOptions;

  private constructor(opts: BrokerOptions) {
    this.opts = opts;
    this.config =
      opts.config instanceof BrokerConfig
        ? opts.config
        : new BrokerConfig(loadBrokerConfig(opts.config ?? {}));
    this.log = opts.logger ?? silentLogger();
  }

  static async start(opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(opts);
    try {
      await b.startup();
    } catch (e) {
      await b.stop().catch(() => {});
      throw e;
    }
    return b;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }
  get clusterId(): string {
    return this.topics.clusterId;
  }
  now(): number {
    return Date.now();
  }

  private async startup(): Promise<void> {
    for (const w of this.config.warnings) this.log.warn(w);
    this.engine = await this.opts.createEngine(this.config, this.log.child({ sub: 'storage' }));
    this.store = this.opts.createMetadataStore(this.config);
    this.topics = new TopicManager(this.store, this.config, this.nodeId, this.log.child({ sub: 'topics' }));
    await this.topics.load(this.config.str('cluster.id'));
    this.replicas = new ReplicaManager(
      this.engine,
      this.topics,
      this.config,
      this.nodeId,
      this.log.child({ sub: 'replicas' }),
    );
    await this.replicas.startup();
    this.groups = createGroupCoordinator({
      topics: this.topics,
      replicas: this.replicas,
      config: this.config,
      log: this.log.child({ sub: 'groups' }),
    });
    await this.groups.startup();
    this.producerIds = new ProducerIdManager(producerIdStoreFor(this.engine, this.config));
    this.appender = new Appender({
      replicas: this.replicas,
      topics: this.topics,
      config: this.config,
      nodeId: this.nodeId,
      log: this.log.child({ sub: 'produce' }),
      now: () => this.now(),
    });
    registerAllHandlers(this.registry);
    this.listeners = new ListenerSet(this.config, this, this.registry, this.log);
    await this.listeners.start();
    this.warnUnreachableAdvertised();
  }

  /** Request memory shared by all connections (queued.max.request.bytes); for tests and metrics. */
  get requestMemory(): RequestMemoryPool | undefined {
    return this.listeners?.pool;
  }

  /** Listeners as bound (ports resolved). */
  get boundListeners(): BoundListener[] {
    return this.listeners?.bound ?? [];
  }

  /** host:port clients should bootstrap from (the first listener, as advertised). */
  get bootstrapServers(): string {
    const first = this.boundListeners[0];
    if (!first) throw new Error('broker is not listening');
    const adv = this.advertisedFor(first.name);
    return `${adv.host.includes(':') ? `[${adv.host}]` : adv.host}:${adv.port}`;
  }

  private advertisedFor(listenerName: string): { host: string; port: number } {
    const bound = this.boundListeners.find((l) => l.name === listenerName) ?? this.boundListeners[0]!;
    for (const uri of this.config.list('advertised.listeners') ?? []) {
      const a = parseListener(uri, 'advertised.listeners');
      if (a.name === listenerName)
        return { host: a.host || bound.host || '127.0.0.1', port: a.port === 0 ? bound.boundPort : a.port };
    }
    const host =
      bound.host === '' || bound.host === '0.0.0.0' || bound.host === '::' ? '127.0.0.1' : bound.host;
    return { host, port: bound.boundPort };
  }

  private warnUnreachableAdvertised(): void {
    for (const uri of this.config.list('advertised.listeners') ?? []) {
      const a = parseListener(uri, 'advertised.listeners');
      if (a.host === '0.0.0.0' || a.host === '::' || a.host === '') {
        this.log.warn(
          { listener: a.name, host: a.host },
          `advertised.listeners has ${a.host || 'an empty host'} for ${a.name}: clients cannot connect to that address; advertise a hostname or IP they can reach`,
        );
      }
    }
  }

  brokersFor(listenerName: string): BrokerInfo[] {
    const adv = this.advertisedFor(listenerName);
    return [{ nodeId: this.nodeId, host: adv.host, port: adv.port, rack: this.config.str('broker.rack') }];
  }

  /** Clean shutdown: stop accepting, finish in-flight requests, flush, checkpoint, write the clean-shutdown marker. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.replicas?.beginShutdown();
    if (this.groups) await this.groups.shutdown(); // answers parked joins, so connections go idle
    if (this.listeners) await this.listeners.stop();
    this.appender?.close();
    if (this.replicas) await this.replicas.shutdown();
    if (this.opts.ownsStorage !== false) {
      if (this.engine) await this.engine.close();
      if (this.store) await this.store.close();
    }
    this.log.info('broker stopped');
  }
}
