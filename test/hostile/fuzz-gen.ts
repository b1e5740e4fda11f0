/**
 * Seeded, structure-aware request generator for the broker fuzz run: random
 * valid requests for an API/version built from the generated schemas (with
 * ints biased to edge values and small counts), record batches that are
 * sometimes real, and byte-level mutations of the encoded frame.
 */

import { type FieldSchema, type MessageSchema, SCHEMAS } from '../../src/protocol/generated/schemas.ts';
import { encodeRequestFrame } from '../../src/protocol/index.ts';
import { encodeRecordBatch } from '../../src/protocol/records/record-batch.ts';

/** Small fast PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (this.next() * 256) | 0;
    return b;
  }
}

const inR = (r: [number, number] | null | undefined, v: number) => r != null && v >= r[0] && v <= r[1];

const REQUESTS = new Map<number, MessageSchema>();
for (const s of SCHEMAS) if (s.type === 'request' && s.apiKey !== undefined) REQUESTS.set(s.apiKey, s);

const STRINGS = [
  '',
  'a',
  'topic',
  '__consumer_offsets',
  'x'.repeat(300),
  'é☃\u0000',
  '..',
  'fuzz-topic',
  '*',
];

function intOf(rng: Rng, bits: 8 | 16 | 32): number {
  const max = 2 ** (bits - 1) - 1;
  const min = -(2 ** (bits - 1));
  const r = rng.next();
  if (r < 0.5) return rng.int(-1, 5);
  if (r < 0.75) return rng.pick([0, -1, 1, max, min, max - 1, 2 ** (bits - 2)]);
  return rng.int(min, max);
}

function recordsOf(rng: Rng): Buffer | null {
  const r = rng.next();
  if (r < 0.1) return null;
  if (r < 0.3) return rng.bytes(rng.int(0, 80));
  const n = rng.int(0, 4);
  const batch = encodeRecordBatch({
    baseTimestamp: BigInt(Date.now() + rng.int(-1e6, 1e6)),
    compression: rng.pick([0, 0, 1, 2, 3, 4] as const),
    producerId: rng.chance(0.3) ? BigInt(rng.int(0, 5)) : -1n,
    producerEpoch: rng.chance(0.3) ? 0 : -1,
    baseSequence: rng.chance(0.3) ? rng.int(-1, 10) : -1,
    isTransactional: rng.chance(0.05),
    isControl: rng.chance(0.05),
    records: Array.from({ length: n }, (_, i) => ({
      key: rng.chance(0.5) ? rng.bytes(rng.int(0, 8)) : null,
      value: rng.bytes(rng.int(0, 30)),
      timestampDelta: i,
      headers: rng.chance(0.3) ? [{ key: 'h', value: rng.bytes(3) }] : [],
    })),
  });
  if (rng.chance(0.4)) {
    // Corrupt the batch: a header field, a record byte, or the length.
    const b = Buffer.from(batch);
    const pos = rng.int(0, b.length - 1);
    b[pos] = (b[pos]! ^ (1 << rng.int(0, 7))) & 0xff;
    return b;
  }
  if (rng.chance(0.15)) return Buffer.concat([batch, batch]); // two batches
  return batch;
}

function elementOf(rng: Rng, m: MessageSchema, f: FieldSchema, v: number, depth: number): unknown {
  if (f.struct) return structOf(rng, m, f.type, v, depth + 1);
  switch (f.type) {
    case 'int8':
      return intOf(rng, 8);
    case 'int16':
      return intOf(rng, 16);
    case 'uint16':
      return rng.int(0, 65535);
    case 'int32':
      return intOf(rng, 32);
    case 'int64':
      return rng.chance(0.7)
        ? BigInt(rng.int(-2, 1000))
        : rng.pick([2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n]);
    case 'float64':
      return rng.pick([0, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]);
    case 'bool':
      return rng.chance(0.5);
    case 'uuid':
      return rng.chance(0.3) ? 'AAAAAAAAAAAAAAAAAAAAAA' : rng.bytes(16).toString('base64url');
    case 'string':
      return rng.chance(0.6) ? rng.pick(STRINGS) : `f-${rng.bytes(4).toString('hex')}`;
    case 'records':
      return recordsOf(rng);
    default:
      return rng.bytes(rng.int(0, 24));
  }
}

function fieldOf(rng: Rng, m: MessageSchema, f: FieldSchema, v: number, depth: number): unknown {
  if (inR(f.nullable, v) && rng.chance(0.15)) return null;
  if (f.array) {
    const n = depth > 2 ? rng.int(0, 1) : rng.int(0, 3);
    return Array.from({ length: n }, () => elementOf(rng, m, f, v, depth));
  }
  return elementOf(rng, m, f, v, depth);
}

function structOf(
  rng: Rng,
  m: MessageSchema,
  typeName: string,
  v: number,
  depth = 0,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of m.structs[typeName]!) {
    if (!inR(f.versions, v)) continue;
    const tagged = inR(f.tagged, v) && inR(m.flexible, v);
    if (tagged && rng.chance(0.6)) continue;
    out[f.name] = fieldOf(rng, m, f, v, depth);
  }
  return out;
}

/** A valid request frame (no size prefix) for apiKey/version, or null if the value could not be encoded. */
export function validRequest(
  rng: Rng,
  apiKey: number,
  version: number,
  correlationId: number,
): Buffer | null {
  const m = REQUESTS.get(apiKey);
  if (!m) return null;
  const body = structOf(rng, m, m.name, version);
  try {
    return encodeRequestFrame(
      {
        requestApiKey: apiKey,
        requestApiVersion: version,
        correlationId,
        clientId: rng.chance(0.1) ? null : 'fuzz',
      },
      body,
    );
  } catch {
    return null;
  }
}

