/**
 * Reading the Kafka JSON message specs into a normalised model. Only facts
 * are kept (names, types, version ranges, defaults, tags); the specs' `about`
 * sentences and comments are dropped here and never reach generated code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface VersionRange {
  min: number;
  /** Inclusive; Infinity for "N+". */
  max: number;
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 };

export function parseRange(s: string | undefined): VersionRange {
  if (s === undefined || s === 'none' || s === '') return NO_VERSIONS;
  const t = s.trim();
  if (t.endsWith('+')) return { min: Number(t.slice(0, -1)), max: Number.POSITIVE_INFINITY };
  const dash = t.indexOf('-');
  if (dash >= 0) return { min: Number(t.slice(0, dash)), max: Number(t.slice(dash + 1)) };
  const n = Number(t);
  return { min: n, max: n };
}

export function inRange(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max;
}

export type PrimitiveType =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'uuid'
  | 'string'
  | 'bytes'
  | 'records';

export const PRIMITIVES = new Set<string>([
  'int8',
  'int16',
  'uint16',
  'int32',
  'int64',
  'float64',
  'bool',
  'uuid',
  'string',
  'bytes',
  'records',
]);

export interface FieldSpec {
  /** Spec name, e.g. "TopicData". */
  specName: string;
  /** camelCase property name, e.g. "topicData". */
  name: string;
  /** For arrays, the element type; otherwise the type. Primitive name or struct name. */
  type: string;
  isArray: boolean;
  isStruct: boolean;
  versions: VersionRange;
  nullable: VersionRange;
  tagged: VersionRange;
  tag: number | undefined;
  /** Field-level override of flexible versions ("none" for the request header's client id). */
  flexibleOverride: VersionRange | undefined;
  defaultRaw: string | number | boolean | undefined;
  /** For struct-typed fields: the struct. */
  struct: StructSpec | undefined;
}

export interface StructSpec {
  /** Unique TS type name. */
  typeName: string;
  fields: FieldSpec[];
}

export interface MessageSpec {
  name: string;
  type: 'request' | 'response' | 'header' | 'data';
  apiKey: number | undefined;
  listeners: string[];
  valid: VersionRange;
  flexible: VersionRange;
  root: StructSpec;
  /** Every struct (root first, then nested depth-first). */
  structs: StructSpec[];
  source: string;
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  fields?: RawField[];
}

interface RawMessage {
  apiKey?: number;
  type: MessageSpec['type'];
  name: string;
  listeners?: string[];
  validVersions: string;
  flexibleVersions: string;
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

/** Removes `//` comments (outside strings) so the spec parses as JSON. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function buildStruct(
  msgName: string,
  structName: string,
  raw: RawField[],
  common: Map<string, RawField[]>,
  all: StructSpec[],
  seen: Map<string, StructSpec>,
): StructSpec {
  const typeName = structName === msgName ? msgName : `${msgName}_${structName}`;
  const existing = seen.get(typeName);
  if (existing) return existing;
  const st: StructSpec = { typeName, fields: [] };
  seen.set(typeName, st);
  all.push(st);
  for (const f of raw) {
    const isArray = f.type.startsWith('[]');
    const elem = isArray ? f.type.slice(2) : f.type;
    const isStruct = !PRIMITIVES.has(elem);
    let struct: StructSpec | undefined;
    if (isStruct) {
      const sub = f.fields ?? common.get(elem);
      if (!sub) throw new Error(`${msgName}: struct ${elem} has no fields`);
      struct = buildStruct(msgName, elem, sub, common, all, seen);
    }
    st.fields.push({
      specName: f.name,
      name: camel(f.name),
      type: elem,
      isArray,
      isStruct,
      versions: parseRange(f.versions),
      nullable: parseRange(f.nullableVersions),
      tagged: parseRange(f.taggedVersions),
      tag: f.tag,
      flexibleOverride: f.flexibleVersions !== undefined ? parseRange(f.flexibleVersions) : undefined,
      defaultRaw: f.default,
      struct,
    });
  }
  return st;
}

export function loadMessage(path: string): MessageSpec {
  const raw = JSON.parse(stripComments(readFileSync(path, 'utf8'))) as RawMessage;
  const common = new Map<string, RawField[]>();
  for (const c of raw.commonStructs ?? []) common.set(c.name, c.fields);
  const structs: StructSpec[] = [];
  const root = buildStruct(raw.name, raw.name, raw.fields, common, structs, new Map());
  return {
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey,
    listeners: raw.listeners ?? [],
    valid: parseRange(raw.validVersions),
    flexible: parseRange(raw.flexibleVersions),
    root,
    structs,
    source: path,
  };
}

export function loadDir(dir: string): MessageSpec[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadMessage(join(dir, f)));
}
