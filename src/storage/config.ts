/**
 * Per-log configuration, with Kafka's topic-level names and defaults.
 * `fromKafkaConfig` maps dotted names; the broker's config registry is the
 * place that validates user input, this module only clamps to sane bounds.
 */
export interface LogConfig {
  /** segment.bytes */
  segmentBytes: number;
  /** segment.ms */
  segmentMs: number;
  /** segment.jitter.ms */
  segmentJitterMs: number;
  /** segment.index.bytes (offset index; 8 bytes per entry) */
  segmentIndexBytes: number;
  /** index.interval.bytes */
  indexIntervalBytes: number;
  /** retention.ms (-1: unlimited) */
  retentionMs: number;
  /** retention.bytes (-1: unlimited) */
  retentionBytes: number;
  /** file.delete.delay.ms */
  fileDeleteDelayMs: number;
  /** cleanup.policy contains "delete" */
  cleanupDelete: boolean;
  /** cleanup.policy contains "compact" */
  cleanupCompact: boolean;
  /** delete.retention.ms: how long tombstones survive in the cleaned part of the log */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms */
  minCompactionLagMs: number;
  /** min.cleanable.dirty.ratio */
  minCleanableDirtyRatio: number;
  /** flush.messages (Infinity: never by count, the Kafka default) */
  flushMessages: number;
  /** flush.ms (Infinity: never by time, the Kafka default) */
  flushMs: number;
  /** samsa.fsync.before.ack: append() resolves only after the bytes are fsynced */
  fsyncBeforeAck: boolean;
  /** max.message.bytes: largest batch accepted on a leader append */
  maxMessageBytes: number;
  /** message.timestamp.type */
  timestampType: 'CreateTime' | 'LogAppendTime';
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  segmentJitterMs: 0,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  fileDeleteDelayMs: 60_000,
  cleanupDelete: true,
  cleanupCompact: false,
  deleteRetentionMs: 24 * 3600 * 1000,
  minCompactionLagMs: 0,
  minCleanableDirtyRatio: 0.5,
  flushMessages: Number.POSITIVE_INFINITY,
  flushMs: Number.POSITIVE_INFINITY,
  fsyncBeforeAck: false,
  maxMessageBytes: 1048588,
  timestampType: 'CreateTime',
});

/** Smallest segment.bytes accepted (a batch header plus a little). */
const MIN_SEGMENT_BYTES = 128;

export function resolveLogConfig(partial?: Partial<LogConfig>): LogConfig {
  const c: LogConfig = { ...DEFAULT_LOG_CONFIG, ...(partial ?? {}) };
  c.segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(c.segmentBytes, 0x7fffffff));
  c.segmentIndexBytes = Math.max(16, c.segmentIndexBytes);
  c.indexIntervalBytes = Math.max(0, c.indexIntervalBytes);
  if (!(c.flushMessages > 0)) c.flushMessages = Number.POSITIVE_INFINITY;
  if (!(c.flushMs >= 0)) c.flushMs = Number.POSITIVE_INFINITY;
  return c;
}

function num(v: string | number | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Maps Kafka topic config names (`segment.bytes`, `cleanup.policy`, ...) to a LogConfig. */
export function fromKafkaConfig(cfg: Record<string, string | number | boolean | undefined>): LogConfig {
  const p: Partial<LogConfig> = {};
  const set = <K extends keyof LogConfig>(k: K, v: LogConfig[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  set('segmentBytes', num(cfg['segment.bytes']));
  set('segmentMs', num(cfg['segment.ms']));
  set('segmentJitterMs', num(cfg['segment.jitter.ms']));
  set('segmentIndexBytes', num(cfg['segment.index.bytes']));
  set('indexIntervalBytes', num(cfg['index.interval.bytes']));
  set('retentionMs', num(cfg['retention.ms']));
  set('retentionBytes', num(cfg['retention.bytes']));
  set('fileDeleteDelayMs', num(cfg['file.delete.delay.ms']));
  set('deleteRetentionMs', num(cfg['delete.retention.ms']));
  set('minCompactionLagMs', num(cfg['min.compaction.lag.ms']));
  set('minCleanableDirtyRatio', num(cfg['min.cleanable.dirty.ratio']));
  set('maxMessageBytes', num(cfg['max.message.bytes']));
  const fm = num(cfg['flush.messages']);
  if (fm !== undefined) p.flushMessages = fm >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : fm;
  const fms = num(cfg['flush.ms']);
  if (fms !== undefined) p.flushMs = fms >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : fms;
  const policy = cfg['cleanup.policy'];
  if (policy !== undefined) {
    const parts = String(policy)
      .split(',')
      .map((s) => s.trim());
    p.cleanupDelete = parts.includes('delete');
    p.cleanupCompact = parts.includes('compact');
  }
  const fsync = cfg['samsa.fsync.before.ack'];
  if (fsync !== undefined) p.fsyncBeforeAck = fsync === true || fsync === 'true';
  const tt = cfg['message.timestamp.type'];
  if (tt === 'LogAppendTime' || tt === 'CreateTime') p.timestampType = tt;
  return resolveLogConfig(p);
}
