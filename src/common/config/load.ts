/**
 * Broker configuration from its sources, later ones winning:
 * defaults < server.properties < environment (KAFKA_* Apache image style,
 * KAFKA_CFG_* Bitnami style) < --set key=value < explicit overrides.
 * Unknown keys produce warnings; invalid values stop start-up with a
 * ConfigError naming the key, the value and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { BROKER_CONFIG_DEFS } from './broker-configs.ts';
import { ConfigError, type ConfigValue, parseValue } from './registry.ts';

/** Where a broker config value comes from, most specific first (Kafka's ConfigSource names). */
export type ConfigSource =
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG';

export interface LoadOptions {
  file?: string;
  sets?: string[];
  env?: Record<string, string | undefined>;
  dev?: boolean;
  overrides?: Record<string, unknown>;
}

/** Values the --dev preset and startBroker() apply unless set explicitly. */
export const DEV_PRESET: Record<string, unknown> = {
  'group.initial.rebalance.delay.ms': 0,
  'offsets.topic.replication.factor': 1,
  'transaction.state.log.replication.factor': 1,
  'transaction.state.log.min.isr': 1,
  'group.min.session.timeout.ms': 1000,
};

/** Parses Java .properties text (key=value, key: value, key value; # and ! comments; \ continuations). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && !line.endsWith('\\\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.trimStart();
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) {
      out.set(line.trim(), '');
      continue;
    }
    out.set(m[1]!.replace(/\\(.)/g, '$1'), m[2]!.trimEnd());
  }
  return out;
}

/** Maps an environment variable name to a config key, or null if it is not one. */
export function envToKey(name: string): string | null {
  let rest: string;
  if (name.startsWith('KAFKA_CFG_')) rest = name.slice('KAFKA_CFG_'.length);
  else if (name.startsWith('KAFKA_')) rest = name.slice('KAFKA_'.length);
  else return null;
  // Apache image convention: ___ -> '-', __ -> '_', _ -> '.'
  return rest
    .toLowerCase()
    .split('___')
    .map((seg) =>
      seg
        .split('__')
        .map((p) => p.replaceAll('_', '.'))
        .join('_'),
    )
    .join('-');
}

export interface LoadedConfig {
  values: Map<string, ConfigValue>;
  sources: Map<string, ConfigSource>;
  warnings: string[];
}

export function loadBrokerConfig(opts: LoadOptions = {}): LoadedConfig {
  const values = new Map<string, ConfigValue>();
  const sources = new Map<string, ConfigSource>();
  const warnings: string[] = [];
  for (const def of BROKER_CONFIG_DEFS.values()) {
    values.set(def.name, def.default);
    sources.set(def.name, 'DEFAULT_CONFIG');
  }
  const apply = (key: string, raw: unknown, origin: string, strictUnknown: boolean) => {
    const def = BROKER_CONFIG_DEFS.get(key);
    if (!def) {
      if (strictUnknown) warnings.push(`unknown config ${key} (from ${origin}) ignored`);
      return;
    }
    try {
      values.set(key, parseValue(def, raw));
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(key, `${e.message} (from ${origin})`);
      throw e;
    }
    sources.set(key, 'STATIC_BROKER_CONFIG');
  };
  if (opts.dev) for (const [k, v] of Object.entries(DEV_PRESET)) apply(k, v, '--dev', true);
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError('--config', `cannot read config file ${opts.file}: ${(e as Error).message}`);
    }
    for (const [k, v] of parseProperties(text)) apply(k, v, opts.file, true);
  }
  for (const [name, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) continue;
    const key = envToKey(name);
    if (key === null) continue;
    if (!BROKER_CONFIG_DEFS.has(key)) {
      if (name.startsWith('KAFKA_CFG_'))
        warnings.push(`unknown config ${key} (from environment ${name}) ignored`);
      continue;
    }
    apply(key, v, `environment ${name}`, true);
  }
  for (const s of opts.sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError('--set', `--set expects key=value, got ${JSON.stringify(s)}`);
    apply(s.slice(0, eq).trim(), s.slice(eq + 1), `--set ${s}`, true);
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) apply(k, v, 'options', true);
  return { values, sources, warnings };
}
