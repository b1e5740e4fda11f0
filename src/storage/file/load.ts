import { join } from 'node:path';
import { CorruptCheckpointError, readCheckpoint } from '../checkpoint.ts';
import type { FileIO } from '../io.ts';
import type { EpochEntry } from '../leader-epoch.ts';
import { LeaderEpochCache } from '../leader-epoch.ts';
import type { LogState } from '../log.ts';
import { LEADER_EPOCH_CHECKPOINT } from './backend.ts';
import { FileSegment, type SegmentEnv, scanFile, segmentFileName } from './segment.ts';

const SEGMENT_RE = /^(\d{20})\.(log|index|timeindex)$/;

export interface LoadInput {
  io: FileIO;
  env: SegmentEnv;
  partitionDir: string;
  now: number;
  /** The dir had a clean-shutdown marker. */
  clean: boolean;
  recoveryPoint: number | undefined;
  logStartOffset: number | undefined;
  highWatermark: number | undefined;
  cleanerCheckpoint: number | undefined;
  warn: (msg: string) => void;
}

export interface LoadOutput {
  state: LogState;
  recovered: boolean;
  /** Bytes scanned by recovery. */
  scannedBytes: number;
  truncatedAt?: { segment: number; problem: string };
  /** A valid leader-epoch checkpoint was found. */
  epochFileFound: boolean;
}

/** Finishes or rolls back interrupted file operations (deletes, compaction swaps). */
function tidy(io: FileIO, dir: string, warn: (m: string) => void): void {
  const names = io.readdir(dir);
  for (const n of names) {
    if (n.endsWith('.deleted') || n.endsWith('.cleaned') || n.endsWith('.tmp')) io.unlink(join(dir, n));
  }
  // complete swaps: <base>.log.swap replaces every segment whose base lies in its range
  for (const n of names) {
    const m = /^(\d{20})\.log\.swap$/.exec(n);
    if (!m) continue;
    const base = Number(m[1]);
    const swapPath = join(dir, n);
    const fd = io.open(swapPath, 'r');
    let next = base;
    try {
      const end = io.statSize(swapPath);
      scanFile(io, fd, 0, end, false, 0, (info) => {
        next = info.lastOffset + 1;
        return true;
      });
    } finally {
      io.close(fd);
    }
    for (const other of io.readdir(dir)) {
      const om = SEGMENT_RE.exec(other);
      if (!om) continue;
      const ob = Number(om[1]);
      if (ob >= base && ob < Math.max(next, base + 1)) io.unlink(join(dir, other));
    }
    const stem = join(dir, segmentFileName(base));
    io.rename(swapPath, `${stem}.log`);
    for (const ext of ['index', 'timeindex']) {
      if (io.exists(`${stem}.${ext}.swap`)) io.rename(`${stem}.${ext}.swap`, `${stem}.${ext}`);
    }
    warn(`completed an interrupted compaction swap of segment ${base} in ${dir}`);
  }
  for (const n of io.readdir(dir)) if (n.endsWith('.swap')) io.unlink(join(dir, n));
}

function readEpochs(io: FileIO, dir: string, warn: (m: string) => void): EpochEntry[] | null {
  try {
    const rows = readCheckpoint(io, join(dir, LEADER_EPOCH_CHECKPOINT), 0, 2);
    if (rows === null) return null;
    const entries = rows.map((r) => ({ epoch: Number(r[0]), startOffset: Number(r[1]) }));
    for (let i = 1; i < entries.length; i++) {
      if (
        entries[i]!.epoch <= entries[i - 1]!.epoch ||
        entries[i]!.startOffset < entries[i - 1]!.startOffset
      ) {
        throw new CorruptCheckpointError(join(dir, LEADER_EPOCH_CHECKPOINT), 'entries not ascending');
      }
    }
    return entries;
  } catch (e) {
    if (e instanceof CorruptCheckpointError) {
      warn(`${e.message}; rebuilding the leader-epoch cache from the log`);
      return null;
    }
    throw e;
  }
}

/**
 * Opens a partition directory. After a clean shutdown segments open lazily.
 * Otherwise every segment from the one holding the recovery point on is
 * scanned and CRC-checked; the log is cut at the first invalid batch and the
 * later segments removed. A missing or corrupt leader-epoch checkpoint
 * forces a scan of the whole log (the cache is rebuilt from batch headers).
 */
