/**
 * Emits TypeScript encoders/decoders specialised per version: one straight-line
 * function per struct and version (identical bodies shared), no schema
 * interpretation at run time.
 */
import { type FieldSpec, inRange, type MessageSpec, type StructSpec, type VersionRange } from './spec.ts';

const NUMERIC: Record<string, { read: string; write: string; size: number }> = {
  int8: { read: 'readInt8', write: 'writeInt8', size: 1 },
  int16: { read: 'readInt16', write: 'writeInt16', size: 2 },
  uint16: { read: 'readUint16', write: 'writeUint16', size: 2 },
  int32: { read: 'readInt32', write: 'writeInt32', size: 4 },
  int64: { read: 'readInt64', write: 'writeInt64', size: 8 },
  float64: { read: 'readFloat64', write: 'writeFloat64', size: 8 },
  bool: { read: 'readBool', write: 'writeBool', size: 1 },
  uuid: { read: 'readUuid', write: 'writeUuid', size: 16 },
};

function tsElemType(f: FieldSpec): string {
  if (f.isStruct) return f.struct!.typeName;
  switch (f.type) {
    case 'int64':
      return 'bigint';
    case 'bool':
      return 'boolean';
    case 'uuid':
    case 'string':
      return 'string';
    case 'bytes':
    case 'records':
      return 'Buffer';
    default:
      return 'number';
  }
}

/**
 * Response messages may carry record batches stored apart (a RecordsList, as
 * Kafka's BaseRecords): structs holding a `records` field (directly or
 * nested) get a type parameter `R` for it, `Buffer` by default (what
 * decoders return), `Buffer | RecordsList` where encoders take it.
 */
let responseRecords = false;
let recordsStructs = new Set<StructSpec>();
const ENCODABLE_RECORDS = 'Buffer | RecordsList';

function findRecordsStructs(msg: MessageSpec): Set<StructSpec> {
  const out = new Set<StructSpec>();
  if (msg.type !== 'response') return out;
  const memo = new Map<StructSpec, boolean>();
  const has = (st: StructSpec): boolean => {
    const known = memo.get(st);
    if (known !== undefined) return known;
    memo.set(st, false);
    const r = st.fields.some((f) => f.type === 'records' || (f.struct !== undefined && has(f.struct)));
    memo.set(st, r);
    if (r) out.add(st);
    return r;
  };
  for (const st of msg.structs) has(st);
  return out;
}

/** `st`'s type name with the records type argument `arg` when it has one. */
function structRef(st: StructSpec, arg: string): string {
  return recordsStructs.has(st) && arg !== '' ? `${st.typeName}<${arg}>` : st.typeName;
}

/** Field type inside an interface declaration (records as the type parameter `R`). */
function declType(f: FieldSpec): string {
  let elem = tsElemType(f);
  if (f.type === 'records' && responseRecords) elem = 'R';
  else if (f.isStruct) elem = structRef(f.struct!, 'R');
  const base = f.isArray ? `${elem}[]` : elem;
  return f.nullable.min <= f.nullable.max ? `${base} | null` : base;
}

export function tsType(f: FieldSpec): string {
  const elem = tsElemType(f);
  const base = f.isArray ? `${elem}[]` : elem;
  return f.nullable.min <= f.nullable.max ? `${base} | null` : base;
}

function intLiteral(raw: string | number | boolean | undefined, big: boolean): string {
  let n = 0n;
  if (typeof raw === 'number') n = BigInt(raw);
  else if (typeof raw === 'string' && raw !== '') {
    const s = raw.trim();
    n = s.startsWith('-0x') ? -BigInt(s.slice(1)) : BigInt(s);
  }
  return big ? `${n}n` : `${n}`;
}

/** JS expression for the field's default value. */
export function defaultExpr(f: FieldSpec): string {
  const raw = f.defaultRaw;
  if (raw === 'null') return 'null';
  if (f.isArray) return '[]';
  if (f.isStruct) return 'null';
  switch (f.type) {
    case 'int64':
      return intLiteral(raw, true);
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
      return intLiteral(raw, false);
    case 'float64':
      return raw === undefined ? '0' : String(Number(raw));
    case 'bool':
      return raw === true || raw === 'true' ? 'true' : 'false';
    case 'uuid':
      return 'ZERO_UUID';
    case 'string':
      return JSON.stringify(typeof raw === 'string' ? raw : '');
    default:
      return 'EMPTY_BUFFER';
  }
}

