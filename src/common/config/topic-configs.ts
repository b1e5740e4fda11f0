/**
 * Topic-level configuration keys with Kafka's names. Each takes its default
 * from a broker config (its synonym), so DescribeConfigs can report the
 * source (topic override, dynamic broker, static broker, default).
 */
import { buildRegistry, type ConfigDef } from './registry.ts';

const t = (
  name: string,
  type: ConfigDef['type'],
  brokerSynonym: string | undefined,
  def: ConfigDef['default'],
  doc: string,
  extra: Partial<ConfigDef> = {},
): ConfigDef => ({
  name,
  type,
  default: def,
  doc,
  dynamic: true,
  ...(brokerSynonym ? { brokerSynonym } : {}),
  ...extra,
});

export const TOPIC_CONFIGS: readonly ConfigDef[] = [
  t('cleanup.policy', 'list', 'log.cleanup.policy', ['delete'], 'delete, compact, or both.', {
    oneOf: ['delete', 'compact'],
  }),
  t('compression.type', 'string', 'compression.type', 'producer', 'Final compression of stored batches.', {
    oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
  }),
  t(
    'delete.retention.ms',
    'long',
    'log.cleaner.delete.retention.ms',
    86400000,
    'How long tombstones survive compaction.',
    { min: 0 },
  ),
  t(
    'file.delete.delay.ms',
    'long',
    'log.segment.delete.delay.ms',
    60000,
    'Delay before a removed segment file is deleted.',
    { min: 0 },
  ),
  t(
    'flush.messages',
    'long',
    'log.flush.interval.messages',
    Number.MAX_SAFE_INTEGER,
    'fsync after this many messages.',
    { min: 1 },
  ),
  t('flush.ms', 'long', 'log.flush.interval.ms', Number.MAX_SAFE_INTEGER, 'fsync after this long.', {
    min: 0,
  }),
  t('index.interval.bytes', 'int', 'log.index.interval.bytes', 4096, 'Bytes between sparse index entries.', {
    min: 0,
  }),
  t(
    'max.compaction.lag.ms',
    'long',
    'log.cleaner.max.compaction.lag.ms',
    Number.MAX_SAFE_INTEGER,
    'Maximum age before compaction.',
    { min: 1 },
  ),
  t('max.message.bytes', 'int', 'message.max.bytes', 1048588, 'Largest record batch accepted.', { min: 0 }),
  t(
    'message.timestamp.type',
    'string',
    'log.message.timestamp.type',
    'CreateTime',
    'CreateTime or LogAppendTime.',
    {
      oneOf: ['CreateTime', 'LogAppendTime'],
    },
  ),
  t(
    'message.timestamp.before.max.ms',
    'long',
    'log.message.timestamp.before.max.ms',
    Number.MAX_SAFE_INTEGER,
    'Oldest timestamp accepted, relative to now.',
    { min: 0 },
  ),
  t(
    'message.timestamp.after.max.ms',
    'long',
    'log.message.timestamp.after.max.ms',
    Number.MAX_SAFE_INTEGER,
    'Latest timestamp accepted, relative to now.',
    { min: 0 },
  ),
  t(
    'min.cleanable.dirty.ratio',
    'double',
    'log.cleaner.min.cleanable.ratio',
    0.5,
    'Dirty ratio that triggers compaction.',
    { min: 0, max: 1 },
  ),
  t(
    'min.compaction.lag.ms',
    'long',
    'log.cleaner.min.compaction.lag.ms',
    0,
    'Minimum age before compaction.',
    { min: 0 },
  ),
  t(
    'min.insync.replicas',
    'int',
    'min.insync.replicas',
    1,
    'Replicas that must acknowledge an acks=all write.',
    { min: 1 },
  ),
  t('preallocate', 'boolean', undefined, false, 'Preallocate segment files (accepted; not used).'),
  t('retention.bytes', 'long', 'log.retention.bytes', -1, 'Retention size per partition; -1 means no limit.'),
  t('retention.ms', 'long', 'log.retention.ms', 604800000, 'Retention time; -1 keeps forever.', { min: -1 }),
  t('segment.bytes', 'int', 'log.segment.bytes', 1073741824, 'Segment size before rolling.', { min: 14 }),
  t('segment.index.bytes', 'int', 'log.index.size.max.bytes', 10485760, 'Maximum index file size.', {
    min: 4,
  }),
  t('segment.jitter.ms', 'long', undefined, 0, 'Random jitter subtracted from segment.ms.', { min: 0 }),
  t('segment.ms', 'long', 'log.roll.ms', 604800000, 'Roll a segment after this long.', { min: 1 }),
  t(
    'unclean.leader.election.enable',
    'boolean',
    'unclean.leader.election.enable',
    false,
    'Allow unclean leader election.',
  ),
];

export const TOPIC_CONFIG_DEFS = buildRegistry(TOPIC_CONFIGS);
