/**
 * A small interpreter over the Kafka JSON message specs, for the capture stub broker
 * only (scripts/capture/stub/stub-broker.ts). Slow and permissive on purpose: it is
 * independent of src/protocol, so what it writes never feeds back into the golden data
 * (the stub's responses are not stored).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Field {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  fields?: Field[];
}

export interface MessageSpec {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: Field[];
  commonStructs?: { name: string; fields: Field[] }[];
}

type Value = unknown;
type Obj = Record<string, Value>;

export function loadSpecs(messagesDir: string): Map<string, MessageSpec> {
  const out = new Map<string, MessageSpec>();
  for (const f of readdirSync(messagesDir)) {
    if (!f.endsWith('.json')) continue;
    const text = readFileSync(join(messagesDir, f), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('//'))
      .join('\n');
    const spec = JSON.parse(text) as MessageSpec;
    out.set(spec.name, spec);
  }
  return out;
}

export function inRange(range: string | undefined, v: number): boolean {
  if (!range || range === 'none') return false;
  const plus = /^(\d+)\+$/.exec(range);
  if (plus) return v >= Number(plus[1]);
  const span = /^(\d+)-(\d+)$/.exec(range);
  if (span) return v >= Number(span[1]) && v <= Number(span[2]);
  return v === Number(range);
}

export function versionBounds(range: string): [number, number] {
  const plus = /^(\d+)\+$/.exec(range);
  if (plus) return [Number(plus[1]), 32767];
  const span = /^(\d+)-(\d+)$/.exec(range);
  if (span) return [Number(span[1]), Number(span[2])];
  return [Number(range), Number(range)];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === 0 && b.length === 0;
  const empty = (x: unknown) => x !== null && typeof x === 'object' && Object.keys(x).length === 0;
  return empty(a) && empty(b); // an absent tagged struct
}

const camel = (s: string) => s[0]!.toLowerCase() + s.slice(1);

class Out {
  parts: Buffer[] = [];
  push(b: Buffer) {
    this.parts.push(b);
  }
  int(n: number, size: 1 | 2 | 4) {
    const b = Buffer.alloc(size);
    if (size === 1) b.writeInt8(n);
    else if (size === 2) b.writeInt16BE(n);
    else b.writeInt32BE(n);
    this.push(b);
  }
  uvarint(n: number) {
    const bytes: number[] = [];
    while (n >= 0x80) {
      bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    bytes.push(n);
    this.push(Buffer.from(bytes));
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class In {
  b: Buffer;
  o: number;
  constructor(b: Buffer, o = 0) {
    this.b = b;
    this.o = o;
  }
  take(n: number): Buffer {
    if (this.o + n > this.b.length) throw new Error('spec-codec: truncated');
    const s = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return s;
  }
  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = this.take(1)[0]!;
      v += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) return v;
      mul *= 128;
    }
  }
}

export class SpecCodec {
  private structs = new Map<string, Field[]>();
  private spec: MessageSpec;
  constructor(spec: MessageSpec) {
    this.spec = spec;
    const collect = (fields: Field[]) => {
      for (const f of fields) {
        if (f.fields) {
          this.structs.set(f.type.replace(/^\[\]/, ''), f.fields);
          collect(f.fields);
        }
      }
    };
    for (const s of spec.commonStructs ?? []) {
      this.structs.set(s.name, s.fields);
      collect(s.fields);
    }
    collect(spec.fields);
  }

  isFlexible(v: number): boolean {
    return inRange(this.spec.flexibleVersions, v);
  }

  encode(value: Obj, v: number): Buffer {
    const out = new Out();
    this.writeStruct(out, this.spec.fields, value, v, this.isFlexible(v));
    return out.done();
  }

  decode(buf: Buffer, v: number, offset = 0): { value: Obj; offset: number } {
    const inp = new In(buf, offset);
    const value = this.readStruct(inp, this.spec.fields, v, this.isFlexible(v));
    return { value, offset: inp.o };
  }

  private defaultOf(f: Field, v: number): Value {
    const d = f.default;
    if (d === 'null') return null;
    const t = f.type;
    if (t.startsWith('[]')) return [];
    if (['int8', 'int16', 'int32', 'uint16', 'uint32'].includes(t)) return d === undefined ? 0 : Number(d);
    if (t === 'int64') return d === undefined ? 0n : BigInt(d);
    if (t === 'float64') return d === undefined ? 0 : Number(d);
    if (t === 'bool') return d === true || d === 'true';
    if (t === 'string') return d === undefined ? '' : String(d);
    if (t === 'uuid') return Buffer.alloc(16);
    if (t === 'bytes' || t === 'records') return inRange(f.nullableVersions, v) ? null : Buffer.alloc(0);
    return {};
  }

  private writeStruct(out: Out, fields: Field[], value: Obj, v: number, flex: boolean) {
    const tagged: { tag: number; data: Buffer }[] = [];
    for (const f of fields) {
      if (!inRange(f.versions, v)) continue;
      const key = camel(f.name);
      const val = value[key] === undefined ? this.defaultOf(f, v) : value[key];
      if (flex && inRange(f.taggedVersions, v)) {
        if (value[key] === undefined || sameValue(val, this.defaultOf(f, v))) continue; // Kafka omits defaults
        const o = new Out();
        this.writeField(o, f, val, v, flex);
        tagged.push({ tag: f.tag!, data: o.done() });
        continue;
      }
      this.writeField(out, f, val, v, flex);
    }
    if (flex) {
      out.uvarint(tagged.length);
      for (const t of tagged.sort((a, b) => a.tag - b.tag)) {
        out.uvarint(t.tag);
        out.uvarint(t.data.length);
        out.push(t.data);
      }
    }
  }

  private writeField(out: Out, f: Field, val: Value, v: number, flexMsg: boolean) {
    const flex = f.flexibleVersions ? inRange(f.flexibleVersions, v) : flexMsg;
    const t = f.type;
    if (t.startsWith('[]')) {
      const inner = t.slice(2);
      const arr = val as Value[] | null;
      if (arr === null) {
        if (flex) out.uvarint(0);
        else out.int(-1, 4);
        return;
      }
      if (flex) out.uvarint(arr.length + 1);
      else out.int(arr.length, 4);
      for (const item of arr) {
        if (this.structs.has(inner)) this.writeStruct(out, this.structs.get(inner)!, item as Obj, v, flexMsg);
        else this.writePrimitive(out, inner, item, flex);
      }
      return;
    }
    if (this.structs.has(t)) {
      if (inRange(f.nullableVersions, v)) {
        if (val === null) {
          out.int(-1, 1);
          return;
        }
        out.int(1, 1);
      }
      this.writeStruct(out, this.structs.get(t)!, val as Obj, v, flexMsg);
      return;
    }
    this.writePrimitive(out, t, val, flex);
  }

  private writePrimitive(out: Out, t: string, val: Value, flex: boolean) {
    switch (t) {
      case 'int8':
        return out.int(val as number, 1);
      case 'int16':
        return out.int(val as number, 2);
      case 'int32':
        return out.int(val as number, 4);
      case 'uint16': {
        const b = Buffer.alloc(2);
        b.writeUInt16BE(val as number);
        return out.push(b);
      }
      case 'uint32': {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(val as number);
        return out.push(b);
      }
      case 'int64': {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(BigInt(val as bigint));
        return out.push(b);
      }
      case 'float64': {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(val as number);
        return out.push(b);
      }
      case 'bool':
        return out.int(val ? 1 : 0, 1);
      case 'uuid':
        return out.push(Buffer.from(val as Buffer));
      case 'string': {
        if (val === null) {
          if (flex) out.uvarint(0);
          else out.int(-1, 2);
          return;
        }
        const b = Buffer.from(val as string, 'utf8');
        if (flex) out.uvarint(b.length + 1);
        else out.int(b.length, 2);
        return out.push(b);
      }
      case 'bytes':
      case 'records': {
        if (val === null) {
          if (flex) out.uvarint(0);
          else out.int(-1, 4);
          return;
        }
        const b = val as Buffer;
        if (flex) out.uvarint(b.length + 1);
        else out.int(b.length, 4);
        return out.push(b);
      }
      default:
        throw new Error(`spec-codec: unknown type ${t}`);
    }
  }

  private readStruct(inp: In, fields: Field[], v: number, flex: boolean): Obj {
    const value: Obj = {};
    const byTag = new Map<number, Field>();
    for (const f of fields) {
      if (!inRange(f.versions, v)) continue;
      if (flex && inRange(f.taggedVersions, v)) {
        byTag.set(f.tag!, f);
        value[camel(f.name)] = this.defaultOf(f, v);
        continue;
      }
      value[camel(f.name)] = this.readField(inp, f, v, flex);
    }
    if (flex) {
      const n = inp.uvarint();
      for (let i = 0; i < n; i++) {
        const tag = inp.uvarint();
        const size = inp.uvarint();
        const data = inp.take(size);
        const f = byTag.get(tag);
        if (f) value[camel(f.name)] = this.readField(new In(Buffer.from(data)), f, v, flex);
      }
    }
    return value;
  }

  private readField(inp: In, f: Field, v: number, flexMsg: boolean): Value {
    const flex = f.flexibleVersions ? inRange(f.flexibleVersions, v) : flexMsg;
    const t = f.type;
    if (t.startsWith('[]')) {
      const inner = t.slice(2);
      const n = flex ? inp.uvarint() - 1 : inp.take(4).readInt32BE(0);
      if (n < 0) return null;
      const arr: Value[] = [];
      for (let i = 0; i < n; i++) {
        if (this.structs.has(inner)) arr.push(this.readStruct(inp, this.structs.get(inner)!, v, flexMsg));
        else arr.push(this.readPrimitive(inp, inner, flex));
      }
      return arr;
    }
    if (this.structs.has(t)) {
      if (inRange(f.nullableVersions, v) && inp.take(1).readInt8(0) < 0) return null;
      return this.readStruct(inp, this.structs.get(t)!, v, flexMsg);
    }
    return this.readPrimitive(inp, t, flex);
  }

  private readPrimitive(inp: In, t: string, flex: boolean): Value {
    switch (t) {
      case 'int8':
        return inp.take(1).readInt8(0);
      case 'int16':
        return inp.take(2).readInt16BE(0);
      case 'int32':
        return inp.take(4).readInt32BE(0);
      case 'uint16':
        return inp.take(2).readUInt16BE(0);
      case 'uint32':
        return inp.take(4).readUInt32BE(0);
      case 'int64':
        return inp.take(8).readBigInt64BE(0);
      case 'float64':
        return inp.take(8).readDoubleBE(0);
      case 'bool':
        return inp.take(1)[0] !== 0;
      case 'uuid':
        return Buffer.from(inp.take(16));
      case 'string': {
        const n = flex ? inp.uvarint() - 1 : inp.take(2).readInt16BE(0);
        return n < 0 ? null : inp.take(n).toString('utf8');
      }
      case 'bytes':
      case 'records': {
        const n = flex ? inp.uvarint() - 1 : inp.take(4).readInt32BE(0);
        return n < 0 ? null : Buffer.from(inp.take(n));
      }
      default:
        throw new Error(`spec-codec: unknown type ${t}`);
    }
  }
}
