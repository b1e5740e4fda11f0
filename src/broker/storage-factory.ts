/**
 * Chooses the log engine and metadata store for a broker: `memory` (tests,
 * startBroker({ storage: 'memory' })) or `file` (the default, in log.dirs).
 */
import type { BrokerConfig } from '../common/config/broker-config.ts';
import type { Logger } from '../common/logger.ts';
import { FileMetadataStore, MemoryMetadataStore } from '../metadata/embedded/file-store.ts';
import type { MetadataStore } from '../metadata/model.ts';
import type { LogEngine } from '../storage/engine.ts';
import type { FileIO } from '../storage/io.ts';
import { MemoryLogEngine } from '../storage/memory/engine.ts';

export type StorageKind = 'file' | 'memory';

export async function createEngine(
  kind: StorageKind,
  config: BrokerConfig,
  _log: Logger,
  opts: { io?: FileIO } = {},
): Promise<LogEngine> {
  if (kind === 'memory') return new MemoryLogEngine();
  const { createFileEngine } = await import('./file-engine.ts');
  return createFileEngine(config, _log, opts);
}

export function createMetadataStore(kind: StorageKind, config: BrokerConfig): MetadataStore {
  if (kind === 'memory') return new MemoryMetadataStore();
  return new FileMetadataStore(config.logDirs()[0]!);
}
