/**
 * Public test kit: `await startBroker()` gives a real Samsa broker inside the
 * test process, on an ephemeral loopback port, ready when the promise
 * resolves (it answers Kafka requests). Many brokers per process are fine.
 *
 *   import { startBroker } from 'samsa/testing';
 *   const broker = await startBroker();            // memory storage
 *   // new Kafka({ brokers: [broker.bootstrapServers] }) ...
 *   await broker.stop();
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../broker/broker.ts';
import { createEngine, createMetadataStore, type StorageKind } from '../broker/storage-factory.ts';
import { BrokerConfig } from '../common/config/broker-config.ts';
import { DEV_PRESET, loadBrokerConfig } from '../common/config/load.ts';
import type { Logger } from '../common/logger.ts';
import type { FileIO } from '../storage/io.ts';

export interface StartBrokerOptions {
  /** 'memory' (default) or 'file'. */
  storage?: StorageKind;
  /** Log directory for file storage; a fresh temp dir (removed on stop) when omitted. */
  dir?: string;
  /** Broker configs by Kafka name, e.g. { 'num.partitions': 3 }. */
  config?: Record<string, unknown>;
  /** Fixed port (default: an ephemeral port). */
  port?: number;
  logger?: Logger;
  /**
   * File storage only: the engine's file operations, for fault tests (a
   * power-loss shim, injected ENOSPC; see storage/fault-io.ts). Kept across restart().
   */
  io?: FileIO;
}

export interface TestBroker {
  /** "127.0.0.1:port" */
  readonly bootstrapServers: string;
  readonly port: number;
  readonly broker: Broker;
  stop(): Promise<void>;
  /** Stops and starts again on the same port and data (memory storage keeps its data across restart). */
  restart(): Promise<void>;
}

export async function startBroker(opts: StartBrokerOptions = {}): Promise<TestBroker> {
  const kind = opts.storage ?? 'memory';
  let dir = opts.dir;
  const ownDir = kind === 'file' && !dir;
  if (ownDir) dir = await mkdtemp(join(tmpdir(), 'samsa-test-'));
  const makeConfig = (port: number) =>
    new BrokerConfig(
      loadBrokerConfig({
        dev: true,
        overrides: {
          ...DEV_PRESET,
          listeners: `PLAINTEXT://127.0.0.1:${port}`,
          ...(dir ? { 'log.dirs': dir } : {}),
          ...opts.config,
        },
      }),
    );
  let engine: Awaited<ReturnType<typeof createEngine>> | undefined;
  let store: ReturnType<typeof createMetadataStore> | undefined;
  const launch = (port: number) =>
    Broker.start({
      config: makeConfig(port),
      logger: opts.logger,
      // Memory storage survives restart() by reusing the same engine and store.
      createEngine: async (c, l) => {
        if (kind === 'memory') return (engine ??= await createEngine(kind, c, l));
        return createEngine(kind, c, l, opts.io ? { io: opts.io } : {});
      },
      ownsStorage: kind !== 'memory',
      createMetadataStore: (c) => {
        if (kind === 'memory') return (store ??= createMetadataStore(kind, c));
        return createMetadataStore(kind, c);
      },
    });
  let broker = await launch(opts.port ?? 0);
  const port = broker.boundListeners[0]!.boundPort;
  const handle: TestBroker = {
    bootstrapServers: `127.0.0.1:${port}`,
    port,
    get broker() {
      return broker;
    },
    async stop() {
      await broker.stop();
      await engine?.close();
      await store?.close();
      if (ownDir && dir) await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await broker.stop();
      broker = await launch(port);
    },
  };
  return handle;
}
