import { SamsaError } from '../../common/errors.ts';

/** Kinds of decode failure. Every decoder failure is one of these, never a RangeError. */
export type DecodeErrorKind =
  | 'TRUNCATED'
  | 'NEGATIVE_LENGTH'
  | 'LENGTH_EXCEEDS_INPUT'
  | 'BAD_VARINT'
  | 'NULL_NOT_ALLOWED'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_CRC'
  | 'BAD_MAGIC'
  | 'BAD_COMPRESSION'
  | 'DECOMPRESSION_LIMIT'
  | 'INVALID_RECORD'
  | 'TRAILING_BYTES'
  | 'BAD_TAGGED_FIELD';

/** Thrown by every protocol decoder on malformed input. */
export class DecodeError extends SamsaError {
  readonly kind: DecodeErrorKind;
  readonly offset: number;
  constructor(kind: DecodeErrorKind, message: string, offset = -1) {
    super(`SAMSA_ERR_DECODE_${kind}`, message);
    this.name = 'DecodeError';
    this.kind = kind;
    this.offset = offset;
  }
}
