/**
 * Topic names and topic config overrides: Kafka's rules, as
 * KafkaProtocolErrors that name what is wrong and what is allowed.
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { formatValue, parseValue } from '../../common/config/registry.ts';
import { TOPIC_CONFIG_DEFS } from '../../common/config/topic-configs.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME = 249;

/** Kafka's rule: '.' and '_' collide in metric names, so "a.b" and "a_b" cannot both exist. */
export function topicsCollide(a: string, b: string): boolean {
  return a !== b && a.replaceAll('.', '_') === b.replaceAll('.', '_');
}

/** Throws INVALID_TOPIC_EXCEPTION unless `name` is a legal Kafka topic name. */
export function validateTopicName(name: string): void {
  const err = (why: string) =>
    new KafkaProtocolError(ErrorCode.INVALID_TOPIC_EXCEPTION, `topic name ${JSON.stringify(name)} ${why}`);
  if (name.length === 0) throw err('is empty');
  if (name === '.' || name === '..') throw err('cannot be "." or ".."');
  if (name.length > MAX_TOPIC_NAME) throw err(`is longer than ${MAX_TOPIC_NAME} characters`);
  if (!LEGAL_TOPIC.test(name)) throw err('may contain only ASCII letters, digits, ".", "_" and "-"');
}

/**
 * Validates a complete set of topic config overrides; returns them as Kafka
 * strings. Throws INVALID_CONFIG naming the key, the value and what is
 * allowed. A null value is refused unless `nullMeansUnset`. Rules spanning
 * keys are checked on the effective values (overrides over broker defaults).
 */
export function validateTopicConfigs(
  config: BrokerConfig,
  configs: Record<string, string | null> | undefined,
  nullMeansUnset = true,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(configs ?? {})) {
    const def = TOPIC_CONFIG_DEFS.get(k);
    if (!def) throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${k}`);
    if (v === null) {
      if (nullMeansUnset) continue;
      throw new KafkaProtocolError(
        ErrorCode.INVALID_CONFIG,
        `Null value not supported for topic configs: ${k}`,
      );
    }
    try {
      out[k] = formatValue(parseValue(def, v)) ?? '';
    } catch (e) {
      throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, (e as Error).message);
    }
  }
  const eff = (k: string) => out[k] ?? formatValue(config.topicDefault(k));
  if (Number(eff('min.compaction.lag.ms')) > Number(eff('max.compaction.lag.ms'))) {
    throw new KafkaProtocolError(
      ErrorCode.INVALID_CONFIG,
      `conflict topic config setting min.compaction.lag.ms (${eff('min.compaction.lag.ms')}) > max.compaction.lag.ms (${eff('max.compaction.lag.ms')})`,
    );
  }
  if (eff('remote.storage.enable') === 'true') {
    throw new KafkaProtocolError(
      ErrorCode.INVALID_CONFIG,
      'remote.storage.enable=true is not supported: tiered storage is not available in this broker',
    );
  }
  return out;
}
