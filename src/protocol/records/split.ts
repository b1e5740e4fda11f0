import { DecodeError } from '../primitives/errors.ts';
import { BATCH_LOG_OVERHEAD, OFFSET_MAGIC } from './batch-header.ts';

/**
 * Walks the batches in a byte range (a Produce request's `records`, a Fetch
 * response's, a log segment slice) from their length prefixes alone, without
 * decoding records or checking CRCs.
 *
 * Like Kafka's ByteBufferLogInputStream: fewer than 12 bytes left, or a batch
 * whose declared size runs past the end, is a partial trailing batch (normal
 * at the end of a Fetch response), not an error; a size field too small to
 * hold even a legacy message header, or a magic above 2, is corruption.
 * Legacy (magic 0/1) batches are reported with their magic, for the caller
 * to reject (see legacy.ts).
 */
export interface BatchSpan {
  /** Position of the batch in the buffer. */
  offset: number;
  /** Whole batch size in bytes (batchLength + 12). */
  size: number;
  magic: number;
}

export interface SplitResult {
  batches: BatchSpan[];
  /** Position just after the last complete batch. */
  end: number;
  /** Bytes of an incomplete trailing batch (0 when the range ends on a batch boundary). */
  partialBytes: number;
}

/** Smallest legacy v0 message after its size field (crc, magic, attributes, key and value lengths). */
const MIN_SIZE_FIELD = 14;

/** Lists the complete batches in `buf[start..end)`. */
export function splitBatches(buf: Buffer, start = 0, end = buf.length): SplitResult {
  if (start < 0 || end > buf.length || start > end) throw new RangeError('splitBatches: bad range');
  const batches: BatchSpan[] = [];
  let pos = start;
  while (end - pos >= BATCH_LOG_OVERHEAD) {
    const length = buf.readInt32BE(pos + 8);
    if (length < MIN_SIZE_FIELD) {
      throw new DecodeError(
        length < 0 ? 'NEGATIVE_LENGTH' : 'INVALID_RECORD',
        `batch size field ${length} at ${pos} is below the minimum of ${MIN_SIZE_FIELD}`,
        pos + 8,
      );
    }
    if (length > end - pos - BATCH_LOG_OVERHEAD) break;
    const magic = buf.readInt8(pos + OFFSET_MAGIC);
    if (magic < 0 || magic > 2) {
      throw new DecodeError('BAD_MAGIC', `batch at ${pos} has unknown magic ${magic}`, pos + OFFSET_MAGIC);
    }
    const size = length + BATCH_LOG_OVERHEAD;
    batches.push({ offset: pos, size, magic });
    pos += size;
  }
  return { batches, end: pos, partialBytes: end - pos };
}