export type Mutation =
  | 'none'
  | 'truncate'
  | 'flip'
  | 'hostile-count'
  | 'insert'
  | 'trailing'
  | 'bad-version'
  | 'random-body';

/** Applies one seeded mutation; the header's api key and correlation id are kept unless noted. */
export function mutate(rng: Rng, frame: Buffer, maxVersion: number): { frame: Buffer; kind: Mutation } {
  const kind = rng.pick<Mutation>([
    'none',
    'truncate',
    'truncate',
    'flip',
    'flip',
    'hostile-count',
    'hostile-count',
    'insert',
    'trailing',
    'bad-version',
    'random-body',
  ]);
  const b = Buffer.from(frame);
  const bodyStart = Math.min(8, b.length);
  switch (kind) {
    case 'none':
      return { frame: b, kind };
    case 'truncate':
      return { frame: b.subarray(0, rng.int(8, Math.max(8, b.length - 1))), kind };
    case 'flip': {
      for (let i = rng.int(1, 4); i > 0 && b.length > bodyStart; i--) {
        const p = rng.int(bodyStart, b.length - 1);
        b[p] = (b[p]! ^ (1 << rng.int(0, 7))) & 0xff;
      }
      return { frame: b, kind };
    }
    case 'hostile-count': {
      if (b.length < bodyStart + 4) return { frame: b, kind };
      const p = rng.int(bodyStart, b.length - 4);
      const v = rng.pick([0x7fffffff, 0xffffffff, 0x80000000, 0x7ffffffe, 0x00ffffff]);
      if (rng.chance(0.5)) b.writeUInt32BE(v >>> 0, p);
      else b.writeUInt16BE(rng.pick([0x7fff, 0xffff, 0x8000]), p);
      return { frame: b, kind };
    }
    case 'insert': {
      const p = rng.int(bodyStart, b.length);
      return { frame: Buffer.concat([b.subarray(0, p), rng.bytes(rng.int(1, 16)), b.subarray(p)]), kind };
    }
    case 'trailing':
      return { frame: Buffer.concat([b, rng.bytes(rng.int(1, 8))]), kind };
    case 'bad-version':
      b.writeInt16BE(rng.pick([-1, maxVersion + 1, 0x7fff]), 2);
      return { frame: b, kind };
    case 'random-body':
      return { frame: Buffer.concat([b.subarray(0, bodyStart), rng.bytes(rng.int(0, 200))]), kind };
  }
}
