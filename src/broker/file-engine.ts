import type { BrokerConfig } from '../common/config/broker-config.ts';
import { SamsaError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { LogEngine } from '../storage/engine.ts';

/** The file engine for the configured log.dirs. */
export async function createFileEngine(_config: BrokerConfig, _log: Logger): Promise<LogEngine> {
  throw new SamsaError(
    'SAMSA_ERR_STORAGE',
    'the file storage engine is not available yet; use storage: memory',
  );
}
