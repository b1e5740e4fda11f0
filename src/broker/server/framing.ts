/**
 * Splits a byte stream into Kafka frames (int32 size prefix + body). The size
 * is checked against the limit before anything is allocated, and a frame's
 * bytes are only gathered once all of them have arrived: memory held is
 * bounded by the bytes actually received, never by what a length field claims.
 */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly maxFrame: number;

  constructor(maxFrameBytes: number) {
    this.maxFrame = maxFrameBytes;
  }

  /** Bytes received and not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Size declared by the frame in progress, or -1 when fewer than 4 bytes are buffered. */
  declaredSize(): number {
    if (this.buffered < 4) return -1;
    return this.peekInt32();
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Next complete frame body (without the size prefix), or null. Throws FrameError on an invalid size. */
  next(): Buffer | null {
    if (this.buffered < 4) return null;
    const size = this.peekInt32();
    if (size <= 0) throw new FrameError(`invalid frame size ${size}`);
    if (size > this.maxFrame) {
      throw new FrameError(`frame of ${size} bytes exceeds socket.request.max.bytes (${this.maxFrame})`);
    }
    if (this.buffered < 4 + size) return null;
    this.consume(4);
    return this.consume(size);
  }

  private peekInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const b = Buffer.allocUnsafe(4);
    let o = 0;
    for (const c of this.chunks) {
      const n = Math.min(4 - o, c.length);
      c.copy(b, o, 0, n);
      o += n;
      if (o === 4) break;
    }
    return b.readInt32BE(0);
  }

  /** Removes and returns the next n buffered bytes (n <= buffered); zero-copy when in one chunk. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const take = Math.min(n - o, c.length);
      c.copy(out, o, 0, take);
      o += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }
}
