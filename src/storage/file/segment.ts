import { join } from 'node:path';
import { BATCH_HEADER_SIZE } from '../../protocol/records/batch-header.ts';
import { type BatchInfo, checkBatchAt, headerAt, readInt64 } from '../batch.ts';
import type { LogConfig } from '../config.ts';
import { StorageError } from '../errors.ts';
import type { FileIO } from '../io.ts';
import { firstOffsetAtOrAfter, offsetOfMaxTimestamp } from '../records.ts';
import type { Segment, SegmentRead, StoredBatch } from '../segment.ts';
import type { FdCache } from './fd-cache.ts';
import { OFFSET_ENTRY, OffsetIndex, TIME_ENTRY, TimeIndex } from './index.ts';

export interface SegmentEnv {
  io: FileIO;
  fds: FdCache;
  config: () => LogConfig;
}

export function segmentFileName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

const HEADER_WINDOW = 16 * 1024;
/** Read ends remembered per segment (next offset -> file position). */
const READ_END_SLOTS = 4;
const SCAN_CHUNK = 1024 * 1024;
/** Chunk for lookups that usually stop within a batch or two of the index entry. */
const LOOKUP_CHUNK = 64 * 1024;
/** Write index entries to their files once this many are pending. */
const INDEX_WRITE_BATCH = 64;

export interface ScanResult {
  /** End of the last valid batch. */
  validEnd: number;
  problem?: string;
}

/**
 * Reads [from, end) of a segment file in chunks, calling `visit` for every
 * valid batch (structure + CRC when `verifyCrc`; offsets must increase).
 * Stops at the first invalid batch. `visit` may return false to stop.
 */
export function scanFile(
  io: FileIO,
  fd: number,
  from: number,
  end: number,
  verifyCrc: boolean,
  minOffset: number,
  visit: (info: BatchInfo, chunk: Buffer, filePos: number) => boolean | undefined,
  chunkSize = SCAN_CHUNK,
): ScanResult {
  let pos = from;
  let chunk = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(0, end - from)));
  let expectedMin = minOffset;
  while (pos < end) {
    const want = Math.min(chunk.length, end - pos);
    const n = io.read(fd, chunk, 0, want, pos);
    if (n <= 0) return { validEnd: pos, problem: 'short read' };
    let p = 0;
    while (p < n) {
      const r = checkBatchAt(chunk, p, n, verifyCrc);
      if (r.problem === 'truncated') {
        if (pos + p + 12 <= end && p + 12 <= n) {
          const size = chunk.readInt32BE(p + 8) + 12;
          if (pos + p + size > end) return { validEnd: pos + p, problem: 'truncated batch' };
          if (size > chunk.length) chunk = Buffer.allocUnsafe(size);
        } else if (pos + p + 12 > end) {
          return { validEnd: pos + p, problem: 'truncated header' };
        }
        break; // re-read from pos + p
      }
      if (r.problem !== undefined) return { validEnd: pos + p, problem: r.problem };
      const info = headerAt(chunk, p, r.size);
      if (info.baseOffset < expectedMin) return { validEnd: pos + p, problem: 'offsets not increasing' };
      expectedMin = info.lastOffset + 1;
      if (visit(info, chunk, pos + p) === false) return { validEnd: pos + p + r.size };
      p += r.size;
    }
    if (p === 0 && n < 12) return { validEnd: pos, problem: 'truncated header' };
    pos += p;
  }
  return { validEnd: pos };
}

/**
 * A segment on disk: `<base>.log` (batches as on the wire), `<base>.index`,
 * `<base>.timeindex`. Indexes live in memory once loaded (lazily for
 * segments opened after a clean shutdown) and are written in batches; the
 * log fd comes from the shared LRU.
 */
