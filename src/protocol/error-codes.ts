/**
 * The Kafka protocol error table: the single source of truth for error codes in Samsa.
 *
 * Codes, names and the retriable flag follow the "Error Codes" table of the Apache Kafka 4.0
 * protocol guide (which mirrors `org.apache.kafka.common.protocol.Errors`). Descriptions are
 * our own short summaries. The highest code defined by Kafka 4.0 is 129 (REBOOTSTRAP_REQUIRED).
 *
 * Everything else in this module (`ERRORS`, `ErrorCode`, `errorInfo`) is derived from `TABLE`.
 */

export interface KafkaErrorInfo {
  /** Numeric code carried on the wire (INT16). */
  code: number;
  /** Kafka's name for the code, UPPER_SNAKE_CASE as in the protocol guide. */
  name: string;
  /** Whether the protocol guide marks the error as retriable. */
  retriable: boolean;
  /** Short human-readable explanation. */
  description: string;
}

// [code, name, retriable, description] -- sorted by code, one row per Kafka error.
const TABLE = [
  [-1, 'UNKNOWN_SERVER_ERROR', false, 'Unexpected server-side failure while handling the request.'],
  [0, 'NONE', false, 'No error.'],
  [1, 'OFFSET_OUT_OF_RANGE', false, 'The requested offset lies outside the range the partition retains.'],
  [2, 'CORRUPT_MESSAGE', true, 'A record failed CRC or size validation, or is otherwise malformed.'],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true, 'This broker does not host the topic-partition.'],
  [4, 'INVALID_FETCH_SIZE', false, 'The fetch size in the request is not valid.'],
  [5, 'LEADER_NOT_AVAILABLE', true, 'The partition currently has no leader (election in progress).'],
  [6, 'NOT_LEADER_OR_FOLLOWER', true, 'This broker is not the leader (or not a replica) for the partition.'],
  [7, 'REQUEST_TIMED_OUT', true, 'The request did not complete within its timeout.'],
  [8, 'BROKER_NOT_AVAILABLE', false, 'The broker is not available.'],
  [9, 'REPLICA_NOT_AVAILABLE', true, 'A replica for the partition is not available.'],
  [10, 'MESSAGE_TOO_LARGE', false, 'A record exceeds the maximum message size the broker accepts.'],
  [11, 'STALE_CONTROLLER_EPOCH', false, 'The request carries an outdated controller epoch.'],
  [12, 'OFFSET_METADATA_TOO_LARGE', false, 'The metadata string attached to a committed offset is too long.'],
  [13, 'NETWORK_EXCEPTION', true, 'The connection was lost before a response arrived.'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true, 'The coordinator is still loading its state.'],
  [15, 'COORDINATOR_NOT_AVAILABLE', true, 'No coordinator is currently available.'],
  [16, 'NOT_COORDINATOR', true, 'This broker is not the coordinator for the key.'],
  [17, 'INVALID_TOPIC_EXCEPTION', false, 'The topic name is invalid or the operation is not allowed on it.'],
  [18, 'RECORD_LIST_TOO_LARGE', false, 'A record batch is larger than the configured segment size.'],
  [19, 'NOT_ENOUGH_REPLICAS', true, 'Rejected: fewer in-sync replicas than min.insync.replicas.'],
  [
    20,
    'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    true,
    'Appended, but acknowledged by fewer in-sync replicas than needed.',
  ],
  [21, 'INVALID_REQUIRED_ACKS', false, 'The acks value of a produce request is not allowed.'],
  [22, 'ILLEGAL_GENERATION', false, 'The group generation id does not match the current generation.'],
  [23, 'INCONSISTENT_GROUP_PROTOCOL', false, "The member's protocols are incompatible with the group's."],
  [24, 'INVALID_GROUP_ID', false, 'The group id is empty or otherwise invalid.'],
  [25, 'UNKNOWN_MEMBER_ID', false, 'The coordinator does not know this member id.'],
  [26, 'INVALID_SESSION_TIMEOUT', false, 'The session timeout is outside the range the broker allows.'],
  [27, 'REBALANCE_IN_PROGRESS', false, 'The group is rebalancing; the member must rejoin.'],
  [28, 'INVALID_COMMIT_OFFSET_SIZE', false, 'The offset commit payload has an invalid size.'],
  [29, 'TOPIC_AUTHORIZATION_FAILED', false, 'The principal is not authorized for the topic.'],
  [30, 'GROUP_AUTHORIZATION_FAILED', false, 'The principal is not authorized for the group.'],
  [31, 'CLUSTER_AUTHORIZATION_FAILED', false, 'The principal is not authorized for the cluster operation.'],
  [32, 'INVALID_TIMESTAMP', false, 'A record timestamp is outside the acceptable range.'],
  [33, 'UNSUPPORTED_SASL_MECHANISM', false, 'The requested SASL mechanism is not enabled.'],
  [34, 'ILLEGAL_SASL_STATE', false, 'The request is not allowed in the current SASL state.'],
  [35, 'UNSUPPORTED_VERSION', false, 'The API version is not supported by this broker.'],
  [36, 'TOPIC_ALREADY_EXISTS', false, 'A topic with this name already exists.'],
  [37, 'INVALID_PARTITIONS', false, 'The partition count is invalid.'],
  [38, 'INVALID_REPLICATION_FACTOR', false, 'The replication factor is invalid for this cluster.'],
  [39, 'INVALID_REPLICA_ASSIGNMENT', false, 'The replica assignment is invalid.'],
  [40, 'INVALID_CONFIG', false, 'A configuration value is invalid.'],
  [41, 'NOT_CONTROLLER', true, 'This broker is not the active controller.'],
  [42, 'INVALID_REQUEST', false, 'The request is malformed or not valid for this broker.'],
  [43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', false, 'The message format in use does not support this request.'],
  [44, 'POLICY_VIOLATION', false, 'The request violates a configured policy.'],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, 'The producer sequence number is not the expected next one.'],
  [46, 'DUPLICATE_SEQUENCE_NUMBER', false, 'The producer sequence number was already written.'],
  [47, 'INVALID_PRODUCER_EPOCH', false, 'The producer epoch is older than the current one.'],
  [48, 'INVALID_TXN_STATE', false, 'The transactional operation is not allowed in the current state.'],
  [
    49,
    'INVALID_PRODUCER_ID_MAPPING',
    false,
    'The producer id is not the one assigned to this transactional id.',
  ],
  [50, 'INVALID_TRANSACTION_TIMEOUT', false, 'The transaction timeout exceeds the broker maximum.'],
  [51, 'CONCURRENT_TRANSACTIONS', true, 'Another operation on the same transaction is still in progress.'],
  [52, 'TRANSACTION_COORDINATOR_FENCED', false, 'The sending transaction coordinator has been superseded.'],
  [
    53,
    'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    false,
    'The principal is not authorized for the transactional id.',
  ],
  [54, 'SECURITY_DISABLED', false, 'Security features are not enabled.'],
  [55, 'OPERATION_NOT_ATTEMPTED', false, 'Skipped because another operation in the same batch failed.'],
  [56, 'KAFKA_STORAGE_ERROR', true, 'A disk error occurred while accessing the log.'],
  [57, 'LOG_DIR_NOT_FOUND', false, 'The requested log directory is not configured on the broker.'],
  [58, 'SASL_AUTHENTICATION_FAILED', false, 'SASL authentication did not succeed.'],
  [59, 'UNKNOWN_PRODUCER_ID', false, 'The broker holds no state for this producer id.'],
  [60, 'REASSIGNMENT_IN_PROGRESS', false, 'A partition reassignment is underway.'],
  [61, 'DELEGATION_TOKEN_AUTH_DISABLED', false, 'Delegation tokens are not enabled.'],
  [62, 'DELEGATION_TOKEN_NOT_FOUND', false, 'The delegation token does not exist.'],
  [63, 'DELEGATION_TOKEN_OWNER_MISMATCH', false, 'The principal is not the owner or renewer of the token.'],
  [
    64,
    'DELEGATION_TOKEN_REQUEST_NOT_ALLOWED',
    false,
    'Token requests are not allowed on this kind of channel.',
  ],
  [
    65,
    'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
    false,
    'The principal is not authorized for the delegation token.',
  ],
  [66, 'DELEGATION_TOKEN_EXPIRED', false, 'The delegation token has expired.'],
  [67, 'INVALID_PRINCIPAL_TYPE', false, 'The principal type is not supported.'],
  [68, 'NON_EMPTY_GROUP', false, 'The group still has members.'],
  [69, 'GROUP_ID_NOT_FOUND', false, 'The group does not exist.'],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', true, 'The incremental fetch session is unknown.'],
  [71, 'INVALID_FETCH_SESSION_EPOCH', true, 'The fetch session epoch does not match.'],
  [72, 'LISTENER_NOT_FOUND', true, 'The leader has no endpoint for the listener the request arrived on.'],
  [73, 'TOPIC_DELETION_DISABLED', false, 'Deleting topics is disabled.'],
  [74, 'FENCED_LEADER_EPOCH', true, "The request's leader epoch is older than the broker's."],
  [75, 'UNKNOWN_LEADER_EPOCH', true, "The request's leader epoch is newer than the broker's."],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE', false, "The client cannot handle the partition's compression type."],
  [77, 'STALE_BROKER_EPOCH', false, 'The broker epoch in the request is outdated.'],
  [78, 'OFFSET_NOT_AVAILABLE', true, 'The new leader has not yet caught up its high watermark.'],
  [79, 'MEMBER_ID_REQUIRED', false, 'The member must obtain a member id before joining the group.'],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', true, 'The preferred leader replica is not available.'],
  [81, 'GROUP_MAX_SIZE_REACHED', false, 'The group is at its maximum number of members.'],
  [82, 'FENCED_INSTANCE_ID', false, 'Another member has registered with the same group.instance.id.'],
  [83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', true, 'No eligible leader is available for the partition.'],
  [84, 'ELECTION_NOT_NEEDED', true, 'The partition does not need a leader election.'],
  [85, 'NO_REASSIGNMENT_IN_PROGRESS', false, 'There is no reassignment to act on.'],
  [86, 'GROUP_SUBSCRIBED_TO_TOPIC', false, 'Cannot delete offsets for a topic the group is subscribed to.'],
  [87, 'INVALID_RECORD', false, 'The broker rejected a record that failed validation.'],
  [88, 'UNSTABLE_OFFSET_COMMIT', true, 'Pending transactional offsets must be resolved first.'],
  [89, 'THROTTLING_QUOTA_EXCEEDED', true, 'The request exceeds the throttling quota.'],
  [90, 'PRODUCER_FENCED', false, 'A newer producer with the same transactional id has fenced this one.'],
  [91, 'RESOURCE_NOT_FOUND', false, 'The referenced resource does not exist.'],
  [92, 'DUPLICATE_RESOURCE', false, 'The same resource appears more than once in the request.'],
  [93, 'UNACCEPTABLE_CREDENTIAL', false, 'The credential does not meet acceptance criteria.'],
  [
    94,
    'INCONSISTENT_VOTER_SET',
    false,
    'Sender or receiver of a voter-only request is not an expected voter.',
  ],
  [95, 'INVALID_UPDATE_VERSION', false, 'The update version is invalid.'],
  [96, 'FEATURE_UPDATE_FAILED', false, 'Finalized features could not be updated.'],
  [
    97,
    'PRINCIPAL_DESERIALIZATION_FAILURE',
    false,
    'A forwarded request principal could not be deserialized.',
  ],
  [98, 'SNAPSHOT_NOT_FOUND', false, 'The requested snapshot does not exist.'],
  [99, 'POSITION_OUT_OF_RANGE', false, 'The position is negative or beyond the end of the snapshot.'],
  [100, 'UNKNOWN_TOPIC_ID', true, 'This broker does not host a topic with this id.'],
  [101, 'DUPLICATE_BROKER_REGISTRATION', false, 'The broker id is already registered.'],
  [102, 'BROKER_ID_NOT_REGISTERED', false, 'The broker id has not been registered.'],
  [103, 'INCONSISTENT_TOPIC_ID', true, 'The topic id does not match the one stored in the log.'],
  [104, 'INCONSISTENT_CLUSTER_ID', false, 'The cluster id does not match this server.'],
  [105, 'TRANSACTIONAL_ID_NOT_FOUND', false, 'The transactional id does not exist.'],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', true, 'The fetch session mixed topic ids inconsistently.'],
  [107, 'INELIGIBLE_REPLICA', false, 'The proposed ISR includes an ineligible replica.'],
  [108, 'NEW_LEADER_ELECTED', false, 'The partition change was applied, but leadership moved.'],
  [109, 'OFFSET_MOVED_TO_TIERED_STORAGE', false, 'The offset is only available in tiered storage.'],
  [110, 'FENCED_MEMBER_EPOCH', false, 'The member epoch was fenced; the member must rejoin.'],
  [111, 'UNRELEASED_INSTANCE_ID', false, 'The instance id is still held by another member.'],
  [112, 'UNSUPPORTED_ASSIGNOR', false, 'The group does not support the requested assignor.'],
  [113, 'STALE_MEMBER_EPOCH', false, 'The member epoch is outdated; retry with the current one.'],
  [114, 'MISMATCHED_ENDPOINT_TYPE', false, 'The request reached an endpoint of the wrong type.'],
  [115, 'UNSUPPORTED_ENDPOINT_TYPE', false, 'The endpoint type is not supported.'],
  [116, 'UNKNOWN_CONTROLLER_ID', false, 'The controller id is not known.'],
  [117, 'UNKNOWN_SUBSCRIPTION_ID', false, 'The telemetry subscription id is unknown or outdated.'],
  [118, 'TELEMETRY_TOO_LARGE', false, 'The pushed telemetry payload is too large.'],
  [119, 'INVALID_REGISTRATION', false, 'The controller judged the broker registration invalid.'],
  [120, 'TRANSACTION_ABORTABLE', false, 'The transaction hit an error; abort it to keep using the id.'],
  [121, 'INVALID_RECORD_STATE', false, 'The record is not in a state that allows this acknowledgement.'],
  [122, 'SHARE_SESSION_NOT_FOUND', true, 'The share session is unknown.'],
  [123, 'INVALID_SHARE_SESSION_EPOCH', true, 'The share session epoch does not match.'],
  [124, 'FENCED_STATE_EPOCH', false, 'The share-group state epoch does not match.'],
  [125, 'INVALID_VOTER_KEY', false, "The voter key does not match the receiver's key."],
  [126, 'DUPLICATE_VOTER', false, 'The voter is already in the voter set.'],
  [127, 'VOTER_NOT_FOUND', false, 'The voter is not in the voter set.'],
  [128, 'INVALID_REGULAR_EXPRESSION', false, 'The regular expression is invalid.'],
  [129, 'REBOOTSTRAP_REQUIRED', false, 'Client metadata is stale; the client must rebootstrap.'],
] as const satisfies readonly (readonly [number, string, boolean, string])[];

