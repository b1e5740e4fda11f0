/**
 * What a handler sees. Handlers decode (already done by the codec),
 * authorize, delegate to the logic layers, and build the response; logic
 * lives in replica/, group/, txn/, topics/.
 */
import type { Logger } from '../../common/logger.ts';
import type { RequestHeader } from '../../protocol/generated/messages/request-header.ts';
import type { BrokerServices } from '../services.ts';

export interface RequestContext {
  services: BrokerServices;
  header: RequestHeader;
  apiVersion: number;
  clientId: string | null;
  /** Remote address of the client. */
  clientHost: string;
  listenerName: string;
  securityProtocol: string;
  /** Authenticated principal, e.g. "User:ANONYMOUS". */
  principal: string;
  connectionId: string;
  log: Logger;
  /** Aborted when the connection closes (long-polling handlers stop waiting). */
  signal?: AbortSignal;
  /** The broker's memory for responses (queued.max.request.bytes); absent: no cap. */
  responseMemory?: ResponseMemory;
}

/**
 * Lets a handler that builds a large response (Fetch) size it to the memory
 * left: reserve bytes before reading them, so concurrent requests do not all
 * take the same room. The connection trues the reservation up to the
 * response it sends, and returns it when the request ends without one.
 */
export interface ResponseMemory {
  /** Bytes a response may still take now (Infinity: no cap). */
  available(): number;
  /** Counts `delta` more bytes (negative: gives them back) of the response being built. */
  reserve(delta: number): void;
}

/** Returned by a handler when the request gets no response (acks=0 produce). */
export const NO_RESPONSE: unique symbol = Symbol('samsa.no-response');
export type HandlerResult<Res> = Res | typeof NO_RESPONSE;

export interface Handler<Req = any, Res = any> {
  apiKey: number;
  /** Version range this handler serves (intersected with what the codec knows). */
  minVersion: number;
  maxVersion: number;
  handle(req: Req, ctx: RequestContext): HandlerResult<Res> | Promise<HandlerResult<Res>>;
}
