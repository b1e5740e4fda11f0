/** Runs one test body against both engines, with an injectable clock and a restart helper. */
import type { LogConfig } from '../../../src/storage/config.ts';
import type { LogEngine, PartitionLog } from '../../../src/storage/engine.ts';
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { MemoryLogEngine } from '../../../src/storage/memory/engine.ts';
import { tempDir } from './helpers.ts';

export interface Harness {
  kind: 'file' | 'memory';
  engine: LogEngine;
  clock: { now: number };
  open(topic?: string, partition?: number, cfg?: Partial<LogConfig>): Promise<PartitionLog>;
  /** Clean restart of the engine (memory: close and reopen the logs). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const KINDS = ['file', 'memory'] as const;

export async function makeHarness(
  kind: 'file' | 'memory',
  defaults: Partial<LogConfig> = {},
): Promise<Harness> {
  const clock = { now: 1_700_000_000_000 };
  const tmp = kind === 'file' ? tempDir() : null;
  const mk = async (): Promise<LogEngine> =>
    kind === 'file'
      ? FileLogEngine.open({
          dirs: [tmp!.path],
          defaultConfig: { fileDeleteDelayMs: 0, ...defaults },
          clock: () => clock.now,
          background: false,
        })
      : new MemoryLogEngine({ defaultConfig: defaults, clock: () => clock.now });
  const h: Harness = {
    kind,
    engine: await mk(),
    clock,
    open: (topic = 't', partition = 0, cfg) => h.engine.openLog(topic, partition, cfg),
    async restart() {
      if (kind === 'file') {
        await h.engine.close();
        h.engine = await mk();
      } else {
        for (const tp of h.engine.list()) await h.engine.closeLog(tp.topic, tp.partition);
      }
    },
    async close() {
      await h.engine.close();
      tmp?.cleanup();
    },
  };
  return h;
}
