// DO NOT EDIT: written by scripts/gen-protocol.ts (npm run gen:protocol).
import type { Writer } from '../primitives/writer.ts';

/** A tagged field the decoder did not recognise, kept so re-encoding preserves it. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
/** The all-zero UUID (Kafka's Uuid.ZERO_UUID) in base64url. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Writes a tagged-field section: known fields plus preserved unknown ones, in ascending tag order. */
export function writeTaggedFields(w: Writer, known: TaggedField[], unknown: TaggedField[] | undefined): void {
  const all = unknown === undefined || unknown.length === 0 ? known : [...known, ...unknown].sort((a, b) => a.tag - b.tag);
  w.writeUVarint(all.length);
  for (const t of all) {
    w.writeUVarint(t.tag);
    w.writeUVarint(t.data.length);
    w.writeRaw(t.data);
  }
}
