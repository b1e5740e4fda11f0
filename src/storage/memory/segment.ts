import type { BatchInfo } from '../batch.ts';
import { batchCrcOk, readInt64 } from '../batch.ts';
import { firstOffsetAtOrAfter, offsetOfMaxTimestamp } from '../records.ts';
import type { Segment, SegmentRead, StoredBatch } from '../segment.ts';

/**
 * In-memory segment: every batch kept as its own Buffer with a dense index.
 * Index-full is modelled with the same entry budget as the file engine so
 * rolling behaves alike.
 */
export class MemorySegment implements Segment {
  readonly baseOffset: number;
  readonly createdAt: number;
  lastModified: number;
  private bufs: Buffer[] = [];
  private bases: number[] = [];
  private lasts: number[] = [];
  private maxTs: number[] = [];
  private _size = 0;
  private _maxTimestamp = -1;
  private indexEntries = 0;
  private bytesSinceIndex = 0;
  private readonly maxIndexEntries: number;
  private readonly indexInterval: number;

  constructor(baseOffset: number, now: number, indexIntervalBytes: number, segmentIndexBytes: number) {
    this.baseOffset = baseOffset;
    this.createdAt = now;
    this.lastModified = now;
    this.indexInterval = indexIntervalBytes;
    this.maxIndexEntries = Math.floor(segmentIndexBytes / 12);
  }

  get nextOffset(): number {
    const n = this.lasts.length;
    return n === 0 ? this.baseOffset : this.lasts[n - 1]! + 1;
  }
  get size(): number {
    return this._size;
  }
  get maxTimestamp(): number {
    return this._maxTimestamp;
  }

  append(buf: Buffer, infos: readonly BatchInfo[], now: number): void {
    for (const b of infos) {
      const copy = Buffer.allocUnsafe(b.size);
      buf.copy(copy, 0, b.position, b.position + b.size);
      this.bufs.push(copy);
      this.bases.push(b.baseOffset);
      this.lasts.push(b.lastOffset);
      this.maxTs.push(b.maxTimestamp);
      if (b.maxTimestamp > this._maxTimestamp) this._maxTimestamp = b.maxTimestamp;
      if (this.bytesSinceIndex > this.indexInterval) {
        this.indexEntries++;
        this.bytesSinceIndex = 0;
      }
      this.bytesSinceIndex += b.size;
      this._size += b.size;
    }
    this.lastModified = Math.max(this.lastModified, now);
  }

  /** Index of the first batch whose last offset >= offset. */
  private firstAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this.lasts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lasts[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  read(offset: number, maxBytes: number, maxOffset: number, minOne: boolean): SegmentRead {
    const out: Buffer[] = [];
    let bytes = 0;
    let next = offset;
    let i = this.firstAtOrAfter(offset);
    for (; i < this.bufs.length; i++) {
      const b = this.bufs[i]!;
      if (this.lasts[i]! >= maxOffset) return { bufs: out, bytes, nextOffset: next, stopped: true };
      if (bytes + b.length > maxBytes && !(minOne && out.length === 0)) {
        return { bufs: out, bytes, nextOffset: next, stopped: true };
      }
      if (!batchCrcOk(b, 0, b.length)) {
        return { bufs: out, bytes, nextOffset: next, stopped: true, corruptAt: this.bases[i]! };
      }
      out.push(b);
      bytes += b.length;
      next = this.lasts[i]! + 1;
    }
    return { bufs: out, bytes, nextOffset: next, stopped: false };
  }

  findByTimestamp(ts: number, minOffset: number): { offset: number; timestamp: number } | null {
    for (let i = this.firstAtOrAfter(minOffset); i < this.bufs.length; i++) {
      if (this.maxTs[i]! < ts) continue;
      const r = firstOffsetAtOrAfter(this.bufs[i]!, ts, minOffset);
      if (r) return r;
    }
    return null;
  }

  findMaxTimestamp(): { offset: number; timestamp: number } | null {
    for (let i = 0; i < this.bufs.length; i++) {
      if (this.maxTs[i] === this._maxTimestamp) {
        return { offset: offsetOfMaxTimestamp(this.bufs[i]!), timestamp: this._maxTimestamp };
      }
    }
    return null;
  }

  truncateTo(offset: number): number {
    const i = this.firstAtOrAfter(offset);
    let removed = 0;
    for (let j = i; j < this.bufs.length; j++) removed += this.bufs[j]!.length;
    this.bufs.length = i;
    this.bases.length = i;
    this.lasts.length = i;
    this.maxTs.length = i;
    this._size -= removed;
    this._maxTimestamp = this.maxTs.reduce((a, b) => Math.max(a, b), -1);
    this.indexEntries = Math.floor(this._size / Math.max(1, this.indexInterval));
    return removed;
  }

  indexFull(): boolean {
    return this.indexEntries >= this.maxIndexEntries;
  }

  *batches(fromOffset = this.baseOffset): Generator<StoredBatch> {
    for (let i = this.firstAtOrAfter(fromOffset); i < this.bufs.length; i++) {
      const buf = this.bufs[i]!;
      const info: BatchInfo = {
        position: 0,
        size: buf.length,
        baseOffset: this.bases[i]!,
        lastOffset: this.lasts[i]!,
        partitionLeaderEpoch: buf.readInt32BE(12),
        attributes: buf.readInt16BE(21),
        maxTimestamp: this.maxTs[i]!,
        producerId: readInt64(buf, 43),
        producerEpoch: buf.readInt16BE(51),
        baseSequence: buf.readInt32BE(53),
        recordCount: buf.readInt32BE(57),
      };
      yield { info, buf };
    }
  }

  onBecomeInactive(): void {}
  async flush(): Promise<void> {}
  close(): void {}
}
