/**
 * Broker-wide bound on memory held by requests: Kafka's
 * `queued.max.request.bytes` (KIP-72) and `queued.max.requests`, shared by
 * every connection of a ListenerSet.
 *
 * - Bytes are charged as they come off a socket (an incomplete frame counts
 *   with what has arrived, never with what its size prefix declares) and
 *   released when the request has been answered (or its connection closed).
 * - A request counts as queued from the moment its frame is complete until
 *   its handler starts (Kafka's request queue; requests parked in a
 *   purgatory are no longer queued).
 * - At the cap (bytes or queued requests), a connection that receives data
 *   stops reading (socket.pause: TCP pushes back on the client, nothing is
 *   dropped) and waits here; all waiting connections resume once the pool
 *   drains below the low watermark (3/4 of each cap).
 * - No deadlock: when the pool is over the cap but holds no complete frame
 *   (only partial frames, which shrink only by reading on), one connection
 *   with a partial frame is let through to finish it, so a frame larger than
 *   the cap is admitted when nothing else is queued (as Kafka's non-strict
 *   pool does). The pool can thus exceed its cap by at most one frame
 *   (socket.request.max.bytes) plus what each connection reads before it
 *   notices (one socket read, <= 64 KiB).
 *
 * Responses are counted separately (`responseBytes`: reserved while being
 * built, then until the socket has flushed them) and do not pause reading:
 * a client that reads its responses slowly would otherwise stall every
 * producer. Instead Fetch reserves each partition's read against
 * `responseBudget()` (the cap less responses held) before reading, and
 * returns at least one batch (KIP-74) even when nothing is left, so response
 * memory stays within the cap plus one batch per fetch answered meanwhile.
 */

export interface PoolMember {
  /** The pool lets this member read again. */
  resumeReading(): void;
  /** Bytes of an incomplete frame the member holds (they are released only by reading on). */
  readonly partialBytes: number;
}

export interface RequestMemoryPoolOptions {
  /** queued.max.request.bytes; <= 0 means no cap (Kafka's -1). */
  maxBytes: number;
  /** queued.max.requests. */
  maxRequests: number;
}

/** Reading resumes below this fraction of each cap. */
const LOW_WATERMARK = 0.75;

export class RequestMemoryPool {
  /** Cap on request bytes (Infinity: none). */
  readonly maxBytes: number;
  readonly maxRequests: number;
  private readonly lowBytes: number;
  private readonly lowRequests: number;
  /** Request bytes received and not yet released (complete and partial frames). */
  used = 0;
  /** Of `used`, bytes of complete frames (queued or being handled). */
  frameBytes = 0;
  /** Complete requests waiting for their turn. */
  queued = 0;
  /** Response bytes handed to sockets and not yet flushed. */
  responseBytes = 0;
  /** Highest `used` seen. */
  peakUsed = 0;
  /** Highest `responseBytes` seen. */
  peakResponseBytes = 0;
  /** Times a connection stopped reading for the pool. */
  pauses = 0;
  private readonly waiting = new Set<PoolMember>();
  /** The member let through to finish a partial frame while over the cap. */
  private finisher: PoolMember | null = null;

  constructor(opts: RequestMemoryPoolOptions) {
    this.maxBytes = opts.maxBytes > 0 ? opts.maxBytes : Number.POSITIVE_INFINITY;
    this.maxRequests = Math.max(1, opts.maxRequests);
    this.lowBytes = this.maxBytes * LOW_WATERMARK;
    this.lowRequests = Math.max(1, Math.ceil(this.maxRequests * LOW_WATERMARK));
  }

  /** Connections waiting to read. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** At a cap: connections receiving data stop reading. */
  get full(): boolean {
    return this.used >= this.maxBytes || this.queued >= this.maxRequests;
  }

  /** `n` bytes came off a socket. */
  charge(n: number): void {
    this.used += n;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
  }

  /** `bytes` of charged data now form a complete request, queued for its turn. */
  framed(bytes: number): void {
    this.frameBytes += bytes;
    this.queued++;
  }

  /** A queued request's handler started. */
  started(): void {
    this.queued--;
    this.wake();
  }

  /**
   * Returns charged bytes: `bytes` in all, `frameBytes` of them complete
   * frames, plus `queued` requests dropped unhandled (a closed connection).
   */
  release(bytes: number, frameBytes: number, queued = 0): void {
    this.used -= bytes;
    this.frameBytes -= frameBytes;
    this.queued -= queued;
    this.wake();
  }

  /**
   * After `m` received data: true when it may keep reading; false when it
   * must pause, in which case it is resumed through `resumeReading()`.
   */
  mayRead(m: PoolMember): boolean {
    if (!this.full) {
      if (this.finisher === m) this.finisher = null;
      return true;
    }
    if (this.frameBytes === 0 && m.partialBytes > 0 && (this.finisher === null || this.finisher === m)) {
      this.finisher = m;
      return true;
    }
    if (this.finisher === m) this.finisher = null;
    this.waiting.add(m);
    this.pauses++;
    this.wake();
    return false;
  }

  /** `m` closed: it no longer waits. */
  leave(m: PoolMember): void {
    this.waiting.delete(m);
    if (this.finisher === m) this.finisher = null;
    this.wake();
  }

  chargeResponse(n: number): void {
    this.responseBytes += n;
    if (this.responseBytes > this.peakResponseBytes) this.peakResponseBytes = this.responseBytes;
  }

  releaseResponse(n: number): void {
    this.responseBytes -= n;
  }

  /** Bytes a large response (Fetch) may take now; Infinity without a cap. */
  responseBudget(): number {
    return Math.max(0, this.maxBytes - this.responseBytes);
  }

  private wake(): void {
    if (this.waiting.size === 0) return;
    if (this.used < this.lowBytes && this.queued < this.lowRequests) {
      const all = [...this.waiting];
      this.waiting.clear();
      for (const m of all) m.resumeReading();
      return;
    }
    if (this.frameBytes === 0 && this.finisher === null) {
      // Only partial frames hold the pool: let one finish, or nothing ever drains.
      for (const m of this.waiting) {
        if (m.partialBytes > 0) {
          this.waiting.delete(m);
          this.finisher = m;
          m.resumeReading();
          return;
        }
      }
    }
  }
}
