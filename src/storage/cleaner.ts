import { createHash } from 'node:crypto';
import {
  ATTR_COMPRESSION_MASK,
  BATCH_HEADER_SIZE,
  OFFSET_BATCH_LENGTH,
  OFFSET_RECORD_COUNT,
} from '../protocol/records/batch-header.ts';
import { type BatchInfo, isControl, isTransactional, rewriteCrc } from './batch.ts';
import type { CompactionStats } from './engine.ts';
import type { Log } from './log.ts';
import { getRecordCodec, iterateRecords, recordsSection } from './records.ts';
import type { Segment } from './segment.ts';

/**
 * Log compaction (cleanup.policy=compact): keeps the latest record per key.
 *
 * 1. The cleanable range is whole segments below min(active segment, high
 *    watermark, last stable offset, min.compaction.lag.ms).
 * 2. A key map (key -> latest offset) is built over the dirty part (from the
 *    cleaner checkpoint), bounded to `log.cleanerMaxKeys` entries; if it fills,
 *    this round covers only the offsets mapped so far.
 * 3. Every cleanable segment, clean part included, is rewritten in groups of
 *    up to segment.bytes into a `.cleaned` segment and swapped in atomically.
 *    A record survives unless a later record has the same key; tombstones
 *    also go once their segment was last written more than
 *    delete.retention.ms ago. Batches keep their base offset, last offset
 *    delta, producer fields and timestamps; emptied batches of idempotent
 *    producers stay as header-only batches (producer state survives).
 * 4. The work yields to the event loop every few MiB; appends continue. A
 *    truncation or deletion meanwhile aborts the round (generation check).
 *
 * Compressed batches are decompressed (src/protocol/records/compression.ts,
 * capped at 64 MiB per batch) and the survivors recompressed with the same
 * codec. Opaque batches are retained whole and are not put in the key map:
 * control batches, transactional batches (aborted-transaction removal needs
 * the transaction index: TODO), and batches whose records cannot be read.
 * Tombstones are kept in a round that saw an opaque batch (an unread older
 * value could otherwise resurface).
 */
const YIELD_BYTES = 4 * 1024 * 1024;

function keyId(key: Buffer): string {
  if (key.length <= 20) return `k${key.toString('latin1')}`;
  return `h${createHash('md5').update(key).digest('base64')}`;
}

