import { SamsaError } from '../common/errors.ts';

/**
 * Storage errors. `kafkaErrorCode` is the Kafka protocol error the broker
 * should answer with (numbers from the Kafka error table; checked against the
 * generated table once it exists).
 */
export type StorageErrorKind =
  | 'OFFSET_OUT_OF_RANGE'
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'MESSAGE_TOO_LARGE'
  | 'RECORD_LIST_TOO_LARGE'
  | 'KAFKA_STORAGE_ERROR'
  | 'LOG_DIR_OFFLINE'
  | 'CORRUPT_LOG'
  | 'CLOSED'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_PARTITION';

const KAFKA_CODES: Record<StorageErrorKind, number> = {
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  RECORD_LIST_TOO_LARGE: 18,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_OFFLINE: 56,
  CORRUPT_LOG: 56,
  CLOSED: 56,
  INVALID_RECORD: 87,
  INVALID_ARGUMENT: -1,
};

export class StorageError extends SamsaError {
  readonly kind: StorageErrorKind;
  readonly kafkaErrorCode: number;
  constructor(kind: StorageErrorKind, message: string, options?: { cause?: unknown }) {
    super(`SAMSA_ERR_STORAGE_${kind}`, message, options);
    this.name = 'StorageError';
    this.kind = kind;
    this.kafkaErrorCode = KAFKA_CODES[kind];
  }
}

/** Wraps an fs error (ENOSPC, EIO, ...) raised while touching a log dir. */
export function ioError(what: string, dir: string, cause: unknown): StorageError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
  return new StorageError(
    'KAFKA_STORAGE_ERROR',
    `${what} failed with ${code} in log dir ${dir}; the dir is now offline. Free space or replace the disk, then restart the broker.`,
    { cause },
  );
}
