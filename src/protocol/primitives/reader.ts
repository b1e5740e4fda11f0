import { DecodeError } from './errors.ts';

/**
 * Bounds-checked big-endian reader over one Buffer. Every read checks that the
 * bytes are present first; lengths read from the wire are validated against
 * the bytes remaining before anything is allocated or sliced.
 */
export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws TRUNCATED unless `n` more bytes are present. */
  ensure(n: number): void {
    if (n > this.end - this.offset) {
      throw new DecodeError(
        'TRUNCATED',
        `need ${n} bytes at offset ${this.offset}, only ${this.end - this.offset} left`,
        this.offset,
      );
    }
  }

  skip(n: number): void {
    this.ensure(n);
    this.offset += n;
  }

  readInt8(): number {
    if (this.offset >= this.end) this.ensure(1);
    const v = this.buf[this.offset++]!;
    return (v << 24) >> 24;
  }

  readUint8(): number {
    if (this.offset >= this.end) this.ensure(1);
    return this.buf[this.offset++]!;
  }

  readBool(): boolean {
    return this.readInt8() !== 0;
  }

  readInt16(): number {
    const o = this.offset;
    if (o + 2 > this.end) this.ensure(2);
    const b = this.buf;
    this.offset = o + 2;
    return ((b[o]! << 24) | (b[o + 1]! << 16)) >> 16;
  }

  readUint16(): number {
    const o = this.offset;
    if (o + 2 > this.end) this.ensure(2);
    const b = this.buf;
    this.offset = o + 2;
    return (b[o]! << 8) | b[o + 1]!;
  }

  readInt32(): number {
    const o = this.offset;
    if (o + 4 > this.end) this.ensure(4);
    const b = this.buf;
    this.offset = o + 4;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  readUint32(): number {
    return this.readInt32() >>> 0;
  }

  readInt64(): bigint {
    const o = this.offset;
    if (o + 8 > this.end) this.ensure(8);
    this.offset = o + 8;
    return this.buf.readBigInt64BE(o);
  }

  readFloat64(): number {
    const o = this.offset;
    if (o + 8 > this.end) this.ensure(8);
    this.offset = o + 8;
    return this.buf.readDoubleBE(o);
  }

  /** Unsigned varint, at most 5 bytes (fits in 32 bits). */
  readUVarint(): number {
    const b = this.buf;
    let o = this.offset;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (o >= this.end) {
        this.offset = o;
        throw new DecodeError('TRUNCATED', 'truncated varint', o);
      }
      const byte = b[o++]!;
      if (i === 4 && byte > 0x0f) {
        throw new DecodeError('BAD_VARINT', 'varint does not fit in 32 bits', o - 1);
      }
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return result;
      }
      shift += 7;
    }
    throw new DecodeError('BAD_VARINT', 'varint longer than 5 bytes', o);
  }

  /** Signed zig-zag varint (int32). */
  readVarint(): number {
    const u = this.readUVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Signed zig-zag varlong (int64), at most 10 bytes. */
  readVarlong(): bigint {
    const b = this.buf;
    let o = this.offset;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (o >= this.end) throw new DecodeError('TRUNCATED', 'truncated varlong', o);
      const byte = b[o++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        const u = BigInt.asUintN(64, result);
        return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
      }
      shift += 7n;
    }
    throw new DecodeError('BAD_VARINT', 'varlong longer than 10 bytes', o);
  }

  readUuid(): string {
    this.ensure(16);
    const s = this.buf.toString('base64url', this.offset, this.offset + 16);
    this.offset += 16;
    return s;
  }

  private readUtf8(len: number): string {
    if (len > this.end - this.offset) {
      throw new DecodeError(
        'LENGTH_EXCEEDS_INPUT',
        `string length ${len} exceeds the ${this.end - this.offset} bytes left`,
        this.offset,
      );
    }
    const o = this.offset;
    this.offset = o + len;
    return this.buf.toString('utf8', o, o + len);
  }

  private slice(len: number): Buffer {
    if (len > this.end - this.offset) {
      throw new DecodeError(
        'LENGTH_EXCEEDS_INPUT',
        `bytes length ${len} exceeds the ${this.end - this.offset} bytes left`,
        this.offset,
      );
    }
    const o = this.offset;
    this.offset = o + len;
    return this.buf.subarray(o, o + len);
  }

  readString(): string {
    const len = this.readInt16();
    if (len < 0)
      throw new DecodeError('NULL_NOT_ALLOWED', 'null string in a non-nullable field', this.offset);
    return this.readUtf8(len);
  }

  readNullableString(): string | null {
    const len = this.readInt16();
    if (len < 0) {
      if (len === -1) return null;
      throw new DecodeError('NEGATIVE_LENGTH', `string length ${len}`, this.offset);
    }
    return this.readUtf8(len);
  }

  readCompactString(): string {
    const n = this.readUVarint();
    if (n === 0)
      throw new DecodeError('NULL_NOT_ALLOWED', 'null string in a non-nullable field', this.offset);
    return this.readUtf8(n - 1);
  }

  readCompactNullableString(): string | null {
    const n = this.readUVarint();
    if (n === 0) return null;
    return this.readUtf8(n - 1);
  }

  readBytes(): Buffer {
    const len = this.readInt32();
    if (len < 0) throw new DecodeError('NULL_NOT_ALLOWED', 'null bytes in a non-nullable field', this.offset);
    return this.slice(len);
  }

  readNullableBytes(): Buffer | null {
    const len = this.readInt32();
    if (len < 0) {
      if (len === -1) return null;
      throw new DecodeError('NEGATIVE_LENGTH', `bytes length ${len}`, this.offset);
    }
    return this.slice(len);
  }

  readCompactBytes(): Buffer {
    const n = this.readUVarint();
    if (n === 0) throw new DecodeError('NULL_NOT_ALLOWED', 'null bytes in a non-nullable field', this.offset);
    return this.slice(n - 1);
  }

  readCompactNullableBytes(): Buffer | null {
    const n = this.readUVarint();
    if (n === 0) return null;
    return this.slice(n - 1);
  }

  /**
   * Classic array length (int32, -1 for null). `minElementSize` is the fewest
   * bytes one element can occupy: a count that could not fit in the remaining
   * bytes is rejected before any element is read.
   */
  readArrayLength(minElementSize: number): number {
    const n = this.readInt32();
    if (n < -1) throw new DecodeError('NEGATIVE_LENGTH', `array length ${n}`, this.offset);
    if (n > 0 && n * minElementSize > this.end - this.offset) {
      throw new DecodeError(
        'LENGTH_EXCEEDS_INPUT',
        `array of ${n} cannot fit in ${this.remaining} bytes`,
        this.offset,
      );
    }
    return n;
  }

  /** Compact array length (unsigned varint N+1, 0 for null); returns -1 for null. */
  readCompactArrayLength(minElementSize: number): number {
    const n = this.readUVarint() - 1;
    if (n > 0 && n * minElementSize > this.end - this.offset) {
      throw new DecodeError(
        'LENGTH_EXCEEDS_INPUT',
        `array of ${n} cannot fit in ${this.remaining} bytes`,
        this.offset,
      );
    }
    return n;
  }

  /** Reads the length of one tagged field's data and checks that it is present. */
  readTagSize(): number {
    const size = this.readUVarint();
    if (size > this.end - this.offset) {
      throw new DecodeError(
        'LENGTH_EXCEEDS_INPUT',
        `tagged field of ${size} bytes exceeds input`,
        this.offset,
      );
    }
    return size;
  }

  /** Copies of the raw bytes of an unknown tagged field, so re-encoding preserves it. */
  readRaw(n: number): Buffer {
    return this.slice(n);
  }
}