export class FileSegment implements Segment {
  readonly baseOffset: number;
  readonly dir: string;
  private readonly env: SegmentEnv;
  /** '' for a live segment, '.cleaned' while the cleaner writes it. */
  suffix: string;
  createdAt: number;
  lastModified: number;
  private _size: number;
  private _next: number | null;
  private _maxTs: number | null;
  private _maxTsOffset = -1;
  private idx: OffsetIndex | null = null;
  private tidx: TimeIndex | null = null;
  private idxWritten = 0;
  private tidxWritten = 0;
  private idxFileDirty = false;
  /** Log bytes written (or truncated) since the last fsync. */
  private dataDirty = false;
  private bytesSinceIndex = 0;
  private deleted = false;
  /**
   * CRC verification done in this process: bytes [0, verifiedEnd) and
   * [appendedFrom, size) hold batches that passed their CRC check (scanned by
   * recovery, appended after the caller or the log validated them, or
   * checked by an earlier read). Reads check the CRC of other batches only,
   * so every batch is checked once per process before it is served.
   */
  private verifiedEnd = 0;
  private appendedFrom = Number.POSITIVE_INFINITY;
  /** Where recent reads ended (next offset -> file position), for sequential consumers. */
  private readonly readEnds: number[] = [];
  private readEndsNext = 0;

  private constructor(env: SegmentEnv, dir: string, baseOffset: number, suffix: string, now: number) {
    this.env = env;
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.suffix = suffix;
    this.createdAt = now;
    this.lastModified = now;
    this._size = 0;
    this._next = baseOffset;
    this._maxTs = -1;
  }

  /** Creates empty files for a new segment (truncating leftovers). */
  static create(env: SegmentEnv, dir: string, baseOffset: number, now: number, suffix = ''): FileSegment {
    const s = new FileSegment(env, dir, baseOffset, suffix, now);
    const { io } = env;
    for (const p of [s.logPath, s.indexPath, s.timeIndexPath]) io.close(io.open(p, 'w'));
    s.resetIndexes();
    return s;
  }

  /** Opens an existing segment without reading it (clean shutdown). */
  static openClean(env: SegmentEnv, dir: string, baseOffset: number, now: number): FileSegment {
    const s = new FileSegment(env, dir, baseOffset, '', now);
    s._size = env.io.statSize(s.logPath);
    s.lastModified = env.io.mtime(s.logPath);
    s._next = s._size === 0 ? baseOffset : null;
    s._maxTs = s._size === 0 ? -1 : null;
    return s;
  }

  /**
   * Opens a segment by scanning it (unclean shutdown): CRC-checks every
   * batch, truncates the file after the last valid one, rebuilds indexes.
   */
  static recover(
    env: SegmentEnv,
    dir: string,
    baseOffset: number,
    now: number,
    onBatch: (info: BatchInfo) => void,
  ): { segment: FileSegment; truncated: boolean; problem?: string } {
    const s = new FileSegment(env, dir, baseOffset, '', now);
    const { io } = env;
    s.lastModified = io.mtime(s.logPath);
    const fileSize = io.statSize(s.logPath);
    s.resetIndexes();
    s._size = 0;
    const fd = env.fds.get(s.logPath);
    const res = scanFile(io, fd, 0, fileSize, true, baseOffset, (info, _chunk, filePos) => {
      if (info.lastOffset - baseOffset > 0x7fffffff) return false;
      s.indexBatch(info, filePos);
      s._size = filePos + info.size;
      s._next = info.lastOffset + 1;
      onBatch(info);
      return true;
    });
    const truncated = res.validEnd < fileSize;
    if (truncated) io.ftruncate(fd, res.validEnd);
    s._size = res.validEnd;
    s.verifiedEnd = res.validEnd;
    s.rewriteIndexFiles();
    return { segment: s, truncated, ...(res.problem ? { problem: res.problem } : {}) };
  }

  private paths: { suffix: string; log: string; index: string; time: string } | null = null;
  private path(kind: 'log' | 'index' | 'time'): string {
    if (this.paths === null || this.paths.suffix !== this.suffix) {
      const stem = join(this.dir, segmentFileName(this.baseOffset));
      this.paths = {
        suffix: this.suffix,
        log: `${stem}.log${this.suffix}`,
        index: `${stem}.index${this.suffix}`,
        time: `${stem}.timeindex${this.suffix}`,
      };
    }
    return this.paths[kind];
  }
  get logPath(): string {
    return this.path('log');
  }
  get indexPath(): string {
    return this.path('index');
  }
  get timeIndexPath(): string {
    return this.path('time');
  }

  get size(): number {
    return this._size;
  }

  get nextOffset(): number {
    if (this._next === null) this.computeTail();
    return this._next!;
  }

  get maxTimestamp(): number {
    if (this._maxTs === null) this.computeMaxTimestampCheaply();
    return this._maxTs!;
  }

