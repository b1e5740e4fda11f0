/**
 * DescribeConfigs logic (also CreateTopics v5+ configs): the value, source,
 * synonym chain, type and documentation of topic and broker configs, in
 * Kafka's terms. Synonyms are listed layer by layer (dynamic per-broker,
 * dynamic default, static, default), each layer in the chain's order, as
 * Kafka does; a sensitive config never shows its value.
 */
import type { BrokerConfig, DynamicScope } from '../../common/config/broker-config.ts';
import { BROKER_CONFIG_DEFS } from '../../common/config/broker-configs.ts';
import type { ConfigSource } from '../../common/config/load.ts';
import { type ConfigDef, type ConfigType, formatValue } from '../../common/config/registry.ts';
import { TOPIC_CONFIG_DEFS, TOPIC_CONFIGS } from '../../common/config/topic-configs.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';

/** DescribeConfigsResponse ConfigSource ids. */
export const ConfigSourceId = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

/** DescribeConfigsResponse ConfigType ids (v3+). */
const CONFIG_TYPE_ID: Record<ConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

/** ConfigResource types. */
export const ResourceType = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  synonyms: ConfigSynonym[];
  configType: number;
  documentation: string | null;
}

export interface DescribeOptions {
  /** Only these keys (null or empty: all). Unknown keys are left out, as Kafka does. */
  keys?: readonly string[] | null;
  synonyms?: boolean;
  documentation?: boolean;
}

const BROKER_LAYERS: readonly ConfigSource[] = [
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
];

const isSensitive = (def: ConfigDef) => def.sensitive === true || def.type === 'password';

/** Broker synonym chain of a broker key: the rest of a topic chain it belongs to, else just itself. */
const BROKER_CHAINS = new Map<string, string[]>();
for (const td of TOPIC_CONFIGS) {
  const chain = (td.brokerSynonyms ?? []).map((s) => s.name);
  chain.forEach((name, i) => {
    if (!BROKER_CHAINS.has(name)) BROKER_CHAINS.set(name, chain.slice(i));
  });
}

function brokerSynonyms(
  config: BrokerConfig,
  chain: readonly string[],
  layers: readonly ConfigSource[],
  sensitive: boolean,
): ConfigSynonym[] {
  const out: ConfigSynonym[] = [];
  for (const layer of layers) {
    for (const name of chain) {
      const v = config.layerValue(layer, name);
      if (v === undefined) continue;
      out.push({ name, value: sensitive ? null : formatValue(v), source: ConfigSourceId[layer] });
    }
  }
  return out;
}

function selected(names: Iterable<string>, keys: readonly string[] | null | undefined): string[] {
  const all = [...names];
  // Null or an empty list means every config, as in Kafka.
  const picked = keys == null || keys.length === 0 ? all : all.filter((k) => keys.includes(k));
  return picked.sort();
}

/** Every topic config of a topic with these overrides (or the named ones), as DescribeConfigs reports them. */
export function describeTopicConfigs(
  config: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
  opts: DescribeOptions = {},
): DescribedConfig[] {
  return selected(TOPIC_CONFIG_DEFS.keys(), opts.keys).map((name) => {
    const def = TOPIC_CONFIG_DEFS.get(name)!;
    const sensitive = isSensitive(def);
    const overridden = Object.hasOwn(overrides, name);
    const synonyms: ConfigSynonym[] = [];
    if (overridden)
      synonyms.push({
        name,
        value: sensitive ? null : overrides[name]!,
        source: ConfigSourceId.TOPIC_CONFIG,
      });
    if (opts.synonyms) {
      const chain = (def.brokerSynonyms ?? []).map((s) => s.name);
      synonyms.push(...brokerSynonyms(config, chain, BROKER_LAYERS, sensitive));
    }
    let source: number = ConfigSourceId.DEFAULT_CONFIG;
    if (overridden) source = ConfigSourceId.TOPIC_CONFIG;
    else {
      const syn = config.topicSynonym(name);
      if (syn) source = ConfigSourceId[config.source(syn.name)];
    }
    const value = overridden ? overrides[name]! : formatValue(config.topicDefault(name));
    return {
      name,
      value: sensitive ? null : value,
      readOnly: false,
      source,
      isSensitive: sensitive,
      synonyms: opts.synonyms ? synonyms : [],
      configType: CONFIG_TYPE_ID[def.type],
      documentation: opts.documentation ? def.doc : null,
    };
  });
}

/**
 * Broker configs as DescribeConfigs reports them: for this broker ('broker')
 * every key with its current value; for the cluster default resource
 * ('cluster', resource name "") only the dynamic defaults that are set.
 */
export function describeBrokerConfigs(
  config: BrokerConfig,
  scope: DynamicScope,
  opts: DescribeOptions = {},
): DescribedConfig[] {
  const names =
    scope === 'broker' ? BROKER_CONFIG_DEFS.keys() : Object.keys(config.dynamicConfigs('cluster'));
  const layers = scope === 'broker' ? BROKER_LAYERS : BROKER_LAYERS.slice(1);
  return selected(names, opts.keys).map((name) => {
    const def = BROKER_CONFIG_DEFS.get(name)!;
    const sensitive = isSensitive(def);
    const chain = BROKER_CHAINS.get(name) ?? [name];
    const synonyms = brokerSynonyms(config, chain, layers, sensitive);
    let value: string | null;
    let source: number;
    if (scope === 'broker') {
      value = formatValue(config.get(name));
      source = ConfigSourceId[config.source(name)];
    } else {
      value = formatValue(config.layerValue('DYNAMIC_DEFAULT_BROKER_CONFIG', name) ?? null);
      source = ConfigSourceId.DYNAMIC_DEFAULT_BROKER_CONFIG;
    }
    return {
      name,
      value: sensitive ? null : value,
      readOnly: !def.dynamic,
      source,
      isSensitive: sensitive,
      synonyms: opts.synonyms ? synonyms : [],
      configType: CONFIG_TYPE_ID[def.type],
      documentation: opts.documentation ? def.doc : null,
    };
  });
}

/** Which dynamic scope a BROKER resource name means ("" the cluster default, else this broker's id). */
export function brokerScope(name: string, nodeId: number): DynamicScope {
  if (name === '') return 'cluster';
  if (!/^-?\d+$/.test(name.trim()))
    throw new KafkaProtocolError(
      ErrorCode.INVALID_REQUEST,
      `Broker id must be an integer, but it is: ${name}`,
    );
  if (Number(name) !== nodeId)
    throw new KafkaProtocolError(
      ErrorCode.INVALID_REQUEST,
      `Unexpected broker id, expected ${nodeId} or empty string, but received ${name}`,
    );
  return 'broker';
}
