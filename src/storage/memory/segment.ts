import type { BatchInfo } from '../batch.ts';
import { readInt64 } from '../batch.ts';
import { firstOffsetAtOrAfter, offsetOfMaxTimestamp } from '../records.ts';
import type { Segment, SegmentRead, StoredBatch } from '../segment.ts';

/** First slab of a segment; each next one doubles, up to SLAB_MAX. */
const SLAB_MIN = 4 * 1024;
const SLAB_MAX = 1024 * 1024;
/** A handed-over batch at least this large, and at least half of its ArrayBuffer, is kept as is. */
const ADOPT_MIN = 4 * 1024;

/**
 * In-memory segment: batches copied into slabs (append-only chunks owned by
 * the segment, so appends do not allocate a Buffer each and adjacent batches
 * read back as one view), with a dense index. Slab sizes grow from 4 KiB, so
 * thousands of small partitions stay small. A large batch handed over by the
 * caller (`transfer`: the produce path's request bytes) that makes up at
 * least half of its ArrayBuffer (a frame that spanned socket reads and was
 * gathered into its own buffer) is kept without a copy: copying into fresh
 * memory costs page faults that dwarf the copy, and at most half of the
 * memory kept is not the batch. Every stored batch passed its CRC
 * check before it was appended (the log or the caller verified it) and memory
 * is never reloaded, so reads do not check CRCs again. Index-full is modelled
 * with the same entry budget as the file engine so rolling behaves alike.
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
  private slab: Buffer | null = null;
  private slabUsed = 0;
  private nextSlabSize = SLAB_MIN;

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

  append(buf: Buffer, infos: readonly BatchInfo[], now: number, transfer = false): void {
    const adopt = transfer && buf.length >= ADOPT_MIN && buf.length * 2 >= buf.buffer.byteLength;
    for (const b of infos) {
      this.bufs.push(
        adopt ? buf.subarray(b.position, b.position + b.size) : this.store(buf, b.position, b.size),
      );
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

  /** Copies buf[pos, pos + size) into the current slab (a new one when it is full). */
  private store(buf: Buffer, pos: number, size: number): Buffer {
    let slab = this.slab;
    if (slab === null || slab.length - this.slabUsed < size) {
      const len = Math.max(size, this.nextSlabSize);
      this.nextSlabSize = Math.min(SLAB_MAX, this.nextSlabSize * 2);
      slab = Buffer.allocUnsafeSlow(len);
      this.slab = slab;
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    buf.copy(slab, at, pos, pos + size);
    this.slabUsed = at + size;
    return slab.subarray(at, at + size);
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
