import { BROKER_CONFIG_DEFS } from './broker-configs.ts';
import type { ConfigSource, LoadedConfig } from './load.ts';
import { ConfigError, type ConfigValue, parseValue } from './registry.ts';
import { TOPIC_CONFIG_DEFS } from './topic-configs.ts';

/** The broker's validated configuration, with typed getters and dynamic updates. */
export class BrokerConfig {
  private readonly values: Map<string, ConfigValue>;
  private readonly sources: Map<string, ConfigSource>;
  readonly warnings: string[];
  private readonly listeners = new Set<(key: string) => void>();

  constructor(loaded: LoadedConfig) {
    this.values = loaded.values;
    this.sources = loaded.sources;
    this.warnings = loaded.warnings;
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
  source(name: string): ConfigSource {
    return this.sources.get(name) ?? 'DEFAULT_CONFIG';
  }
  entries(): [string, ConfigValue][] {
    return [...this.values.entries()];
  }

  /** Applies a dynamic broker config change (IncrementalAlterConfigs); null resets to the default. */
  setDynamic(name: string, raw: unknown): void {
    const def = BROKER_CONFIG_DEFS.get(name);
    if (!def) throw new ConfigError(name, `unknown broker config ${name}`);
    if (!def.dynamic)
      throw new ConfigError(
        name,
        `${name} cannot be changed at run time; set it in server.properties and restart`,
      );
    if (raw === null) {
      this.values.set(name, def.default);
      this.sources.set(name, 'DEFAULT_CONFIG');
    } else {
      this.values.set(name, parseValue(def, raw));
      this.sources.set(name, 'DYNAMIC_BROKER_CONFIG');
    }
    for (const l of this.listeners) l(name);
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
    const ms = this.get('log.retention.ms') as number | null;
    if (ms !== null) return ms;
    const min = this.get('log.retention.minutes') as number | null;
    if (min !== null) return min < 0 ? -1 : min * 60_000;
    const h = this.int('log.retention.hours');
    return h < 0 ? -1 : h * 3_600_000;
  }

  rollMs(): number {
    return (this.get('log.roll.ms') as number | null) ?? this.int('log.roll.hours') * 3_600_000;
  }

  /** The broker-level value behind a topic config (its synonym), resolved. */
  topicDefault(topicKey: string): ConfigValue {
    const def = TOPIC_CONFIG_DEFS.get(topicKey);
    if (!def) throw new ConfigError(topicKey, `unknown topic config ${topicKey}`);
    switch (def.brokerSynonym) {
      case undefined:
        return def.default;
      case 'log.retention.ms':
        return this.retentionMs();
      case 'log.roll.ms':
        return this.rollMs();
      default: {
        const v = this.get(def.brokerSynonym);
        return v === null ? def.default : v;
      }
    }
  }
}