  private fd(): number {
    if (this.deleted) throw new StorageError('CLOSED', `segment ${this.logPath} was deleted`);
    return this.env.fds.get(this.logPath);
  }

  private resetIndexes(): void {
    const c = this.env.config();
    this.idx = new OffsetIndex(Math.floor(c.segmentIndexBytes / OFFSET_ENTRY));
    this.tidx = new TimeIndex(Math.floor(c.segmentIndexBytes / TIME_ENTRY));
    this.idxWritten = 0;
    this.tidxWritten = 0;
    this.bytesSinceIndex = 0;
  }

  /** Loads indexes from disk; rebuilds them from the log if missing or invalid. */
  private ensureIndexes(): void {
    if (this.idx && this.tidx) return;
    const c = this.env.config();
    const { io } = this.env;
    const ib = io.readFile(this.indexPath);
    const tb = io.readFile(this.timeIndexPath);
    const idx = ib
      ? OffsetIndex.decode(ib, Math.floor(c.segmentIndexBytes / OFFSET_ENTRY), this._size)
      : null;
    const tidx = tb ? TimeIndex.decode(tb, Math.floor(c.segmentIndexBytes / TIME_ENTRY)) : null;
    if (idx && tidx) {
      this.idx = idx;
      this.tidx = tidx;
      this.idxWritten = idx.n;
      this.tidxWritten = tidx.n;
      this.bytesSinceIndex = this._size - idx.lastPosition();
      return;
    }
    this.rebuildIndexes();
  }

  /** Rebuilds indexes by scanning the log (stops at the first invalid batch; reads will refuse it). */
  private rebuildIndexes(): void {
    this.resetIndexes();
    const fd = this.fd();
    let next = this.baseOffset;
    let maxTs = -1;
    scanFile(this.env.io, fd, 0, this._size, false, this.baseOffset, (info, _c, filePos) => {
      this.indexBatch(info, filePos);
      next = info.lastOffset + 1;
      if (info.maxTimestamp > maxTs) maxTs = info.maxTimestamp;
      return true;
    });
    if (this._next === null) this._next = next;
    if (this._maxTs === null) this._maxTs = maxTs;
    this.rewriteIndexFiles();
  }

  /** Adds index entries for a batch at file position `filePos` (before updating size). */
  private indexBatch(info: BatchInfo, filePos: number): void {
    if (info.maxTimestamp > (this._maxTs ?? -1)) {
      this._maxTs = info.maxTimestamp;
      this._maxTsOffset = info.baseOffset;
    }
    if (this.bytesSinceIndex > this.env.config().indexIntervalBytes) {
      this.idx!.push(info.baseOffset - this.baseOffset, filePos);
      if (this._maxTs! >= 0) this.tidx!.maybePush(this._maxTs!, this._maxTsOffset - this.baseOffset);
      this.bytesSinceIndex = 0;
    }
    this.bytesSinceIndex += info.size;
  }

  /** Finds next offset and max timestamp from the last index entry to the end. */
  private computeTail(): void {
    this.ensureIndexes();
    let next = this.baseOffset;
    let maxTs = this.tidx!.lastTimestamp();
    let maxTsOffset = this.tidx!.n ? this.baseOffset + this.tidx!.rel[this.tidx!.n - 1]! : -1;
    const from = this.idx!.lastPosition();
    if (this._size > 0) {
      scanFile(this.env.io, this.fd(), from, this._size, false, 0, (info) => {
        next = info.lastOffset + 1;
        if (info.maxTimestamp > maxTs) {
          maxTs = info.maxTimestamp;
          maxTsOffset = info.baseOffset;
        }
        return true;
      });
    }
    if (this._next === null) this._next = next;
    if (this._maxTs === null) {
      this._maxTs = maxTs;
      this._maxTsOffset = maxTsOffset;
    }
  }

  /** Max timestamp from the last time-index entry (written at roll/close), else by scanning. */
  private computeMaxTimestampCheaply(): void {
    const { io } = this.env;
    const size = io.statSize(this.timeIndexPath);
    if (size >= TIME_ENTRY && size % TIME_ENTRY === 0) {
      const fd = io.open(this.timeIndexPath, 'r');
      try {
        const b = Buffer.allocUnsafe(TIME_ENTRY);
        if (io.read(fd, b, 0, TIME_ENTRY, size - TIME_ENTRY) === TIME_ENTRY) {
          const ts = readInt64(b, 0);
          const rel = b.readInt32BE(8);
          if (ts >= 0 && rel >= 0) {
            this._maxTs = ts;
            this._maxTsOffset = this.baseOffset + rel;
            return;
          }
        }
      } finally {
        io.close(fd);
      }
    }
    this.computeTail();
  }

