/**
 * Growable big-endian writer. Small values are written into a working chunk;
 * large byte blobs (record batches) can be appended by reference with
 * `writeRef`, so a response carrying megabytes of records is emitted as a list
 * of chunks for a vectored write without copying the records.
 */
import { RecordsList } from './records-list.ts';

const REF_THRESHOLD = 4096;
const TWO_32 = 2 ** 32;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const textEncoder = new TextEncoder();

export class Writer {
  buf: Buffer;
  offset = 0;
  /** Completed chunks before `buf` (only when `writeRef` was used). */
  private chunks: Buffer[] | null = null;
  private chunksLength = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunksLength + this.offset;
  }

  private grow(n: number): void {
    const need = this.offset + n;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  reserve(n: number): void {
    if (this.offset + n > this.buf.length) this.grow(n);
  }

  writeInt8(v: number): void {
    if (this.offset + 1 > this.buf.length) this.grow(1);
    this.buf[this.offset++] = v & 0xff;
  }

  writeBool(v: boolean): void {
    this.writeInt8(v ? 1 : 0);
  }

  writeInt16(v: number): void {
    if (this.offset + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    const o = this.offset;
    b[o] = (v >>> 8) & 0xff;
    b[o + 1] = v & 0xff;
    this.offset = o + 2;
  }

  writeUint16(v: number): void {
    this.writeInt16(v);
  }

  writeInt32(v: number): void {
    if (this.offset + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    const o = this.offset;
    b[o] = (v >>> 24) & 0xff;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
    this.offset = o + 4;
  }

  writeUint32(v: number): void {
    this.writeInt32(v | 0);
  }

  writeInt64(v: bigint): void {
    if (this.offset + 8 > this.buf.length) this.grow(8);
    const n = Number(v);
    // Offsets, timestamps and ids fit in a double: split it without BigInt
    // arithmetic (Buffer.writeBigInt64BE costs ~3x as much).
    if (n >= -MAX_SAFE && n <= MAX_SAFE) {
      const hi = Math.floor(n / TWO_32);
      const lo = n - hi * TWO_32;
      const b = this.buf;
      const o = this.offset;
      b[o] = hi >>> 24;
      b[o + 1] = hi >>> 16;
      b[o + 2] = hi >>> 8;
      b[o + 3] = hi;
      b[o + 4] = lo >>> 24;
      b[o + 5] = lo >>> 16;
      b[o + 6] = lo >>> 8;
      b[o + 7] = lo;
    } else {
      this.buf.writeBigInt64BE(v, this.offset);
    }
    this.offset += 8;
  }

  writeFloat64(v: number): void {
    if (this.offset + 8 > this.buf.length) this.grow(8);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += 8;
  }

  writeUVarint(v: number): void {
    if (this.offset + 5 > this.buf.length) this.grow(5);
    const b = this.buf;
    let o = this.offset;
    v >>>= 0;
    while (v >= 0x80) {
      b[o++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[o++] = v;
    this.offset = o;
  }

  writeVarint(v: number): void {
    this.writeUVarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  writeVarlong(v: bigint): void {
    if (this.offset + 10 > this.buf.length) this.grow(10);
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const b = this.buf;
    let o = this.offset;
    while (u >= 0x80n) {
      b[o++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    b[o++] = Number(u);
    this.offset = o;
  }

  writeUuid(v: string): void {
    const bytes = Buffer.from(v, 'base64url');
    if (bytes.length !== 16) throw new RangeError(`uuid must encode 16 bytes, got ${bytes.length}`);
    this.writeRaw(bytes);
  }

  /** Writes a UTF-8 string body (no length). */
  private writeUtf8Body(s: string, byteLen: number): void {
    if (this.offset + byteLen > this.buf.length) this.grow(byteLen);
    if (byteLen === s.length && byteLen < 32) {
      const b = this.buf;
      let o = this.offset;
      for (let i = 0; i < byteLen; i++) b[o++] = s.charCodeAt(i);
      this.offset = o;
    } else {
      textEncoder.encodeInto(s, this.buf.subarray(this.offset, this.offset + byteLen));
      this.offset += byteLen;
    }
  }

  writeString(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new RangeError(`string of ${len} bytes exceeds int16 length`);
    this.writeInt16(len);
    this.writeUtf8Body(s, len);
  }

  writeNullableString(s: string | null | undefined): void {
    if (s == null) this.writeInt16(-1);
    else this.writeString(s);
  }

  writeCompactString(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.writeUVarint(len + 1);
    this.writeUtf8Body(s, len);
  }

  writeCompactNullableString(s: string | null | undefined): void {
    if (s == null) this.writeUVarint(0);
    else this.writeCompactString(s);
  }

  writeBytes(b: Uint8Array): void {
    this.writeInt32(b.length);
    this.writeBlob(b);
  }

  writeNullableBytes(b: Uint8Array | null | undefined): void {
    if (b == null) this.writeInt32(-1);
    else this.writeBytes(b);
  }

  writeCompactBytes(b: Uint8Array): void {
    this.writeUVarint(b.length + 1);
    this.writeBlob(b);
  }

  writeCompactNullableBytes(b: Uint8Array | null | undefined): void {
    if (b == null) this.writeUVarint(0);
    else this.writeCompactBytes(b);
  }

  /** A `records` field: bytes or a RecordsList (one length prefix, chunks by reference). */
  writeRecords(b: Uint8Array | RecordsList): void {
    this.writeInt32(b.length);
    this.writeRecordsBody(b);
  }

  writeNullableRecords(b: Uint8Array | RecordsList | null | undefined): void {
    if (b == null) this.writeInt32(-1);
    else this.writeRecords(b);
  }

  writeCompactRecords(b: Uint8Array | RecordsList): void {
    this.writeUVarint(b.length + 1);
    this.writeRecordsBody(b);
  }

  writeCompactNullableRecords(b: Uint8Array | RecordsList | null | undefined): void {
    if (b == null) this.writeUVarint(0);
    else this.writeCompactRecords(b);
  }

  private writeRecordsBody(b: Uint8Array | RecordsList): void {
    if (!(b instanceof RecordsList)) {
      this.writeBlob(b);
      return;
    }
    const chunks = b.chunks;
    for (let i = 0; i < chunks.length; i++) this.writeBlob(chunks[i]!);
  }

  writeArrayLength(n: number): void {
    this.writeInt32(n);
  }

  writeCompactArrayLength(n: number): void {
    this.writeUVarint(n + 1);
  }

  /** Copies bytes into the writer. */
  writeRaw(b: Uint8Array): void {
    const n = b.length;
    if (this.offset + n > this.buf.length) this.grow(n);
    this.buf.set(b, this.offset);
    this.offset += n;
  }

  /** Appends large blobs by reference, small ones by copy. */
  writeBlob(b: Uint8Array): void {
    if (b.length < REF_THRESHOLD) {
      this.writeRaw(b);
      return;
    }
    this.writeRef(b);
  }

  /** Appends `b` by reference: the caller must not modify it until the output is consumed. */
  writeRef(b: Uint8Array): void {
    if (this.chunks === null) this.chunks = [];
    if (this.offset > 0) {
      const head = this.buf.subarray(0, this.offset);
      this.chunks.push(head);
      this.chunksLength += this.offset;
      this.buf = this.buf.subarray(this.offset);
      if (this.buf.length < 256) this.buf = Buffer.allocUnsafe(256);
      this.offset = 0;
    }
    const ref = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.chunks.push(ref);
    this.chunksLength += ref.length;
  }

  /** Writes int32 `v` at absolute position `pos` (which must be inside the first chunk or the working buffer). */
  patchInt32(pos: number, v: number): void {
    const first = this.chunks && this.chunks.length > 0 ? this.chunks[0]! : this.buf;
    first.writeInt32BE(v, pos);
  }

  /** The output as a list of buffers for a vectored write. */
  toChunks(): Buffer[] {
    const tail = this.buf.subarray(0, this.offset);
    if (this.chunks === null) return [tail];
    return this.offset > 0 ? [...this.chunks, tail] : this.chunks.slice();
  }

  /** The output as one contiguous buffer (copies when `writeRef` was used). */
  toBuffer(): Buffer {
    if (this.chunks === null) return this.buf.subarray(0, this.offset);
    return Buffer.concat(this.toChunks(), this.length);
  }
}
