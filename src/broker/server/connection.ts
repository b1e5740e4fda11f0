/**
 * One client connection: frames in, responses out, strictly in request order.
 *
 * Requests of one connection are handled one at a time, as Kafka does (it
 * mutes a channel while a request is in flight): this keeps the order of
 * appends from one producer equal to its send order, and responses in request
 * order, acks=0 produce included (it takes its turn and sends nothing).
 * Reading pauses while decoded-but-unhandled bytes exceed a cap, so a client
 * that pipelines faster than we handle is pushed back by TCP; and while the
 * broker-wide request memory pool (queued.max.request.bytes,
 * queued.max.requests; request-memory-pool.ts) is full. Every byte read is
 * charged to the pool until its request is answered or the connection
 * closes; response bytes are charged until the socket has flushed them.
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
import { NO_RESPONSE, type RequestContext, type ResponseMemory } from '../handlers/types.ts';
import type { BrokerServices } from '../services.ts';
import { FrameDecoder, FrameError } from './framing.ts';
import type { PoolMember, RequestMemoryPool } from './request-memory-pool.ts';

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
  /** Broker-wide request memory; a private unlimited pool when absent. */
  pool?: RequestMemoryPool;
  onClose: (c: Connection) => void;
}

/** Pause reading when this many bytes of complete frames wait to be handled. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** Why reading is paused (bits). */
const PAUSED_QUEUE = 1;
const PAUSED_POOL = 2;