  append(buf: Buffer, infos: readonly BatchInfo[], now: number): void {
    this.ensureIndexes();
    if (this._next === null) this.computeTail();
    const fd = this.fd();
    const start = this._size;
    try {
      this.env.io.write(fd, buf, start);
    } catch (e) {
      try {
        this.env.io.ftruncate(fd, start);
      } catch {
        // the dir goes offline; the bytes past `size` are never read
      }
      throw e;
    }
    this.dataDirty = true;
    for (const b of infos) this.indexBatch(b, start + b.position);
    this._size = start + buf.length;
    // the batches were validated (CRC included) before reaching the segment
    if (this.verifiedEnd === start) this.verifiedEnd = this._size;
    else if (this.appendedFrom > start) this.appendedFrom = start;
    this._next = infos[infos.length - 1]!.lastOffset + 1;
    if (now > this.lastModified) this.lastModified = now;
    if (this.idx!.n - this.idxWritten >= INDEX_WRITE_BATCH) this.writeIndexTail();
  }

  private writeIndexTail(): void {
    if (!this.idx || !this.tidx || this.deleted) return;
    const { io } = this.env;
    if (this.idx.n > this.idxWritten) {
      const fd = io.open(this.indexPath, 'r+');
      try {
        io.write(fd, this.idx.encode(this.idxWritten), this.idxWritten * OFFSET_ENTRY);
      } finally {
        io.close(fd);
      }
      this.idxWritten = this.idx.n;
      this.idxFileDirty = true;
    }
    if (this.tidx.n > this.tidxWritten) {
      const fd = io.open(this.timeIndexPath, 'r+');
      try {
        io.write(fd, this.tidx.encode(this.tidxWritten), this.tidxWritten * TIME_ENTRY);
      } finally {
        io.close(fd);
      }
      this.tidxWritten = this.tidx.n;
      this.idxFileDirty = true;
    }
  }

  /** Replaces both index files with the in-memory indexes. */
  private rewriteIndexFiles(): void {
    const { io } = this.env;
    const write = (path: string, data: Buffer) => {
      const fd = io.open(path, 'w');
      try {
        if (data.length > 0) io.write(fd, data, 0);
      } finally {
        io.close(fd);
      }
    };
    write(this.indexPath, this.idx!.encode(0));
    write(this.timeIndexPath, this.tidx!.encode(0));
    this.idxWritten = this.idx!.n;
    this.tidxWritten = this.tidx!.n;
    this.idxFileDirty = true;
  }

  /**
   * Position of the first batch whose last offset >= offset, scanning headers
   * from the index entry at or before it. Returns the batch size too, or
   * corrupt when a header is implausible.
   */
  private locate(offset: number): { pos: number; size: number; corrupt?: boolean } {
    this.ensureIndexes();
    const end = this._size;
    let pos = this.idx!.lookup(offset - this.baseOffset);
    const win = Buffer.allocUnsafe(HEADER_WINDOW);
    const fd = this.fd();
    let prevLast = -1;
    for (let guard = 0; pos < end && guard < 1_000_000; guard++) {
      const n = this.env.io.read(fd, win, 0, Math.min(HEADER_WINDOW, end - pos), pos);
      let p = 0;
      while (p + 27 <= n) {
        const size = win.readInt32BE(p + 8) + 12;
        const base = readInt64(win, p);
        const last = base + win.readInt32BE(p + 23);
        if (size < 61 || win[p + 16] !== 2 || base <= prevLast || last < base || pos + p + size > end) {
          return { pos: pos + p, size: -1, corrupt: true };
        }
        if (last >= offset) return { pos: pos + p, size };
        prevLast = last;
        p += size;
      }
      if (p === 0) return { pos: pos, size: -1, corrupt: true };
      pos += p;
    }
    return { pos: end, size: 0 };
  }

  /** True when the batch at file position `pos` has not passed a CRC check in this process. */
  private needsCrc(pos: number): boolean {
    return pos >= this.verifiedEnd && pos < this.appendedFrom;
  }

