/**
 * Topic-level configuration keys with Kafka's names and defaults. Each takes
 * its default from broker configs (its synonyms, first set one wins), so
 * DescribeConfigs can report the source (topic override, dynamic broker,
 * static broker, default) and the synonym chain.
 */
import { buildRegistry, type ConfigDef, type ConfigValue } from './registry.ts';

const HOUR = 3_600_000;

const t = (
  name: string,
  type: ConfigDef['type'],
  synonyms: string | readonly (readonly [string, number])[] | undefined,
  def: ConfigDef['default'],
  doc: string,
  extra: Partial<ConfigDef> = {},
): ConfigDef => ({
  name,
  type,
  default: def,
  doc,
  dynamic: true,
  ...(synonyms === undefined
    ? {}
    : {
        brokerSynonyms:
          typeof synonyms === 'string'
            ? [{ name: synonyms, scale: 1 }]
            : synonyms.map(([n, scale]) => ({ name: n, scale })),
      }),
  ...extra,
});

/** "*" or a comma-separated list of partition:brokerId pairs (replication throttling). */
const throttledReplicas = (v: ConfigValue): string | undefined => {
  const items = v as string[];
  if (items.length === 1 && items[0] === '*') return undefined;
  return items.every((i) => /^\d+:\d+$/.test(i))
    ? undefined
    : '"*" or a comma-separated list of partitionId:brokerId';
};

export const TOPIC_CONFIGS: readonly ConfigDef[] = [
  t('cleanup.policy', 'list', 'log.cleanup.policy', ['delete'], 'delete, compact, or both.', {
    oneOf: ['delete', 'compact'],
  }),
  t('compression.gzip.level', 'int', 'compression.gzip.level', -1, 'gzip level when compression.type=gzip.', {
    check: (v) => (v === -1 || ((v as number) >= 1 && (v as number) <= 9) ? undefined : '-1 or [1, 9]'),
  }),
  t('compression.lz4.level', 'int', 'compression.lz4.level', 9, 'lz4 level when compression.type=lz4.', {
    min: 1,
    max: 17,
  }),
  t('compression.type', 'string', 'compression.type', 'producer', 'Final compression of stored batches.', {
    oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
  }),
  t('compression.zstd.level', 'int', 'compression.zstd.level', 3, 'zstd level when compression.type=zstd.', {
    min: -131072,
    max: 22,
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
  t(
    'flush.ms',
    'long',
    [
      ['log.flush.interval.ms', 1],
      ['log.flush.scheduler.interval.ms', 1],
    ],
    Number.MAX_SAFE_INTEGER,
    'fsync after this long.',
    { min: 0 },
  ),
  t(
    'follower.replication.throttled.replicas',
    'list',
    undefined,
    [],
    'Replicas whose follower fetches are throttled ("*" for all).',
    { check: throttledReplicas },
  ),
  t('index.interval.bytes', 'int', 'log.index.interval.bytes', 4096, 'Bytes between sparse index entries.', {
    min: 0,
  }),
  t(
    'leader.replication.throttled.replicas',
    'list',
    undefined,
    [],
    'Replicas whose leader-side replication is throttled ("*" for all).',
    { check: throttledReplicas },
  ),
  t(
    'local.retention.bytes',
    'long',
    'log.local.retention.bytes',
    -2,
    'Local retention size with tiered storage (-2: use retention.bytes).',
    { min: -2 },
  ),
  t(
    'local.retention.ms',
    'long',
    'log.local.retention.ms',
    -2,
    'Local retention time with tiered storage (-2: use retention.ms).',
    { min: -2 },
  ),
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
    'message.timestamp.after.max.ms',
    'long',
    'log.message.timestamp.after.max.ms',
    Number.MAX_SAFE_INTEGER,
    'Latest timestamp accepted, relative to now.',
    { min: 0 },
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
    'message.timestamp.type',
    'string',
    'log.message.timestamp.type',
    'CreateTime',
    'CreateTime or LogAppendTime.',
    { oneOf: ['CreateTime', 'LogAppendTime'] },
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
  t('preallocate', 'boolean', 'log.preallocate', false, 'Preallocate segment files (accepted; not used).'),
  t('remote.log.copy.disable', 'boolean', undefined, false, 'Stop copying segments to remote storage.'),
  t(
    'remote.log.delete.on.disable',
    'boolean',
    undefined,
    false,
    'Delete remote data when tiering is disabled.',
  ),
  t(
    'remote.storage.enable',
    'boolean',
    undefined,
    false,
    'Tiered storage for this topic (not supported by Samsa).',
  ),
  t('retention.bytes', 'long', 'log.retention.bytes', -1, 'Retention size per partition; -1 means no limit.'),
  t(
    'retention.ms',
    'long',
    [
      ['log.retention.ms', 1],
      ['log.retention.minutes', 60_000],
      ['log.retention.hours', HOUR],
    ],
    604800000,
    'Retention time; -1 keeps forever.',
    { min: -1 },
  ),
  t('segment.bytes', 'int', 'log.segment.bytes', 1073741824, 'Segment size before rolling.', { min: 14 }),
  t('segment.index.bytes', 'int', 'log.index.size.max.bytes', 10485760, 'Maximum index file size.', {
    min: 4,
  }),
  t(
    'segment.jitter.ms',
    'long',
    [
      ['log.roll.jitter.ms', 1],
      ['log.roll.jitter.hours', HOUR],
    ],
    0,
    'Random jitter subtracted from segment.ms.',
    { min: 0 },
  ),
  t(
    'segment.ms',
    'long',
    [
      ['log.roll.ms', 1],
      ['log.roll.hours', HOUR],
    ],
    604800000,
    'Roll a segment after this long.',
    { min: 1 },
  ),
  t(
    'unclean.leader.election.enable',
    'boolean',
    'unclean.leader.election.enable',
    false,
    'Allow unclean leader election.',
  ),
];

export const TOPIC_CONFIG_DEFS = buildRegistry(TOPIC_CONFIGS);

/** Broker keys that are a synonym of some topic config (a change to one affects topic logs). */
export const TOPIC_SYNONYM_BROKER_KEYS: ReadonlySet<string> = new Set(
  TOPIC_CONFIGS.flatMap((d) => (d.brokerSynonyms ?? []).map((s) => s.name)),
);
