export * from './frames.ts';
export * from './generated/index.ts';
export { crc32c, crc32cIsNative } from './primitives/crc32c.ts';
export { DecodeError, type DecodeErrorKind } from './primitives/errors.ts';
export { Reader } from './primitives/reader.ts';
export { Writer } from './primitives/writer.ts';