  /** The batches before `end` are verified (called with end after the batch at verifiedEnd). */
  private verifiedTo(end: number): void {
    this.verifiedEnd = end;
    if (end >= this.appendedFrom) {
      this.verifiedEnd = this._size;
      this.appendedFrom = Number.POSITIVE_INFINITY;
    }
  }

  /** File position of the batch a recent read stopped before, when it ended just below `offset`. */
  private readEndPos(offset: number): number {
    const e = this.readEnds;
    for (let i = 0; i < e.length; i += 2) if (e[i] === offset) return e[i + 1]!;
    return -1;
  }

  /** `pos` may equal the size: the next append starts there (truncation forgets these). */
  private rememberReadEnd(offset: number, pos: number): void {
    const e = this.readEnds;
    for (let i = 0; i < e.length; i += 2) if (e[i] === offset) return;
    const at = this.readEndsNext;
    e[at] = offset;
    e[at + 1] = pos;
    this.readEndsNext = (at + 2) % (2 * READ_END_SLOTS);
  }

  private forgetReadEnds(): void {
    this.readEnds.length = 0;
    this.readEndsNext = 0;
  }

  read(offset: number, maxBytes: number, maxOffset: number, minOne: boolean): SegmentRead {
    if (this._size === 0) return { bufs: [], bytes: 0, nextOffset: offset, stopped: false };
    // A consumer reading on from where its last read stopped skips the index lookup and header scan.
    const cached = this.readEndPos(offset);
    let pos: number;
    let firstSize = -1;
    if (cached >= 0) {
      if (cached >= this._size) return { bufs: [], bytes: 0, nextOffset: offset, stopped: false };
      pos = cached;
    } else {
      const loc = this.locate(offset);
      if (loc.corrupt) return { bufs: [], bytes: 0, nextOffset: offset, stopped: true, corruptAt: offset };
      if (loc.pos >= this._size) return { bufs: [], bytes: 0, nextOffset: offset, stopped: false };
      pos = loc.pos;
      firstSize = loc.size;
    }
    const avail = this._size - pos;
    let want = Math.min(avail, Math.max(0, maxBytes));
    if (minOne && want < firstSize) want = firstSize;
    if (minOne && firstSize < 0 && want < BATCH_HEADER_SIZE) want = Math.min(avail, BATCH_HEADER_SIZE);
    if (want <= 0) return { bufs: [], bytes: 0, nextOffset: offset, stopped: true };
    let buf = Buffer.allocUnsafe(want);
    let n = this.env.io.read(this.fd(), buf, 0, want, pos);
    if (cached >= 0 && n >= 27) {
      if (readInt64(buf, 0) + buf.readInt32BE(23) < offset) {
        // stale entry (cannot happen while truncation clears them): take the slow path
        this.forgetReadEnds();
        return this.read(offset, maxBytes, maxOffset, minOne);
      }
      const size = buf.readInt32BE(8) + 12;
      if (minOne && size > n && size <= avail) {
        buf = Buffer.allocUnsafe(size);
        n = this.env.io.read(this.fd(), buf, 0, size, pos);
      }
    }
    const bufs: Buffer[] = [];
    let p = 0;
    let next = offset;
    while (p < n) {
      const filePos = pos + p;
      const verify = this.needsCrc(filePos);
      const r = checkBatchAt(buf, p, n, verify);
      if (r.problem === 'truncated') break;
      if (r.problem !== undefined) {
        return { bufs, bytes: p, nextOffset: next, stopped: true, corruptAt: next };
      }
      if (verify && filePos === this.verifiedEnd) this.verifiedTo(filePos + r.size);
      const last = readInt64(buf, p) + buf.readInt32BE(p + 23);
      if (last >= maxOffset) {
        this.rememberReadEnd(next, filePos);
        return { bufs, bytes: p, nextOffset: next, stopped: true };
      }
      bufs.push(buf.subarray(p, p + r.size));
      p += r.size;
      next = last + 1;
    }
    this.rememberReadEnd(next, pos + p);
    return { bufs, bytes: p, nextOffset: next, stopped: p < avail };
  }

