/**
 * Record batches held in several buffers, for a `records` field of a
 * response (Kafka's BaseRecords: MemoryRecords, FileRecords): the Writer
 * emits one length prefix for the total and appends the chunks by reference,
 * so a response built from batches stored apart (the memory engine's slabs)
 * goes out in a vectored write without being copied into one Buffer first.
 * Decoders always return a plain Buffer.
 */
export class RecordsList {
  readonly chunks: readonly Buffer[];
  /** Total bytes. */
  readonly length: number;

  constructor(chunks: readonly Buffer[], length?: number) {
    this.chunks = chunks;
    let n = 0;
    if (length === undefined) for (const c of chunks) n += c.length;
    this.length = length ?? n;
  }

  /** The bytes as one Buffer (a view when there is a single chunk, else a copy). */
  toBuffer(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks as Buffer[], this.length);
  }
}

/** Records as one Buffer, whichever form they take (for code that reads them). */
export function recordsBuffer(r: Buffer | RecordsList): Buffer;
export function recordsBuffer(r: Buffer | RecordsList | null): Buffer | null;
export function recordsBuffer(r: Buffer | RecordsList | null | undefined): Buffer | null | undefined;
export function recordsBuffer(r: Buffer | RecordsList | null | undefined): Buffer | null | undefined {
  return r instanceof RecordsList ? r.toBuffer() : r;
}