function opaque(info: BatchInfo): boolean {
  if (isControl(info.attributes) || isTransactional(info.attributes)) return true;
  return (info.attributes & ATTR_COMPRESSION_MASK) !== 0 && getRecordCodec() === null;
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export async function compactLog(log: Log, now: number): Promise<CompactionStats | null> {
  const segs = log.segments;
  if (segs.length < 2) return null;
  const c = log.config;
  const uncleanable = Math.min(log.active.baseOffset, log.highWatermark, log.lastStableOffset);
  let cleanable = 0; // number of segments, from the first, that may be cleaned
  while (cleanable < segs.length - 1) {
    const s = segs[cleanable]!;
    if (segs[cleanable + 1]!.baseOffset > uncleanable) break;
    if (c.minCompactionLagMs > 0 && s.maxTimestamp > now - c.minCompactionLagMs) break;
    cleanable++;
  }
  if (cleanable === 0) return null;
  const firstDirty = log.cleanerCheckpoint;
  const dirtyEnd = segs[cleanable]!.baseOffset;
  if (firstDirty >= dirtyEnd) return null;
  let total = 0;
  let dirty = 0;
  for (let i = 0; i < cleanable; i++) {
    total += segs[i]!.size;
    if (segs[i + 1]!.baseOffset > firstDirty) dirty += segs[i]!.size;
  }
  if (total > 0 && dirty / total < c.minCleanableDirtyRatio) return null;

  const gen0 = log.generation;
  const stats: CompactionStats = {
    segmentsCleaned: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRemoved: 0,
    dirtyEndOffset: dirtyEnd,
  };

  // Phase 1: key map over the dirty part.
  const map = new Map<string, number>();
  let endOffset = dirtyEnd;
  let sawOpaque = false;
  let sinceYield = 0;
  outer: for (let i = 0; i < cleanable; i++) {
    const seg = segs[i]!;
    if (segs[i + 1]!.baseOffset <= firstDirty) continue;
    for (const b of seg.batches(firstDirty)) {
      if (b.info.lastOffset < firstDirty) continue;
      sinceYield += b.info.size;
      if (opaque(b.info)) {
        sawOpaque = true;
        continue;
      }
      const recs = recordsSection(b.buf);
      if (recs === null) {
        sawOpaque = true;
        continue;
      }
      try {
        for (const r of iterateRecords(recs, b.info.recordCount)) {
          if (r.key !== null) map.set(keyId(r.key), b.info.baseOffset + r.offsetDelta);
        }
      } catch {
        sawOpaque = true; // unparsable records: the batch is kept whole
      }
      if (map.size >= log.cleanerMaxKeys) {
        endOffset = b.info.lastOffset + 1;
        break outer;
      }
    }
    if (sinceYield >= YIELD_BYTES) {
      sinceYield = 0;
      await yieldNow();
      if (log.generation !== gen0 || log.closed) return null;
    }
  }
  stats.dirtyEndOffset = endOffset;

  // Phase 2: rewrite segment groups.
  let idx = 0;
  let gen = gen0;
  while (idx < cleanable) {
    const cur = log.segments;
    const group: Segment[] = [cur[idx]!];
    let size = cur[idx]!.size;
    while (idx + group.length < cleanable) {
      const nxt = cur[idx + group.length]!;
      const after = cur[idx + group.length + 1]!;
      if (size + nxt.size > c.segmentBytes || after.baseOffset - group[0]!.baseOffset > 0x7fffffff) break;
      group.push(nxt);
      size += nxt.size;
    }
    const lastModified = Math.max(...group.map((g) => g.lastModified));
    const cleaned = log.backend.createCleanedSegment(group[0]!.baseOffset, lastModified);
    try {
      for (const seg of group) {
        const removeTombstones = !sawOpaque && now - seg.lastModified > c.deleteRetentionMs;
        for (const b of seg.batches()) {
          stats.bytesRead += b.info.size;
          sinceYield += b.info.size;
          const out = filterBatch(b.buf, b.info, map, removeTombstones, stats);
          if (out !== null) {
            const info = { ...b.info, position: 0, size: out.length };
            cleaned.append(out === b.buf ? Buffer.from(out) : out, [info], seg.lastModified);
            stats.bytesWritten += out.length;
          }
          if (sinceYield >= YIELD_BYTES) {
            sinceYield = 0;
            await yieldNow();
            if (log.generation !== gen || log.closed) {
              log.backend.discardCleaned(cleaned);
              return null;
            }
          }
        }
      }
      await cleaned.flush(true);
    } catch (e) {
      log.backend.discardCleaned(cleaned);
      throw e;
    }
    if (log.generation !== gen || log.closed) {
      log.backend.discardCleaned(cleaned);
      return null;
    }
    const live = log.backend.installCleaned(cleaned, group);
    log.replaceSegments(idx, group.length, live);
    gen = log.generation;
    stats.segmentsCleaned += group.length;
    idx++;
    cleanable -= group.length - 1;
  }
  log.cleanerCheckpoint = Math.max(log.cleanerCheckpoint, endOffset);
  return stats;
}

/** Returns the batch to keep (the same buffer if unchanged), or null to drop it. */
function filterBatch(
  buf: Buffer,
  info: BatchInfo,
  map: Map<string, number>,
  removeTombstones: boolean,
  stats: CompactionStats,
): Buffer | null {
  if (opaque(info)) return buf;
  const compression = info.attributes & ATTR_COMPRESSION_MASK;
  const recs = recordsSection(buf);
  if (recs === null) return buf;
  const kept: Buffer[] = [];
  let keptCount = 0;
  let removed = 0;
  try {
    for (const r of iterateRecords(recs, info.recordCount)) {
      const offset = info.baseOffset + r.offsetDelta;
      let keep = r.key !== null;
      if (keep) {
        const latest = map.get(keyId(r.key!));
        if (latest !== undefined && latest > offset) keep = false;
        else if (r.nullValue && removeTombstones) keep = false;
      }
      if (keep) {
        kept.push(recs.subarray(r.start, r.end));
        keptCount++;
      } else removed++;
    }
  } catch {
    return buf; // unparsable records: keep the batch as it is
  }
  stats.recordsRemoved += removed;
  if (removed === 0) return buf;
  if (keptCount === 0 && info.producerId < 0) return null;
  let body: Buffer = Buffer.concat(kept);
  if (compression !== 0) body = getRecordCodec()!.compress(compression, body);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + body.length);
  buf.copy(out, 0, 0, BATCH_HEADER_SIZE);
  body.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - 12, OFFSET_BATCH_LENGTH);
  out.writeInt32BE(keptCount, OFFSET_RECORD_COUNT);
  rewriteCrc(out, 0, out.length);
  return out;
}