export function loadPartition(inp: LoadInput): LoadOutput {
  const { io, env, partitionDir: dir, now, warn } = inp;
  tidy(io, dir, warn);
  const bases = new Set<number>();
  const present = new Set<string>();
  for (const n of io.readdir(dir)) {
    const m = SEGMENT_RE.exec(n);
    if (!m) continue;
    present.add(n);
    if (m[2] === 'log') bases.add(Number(m[1]));
  }
  // orphan index files (no .log) are removed
  for (const n of present) {
    const m = SEGMENT_RE.exec(n)!;
    if (m[2] !== 'log' && !bases.has(Number(m[1]))) io.unlink(join(dir, n));
  }
  const sorted = [...bases].sort((a, b) => a - b);
  const epochs = readEpochs(io, dir, warn);
  const logStart = inp.logStartOffset ?? (sorted.length ? sorted[0]! : 0);
  if (sorted.length === 0) {
    const seg = FileSegment.create(env, dir, logStart, now);
    return {
      state: {
        segments: [seg],
        logStartOffset: logStart,
        highWatermark: logStart,
        recoveryPoint: logStart,
        epochs: epochs ?? [],
        cleanerCheckpoint: logStart,
      },
      recovered: false,
      scannedBytes: 0,
      epochFileFound: epochs !== null,
    };
  }
  // no epoch checkpoint for a log holding data: rebuild the cache by scanning everything
  const needFull =
    epochs === null && sorted.some((b) => io.statSize(join(dir, `${segmentFileName(b)}.log`)) > 0);
  const clean = inp.clean && !needFull;
  let recoveryPoint = inp.recoveryPoint ?? 0;
  if (needFull) recoveryPoint = 0;
  const segments: FileSegment[] = [];
  let scannedBytes = 0;
  let truncatedAt: LoadOutput['truncatedAt'];
  const cache = new LeaderEpochCache(epochs ?? []);
  if (clean) {
    for (const b of sorted) segments.push(FileSegment.openClean(env, dir, b, now));
  } else {
    // first segment to scan: the last whose base <= recovery point
    let firstScan = 0;
    for (let i = 0; i < sorted.length; i++) if (sorted[i]! <= recoveryPoint) firstScan = i;
    for (let i = 0; i < firstScan; i++) segments.push(FileSegment.openClean(env, dir, sorted[i]!, now));
    let cut = false;
    for (let i = firstScan; i < sorted.length; i++) {
      const base = sorted[i]!;
      const prevNext = segments.length ? segments[segments.length - 1]!.nextOffset : 0;
      if (cut || base < prevNext) {
        // after a cut, or overlapping an earlier segment: remove
        for (const ext of ['log', 'index', 'timeindex']) {
          const p = join(dir, `${segmentFileName(base)}.${ext}`);
          if (io.exists(p)) io.unlink(p);
        }
        env.fds.close(join(dir, `${segmentFileName(base)}.log`));
        continue;
      }
      scannedBytes += io.statSize(join(dir, `${segmentFileName(base)}.log`));
      const r = FileSegment.recover(env, dir, base, now, (info) => {
        if (info.partitionLeaderEpoch >= 0 && info.partitionLeaderEpoch > cache.latestEpoch()) {
          cache.assign(info.partitionLeaderEpoch, info.baseOffset);
        }
      });
      segments.push(r.segment);
      if (r.truncated) {
        cut = true;
        truncatedAt = { segment: base, problem: r.problem ?? 'invalid batch' };
        warn(
          `recovery of ${dir}: segment ${base} truncated at byte ${r.segment.size} (${r.problem}); later segments removed`,
        );
      }
    }
    // drop empty non-active segments created by a cut at their first byte
    while (segments.length > 1 && segments[segments.length - 1]!.size === 0 && cut) {
      const last = segments[segments.length - 1]!;
      const prev = segments[segments.length - 2]!;
      if (prev.nextOffset < last.baseOffset) break;
      segments.pop();
      last.markDeleted();
      for (const p of [
        `${last.logPath}.deleted`,
        `${last.indexPath}.deleted`,
        `${last.timeIndexPath}.deleted`,
      ]) {
        if (io.exists(p)) io.unlink(p);
      }
    }
  }
  const leo = segments[segments.length - 1]!.nextOffset;
  cache.truncateFromEnd(leo);
  return {
    state: {
      segments,
      logStartOffset: Math.min(logStart, leo),
      highWatermark: Math.min(inp.highWatermark ?? 0, leo),
      recoveryPoint: clean ? leo : Math.min(recoveryPoint, leo),
      epochs: cache.all,
      cleanerCheckpoint: inp.cleanerCheckpoint ?? 0,
    },
    recovered: !clean,
    scannedBytes,
    epochFileFound: epochs !== null,
    ...(truncatedAt ? { truncatedAt } : {}),
  };
}
