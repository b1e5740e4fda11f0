/**
 * One typed registry of configuration keys with Kafka's dotted names,
 * defaults, bounds and documentation. Values are validated once, at the
 * boundary (start-up or an Alter*Configs request); DescribeConfigs reads the
 * same registry.
 */
import { SamsaError } from '../errors.ts';

export type ConfigType =
  | 'int'
  | 'long'
  | 'short'
  | 'double'
  | 'boolean'
  | 'string'
  | 'list'
  | 'password'
  | 'class';

export type ConfigValue = number | boolean | string | string[] | null;

export interface ConfigDef {
  name: string;
  type: ConfigType;
  default: ConfigValue;
  doc: string;
  /** Inclusive numeric bounds. */
  min?: number;
  max?: number;
  /** Allowed values (strings, or each element for lists). */
  oneOf?: readonly string[];
  /** Can change at run time (Kafka's "dynamic" broker configs, all topic configs). */
  dynamic: boolean;
  /** Kafka's importance; shown by DescribeConfigs documentation. */
  importance?: 'high' | 'medium' | 'low';
  /** For topic configs: the broker config that supplies the default (Kafka's synonym). */
  brokerSynonym?: string;
  /** Converts the broker synonym's value into this config's unit (e.g. hours -> ms). */
  fromSynonym?: (v: ConfigValue) => ConfigValue;
  /** Does not appear in DescribeConfigs values (passwords). */
  sensitive?: boolean;
}

export class ConfigError extends SamsaError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('SAMSA_ERR_CONFIG', message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** Parses and validates one value; throws ConfigError naming the key, the value and what is allowed. */
export function parseValue(def: ConfigDef, raw: unknown): ConfigValue {
  const bad = (allowed: string): never => {
    throw new ConfigError(
      def.name,
      `invalid value ${JSON.stringify(raw)} for ${def.name}: expected ${allowed}`,
    );
  };
  if (raw === null || raw === undefined) {
    if (def.default === null) return null;
    bad(`a ${def.type}`);
  }
  switch (def.type) {
    case 'int':
    case 'long':
    case 'short': {
      const s = typeof raw === 'number' ? String(raw) : String(raw).trim();
      if (!/^-?\d+$/.test(s)) bad(`an integer${rangeText(def)}`);
      const n = Number(s);
      if (!Number.isSafeInteger(n)) bad(`an integer${rangeText(def)}`);
      const lo =
        def.min ??
        (def.type === 'int' ? -2147483648 : def.type === 'short' ? -32768 : Number.MIN_SAFE_INTEGER);
      const hi =
        def.max ?? (def.type === 'int' ? 2147483647 : def.type === 'short' ? 32767 : Number.MAX_SAFE_INTEGER);
      if (n < lo || n > hi) bad(`an integer${rangeText({ ...def, min: lo, max: hi })}`);
      return n;
    }
    case 'double': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isFinite(n)) bad(`a number${rangeText(def)}`);
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max))
        bad(`a number${rangeText(def)}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (s === 'true') return true;
      if (s === 'false') return false;
      return bad('true or false');
    }
    case 'list': {
      const items = Array.isArray(raw)
        ? raw.map(String)
        : String(raw)
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x !== '');
      if (def.oneOf)
        for (const i of items)
          if (!def.oneOf.includes(i)) bad(`a comma-separated list of ${def.oneOf.join(', ')}`);
      return items;
    }
    default: {
      const s = String(raw);
      if (def.oneOf && !def.oneOf.includes(s)) bad(`one of ${def.oneOf.join(', ')}`);
      return s;
    }
  }
}

function rangeText(def: { min?: number; max?: number }): string {
  if (def.min !== undefined && def.max !== undefined) return ` in [${def.min}, ${def.max}]`;
  if (def.min !== undefined) return ` >= ${def.min}`;
  if (def.max !== undefined) return ` <= ${def.max}`;
  return '';
}

/** Kafka's string form of a value (DescribeConfigs). */
export function formatValue(v: ConfigValue): string | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

export function buildRegistry(defs: readonly ConfigDef[]): Map<string, ConfigDef> {
  const m = new Map<string, ConfigDef>();
  for (const d of defs) {
    if (m.has(d.name)) throw new Error(`duplicate config ${d.name}`);
    m.set(d.name, d);
  }
  return m;
}