interface Ctx {
  msg: MessageSpec;
  out: string[];
  /** typeName@version -> function name (decode) */
  dec: Map<string, string>;
  enc: Map<string, string>;
  /** typeName -> (body -> function name) for sharing identical bodies */
  decBodies: Map<string, Map<string, string>>;
  encBodies: Map<string, Map<string, string>>;
}

function isFlexible(ctx: Ctx, f: FieldSpec | undefined, v: number): boolean {
  if (f?.flexibleOverride) return inRange(f.flexibleOverride, v);
  return inRange(ctx.msg.flexible, v);
}

function minSize(ctx: Ctx, st: StructSpec, v: number, depth = 0): number {
  if (depth > 8) return 1;
  const flex = inRange(ctx.msg.flexible, v);
  let n = flex ? 1 : 0;
  for (const f of st.fields) {
    if (!inRange(f.versions, v) || inRange(f.tagged, v)) continue;
    n += fieldMinSize(ctx, f, v, depth);
  }
  return n;
}

function fieldMinSize(ctx: Ctx, f: FieldSpec, v: number, depth: number): number {
  const flex = isFlexible(ctx, f, v);
  if (f.isArray) return flex ? 1 : 4;
  return elemMinSize(ctx, f, v, depth);
}

function elemMinSize(ctx: Ctx, f: FieldSpec, v: number, depth: number): number {
  const flex = isFlexible(ctx, f, v);
  if (f.isStruct) return inRange(f.nullable, v) && !f.isArray ? 1 : minSize(ctx, f.struct!, v, depth + 1);
  const num = NUMERIC[f.type];
  if (num) return num.size;
  if (f.type === 'string') return flex ? 1 : 2;
  return flex ? 1 : 4;
}

function readScalar(ctx: Ctx, f: FieldSpec, v: number, nullable: boolean, flexForced?: boolean): string {
  const flex = flexForced ?? isFlexible(ctx, f, v);
  const num = NUMERIC[f.type];
  if (num) return `r.${num.read}()`;
  if (f.type === 'string') {
    return `r.${flex ? 'readCompact' : 'read'}${nullable ? 'NullableString' : 'String'}()`;
  }
  return `r.${flex ? 'readCompact' : 'read'}${nullable ? 'NullableBytes' : 'Bytes'}()`;
}

function writeScalar(
  ctx: Ctx,
  f: FieldSpec,
  v: number,
  nullable: boolean,
  expr: string,
  flexForced?: boolean,
): string {
  const flex = flexForced ?? isFlexible(ctx, f, v);
  const num = NUMERIC[f.type];
  if (num) return `w.${num.write}(${expr});`;
  const kind = f.type === 'string' ? 'String' : f.type === 'records' && responseRecords ? 'Records' : 'Bytes';
  return `w.${flex ? 'writeCompact' : 'write'}${nullable ? `Nullable${kind}` : kind}(${expr});`;
}

/** Statements that read field `f` at version `v` into local `loc`. */
function readField(ctx: Ctx, f: FieldSpec, v: number, loc: string, flexForced?: boolean): string {
  const flex = flexForced ?? isFlexible(ctx, f, v);
  const nullable = inRange(f.nullable, v);
  if (f.isArray) {
    const min = Math.max(1, elemMinSize(ctx, f, v, 0));
    const len = flex ? `r.readCompactArrayLength(${min})` : `r.readArrayLength(${min})`;
    const elem = f.isStruct ? `${genDecode(ctx, f.struct!, v)}(r)` : readScalar(ctx, f, v, false, flex);
    const onNull = nullable
      ? `${loc} = null;`
      : `throw new DecodeError('NULL_NOT_ALLOWED', 'null array for ${f.name}', r.offset);`;
    return `{ const n = ${len}; if (n < 0) { ${onNull} } else { const a: ${tsElemType(f)}[] = []; for (let i = 0; i < n; i++) a.push(${elem}); ${loc} = a; } }`;
  }
  if (f.isStruct) {
    const call = `${genDecode(ctx, f.struct!, v)}(r)`;
    return nullable ? `${loc} = r.readInt8() < 0 ? null : ${call};` : `${loc} = ${call};`;
  }
  return `${loc} = ${readScalar(ctx, f, v, nullable, flex)};`;
}

