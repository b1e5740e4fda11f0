/**
 * Whole Kafka frames: request/response header plus body, selected by API key
 * and version. Frames here exclude the 4-byte size prefix unless a function
 * says otherwise.
 */

import { API_CODECS, type ApiCodec } from './generated/index.ts';
import {
  decodeRequestHeader,
  encodeRequestHeader,
  type RequestHeader,
} from './generated/messages/request-header.ts';
import {
  decodeResponseHeader,
  encodeResponseHeader,
  type ResponseHeader,
} from './generated/messages/response-header.ts';
import { DecodeError } from './primitives/errors.ts';
import { Reader } from './primitives/reader.ts';
import { Writer } from './primitives/writer.ts';

export const API_VERSIONS_KEY = 18;

export function codecFor(apiKey: number): ApiCodec | undefined {
  return apiKey >= 0 ? API_CODECS[apiKey] : undefined;
}

/** Request header version for an API version: 2 when the body is flexible, else 1. */
export function requestHeaderVersion(codec: ApiCodec, apiVersion: number): number {
  return apiVersion >= codec.flexibleMin ? 2 : 1;
}

/** Response header version: 1 when flexible, except ApiVersions which always uses 0. */
export function responseHeaderVersion(codec: ApiCodec, apiVersion: number): number {
  if (codec.apiKey === API_VERSIONS_KEY) return 0;
  return apiVersion >= codec.flexibleMin ? 1 : 0;
}

export interface DecodedRequest {
  apiKey: number;
  apiVersion: number;
  header: RequestHeader;
  body: any;
}

/** Reads only the api key, version and correlation id (enough to answer an unsupported request). */
export function peekRequestHeader(frame: Buffer): {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
} {
  if (frame.length < 8) throw new DecodeError('TRUNCATED', 'request header truncated', 0);
  return {
    apiKey: frame.readInt16BE(0),
    apiVersion: frame.readInt16BE(2),
    correlationId: frame.readInt32BE(4),
  };
}

/** Decodes a request frame (header + body). Throws DecodeError on malformed or unsupported input. */
export function decodeRequestFrame(frame: Buffer): DecodedRequest {
  const { apiKey, apiVersion } = peekRequestHeader(frame);
  const codec = codecFor(apiKey);
  if (!codec) throw new DecodeError('UNSUPPORTED_VERSION', `unknown api key ${apiKey}`, 0);
  if (apiVersion < codec.minVersion || apiVersion > codec.maxVersion) {
    throw new DecodeError('UNSUPPORTED_VERSION', `${codec.name} v${apiVersion} is not supported`, 2);
  }
  const r = new Reader(frame);
  const header = decodeRequestHeader(r, requestHeaderVersion(codec, apiVersion));
  const body = codec.decodeRequest(r, apiVersion);
  if (r.remaining !== 0) {
    throw new DecodeError(
      'TRAILING_BYTES',
      `${r.remaining} bytes left after ${codec.name} v${apiVersion}`,
      r.offset,
    );
  }
  return { apiKey, apiVersion, header, body };
}

/** Encodes a request frame without the size prefix. */
export function encodeRequestFrame(header: RequestHeader, body: object): Buffer {
  const codec = codecFor(header.requestApiKey);
  if (!codec) throw new RangeError(`unknown api key ${header.requestApiKey}`);
  const w = new Writer(1024);
  encodeRequestHeader(w, requestHeaderVersion(codec, header.requestApiVersion), header);
  codec.encodeRequest(w, header.requestApiVersion, body);
  return w.toBuffer();
}

export interface DecodedResponse {
  header: ResponseHeader;
  body: any;
}

export function decodeResponseFrame(apiKey: number, apiVersion: number, frame: Buffer): DecodedResponse {
  const codec = codecFor(apiKey);
  if (!codec) throw new DecodeError('UNSUPPORTED_VERSION', `unknown api key ${apiKey}`, 0);
  const r = new Reader(frame);
  const header = decodeResponseHeader(r, responseHeaderVersion(codec, apiVersion));
  const body = codec.decodeResponse(r, apiVersion);
  if (r.remaining !== 0) {
    throw new DecodeError(
      'TRAILING_BYTES',
      `${r.remaining} bytes left after ${codec.name} v${apiVersion} response`,
      r.offset,
    );
  }
  return { header, body };
}

export function encodeResponseFrame(
  apiKey: number,
  apiVersion: number,
  header: ResponseHeader,
  body: object,
): Buffer {
  return writeResponse(apiKey, apiVersion, header, body, false).toBuffer();
}

/**
 * Encodes a response with its 4-byte size prefix as a list of chunks for a
 * vectored socket write; record batches in the body are referenced, not copied.
 */
export function encodeResponseChunks(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: object,
): Buffer[] {
  return writeResponse(apiKey, apiVersion, { correlationId }, body, true).toChunks();
}

function writeResponse(
  apiKey: number,
  apiVersion: number,
  header: ResponseHeader,
  body: object,
  sized: boolean,
): Writer {
  const codec = codecFor(apiKey);
  if (!codec) throw new RangeError(`unknown api key ${apiKey}`);
  const w = new Writer(1024);
  if (sized) w.writeInt32(0);
  encodeResponseHeader(w, responseHeaderVersion(codec, apiVersion), header);
  codec.encodeResponse(w, apiVersion, body);
  if (sized) w.patchInt32(0, w.length - 4);
  return w;
}
