/**
 * The broker's validated configuration in Kafka's layers, most specific
 * first: dynamic per-broker (IncrementalAlterConfigs on BROKER "<id>"),
 * dynamic cluster-wide default (BROKER ""), static (server.properties, env,
 * --set), and the registry default. Getters read the merged value.
 */
import { BROKER_CONFIG_DEFS } from './broker-configs.ts';
import type { ConfigSource, LoadedConfig } from './load.ts';
import { ConfigError, type ConfigValue, formatValue, parseValue } from './registry.ts';
import { TOPIC_CONFIG_DEFS } from './topic-configs.ts';

/** A dynamic config layer: 'cluster' is Kafka's default broker resource (""), 'broker' this node's id. */
export type DynamicScope = 'cluster' | 'broker';

const LAYERS: readonly ConfigSource[] = [
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
];

function sameValue(a: ConfigValue | undefined, b: ConfigValue | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

export class BrokerConfig {
  private readonly values: Map<string, ConfigValue>;
  private readonly sources: Map<string, ConfigSource>;
  private readonly staticValues = new Map<string, ConfigValue>();
  private readonly dynamicValues: Record<DynamicScope, Map<string, ConfigValue>> = {
    cluster: new Map(),
    broker: new Map(),
  };
  readonly warnings: string[];
  private readonly listeners = new Set<(key: string) => void>();

  constructor(loaded: LoadedConfig) {
    this.values = loaded.values;
    this.sources = loaded.sources;
    this.warnings = loaded.warnings;
    for (const [k, src] of loaded.sources) {
      if (src === 'STATIC_BROKER_CONFIG') this.staticValues.set(k, loaded.values.get(k)!);
    }
  }

  get(name: string): ConfigValue {
    if (!this.values.has(name)) throw new ConfigError(name, `unknown broker config ${name}`);
    return this.values.get(name)!;
  }
  int(name: string): number {
    return this.get(name) as number;
  }
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }
  str(name: string): string | null {
    return this.get(name) as string | null;
  }
  list(name: string): string[] | null {
    return this.get(name) as string[] | null;
  }
  /** The layer the current value of `name` comes from. */
  source(name: string): ConfigSource {
    return this.sources.get(name) ?? 'DEFAULT_CONFIG';
  }
  entries(): [string, ConfigValue][] {
    return [...this.values.entries()];
  }

  /** The value `name` has in one layer, or undefined when that layer does not set it (null defaults count as unset). */
  layerValue(source: ConfigSource, name: string): ConfigValue | undefined {
    switch (source) {
      case 'DYNAMIC_BROKER_CONFIG':
        return this.dynamicValues.broker.get(name);
      case 'DYNAMIC_DEFAULT_BROKER_CONFIG':
        return this.dynamicValues.cluster.get(name);
      case 'STATIC_BROKER_CONFIG':
        return this.staticValues.get(name);
      default: {
        const def = BROKER_CONFIG_DEFS.get(name);
        return def && def.default !== null ? def.default : undefined;
      }
    }
  }

  /** Dynamic overrides of one scope as Kafka strings (what the metadata store keeps). */
  dynamicConfigs(scope: DynamicScope): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.dynamicValues[scope]) out[k] = formatValue(v) ?? '';
    return out;
  }

  /**
   * Parses a complete set of dynamic overrides. Throws ConfigError naming the
   * key, the value and what is allowed; keys that only a restart can change
   * are refused.
   */
  static parseDynamic(next: Record<string, string | null>): Map<string, ConfigValue> {
    const out = new Map<string, ConfigValue>();
    for (const [k, raw] of Object.entries(next)) {
      const def = BROKER_CONFIG_DEFS.get(k);
      if (!def) throw new ConfigError(k, `unknown broker config ${k}`);
      if (!def.dynamic)
        throw new ConfigError(
          k,
          `${k} cannot be changed at run time (read-only); set it in server.properties and restart`,
        );
      if (raw === null) continue;
      out.set(k, parseValue(def, raw));
    }
    return out;
  }

  /** Replaces the dynamic overrides of one scope; returns the keys whose effective value changed. */
  replaceDynamic(scope: DynamicScope, parsed: ReadonlyMap<string, ConfigValue>): string[] {
    const layer = this.dynamicValues[scope];
    const touched = new Set([...layer.keys(), ...parsed.keys()]);
    layer.clear();
    for (const [k, v] of parsed) layer.set(k, v);
    const changed: string[] = [];
    for (const k of touched) {
      const before = this.values.get(k);
      this.recompute(k);
      if (!sameValue(before, this.values.get(k))) changed.push(k);
    }
    for (const k of changed) for (const l of this.listeners) l(k);
    return changed;
  }

  /** Sets (or with null, removes) one per-broker dynamic override. Throws ConfigError. */
  setDynamic(name: string, raw: unknown): void {
    const parsed = BrokerConfig.parseDynamic({ [name]: raw === null ? null : String(raw) });
    const next = new Map(this.dynamicValues.broker);
    if (raw === null) next.delete(name);
    else next.set(name, parsed.get(name)!);
    this.replaceDynamic('broker', next);
  }

  private recompute(name: string): void {
    for (const src of LAYERS) {
      const v = this.layerValue(src, name);
      if (v !== undefined || src === 'DEFAULT_CONFIG') {
        this.values.set(name, v ?? BROKER_CONFIG_DEFS.get(name)?.default ?? null);
        this.sources.set(name, src);
        return;
      }
    }
  }

  onChange(listener: (key: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get nodeId(): number {
    const b = this.int('broker.id');
    return b >= 0 ? b : this.int('node.id');
  }

  logDirs(): string[] {
    return this.list('log.dirs') ?? [this.str('log.dir')!];
  }

  retentionMs(): number {
    return this.topicDefault('retention.ms') as number;
  }

  rollMs(): number {
    return this.topicDefault('segment.ms') as number;
  }

  /**
   * The broker synonym that supplies a topic config's default: the first of
   * its synonyms that is set, or null when none is (the topic default applies).
   */
  topicSynonym(topicKey: string): { name: string; scale: number } | null {
    const def = TOPIC_CONFIG_DEFS.get(topicKey);
    if (!def) throw new ConfigError(topicKey, `unknown topic config ${topicKey}`);
    for (const s of def.brokerSynonyms ?? []) {
      if (this.values.has(s.name) && this.values.get(s.name) !== null) return s;
    }
    return null;
  }

  /** The broker-level value behind a topic config (its synonyms), resolved into the topic config's unit. */
  topicDefault(topicKey: string): ConfigValue {
    const syn = this.topicSynonym(topicKey);
    if (!syn) return TOPIC_CONFIG_DEFS.get(topicKey)!.default;
    const v = this.values.get(syn.name)!;
    if (syn.scale === 1 || typeof v !== 'number') return v;
    return v < 0 ? -1 : v * syn.scale;
  }
}