  findByTimestamp(ts: number, minOffset: number): { offset: number; timestamp: number } | null {
    this.ensureIndexes();
    const rel = this.tidx!.lookupBefore(ts);
    const startOffset = Math.max(minOffset, rel < 0 ? this.baseOffset : this.baseOffset + rel);
    const loc = this.locate(startOffset);
    if (loc.corrupt || loc.pos >= this._size) return null;
    let found: { offset: number; timestamp: number } | null = null;
    scanFile(
      this.env.io,
      this.fd(),
      loc.pos,
      this._size,
      false,
      0,
      (info, chunk) => {
        if (info.maxTimestamp < ts || info.lastOffset < minOffset) return true;
        found = firstOffsetAtOrAfter(chunk.subarray(info.position, info.position + info.size), ts, minOffset);
        return found === null;
      },
      LOOKUP_CHUNK,
    );
    return found;
  }

  findMaxTimestamp(): { offset: number; timestamp: number } | null {
    const maxTs = this.maxTimestamp;
    if (maxTs < 0) return null;
    const startOffset = this._maxTsOffset >= 0 ? this._maxTsOffset : this.baseOffset;
    const loc = this.locate(startOffset);
    let found: { offset: number; timestamp: number } | null = null;
    scanFile(
      this.env.io,
      this.fd(),
      loc.corrupt ? 0 : loc.pos,
      this._size,
      false,
      0,
      (info, chunk) => {
        if (info.maxTimestamp !== maxTs) return true;
        found = {
          offset: offsetOfMaxTimestamp(chunk.subarray(info.position, info.position + info.size)),
          timestamp: maxTs,
        };
        return false;
      },
      LOOKUP_CHUNK,
    );
    return found;
  }

  truncateTo(offset: number): number {
    const loc = this.locate(offset);
    const pos = loc.pos;
    if (pos >= this._size) return 0;
    const removed = this._size - pos;
    this.env.io.ftruncate(this.fd(), pos);
    this.dataDirty = true;
    this._size = pos;
    this.forgetReadEnds();
    if (this.verifiedEnd > pos) this.verifiedEnd = pos;
    if (this.appendedFrom >= pos) this.appendedFrom = Number.POSITIVE_INFINITY;
    // recompute tail state from the index
    this.idx!.truncateToPosition(pos);
    let next = this.baseOffset;
    let maxTs = -1;
    let maxTsOffset = -1;
    const from = this.idx!.lastPosition();
    scanFile(this.env.io, this.fd(), from, pos, false, 0, (info) => {
      next = info.lastOffset + 1;
      return true;
    });
    if (from === 0 && pos === 0) next = this.baseOffset;
    this.tidx!.truncateToRel(next - this.baseOffset);
    maxTs = this.tidx!.lastTimestamp();
    maxTsOffset = this.tidx!.n ? this.baseOffset + this.tidx!.rel[this.tidx!.n - 1]! : -1;
    scanFile(this.env.io, this.fd(), from, pos, false, 0, (info) => {
      if (info.maxTimestamp > maxTs) {
        maxTs = info.maxTimestamp;
        maxTsOffset = info.baseOffset;
      }
      return true;
    });
    this._next = next;
    this._maxTs = maxTs;
    this._maxTsOffset = maxTsOffset;
    this.bytesSinceIndex = pos - this.idx!.lastPosition();
    this.idxWritten = Math.min(this.idxWritten, this.idx!.n);
    this.tidxWritten = Math.min(this.tidxWritten, this.tidx!.n);
    this.rewriteIndexFiles();
    return removed;
  }

  indexFull(): boolean {
    this.ensureIndexes();
    return this.idx!.full || this.tidx!.full;
  }