type Row = (typeof TABLE)[number];

/** Kafka error name -> numeric code, with literal types for every entry. */
export type ErrorCodeMap = { readonly [R in Row as R[1]]: R[0] };
export type ErrorCodeName = keyof ErrorCodeMap;

/** Every Kafka error, sorted by code. */
export const ERRORS: readonly KafkaErrorInfo[] = Object.freeze(
  TABLE.map(([code, name, retriable, description]) =>
    Object.freeze<KafkaErrorInfo>({ code, name, retriable, description }),
  ),
);

/** Name -> code lookup, e.g. `ErrorCode.NOT_LEADER_OR_FOLLOWER === 6`. */
export const ErrorCode: ErrorCodeMap = Object.freeze(
  Object.fromEntries(ERRORS.map((e) => [e.name, e.code])),
) as ErrorCodeMap;

const MIN_CODE = ERRORS[0]!.code;
// Codes are dense from MIN_CODE upward, so an offset array gives O(1) lookup.
const BY_CODE: readonly (KafkaErrorInfo | undefined)[] = (() => {
  const arr: (KafkaErrorInfo | undefined)[] = [];
  for (const e of ERRORS) arr[e.code - MIN_CODE] = e;
  return arr;
})();

/** Table entry for a wire code, or undefined when Kafka 4.0 does not define it. */
export function errorInfo(code: number): KafkaErrorInfo | undefined {
  if (!Number.isInteger(code)) return undefined;
  return BY_CODE[code - MIN_CODE];
}

/**
 * Typed error thrown by logic layers; request handlers catch it and put `code` into the
 * response. Codes outside the table keep their numeric value, get the name `UNKNOWN_ERROR_CODE`
 * and are treated as non-retriable.
 */
export class KafkaProtocolError extends Error {
  readonly code: number;
  readonly errorName: string;
  readonly retriable: boolean;

  constructor(code: number, message?: string) {
    const info = errorInfo(code);
    super(message ?? info?.description ?? `Unknown Kafka error code ${code}`);
    this.name = 'KafkaProtocolError';
    this.code = code;
    this.errorName = info?.name ?? 'UNKNOWN_ERROR_CODE';
    this.retriable = info?.retriable ?? false;
  }
}

/** Build a KafkaProtocolError by Kafka error name, e.g. `kafkaError('UNKNOWN_TOPIC_OR_PARTITION')`. */
export function kafkaError(name: ErrorCodeName, message?: string): KafkaProtocolError {
  return new KafkaProtocolError(ErrorCode[name], message);
}
