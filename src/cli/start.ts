/** `samsa start`: one broker in the foreground until SIGTERM/SIGINT. */

import { Broker } from '../broker/broker.ts';
import { createEngine, createMetadataStore, type StorageKind } from '../broker/storage-factory.ts';
import { BrokerConfig } from '../common/config/broker-config.ts';
import { loadBrokerConfig } from '../common/config/load.ts';
import { ConfigError } from '../common/config/registry.ts';
import { createLogger } from '../common/logger.ts';

export interface StartOptions {
  config?: string;
  set: string[];
  dev?: boolean;
  storage: string;
}

export async function startCommand(opts: StartOptions): Promise<void> {
  if (opts.storage !== 'file' && opts.storage !== 'memory') {
    throw new ConfigError(
      '--storage',
      `--storage must be file or memory, got ${JSON.stringify(opts.storage)}`,
    );
  }
  const kind = opts.storage as StorageKind;
  const config = new BrokerConfig(
    loadBrokerConfig({ file: opts.config, sets: opts.set, env: process.env, dev: opts.dev === true }),
  );
  const log = createLogger();
  const t0 = performance.now();
  const broker = await Broker.start({
    config,
    logger: log,
    createEngine: (c, l) => createEngine(kind, c, l),
    createMetadataStore: (c) => createMetadataStore(kind, c),
  });
  const where = kind === 'memory' ? 'memory (not persisted)' : config.logDirs().join(', ');
  log.info(
    {
      listeners: broker.boundListeners.map((l) => `${l.name}://${l.host || '0.0.0.0'}:${l.boundPort}`),
      data: where,
    },
    `Samsa broker ${broker.nodeId} listening on ${broker.bootstrapServers}, data in ${where} (ready in ${Math.round(performance.now() - t0)} ms)`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn(`second ${signal}: exiting without a clean shutdown`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal} received: shutting down`);
    broker.stop().then(
      () => {
        log.flush?.();
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