  *batches(fromOffset = this.baseOffset): Generator<StoredBatch> {
    if (this._size === 0) return;
    const loc = this.locate(fromOffset);
    if (loc.corrupt) {
      throw new StorageError(
        'CORRUPT_LOG',
        `segment ${this.logPath} has a corrupt batch near offset ${fromOffset}`,
      );
    }
    let pos = loc.pos;
    const end = this._size;
    let chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, end - pos));
    while (pos < end) {
      const n = this.env.io.read(this.fd(), chunk, 0, Math.min(chunk.length, end - pos), pos);
      let p = 0;
      let grew = false;
      while (p < n) {
        const r = checkBatchAt(chunk, p, n, this.needsCrc(pos + p));
        if (r.problem === 'truncated') {
          const size = p + 12 <= n ? chunk.readInt32BE(p + 8) + 12 : 0;
          if (pos + p + Math.max(size, 12) > end) {
            throw new StorageError(
              'CORRUPT_LOG',
              `segment ${this.logPath} ends inside a batch at ${pos + p}`,
            );
          }
          if (size > chunk.length) {
            chunk = Buffer.allocUnsafe(size);
            grew = true;
          }
          break;
        }
        if (r.problem !== undefined) {
          throw new StorageError(
            'CORRUPT_LOG',
            `segment ${this.logPath} has an invalid batch (${r.problem}) at position ${pos + p}`,
          );
        }
        const info = headerAt(chunk, p, r.size);
        yield { info, buf: chunk.subarray(p, p + r.size) };
        p += r.size;
      }
      pos += p;
      if (p === 0 && !grew) {
        throw new StorageError('CORRUPT_LOG', `segment ${this.logPath} cannot be parsed at ${pos}`);
      }
      // a fresh chunk so yielded views stay valid for the consumer's current step
      if (pos < end && !grew)
        chunk = Buffer.allocUnsafe(Math.min(Math.max(chunk.length, SCAN_CHUNK), end - pos));
      else if (pos < end) chunk = Buffer.allocUnsafe(Math.max(chunk.length, Math.min(SCAN_CHUNK, end - pos)));
    }
  }

  onBecomeInactive(): void {
    this.ensureIndexes();
    if (this._maxTs !== null && this._maxTs >= 0) {
      this.tidx!.maybePush(this._maxTs, this._maxTsOffset - this.baseOffset);
    }
  }

  async flush(full: boolean): Promise<void> {
    if (this.deleted) return;
    const { io, fds } = this.env;
    // open everything before the first await: a concurrent delete renames files, fds stay valid
    const indexFds: number[] = [];
    if (full && this.idx && this.tidx) {
      // the final time entry, so a clean reopen knows the max timestamp
      if (this._maxTs !== null && this._maxTs >= 0) {
        this.tidx.maybePush(this._maxTs, this._maxTsOffset - this.baseOffset);
      }
      this.writeIndexTail();
    }
    if (full && this.idxFileDirty) {
      this.idxFileDirty = false;
      for (const p of [this.indexPath, this.timeIndexPath]) indexFds.push(io.open(p, 'r'));
    }
    const syncData = this.dataDirty;
    this.dataDirty = false;
    if (!syncData && indexFds.length === 0) return;
    const pinned = syncData ? fds.pin(this.logPath) : null;
    try {
      await Promise.all([...indexFds.map((fd) => io.fsync(fd)), ...(pinned ? [io.fsync(pinned.fd)] : [])]);
    } catch (e) {
      this.dataDirty ||= syncData;
      throw e;
    } finally {
      for (const fd of indexFds) io.close(fd);
      if (pinned) fds.unpin(pinned);
    }
  }

  close(): void {
    if (!this.deleted) {
      try {
        this.writeIndexTail();
      } catch {
        // indexes are rebuilt if they turn out short or invalid
      }
    }
    this.env.fds.close(this.logPath);
  }

  /** Renames the files to `<name>.deleted`; returns the new paths. */
  markDeleted(): string[] {
    this.env.fds.close(this.logPath);
    const out: string[] = [];
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) {
      if (this.env.io.exists(p)) {
        this.env.io.rename(p, `${p}.deleted`);
        out.push(`${p}.deleted`);
      }
    }
    this.deleted = true;
    return out;
  }

  /** Renames this segment's files from the current suffix to `suffix`. */
  renameTo(suffix: string): void {
    const from = [this.logPath, this.indexPath, this.timeIndexPath];
    this.env.fds.close(this.logPath);
    this.suffix = suffix;
    const to = [this.logPath, this.indexPath, this.timeIndexPath];
    for (let i = 0; i < 3; i++) this.env.io.rename(from[i]!, to[i]!);
  }

  /** Deletes the files outright (discarded cleaner output). */
  removeFiles(): void {
    this.env.fds.close(this.logPath);
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) {
      try {
        this.env.io.unlink(p);
      } catch {
        // gone already
      }
    }
    this.deleted = true;
  }

  setMtime(ms: number): void {
    this.lastModified = ms;
    try {
      this.env.io.setMtime(this.logPath, ms);
    } catch {
      // best effort
    }
  }
}
