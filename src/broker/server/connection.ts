/**
 * One client connection: frames in, responses out, strictly in request order.
 *
 * Requests of one connection are handled one at a time, as Kafka does (it
 * mutes a channel while a request is in flight): this keeps the order of
 * appends from one producer equal to its send order, and responses in request
 * order, acks=0 produce included (it takes its turn and sends nothing).
 * Reading pauses while decoded-but-unhandled bytes exceed a cap, so a client
 * that pipelines faster than we handle is pushed back by TCP.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../common/logger.ts';
import { KafkaProtocolError } from '../../protocol/error-codes.ts';
import {
  API_VERSIONS_KEY,
  codecFor,
  decodeRequestFrame,
  encodeResponseChunks,
  peekRequestHeader,
} from '../../protocol/frames.ts';
import { DecodeError } from '../../protocol/primitives/errors.ts';
import type { HandlerRegistry } from '../handlers/registry.ts';
import { NO_RESPONSE, type RequestContext } from '../handlers/types.ts';
import type { BrokerServices } from '../services.ts';
import { FrameDecoder, FrameError } from './framing.ts';

export interface ConnectionOptions {
  id: string;
  socket: Socket;
  services: BrokerServices;
  registry: HandlerRegistry;
  listenerName: string;
  securityProtocol: string;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  log: Logger;
  onClose: (c: Connection) => void;
}

/** Pause reading when this many bytes of complete frames wait to be handled. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export class Connection {
  readonly id: string;
  readonly socket: Socket;
  private readonly opts: ConnectionOptions;
  private readonly decoder: FrameDecoder;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private busy = false;
  private closed = false;
  private paused = false;
  readonly log: Logger;
  /** In-flight request count (0 or 1), for graceful shutdown. */
  inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Aborted on close, so a long-polling request stops waiting. */
  private readonly closedSignal = new AbortController();

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.socket = opts.socket;
    this.log = opts.log;
    this.decoder = new FrameDecoder(opts.maxFrameBytes);
    const s = opts.socket;
    s.setNoDelay(true);
    s.setTimeout(opts.idleTimeoutMs, () => {
      this.log.debug('idle timeout; closing');
      this.close();
    });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err) => this.log.debug({ err }, 'socket error'));
    s.on('close', () => this.onSocketClose());
    s.on('drain', () => this.pump());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.push(chunk);
    let completed = false;
    try {
      for (;;) {
        const frame = this.decoder.next();
        if (frame === null) break;
        completed = true;
        this.queue.push(frame);
        this.queuedBytes += frame.length;
      }
    } catch (e) {
      if (e instanceof FrameError) {
        this.log.warn({ reason: e.message }, 'closing connection: bad frame');
        this.close();
        return;
      }
      throw e;
    }
    this.watchPartialFrame(completed);
    if (this.queuedBytes > MAX_QUEUED_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.pump();
  }

  private partialTimer: NodeJS.Timeout | null = null;

  /**
   * A frame must be completed within the idle timeout of its first byte:
   * trickling bytes into a frame (slowloris) does not count as activity.
   */
  private watchPartialFrame(completedFrame: boolean): void {
    if (completedFrame || this.decoder.pendingBytes === 0) {
      if (this.partialTimer) {
        clearTimeout(this.partialTimer);
        this.partialTimer = null;
      }
      if (this.decoder.pendingBytes === 0) return;
    }
    if (this.partialTimer) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = null;
      if (this.closed || this.decoder.pendingBytes === 0) return;
      this.log.warn(
        { declared: this.decoder.declaredSize(), received: this.decoder.pendingBytes },
        'closing connection: request not completed within connections.max.idle.ms',
      );
      this.close();
    }, this.opts.idleTimeoutMs);
    this.partialTimer.unref();
  }

  /** Handles queued requests one at a time. */
  private pump(): void {
    if (this.busy || this.closed) return;
    if (this.socket.writableNeedDrain) return;
    const frame = this.queue.shift();
    if (frame === undefined) {
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.queuedBytes -= frame.length;
    this.busy = true;
    this.inFlight = 1;
    this.handle(frame).then(
      () => this.afterRequest(),
      (err) => {
        this.log.error({ err }, 'unexpected error handling request; closing connection');
        this.close();
        this.afterRequest();
      },
    );
  }

  private afterRequest(): void {
    this.busy = false;
    this.inFlight = 0;
    if (this.closed) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.pump();
  }

  private send(chunks: Buffer[]): void {
    if (this.closed) return;
    const s = this.socket;
    if (chunks.length === 1) {
      s.write(chunks[0]!);
      return;
    }
    s.cork();
    for (const c of chunks) s.write(c);
    s.uncork();
  }

  private async handle(frame: Buffer): Promise<void> {
    if (frame.length < 8) {
      this.log.warn({ bytes: frame.length }, 'closing connection: request shorter than a header');
      this.close();
      return;
    }
    const { apiKey, apiVersion, correlationId } = peekRequestHeader(frame);
    const registry = this.opts.registry;
    const handler = registry.get(apiKey);
    const codec = codecFor(apiKey);
    if (!handler || !codec) {
      this.log.warn({ apiKey, apiVersion }, 'closing connection: unsupported api key');
      this.close();
      return;
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        // Kafka answers an unknown ApiVersions version with a v0 response listing what it supports.
        this.send(
          encodeResponseChunks(API_VERSIONS_KEY, 0, correlationId, {
            errorCode: 35,
            apiKeys: registry.versions(),
            throttleTimeMs: 0,
          }),
        );
        return;
      }
      this.log.warn({ api: codec.name, apiVersion }, 'closing connection: unsupported version');
      this.close();
      return;
    }
    let req: ReturnType<typeof decodeRequestFrame>;
    try {
      req = decodeRequestFrame(frame);
    } catch (e) {
      if (e instanceof DecodeError) {
        this.log.warn(
          { api: codec.name, apiVersion, reason: e.message },
          'closing connection: malformed request',
        );
        this.close();
        return;
      }
      throw e;
    }
    const ctx: RequestContext = {
      services: this.opts.services,
      header: req.header,
      apiVersion,
      clientId: req.header.clientId ?? null,
      clientHost: this.socket.remoteAddress ?? '',
      listenerName: this.opts.listenerName,
      securityProtocol: this.opts.securityProtocol,
      principal: 'User:ANONYMOUS',
      connectionId: this.id,
      log: this.log,
      signal: this.closedSignal.signal,
    };
    let res: unknown;
    try {
      res = await handler.handle(req.body, ctx);
    } catch (e) {
      if (e instanceof KafkaProtocolError) {
        // A handler throws a Kafka error when the request cannot be answered
        // (acks=0 produce that failed): Kafka closes the connection then.
        this.log.warn(
          { api: codec.name, code: e.errorName, reason: e.message },
          'closing connection after a protocol error',
        );
        this.close();
        return;
      }
      throw e;
    }
    if (res === NO_RESPONSE) return;
    this.send(encodeResponseChunks(apiKey, apiVersion, correlationId, res as object));
  }

  /** Resolves once no request is being handled (for graceful shutdown). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.closedSignal.abort();
    this.socket.end();
    this.socket.destroySoon?.();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onSocketClose(): void {
    this.closed = true;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.queue.length = 0;
    this.closedSignal.abort();
    this.opts.onClose(this);
  }
}