function writeField(ctx: Ctx, f: FieldSpec, v: number, expr: string, flexForced?: boolean): string {
  const flex = flexForced ?? isFlexible(ctx, f, v);
  const nullable = inRange(f.nullable, v);
  // Nullable in some versions but not this one: null here is the caller's bug (Kafka throws too).
  if (!nullable && f.nullable.min <= f.nullable.max && !expr.endsWith('!')) expr = `${expr}!`;
  if (f.isArray) {
    const lenW = flex ? 'writeCompactArrayLength' : 'writeArrayLength';
    const elem = f.isStruct
      ? `${genEncode(ctx, f.struct!, v)}(w, a[i]!);`
      : writeScalar(ctx, f, v, false, 'a[i]!', flex);
    const body = `w.${lenW}(a.length); for (let i = 0; i < a.length; i++) ${elem}`;
    return nullable
      ? `{ const a = ${expr}; if (a == null) w.${lenW}(-1); else { ${body} } }`
      : `{ const a = ${expr}; ${body} }`;
  }
  if (f.isStruct) {
    const call = `${genEncode(ctx, f.struct!, v)}(w, s);`;
    return nullable
      ? `{ const s = ${expr}; if (s == null) w.writeInt8(-1); else { w.writeInt8(1); ${call} } }`
      : `{ const s = ${expr}; ${call} }`;
  }
  return writeScalar(ctx, f, v, nullable, expr, flex);
}

function notDefaultCond(f: FieldSpec, v: number, expr: string): string {
  const nullable = inRange(f.nullable, v);
  if (f.isArray)
    return nullable && f.defaultRaw === 'null' ? `${expr} != null` : `${expr} != null && ${expr}.length > 0`;
  if (f.isStruct) return `${expr} != null`;
  if (f.type === 'bytes' || f.type === 'records')
    return nullable ? `${expr} != null` : `${expr} != null && ${expr}.length > 0`;
  const d = defaultExpr(f);
  if (d === 'null') return `${expr} != null`;
  return `${expr} !== undefined && ${expr} !== ${d}`;
}

function present(f: FieldSpec, v: number): boolean {
  return inRange(f.versions, v);
}

function taggedAt(f: FieldSpec, v: number): boolean {
  return inRange(f.tagged, v) && f.tag !== undefined;
}

function genDecode(ctx: Ctx, st: StructSpec, v: number): string {
  const key = `${st.typeName}@${v}`;
  const cached = ctx.dec.get(key);
  if (cached) return cached;
  const flex = inRange(ctx.msg.flexible, v);
  const lines: string[] = [];
  const locals: string[] = [];
  for (const f of st.fields) {
    const loc = `f_${f.name}`;
    locals.push(f.name);
    if (!present(f, v)) {
      if (f.isStruct && !f.isArray) lines.push(`const ${loc}: ${tsType(f)} | undefined = undefined;`);
      else lines.push(`const ${loc}: ${tsType(f)} = ${defaultExpr(f)};`);
    } else if (taggedAt(f, v)) {
      const init = f.isStruct && !f.isArray ? 'undefined' : defaultExpr(f);
      lines.push(`let ${loc}: ${tsType(f)}${f.isStruct && !f.isArray ? ' | undefined' : ''} = ${init};`);
    } else {
      lines.push(`let ${loc}: ${tsType(f)};`);
      lines.push(readField(ctx, f, v, loc));
    }
  }
  let unknownTail = '';
  if (flex) {
    const cases: string[] = [];
    for (const f of st.fields) {
      if (!present(f, v) || !taggedAt(f, v)) continue;
      cases.push(`case ${f.tag}: ${readField(ctx, f, v, `f_${f.name}`, true)} break;`);
    }
    lines.push('let unknown: TaggedField[] | undefined;');
    lines.push(
      `{ const nt = r.readUVarint(); for (let t = 0; t < nt; t++) { const tag = r.readUVarint(); const size = r.readTagSize(); const end = r.offset + size; switch (tag) { ${cases.join(' ')} default: (unknown ??= []).push({ tag, data: r.readRaw(size) }); } if (r.offset !== end) throw new DecodeError('BAD_TAGGED_FIELD', \`tagged field \${tag} size mismatch\`, r.offset); } }`,
    );
    unknownTail = 'if (unknown !== undefined) o._unknownTaggedFields = unknown; ';
  }
  const literal = `{ ${locals.map((n) => `${n}: f_${n}`).join(', ')} }`;
  lines.push(`const o = ${literal} as ${st.typeName}; ${unknownTail}return o;`);
  const body = lines.join('\n  ');
  const byBody = ctx.decBodies.get(st.typeName) ?? new Map<string, string>();
  ctx.decBodies.set(st.typeName, byBody);
  let name = byBody.get(body);
  if (!name) {
    name = `d_${st.typeName}_v${v}`;
    byBody.set(body, name);
    ctx.out.push(`function ${name}(r: Reader): ${st.typeName} {\n  ${body}\n}\n`);
  }
  ctx.dec.set(key, name);
  return name;
}

