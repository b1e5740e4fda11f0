/**
 * Broker configuration keys: Kafka's names and defaults. Add a key here and it
 * is accepted from server.properties, --set, the environment, DescribeConfigs
 * and (when dynamic) IncrementalAlterConfigs.
 */
import { buildRegistry, type ConfigDef } from './registry.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const d = (
  name: string,
  type: ConfigDef['type'],
  def: ConfigDef['default'],
  doc: string,
  extra: Partial<ConfigDef> = {},
): ConfigDef => ({ name, type, default: def, doc, dynamic: false, ...extra });

export const BROKER_CONFIGS: readonly ConfigDef[] = [
  // Identity and listeners
  d('node.id', 'int', 1, 'This broker id.', { min: 0, importance: 'high' }),
  d('broker.id', 'int', -1, 'Alias of node.id (classic name); -1 means use node.id.', { min: -1 }),
  d(
    'cluster.id',
    'string',
    null,
    'Cluster id; generated on first start and stored in meta.properties when unset.',
  ),
  d(
    'listeners',
    'list',
    ['PLAINTEXT://127.0.0.1:9092'],
    'Listener URIs: NAME://host:port (port 0 picks a free port).',
    { importance: 'high' },
  ),
  d('advertised.listeners', 'list', null, 'Addresses given to clients in Metadata; defaults to listeners.', {
    importance: 'high',
  }),
  d(
    'listener.security.protocol.map',
    'list',
    ['PLAINTEXT:PLAINTEXT', 'SSL:SSL', 'SASL_PLAINTEXT:SASL_PLAINTEXT', 'SASL_SSL:SASL_SSL'],
    'Listener name to security protocol.',
  ),
  d('inter.broker.listener.name', 'string', null, 'Listener brokers use to talk to each other.'),
  d('broker.rack', 'string', null, 'Rack of this broker.'),
  // Sockets and requests
  d(
    'socket.request.max.bytes',
    'int',
    104857600,
    'Largest request frame accepted; checked before any allocation.',
    { min: 1 },
  ),
  d('max.connections', 'int', 2147483647, 'Most client connections at once across all listeners.', {
    min: 0,
    dynamic: true,
  }),
  d('max.connections.per.ip', 'int', 2147483647, 'Most connections from one address.', {
    min: 0,
    dynamic: true,
  }),
  d('connections.max.idle.ms', 'long', 600000, 'Idle connections are closed after this long.', { min: 1 }),
  // Kafka's default is -1 (no cap); Samsa caps at 256 MiB so that producers
  // pipelining faster than the disk meet TCP backpressure before the process
  // runs out of memory. Request bytes are Buffers outside the V8 heap, so
  // --max-old-space-size does not bound them; size this to the memory the
  // broker may use for requests in flight (RSS grows by up to about twice
  // this: requests, plus fetch responses still being written, which Fetch
  // sizes to what is left of the same cap).
  d(
    'queued.max.request.bytes',
    'long',
    268435456,
    "Cap on bytes of requests received and not yet answered, across all connections; at the cap connections stop reading until it drains to 3/4 (TCP backpressure, nothing dropped). A single larger request is still admitted when nothing else is queued. Fetch responses being written are held to the same cap. 0 or -1: no cap (Kafka's default).",
    { min: -1 },
  ),
  d(
    'queued.max.requests',
    'int',
    500,
    'Requests read and waiting for their turn, across all connections, before connections stop reading.',
    { min: 1 },
  ),
  d(
    'num.network.threads',
    'int',
    3,
    'Accepted for compatibility; Samsa serves all connections on its event loop.',
    { min: 1, dynamic: true },
  ),
  d('num.io.threads', 'int', 8, 'Accepted for compatibility; Samsa has no separate request threads.', {
    min: 1,
    dynamic: true,
  }),
  d('request.timeout.ms', 'int', 30000, 'Upper bound for internal request waits.', { min: 0 }),
  d('socket.send.buffer.bytes', 'int', 102400, 'SO_SNDBUF of client sockets (-1: OS default).', { min: -1 }),
  d('socket.receive.buffer.bytes', 'int', 102400, 'SO_RCVBUF of client sockets (-1: OS default).', {
    min: -1,
  }),
  d('fetch.max.bytes', 'int', 57671680, 'Largest fetch response the broker returns.', { min: 1024 }),
  d('max.incremental.fetch.session.cache.slots', 'int', 1000, 'Most incremental fetch sessions kept.', {
    min: 0,
  }),
  d(
    'max.request.partition.size.limit',
    'int',
    2000,
    'Most partitions in one DescribeTopicPartitions response.',
    { min: 1 },
  ),
  d('background.threads', 'int', 10, 'Accepted for compatibility (background task threads).', {
    min: 1,
    dynamic: true,
  }),
  // Logs
  d('log.dirs', 'list', null, 'Directories holding partition logs; defaults to log.dir.', {
    importance: 'high',
  }),
  d('log.dir', 'string', '/tmp/kafka-logs', 'Log directory used when log.dirs is unset.', {
    importance: 'high',
  }),
  d('num.partitions', 'int', 1, 'Default partitions for auto-created topics and CreateTopics with -1.', {
    min: 1,
    importance: 'medium',
  }),
  d('default.replication.factor', 'int', 1, 'Default replication factor for created topics.', {
    min: 1,
    importance: 'medium',
  }),
  d(
    'auto.create.topics.enable',
    'boolean',
    true,
    'Create a topic when Metadata or Produce asks for an unknown one.',
    { importance: 'high' },
  ),
  d('delete.topic.enable', 'boolean', true, 'Allow DeleteTopics.'),
  d('log.segment.bytes', 'int', 1073741824, 'Segment file size before rolling.', { min: 14, dynamic: true }),
  d('log.roll.ms', 'long', null, 'Roll a segment after this long (overrides log.roll.hours).', {
    min: 1,
    dynamic: true,
  }),
  d('log.roll.hours', 'int', 168, 'Roll a segment after this many hours.', { min: 1 }),
  d('log.retention.ms', 'long', null, 'Retention time (overrides minutes and hours); -1 keeps forever.', {
    min: -1,
    dynamic: true,
  }),
  d('log.retention.minutes', 'int', null, 'Retention time in minutes (overrides hours).', { min: -1 }),
  d('log.retention.hours', 'int', 168, 'Retention time in hours.', { min: -1, importance: 'high' }),
  d('log.retention.bytes', 'long', -1, 'Retention size per partition; -1 means no limit.', { dynamic: true }),
  d('log.retention.check.interval.ms', 'long', 300000, 'How often retention runs.', { min: 1 }),
  d('log.cleanup.policy', 'list', ['delete'], 'delete, compact or both.', {
    oneOf: ['delete', 'compact'],
    dynamic: true,
  }),
  d('log.roll.jitter.ms', 'long', null, 'Random jitter subtracted from the roll time (overrides hours).', {
    min: 0,
    dynamic: true,
  }),
  d('log.roll.jitter.hours', 'int', 0, 'Random jitter subtracted from the roll time, in hours.', { min: 0 }),
  d(
    'log.local.retention.ms',
    'long',
    -2,
    'Local retention time with tiered storage (-2: use the retention time).',
    { min: -2, dynamic: true },
  ),
  d(
    'log.local.retention.bytes',
    'long',
    -2,
    'Local retention size with tiered storage (-2: use the retention size).',
    { min: -2, dynamic: true },
  ),
  d('log.preallocate', 'boolean', false, 'Preallocate segment files (accepted; not used).', {
    dynamic: true,
  }),
  d(
    'log.flush.scheduler.interval.ms',
    'long',
    Number.MAX_SAFE_INTEGER,
    'How often logs are checked for a time-based flush.',
    { min: 0 },
  ),
  d(
    'log.flush.offset.checkpoint.interval.ms',
    'int',
    60000,
    'How often the recovery point is checkpointed.',
    {
      min: 0,
    },
  ),
  d(
    'log.flush.start.offset.checkpoint.interval.ms',
    'int',
    60000,
    'How often the log start offset is checkpointed.',
    { min: 0 },
  ),
  d('num.recovery.threads.per.data.dir', 'int', 2, 'Accepted for compatibility (log recovery parallelism).', {
    min: 1,
    dynamic: true,
  }),
  d('remote.log.storage.system.enable', 'boolean', false, 'Tiered storage (not supported by Samsa).'),
  d('log.cleaner.enable', 'boolean', true, 'Run the log cleaner for compacted topics.'),
  d('log.cleaner.threads', 'int', 1, 'Log cleaner threads (accepted; Samsa cleans on its event loop).', {
    min: 0,
    dynamic: true,
  }),
  d('log.cleaner.backoff.ms', 'long', 15000, 'Sleep between cleaner passes when nothing is to clean.', {
    min: 0,
    dynamic: true,
  }),
  d('log.cleaner.io.buffer.size', 'int', 524288, 'Cleaner I/O buffer size.', { min: 0, dynamic: true }),
  d('log.cleaner.delete.retention.ms', 'long', DAY, 'How long tombstones are kept in compacted topics.', {
    min: 0,
    dynamic: true,
  }),
  d('log.cleaner.min.cleanable.ratio', 'double', 0.5, 'Dirty ratio that triggers compaction.', {
    min: 0,
    max: 1,
    dynamic: true,
  }),
  d('log.cleaner.min.compaction.lag.ms', 'long', 0, 'Minimum age before a record may be compacted.', {
    min: 0,
    dynamic: true,
  }),
  d(
    'log.cleaner.max.compaction.lag.ms',
    'long',
    Number.MAX_SAFE_INTEGER,
    'Maximum age before a record is compacted.',
    { min: 1, dynamic: true },
  ),
  d('log.cleaner.dedupe.buffer.size', 'long', 134217728, 'Memory for the cleaner key map.', {
    min: 1,
    dynamic: true,
  }),
  d('log.index.interval.bytes', 'int', 4096, 'Bytes between sparse index entries.', {
    min: 0,
    dynamic: true,
  }),
  d('log.index.size.max.bytes', 'int', 10485760, 'Maximum index file size.', { min: 4, dynamic: true }),
  d('log.flush.interval.messages', 'long', Number.MAX_SAFE_INTEGER, 'fsync after this many messages.', {
    min: 1,
    dynamic: true,
  }),
  d('log.flush.interval.ms', 'long', null, 'fsync after this long.', { min: 0, dynamic: true }),
  d('log.segment.delete.delay.ms', 'long', 60000, 'Delay before deleting a removed segment file.', {
    min: 0,
    dynamic: true,
  }),
  d('log.message.timestamp.type', 'string', 'CreateTime', 'CreateTime or LogAppendTime.', {
    oneOf: ['CreateTime', 'LogAppendTime'],
    dynamic: true,
  }),
  d(
    'log.message.timestamp.before.max.ms',
    'long',
    Number.MAX_SAFE_INTEGER,
    'Reject timestamps older than this before now.',
    { min: 0, dynamic: true },
  ),
  d(
    'log.message.timestamp.after.max.ms',
    'long',
    Number.MAX_SAFE_INTEGER,
    'Reject timestamps later than this after now.',
    { min: 0, dynamic: true },
  ),
  d('message.max.bytes', 'int', 1048588, 'Largest record batch accepted.', {
    min: 0,
    dynamic: true,
    importance: 'high',
  }),
  d('compression.type', 'string', 'producer', 'Final compression of stored batches.', {
    oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
    dynamic: true,
  }),
  d('compression.gzip.level', 'int', -1, 'gzip level when the broker compresses with gzip.', {
    dynamic: true,
    check: (v) => (v === -1 || ((v as number) >= 1 && (v as number) <= 9) ? undefined : '-1 or [1, 9]'),
  }),
  d('compression.lz4.level', 'int', 9, 'lz4 level when the broker compresses with lz4.', {
    min: 1,
    max: 17,
    dynamic: true,
  }),
  d('compression.zstd.level', 'int', 3, 'zstd level when the broker compresses with zstd.', {
    min: -131072,
    max: 22,
    dynamic: true,
  }),
  d('min.insync.replicas', 'int', 1, 'Replicas that must acknowledge an acks=all write.', {
    min: 1,
    dynamic: true,
    importance: 'high',
  }),
  d(
    'unclean.leader.election.enable',
    'boolean',
    false,
    'Allow an out-of-sync replica to become leader (may lose data).',
    { dynamic: true },
  ),
  d(
    'samsa.log.fsync.before.ack',
    'boolean',
    false,
    'Samsa: fsync appended batches before acknowledging a produce.',
    { dynamic: false },
  ),
  d(
    'samsa.decompression.max.bytes',
    'int',
    67108864,
    'Samsa: largest decompressed size of one batch when the broker must decompress it.',
    { min: 1024 },
  ),
  // Replication (single node accepts them; the cluster issue uses them)
  d(
    'replica.lag.time.max.ms',
    'long',
    30000,
    'A follower that has not caught up for this long leaves the ISR.',
    { min: 0 },
  ),
  d('replica.fetch.max.bytes', 'int', 1048576, 'Bytes per partition a follower fetches.', { min: 0 }),
  d('num.replica.fetchers', 'int', 1, 'Replica fetcher connections per source broker.', {
    min: 1,
    dynamic: true,
  }),
  d('auto.leader.rebalance.enable', 'boolean', true, 'Move leadership back to preferred replicas.'),
  d(
    'offsets.topic.replication.factor',
    'short',
    3,
    'Replication factor of __consumer_offsets (capped by live brokers).',
    { min: 1 },
  ),
  d('offsets.topic.num.partitions', 'int', 50, 'Partitions of __consumer_offsets.', { min: 1 }),
  d('offsets.topic.segment.bytes', 'int', 104857600, 'Segment size of __consumer_offsets.', { min: 1 }),
  d('offsets.retention.minutes', 'int', 10080, 'Committed offsets of empty groups expire after this.', {
    min: 1,
  }),
  d('offsets.retention.check.interval.ms', 'long', 600000, 'How often offset expiry runs.', { min: 1 }),
  d('offset.metadata.max.bytes', 'int', 4096, 'Longest metadata string an offset commit may carry.', {
    min: 0,
  }),
  d('offsets.commit.timeout.ms', 'int', 5000, 'How long an offset commit waits for replication.', { min: 1 }),
  d('transaction.state.log.replication.factor', 'short', 3, 'Replication factor of __transaction_state.', {
    min: 1,
  }),
  d('transaction.state.log.num.partitions', 'int', 50, 'Partitions of __transaction_state.', { min: 1 }),
  d('transaction.state.log.min.isr', 'int', 2, 'min.insync.replicas of __transaction_state.', { min: 1 }),
  d('transaction.max.timeout.ms', 'int', 900000, 'Largest transaction timeout a producer may ask for.', {
    min: 1,
  }),
  d('transactional.id.expiration.ms', 'int', 604800000, 'Idle transactional ids expire after this.', {
    min: 1,
  }),
  d(
    'producer.id.expiration.ms',
    'int',
    86400000,
    'Idle producer ids lose their idempotence state after this.',
    { min: 1, dynamic: true },
  ),
  // Groups
  d(
    'group.initial.rebalance.delay.ms',
    'int',
    3000,
    'Wait for more members before the first rebalance of an empty group.',
    { min: 0 },
  ),
  d('group.min.session.timeout.ms', 'int', 6000, 'Smallest session timeout a member may ask for.'),
  d('group.max.session.timeout.ms', 'int', 1800000, 'Largest session timeout a member may ask for.'),
  d('group.max.size', 'int', 2147483647, 'Most members in one group.', { min: 1 }),
  // Security (later issues)
  d('sasl.enabled.mechanisms', 'list', ['GSSAPI'], 'SASL mechanisms enabled.', { dynamic: true }),
  d('super.users', 'string', null, 'Principals that bypass ACLs, separated by semicolons.'),
  d('allow.everyone.if.no.acl.found', 'boolean', false, 'Allow access to resources without ACLs.'),
  d('ssl.keystore.password', 'password', null, 'Keystore password.', { sensitive: true, dynamic: true }),
];

export const BROKER_CONFIG_DEFS = buildRegistry(BROKER_CONFIGS);
