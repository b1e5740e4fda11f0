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
  /**
   * For topic configs: the broker configs that supply the default (Kafka's
   * synonyms), most specific first; the first one set wins, its value
   * multiplied by `scale` (e.g. log.retention.hours -> ms).
   */
  brokerSynonyms?: readonly { name: string; scale: number }[];
  /** Does not appear in DescribeConfigs values (passwords). */
  sensitive?: boolean;
  /** Extra validation of a parsed value: returns what is allowed when the value is not. */
  check?: (v: ConfigValue) => string | undefined;
}

/** Kafka's Long.MAX_VALUE; longs at or above 2^53-1 are stored as Number.MAX_SAFE_INTEGER and shown as this. */
export const LONG_MAX = '9223372036854775807';
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

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
      let n = Number(s);
      if (!Number.isSafeInteger(n)) {
        // Kafka longs reach 2^63-1 (clients send Long.MAX_VALUE for "never"); keep them as the largest safe integer.
        const big = BigInt(s);
        if (def.type !== 'long' || big < INT64_MIN || big > INT64_MAX) bad(`an integer${rangeText(def)}`);
        n = big > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
      }
      const lo =
        def.min ??
        (def.type === 'int' ? -2147483648 : def.type === 'short' ? -32768 : Number.MIN_SAFE_INTEGER);
      const hi =
        def.max ?? (def.type === 'int' ? 2147483647 : def.type === 'short' ? 32767 : Number.MAX_SAFE_INTEGER);
      if (n < lo) bad(`an integer${rangeText({ min: lo, max: def.max })}`);
      if (n > hi) bad(`an integer${rangeText({ min: lo, max: hi })}`);
      return checked(def, n, bad);
    }
    case 'double': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isFinite(n)) bad(`a number${rangeText(def)}`);
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max))
        bad(`a number${rangeText(def)}`);
      return checked(def, n, bad);
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
      return checked(def, items, bad);
    }
    default: {
      const s = String(raw);
      if (def.oneOf && !def.oneOf.includes(s)) bad(`one of ${def.oneOf.join(', ')}`);
      return checked(def, s, bad);
    }
  }
}

function checked(def: ConfigDef, v: ConfigValue, bad: (allowed: string) => never): ConfigValue {
  const allowed = def.check?.(v);
  if (allowed !== undefined) bad(allowed);
  return v;
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
  if (typeof v === 'number' && v >= Number.MAX_SAFE_INTEGER) return LONG_MAX;
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
