/**
 * Sparse offset index and time index, held in memory as typed arrays and
 * persisted in Kafka's on-disk layout:
 *   .index      8-byte entries: relative offset int32, file position int32
 *   .timeindex 12-byte entries: timestamp int64, relative offset int32
 * Offset entries point at batch starts (relative base offset of the batch).
 * Time entries are (max timestamp so far, relative base offset of the batch
 * holding it), appended only when the timestamp grows.
 */
export const OFFSET_ENTRY = 8;
export const TIME_ENTRY = 12;

export class OffsetIndex {
  rel: Int32Array;
  pos: Int32Array;
  n = 0;
  readonly maxEntries: number;

  constructor(maxEntries: number, capacity = 64) {
    this.maxEntries = maxEntries;
    this.rel = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
  }

  get full(): boolean {
    return this.n >= this.maxEntries;
  }

  push(rel: number, pos: number): void {
    if (this.n === this.rel.length) {
      const r = new Int32Array(this.rel.length * 2);
      r.set(this.rel);
      this.rel = r;
      const p = new Int32Array(this.pos.length * 2);
      p.set(this.pos);
      this.pos = p;
    }
    this.rel[this.n] = rel;
    this.pos[this.n] = pos;
    this.n++;
  }

  /** Position of the last entry with rel <= target, or 0. */
  lookup(targetRel: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid]! <= targetRel) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans < 0 ? 0 : this.pos[ans]!;
  }

  lastPosition(): number {
    return this.n === 0 ? 0 : this.pos[this.n - 1]!;
  }

  /** Drops entries at or after file position `pos`. */
  truncateToPosition(pos: number): void {
    while (this.n > 0 && this.pos[this.n - 1]! >= pos) this.n--;
  }

  encode(from: number): Buffer {
    const b = Buffer.allocUnsafe((this.n - from) * OFFSET_ENTRY);
    for (let i = from; i < this.n; i++) {
      b.writeInt32BE(this.rel[i]!, (i - from) * OFFSET_ENTRY);
      b.writeInt32BE(this.pos[i]!, (i - from) * OFFSET_ENTRY + 4);
    }
    return b;
  }

  /** Parses and sanity-checks an index file; null if invalid. */
  static decode(buf: Buffer, maxEntries: number, segmentSize: number): OffsetIndex | null {
    if (buf.length % OFFSET_ENTRY !== 0) return null;
    const n = buf.length / OFFSET_ENTRY;
    const idx = new OffsetIndex(maxEntries, Math.max(64, n));
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = buf.readInt32BE(i * OFFSET_ENTRY);
      const pos = buf.readInt32BE(i * OFFSET_ENTRY + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= segmentSize || rel < 0) return null;
      idx.push(rel, pos);
      prevRel = rel;
      prevPos = pos;
    }
    return idx;
  }
}

export class TimeIndex {
  ts: Float64Array;
  rel: Int32Array;
  n = 0;
  readonly maxEntries: number;

  constructor(maxEntries: number, capacity = 64) {
    this.maxEntries = maxEntries;
    this.ts = new Float64Array(capacity);
    this.rel = new Int32Array(capacity);
  }

  get full(): boolean {
    return this.n >= this.maxEntries;
  }

  lastTimestamp(): number {
    return this.n === 0 ? -1 : this.ts[this.n - 1]!;
  }

  /** Appends if `ts` is larger than the last entry's. */
  maybePush(ts: number, rel: number): void {
    if (ts <= this.lastTimestamp()) return;
    if (this.n === this.ts.length) {
      const t = new Float64Array(this.ts.length * 2);
      t.set(this.ts);
      this.ts = t;
      const r = new Int32Array(this.rel.length * 2);
      r.set(this.rel);
      this.rel = r;
    }
    this.ts[this.n] = ts;
    this.rel[this.n] = rel;
    this.n++;
  }

  /** Relative offset of the last entry with timestamp < target, or -1. */
  lookupBefore(target: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < target) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans < 0 ? -1 : this.rel[ans]!;
  }

  /** Drops entries whose relative offset is >= rel. */
  truncateToRel(rel: number): void {
    while (this.n > 0 && this.rel[this.n - 1]! >= rel) this.n--;
  }

  encode(from: number): Buffer {
    const b = Buffer.allocUnsafe((this.n - from) * TIME_ENTRY);
    for (let i = from; i < this.n; i++) {
      const o = (i - from) * TIME_ENTRY;
      const t = this.ts[i]!;
      const hi = Math.floor(t / 2 ** 32);
      b.writeInt32BE(hi, o);
      b.writeUInt32BE(t - hi * 2 ** 32, o + 4);
      b.writeInt32BE(this.rel[i]!, o + 8);
    }
    return b;
  }

  static decode(buf: Buffer, maxEntries: number): TimeIndex | null {
    if (buf.length % TIME_ENTRY !== 0) return null;
    const n = buf.length / TIME_ENTRY;
    const idx = new TimeIndex(maxEntries, Math.max(64, n));
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevRel = -1;
    for (let i = 0; i < n; i++) {
      const o = i * TIME_ENTRY;
      const ts = buf.readInt32BE(o) * 2 ** 32 + buf.readUInt32BE(o + 4);
      const rel = buf.readInt32BE(o + 8);
      if (ts <= prevTs || rel < prevRel || rel < 0) return null;
      idx.maybePush(ts, rel);
      prevTs = ts;
      prevRel = rel;
    }
    return idx;
  }
}
