/** Deterministic batches for the crash tests: batch `seq` is fully determined by its number. */
import { buildBatch } from '../../unit/storage/helpers.ts';

export const TOPIC = 'crash';

export function genBatch(seq: number): Buffer {
  const n = (seq % 5) + 1;
  const pad = (seq * 37) % 700;
  return buildBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: `k${(seq + i) % 13}`,
      value: `s${seq}:${i}:${'z'.repeat(pad)}`,
      timestamp: 1_700_000_000_000 + seq,
    })),
    producerId: 77,
    producerEpoch: 0,
    baseSequence: seq, // also lets a reader recover the seq from the header
  });
}

export function seqOf(stored: Buffer): number {
  return stored.readInt32BE(53);
}
