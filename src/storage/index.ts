/**
 * Storage: partition logs behind one engine interface, with a `file` engine
 * (Kafka's on-disk layout) and a `memory` engine. See docs/storage.md.
 */
import type { LogConfig } from './config.ts';
import type { Clock, LogEngine } from './engine.ts';
import { type FileEngineOptions, FileLogEngine } from './file/engine.ts';
import { MemoryLogEngine } from './memory/engine.ts';

export * from './config.ts';
export * from './engine.ts';
export { StorageError } from './errors.ts';
export { FileLogEngine } from './file/engine.ts';
export type { FileIO } from './io.ts';
export { nodeFileIO } from './io.ts';
export { MemoryLogEngine } from './memory/engine.ts';
export { type RecordCodec, setRecordCodec } from './records.ts';

export type CreateEngineOptions =
  | ({ kind?: 'file' } & FileEngineOptions)
  | { kind: 'memory'; defaultConfig?: Partial<LogConfig>; clock?: Clock };

export async function createLogEngine(opts: CreateEngineOptions): Promise<LogEngine> {
  if (opts.kind === 'memory') return new MemoryLogEngine(opts);
  return FileLogEngine.open(opts);
}
