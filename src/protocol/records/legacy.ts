import { DecodeError } from '../primitives/errors.ts';

/**
 * Legacy message formats (magic 0 and 1, "MessageSet" v0/v1) share the first
 * 17 bytes' layout with RecordBatch v2 as far as the magic byte goes:
 *
 *   v0/v1: offset int64, messageSize int32, crc uint32, magic int8 (byte 16)
 *   v2:    baseOffset int64, batchLength int32, leaderEpoch int32, magic int8 (byte 16)
 *
 * so one read at byte 16 tells them apart. Samsa never writes them and does
 * not decode them.
 *
 * What Kafka 4 answers:
 * KIP-724 removed message formats v0/v1 for writes in 4.0, and KIP-896
 * removed Produce v0-v2, so every produce a 4.x broker accepts is v3 or
 * later. For those, `ProduceRequest.validateRecords` throws
 * `InvalidRecordException("Produce requests with version N are only allowed
 * to contain record batches with magic version 2")` when the first batch's
 * magic is not 2, and `KafkaApis.handleProduceRequest` turns it into a
 * per-partition `Errors.forException(e)`, i.e. INVALID_RECORD (87). The same
 * check answers "must have at least one record batch" and "exactly one
 * record batch" with INVALID_RECORD too. (RELIABILITY.md's PROTO-BadBatch
 * lists UNSUPPORTED_FOR_MESSAGE_FORMAT (43) among its codes; that is what
 * pre-4.0 LogValidator raised for an idempotent/transactional batch on an
 * old message format, a path 4.0 no longer reaches for produce.)
 */
export const LEGACY_MAGIC_KAFKA_ERROR_CODE = 87;
export const LEGACY_MAGIC_KAFKA_ERROR_NAME = 'INVALID_RECORD';

/** A v0/v1 message set where a v2 record batch was required. */
export class LegacyRecordFormatError extends DecodeError {
  readonly magic: 0 | 1;
  /** The Kafka error a Kafka 4 broker returns for this on produce: INVALID_RECORD (87). */
  readonly kafkaErrorCode = LEGACY_MAGIC_KAFKA_ERROR_CODE;
  readonly kafkaErrorName = LEGACY_MAGIC_KAFKA_ERROR_NAME;
  constructor(magic: 0 | 1, offset = -1) {
    super(
      'BAD_MAGIC',
      `record batch has legacy magic ${magic} (message format v${magic}); only magic 2 is supported ` +
        'since Kafka 4.0 (KIP-724): upgrade the client to one that writes RecordBatch v2',
      offset,
    );
    this.name = 'LegacyRecordFormatError';
    this.magic = magic;
  }
}

/** Throws LegacyRecordFormatError for magic 0/1 and a plain BAD_MAGIC DecodeError for anything else but 2. */
export function assertMagicV2(magic: number, offset = -1): void {
  if (magic === 2) return;
  if (magic === 0 || magic === 1) throw new LegacyRecordFormatError(magic, offset);
  throw new DecodeError('BAD_MAGIC', `record batch magic ${magic} is not supported (only v2)`, offset);
}
