import type { BrokerConfig } from '../common/config/broker-config.ts';
import type { Logger } from '../common/logger.ts';
import type { LogEngine } from '../storage/engine.ts';
import { FileLogEngine } from '../storage/file/engine.ts';
import type { FileIO } from '../storage/io.ts';

/**
 * The file engine over the configured log.dirs, with the broker's cleaner and retention settings.
 * `io` replaces the file operations (fault tests: power loss, ENOSPC).
 */
export async function createFileEngine(
  config: BrokerConfig,
  log: Logger,
  opts: { io?: FileIO } = {},
): Promise<LogEngine> {
  const engine = await FileLogEngine.open({
    ...(opts.io ? { io: opts.io } : {}),
    dirs: config.logDirs(),
    retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
    cleanerMaxKeys: Math.max(10_000, Math.floor(config.int('log.cleaner.dedupe.buffer.size') / 24)),
    warn: (msg) => log.warn(msg),
  });
  engine.onDirOffline((dir, error) => log.error({ dir, err: error }, 'log directory went offline'));
  return engine;
}
