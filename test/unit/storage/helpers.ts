/** Test helpers for storage: a small RecordBatch v2 builder and temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../../src/protocol/primitives/crc32c.ts';

export interface TestRecord {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  timestamp?: number;
}

export interface BatchSpec {
  records: TestRecord[];
  baseOffset?: number;
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  attributes?: number;
  leaderEpoch?: number;
  /** Override lastOffsetDelta (default records.length - 1). */
  lastOffsetDelta?: number;
  /** Offset deltas per record (default 0..n-1). */
  offsetDeltas?: number[];
}

function zz(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varint(n: number, out: number[]): void {
  let v = zz(n);
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function toBuf(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function writeI64(b: Buffer, pos: number, v: number): void {
  b.writeBigInt64BE(BigInt(v), pos);
}

export function buildBatch(spec: BatchSpec): Buffer {
  const baseTs = spec.baseTimestamp ?? spec.records[0]?.timestamp ?? 1_700_000_000_000;
  const recs: Buffer[] = [];
  let maxTs = -1;
  spec.records.forEach((r, i) => {
    const ts = r.timestamp ?? baseTs;
    if (ts > maxTs) maxTs = ts;
    const key = r.key === undefined ? null : toBuf(r.key);
    const value = r.value === undefined ? Buffer.from(`v${i}`) : toBuf(r.value);
    const body: number[] = [0];
    varint(ts - baseTs, body);
    varint(spec.offsetDeltas?.[i] ?? i, body);
    const parts: Buffer[] = [];
    if (key === null) varint(-1, body);
    else varint(key.length, body);
    const head = Buffer.from(body);
    const mid: number[] = [];
    if (value === null) varint(-1, mid);
    else varint(value.length, mid);
    const tail: number[] = [];
    varint(0, tail); // headers
    parts.push(head);
    if (key) parts.push(key);
    parts.push(Buffer.from(mid));
    if (value) parts.push(value);
    parts.push(Buffer.from(tail));
    const rec = Buffer.concat(parts);
    const len: number[] = [];
    varint(rec.length, len);
    recs.push(Buffer.from(len), rec);
  });
  const records = Buffer.concat(recs);
  const b = Buffer.alloc(61 + records.length);
  writeI64(b, 0, spec.baseOffset ?? 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(spec.leaderEpoch ?? -1, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(spec.attributes ?? 0, 21);
  b.writeInt32BE(spec.lastOffsetDelta ?? Math.max(0, spec.records.length - 1), 23);
  writeI64(b, 27, baseTs);
  writeI64(b, 35, maxTs < 0 ? baseTs : maxTs);
  writeI64(b, 43, spec.producerId ?? -1);
  b.writeInt16BE(spec.producerEpoch ?? -1, 51);
  b.writeInt32BE(spec.baseSequence ?? -1, 53);
  b.writeInt32BE(spec.records.length, 57);
  records.copy(b, 61);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

/** A batch of `n` records with values `${tag}-${i}` and padding to about `size` bytes. */
export function valueBatch(tag: string, n = 1, ts?: number, pad = 0): Buffer {
  const filler = pad > 0 ? `:${'x'.repeat(pad)}` : '';
  return buildBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${tag}-${i}${filler}` })),
    ...(ts !== undefined ? { baseTimestamp: ts } : {}),
  });
}

export function baseOffsetOf(b: Buffer): number {
  return Number(b.readBigInt64BE(0));
}
export function lastOffsetOf(b: Buffer): number {
  return baseOffsetOf(b) + b.readInt32BE(23);
}

/** Record values of a batch (uncompressed), as strings. */
export function valuesOf(batch: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  const count = batch.readInt32BE(57);
  let p = 61;
  const rd = (): number => {
    let r = 0;
    let m = 1;
    for (;;) {
      const x = batch[p++]!;
      r += (x & 0x7f) * m;
      if ((x & 0x80) === 0) break;
      m *= 128;
    }
    return r % 2 === 0 ? r / 2 : -(r + 1) / 2;
  };
  for (let i = 0; i < count; i++) {
    const len = rd();
    const end = p + len;
    p++; // attributes
    rd();
    rd();
    const kl = rd();
    if (kl > 0) p += kl;
    const vl = rd();
    out.push(vl < 0 ? null : batch.subarray(p, p + vl).toString());
    p = end;
  }
  return out;
}

export function keysOf(batch: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  const count = batch.readInt32BE(57);
  let p = 61;
  const rd = (): number => {
    let r = 0;
    let m = 1;
    for (;;) {
      const x = batch[p++]!;
      r += (x & 0x7f) * m;
      if ((x & 0x80) === 0) break;
      m *= 128;
    }
    return r % 2 === 0 ? r / 2 : -(r + 1) / 2;
  };
  for (let i = 0; i < count; i++) {
    const len = rd();
    const end = p + len;
    p++;
    rd();
    rd();
    const kl = rd();
    out.push(kl < 0 ? null : batch.subarray(p, p + kl).toString());
    p = end;
  }
  return out;
}

export function tempDir(prefix = 'samsa-storage-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