export class Connection implements PoolMember {
  readonly id: string;
  readonly socket: Socket;
  private readonly opts: ConnectionOptions;
  private readonly decoder: FrameDecoder;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private busy = false;
  private closed = false;
  private paused = 0;
  private readonly pool: RequestMemoryPool | undefined;
  /** Request bytes charged to the pool and not yet released; `heldFrameBytes` of them complete frames. */
  private heldBytes = 0;
  private heldFrameBytes = 0;
  /** Response bytes charged to the pool (reserved, or written and not yet flushed). */
  private heldResponseBytes = 0;
  /** Of those, reserved by the request being handled and not yet sent. */
  private reservedResponse = 0;
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
    this.pool = opts.pool;
    const s = opts.socket;
    s.setNoDelay(true);
    s.setTimeout(opts.idleTimeoutMs, () => {
      // Not idle: the client waits for the pool; the clock restarts when it may read.
      if ((this.paused & PAUSED_POOL) !== 0) return;
      this.log.debug('idle timeout; closing');
      this.close();
    });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err) => this.log.debug({ err }, 'socket error'));
    s.on('close', () => this.onSocketClose());
    s.on('drain', () => this.pump());
  }

  /** Bytes of an incomplete frame held by the decoder (PoolMember). */
  get partialBytes(): number {
    return this.decoder.pendingBytes;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.push(chunk);
    const pool = this.pool;
    if (pool) {
      pool.charge(chunk.length);
      this.heldBytes += chunk.length;
    }
    let completed = false;
    try {
      for (;;) {
        const frame = this.decoder.next();
        if (frame === null) break;
        completed = true;
        this.queue.push(frame);
        this.queuedBytes += frame.length;
        if (pool) {
          pool.framed(frame.length + 4);
          this.heldFrameBytes += frame.length + 4;
        }
      }
    } catch (e) {
      if (e instanceof FrameError) {
        this.log.warn({ reason: e.message }, 'closing connection: bad frame');
        this.close();
        return;
      }
      throw e;
    }
    if (this.queuedBytes > MAX_QUEUED_BYTES) this.pause(PAUSED_QUEUE);
    if (pool) {
      if (!pool.full) pool.mayRead(this);
      else {
        // Paused before asking, so a resume from inside the pool is not undone.
        this.pause(PAUSED_POOL);
        if (pool.mayRead(this)) this.unpause(PAUSED_POOL);
      }
    }
    this.watchPartialFrame(completed);
    this.pump();
  }

  private pause(reason: number): void {
    if (this.paused === 0) this.socket.pause();
    this.paused |= reason;
  }

  private unpause(reason: number): void {
    if ((this.paused & reason) === 0) return;
    this.paused &= ~reason;
    if (this.paused === 0 && !this.closed) this.socket.resume();
  }

  /** PoolMember: the pool has room again. */
  resumeReading(): void {
    if (this.closed) return;
    this.unpause(PAUSED_POOL);
    this.socket.setTimeout(this.opts.idleTimeoutMs);
    this.watchPartialFrame(false);
  }

  private partialTimer: NodeJS.Timeout | null = null;

  /**
   * A frame must be completed within the idle timeout of its first byte:
   * trickling bytes into a frame (slowloris) does not count as activity.
   */
  private watchPartialFrame(completedFrame: boolean): void {
    // Waiting for the pool is the broker's doing, not the client's: no clock then.
    const stop = completedFrame || this.decoder.pendingBytes === 0 || (this.paused & PAUSED_POOL) !== 0;
    if (stop) {
      if (this.partialTimer) {
        clearTimeout(this.partialTimer);
        this.partialTimer = null;
      }
      if (this.decoder.pendingBytes === 0 || (this.paused & PAUSED_POOL) !== 0) return;
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
      this.unpause(PAUSED_QUEUE);
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.queuedBytes -= frame.length;
    this.busy = true;
    this.inFlight = 1;
    this.pool?.started();
    this.handle(frame).then(
      () => this.afterRequest(frame.length + 4),
      (err) => {
        this.log.error({ err }, 'unexpected error handling request; closing connection');
        this.close();
        this.afterRequest(frame.length + 4);
      },
    );
  }

  /** Returns a handled request's bytes to the pool (nothing when close already did). */
  private releaseRequest(bytes: number): void {
    if (!this.pool) return;
    const n = Math.min(bytes, this.heldFrameBytes);
    if (n <= 0) return;
    this.heldBytes -= n;
    this.heldFrameBytes -= n;
    this.pool.release(n, n);
  }

  private afterRequest(frameBytes: number): void {
    this.releaseRequest(frameBytes);
    if (this.reservedResponse > 0) {
      // The request ended without sending what it reserved.
      this.releaseResponse(this.reservedResponse);
      this.reservedResponse = 0;
    }
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
    const pool = this.pool;
    let done: (() => void) | undefined;
    if (pool) {
      let n = 0;
      for (const c of chunks) n += c.length;
      // What the handler reserved while building this response is part of it.
      const reserved = this.reservedResponse;
      this.reservedResponse = 0;
      if (n > reserved) {
        pool.chargeResponse(n - reserved);
        this.heldResponseBytes += n - reserved;
      } else if (reserved > n) this.releaseResponse(reserved - n);
      done = () => this.releaseResponse(n);
    }
    // Responses written in one turn of the event loop (pipelined requests are
    // handled back to back in microtasks) leave in one writev, not one
    // syscall each: the socket stays corked until the turn's work is done.
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(this.uncork);
    }
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) s.write(chunks[i]!);
    s.write(chunks[last]!, done);
  }

  /** The socket is corked until the next tick (see send). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** Returns response bytes to the pool (clamped: a close has already returned them all). */
  private releaseResponse(n: number): void {
    const r = Math.min(n, this.heldResponseBytes);
    if (r <= 0) return;
    this.heldResponseBytes -= r;
    this.pool?.releaseResponse(r);
  }

  /** RequestContext.responseMemory: the pool's response room, reserved per request. */
  private readonly responseMemory: ResponseMemory = {
    available: () => this.pool?.responseBudget() ?? Number.POSITIVE_INFINITY,
    reserve: (delta: number) => {
      const pool = this.pool;
      if (!pool || delta === 0) return;
      if (delta > 0) {
        if (this.closed) return;
        pool.chargeResponse(delta);
        this.heldResponseBytes += delta;
        this.reservedResponse += delta;
      } else {
        const r = Math.min(-delta, this.reservedResponse);
        this.reservedResponse -= r;
        this.releaseResponse(r);
      }
    },
  };

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
      responseMemory: this.pool ? this.responseMemory : undefined,
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
    this.dropQueue();
    this.closedSignal.abort();
    this.socket.end();
    this.socket.destroySoon?.();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /**
   * Drops unhandled requests and returns every request byte this connection
   * holds to the pool (a handler still running releases nothing later).
   */
  private dropQueue(): void {
    const dropped = this.queue.length;
    this.queue.length = 0;
    this.queuedBytes = 0;
    const pool = this.pool;
    if (!pool) return;
    if (this.heldBytes > 0 || dropped > 0) pool.release(this.heldBytes, this.heldFrameBytes, dropped);
    this.heldBytes = 0;
    this.heldFrameBytes = 0;
    pool.leave(this);
  }

  private onSocketClose(): void {
    this.closed = true;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.dropQueue();
    this.releaseResponse(this.heldResponseBytes);
    this.reservedResponse = 0;
    this.closedSignal.abort();
    this.opts.onClose(this);
  }
}