function genEncode(ctx: Ctx, st: StructSpec, v: number): string {
  const key = `${st.typeName}@${v}`;
  const cached = ctx.enc.get(key);
  if (cached) return cached;
  const flex = inRange(ctx.msg.flexible, v);
  const lines: string[] = [];
  for (const f of st.fields) {
    if (!present(f, v) || taggedAt(f, v)) continue;
    let expr = `o.${f.name}`;
    if (isOptional(ctx, st, f)) {
      expr = inRange(f.nullable, v)
        ? `(o.${f.name} === undefined ? ${defaultExpr(f)} : o.${f.name})`
        : `(o.${f.name} ?? ${defaultExpr(f)})`;
    }
    lines.push(writeField(ctx, f, v, expr));
  }
  if (flex) {
    const tagged = st.fields.filter((f) => present(f, v) && taggedAt(f, v));
    if (tagged.length === 0) {
      lines.push(
        'if (o._unknownTaggedFields === undefined) w.writeUVarint(0); else writeTaggedFields(w, [], o._unknownTaggedFields);',
      );
    } else {
      const parts: string[] = ['const tags: TaggedField[] = [];'];
      for (const f of tagged) {
        const expr = `o.${f.name}`;
        parts.push(
          `if (${notDefaultCond(f, v, expr)}) { const tw = new Writer(64); { const w = tw; ${writeField(ctx, f, v, `${expr}!`, true)} } tags.push({ tag: ${f.tag}, data: tw.toBuffer() }); }`,
        );
      }
      parts.push('writeTaggedFields(w, tags, o._unknownTaggedFields);');
      lines.push(parts.join('\n  '));
    }
  }
  const body = lines.join('\n  ');
  const byBody = ctx.encBodies.get(st.typeName) ?? new Map<string, string>();
  ctx.encBodies.set(st.typeName, byBody);
  let name = byBody.get(body);
  if (!name) {
    name = `e_${st.typeName}_v${v}`;
    byBody.set(body, name);
    const unused = body.includes('o.') ? '' : '_';
    const type = structRef(st, ENCODABLE_RECORDS);
    ctx.out.push(`function ${name}(w: Writer, ${unused}o: ${type}): void {\n  ${body}\n}\n`);
  }
  ctx.enc.set(key, name);
  return name;
}

/** Version range in which each struct is used (root: the message's valid range). */
function structRanges(msg: MessageSpec): Map<StructSpec, VersionRange> {
  const ranges = new Map<StructSpec, VersionRange>();
  const visit = (st: StructSpec, r: VersionRange) => {
    const prev = ranges.get(st);
    const merged = prev ? { min: Math.min(prev.min, r.min), max: Math.max(prev.max, r.max) } : r;
    if (prev && prev.min === merged.min && prev.max === merged.max) return;
    ranges.set(st, merged);
    for (const f of st.fields) {
      if (!f.struct) continue;
      const sub = { min: Math.max(r.min, f.versions.min), max: Math.min(r.max, f.versions.max) };
      if (sub.min <= sub.max) visit(f.struct, sub);
    }
  };
  visit(msg.root, msg.valid);
  return ranges;
}

let rangesCache: Map<StructSpec, VersionRange> = new Map();

/** A field is required in the TS type when it exists untagged in every version where its struct is used. */
function isOptional(_ctx: Ctx | null, st: StructSpec, f: FieldSpec): boolean {
  const r = rangesCache.get(st);
  if (!r) return true;
  if (f.tagged.min <= f.tagged.max) return true;
  return !(f.versions.min <= r.min && f.versions.max >= r.max);
}

function fmtRange(r: VersionRange): string {
  if (r.min > r.max) return 'none';
  if (r.max === Number.POSITIVE_INFINITY) return `${r.min}+`;
  return r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`;
}

function emitTypes(msg: MessageSpec): string {
  const out: string[] = [];
  for (const st of msg.structs) {
    const fields = st.fields.map((f) => {
      const notes = [`versions ${fmtRange(f.versions)}`];
      if (f.nullable.min <= f.nullable.max) notes.push(`nullable ${fmtRange(f.nullable)}`);
      if (f.tag !== undefined) notes.push(`tag ${f.tag} in ${fmtRange(f.tagged)}`);
      if (f.defaultRaw !== undefined) notes.push(`default ${String(f.defaultRaw)}`);
      return `  /** ${notes.join('; ')} */\n  ${f.name}${isOptional(null, st, f) ? '?' : ''}: ${declType(f)};`;
    });
    fields.push('  _unknownTaggedFields?: TaggedField[];');
    const params = recordsStructs.has(st) ? `<R extends ${ENCODABLE_RECORDS} = Buffer>` : '';
    out.push(`export interface ${st.typeName}${params} {\n${fields.join('\n')}\n}\n`);
  }
  return out.join('\n');
}

export interface EmittedMessage {
  file: string;
  code: string;
  decodeName: string;
  encodeName: string;
}

export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

export function emitMessage(msg: MessageSpec, header: string): EmittedMessage {
  rangesCache = structRanges(msg);
  responseRecords = msg.type === 'response';
  recordsStructs = findRecordsStructs(msg);
  const ctx: Ctx = {
    msg,
    out: [],
    dec: new Map(),
    enc: new Map(),
    decBodies: new Map(),
    encBodies: new Map(),
  };
  const decs: string[] = [];
  const encs: string[] = [];
  for (let v = 0; v <= msg.valid.max; v++) {
    if (!inRange(msg.valid, v)) {
      decs.push('undefined');
      encs.push('undefined');
      continue;
    }
    decs.push(genDecode(ctx, msg.root, v));
    encs.push(genEncode(ctx, msg.root, v));
  }
  const n = msg.name;
  const enc = structRef(msg.root, ENCODABLE_RECORDS);
  const code = [
    header,
    "import { DecodeError } from '../../primitives/errors.ts';",
    "import type { Reader } from '../../primitives/reader.ts';",
    "import { Writer } from '../../primitives/writer.ts';",
    "import type { RecordsList } from '../../primitives/records-list.ts';",
    "import { EMPTY_BUFFER, type TaggedField, writeTaggedFields, ZERO_UUID } from '../runtime.ts';",
    '',
    emitTypes(msg),
    ...ctx.out,
    `const DECODERS: readonly (((r: Reader) => ${n}) | undefined)[] = [${decs.join(', ')}];`,
    `const ENCODERS: readonly (((w: Writer, o: ${enc}) => void) | undefined)[] = [${encs.join(', ')}];`,
    '',
    `/** Decodes ${n} at \`version\` (${fmtRange(msg.valid)}). */`,
    `export function decode${n}(r: Reader, version: number): ${n} {`,
    '  const d = DECODERS[version];',
    `  if (d === undefined) throw new DecodeError('UNSUPPORTED_VERSION', \`${n} v\${version} is not supported\`);`,
    '  return d(r);',
    '}',
    '',
    `/** Encodes ${n} at \`version\` (${fmtRange(msg.valid)}). */`,
    `export function encode${n}(w: Writer, version: number, o: ${enc}): void {`,
    '  const e = ENCODERS[version];',
    `  if (e === undefined) throw new RangeError(\`${n} v\${version} is not supported\`);`,
    '  e(w, o);',
    '}',
    '',
  ].join('\n');
  // Silence unused-import diagnostics in files that need none of these.
  const used = (s: string) => code.split(s).length > 2;
  let fixed = code;
  if (!used('ZERO_UUID')) fixed = fixed.replace(' ZERO_UUID }', ' }').replace(', ZERO_UUID', '');
  if (!used('EMPTY_BUFFER')) fixed = fixed.replace('EMPTY_BUFFER, ', '');
  if (!used('writeTaggedFields')) fixed = fixed.replace(' writeTaggedFields,', '');
  if (!used('RecordsList'))
    fixed = fixed.replace("import type { RecordsList } from '../../primitives/records-list.ts';\n", '');
  if (!code.includes('new Writer('))
    fixed = fixed.replace('import { Writer } from', 'import type { Writer } from');
  return { file: `${kebab(n)}.ts`, code: fixed, decodeName: `decode${n}`, encodeName: `encode${n}` };
}
