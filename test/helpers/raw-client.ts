/**
 * A minimal Kafka client for tests: one TCP connection, typed requests via
 * the generated codec, pipelined requests matched to responses by
 * correlation id. Every call is bounded by a timeout.
 *
 *   const c = await RawClient.connect(broker.bootstrapServers);
 *   const res = await c.request(1, 12, { ...fetch body });
 *   c.close();
 */
import { connect, type Socket } from 'node:net';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/protocol/frames.ts';

interface Pending {
  apiKey: number;
  apiVersion: number;
  resolve: (body: any) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class RawClient {
  readonly socket: Socket;
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks of an incomplete frame (the first is `buf`), `partsBytes` in all, `need` wanted. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private need = 0;
  private closed = false;
  clientId = 'raw-client';
  timeoutMs = 10_000;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('connection closed')));
    socket.on('error', (e) => this.failAll(e));
  }

  static connect(hostPort: string, timeoutMs = 5000): Promise<RawClient> {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(hostPort.slice(i + 1));
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, noDelay: true });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${hostPort} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(new RawClient(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  /** Sends a request; resolves with the decoded response body. */
  request<T = any>(apiKey: number, apiVersion: number, body: object): Promise<T> {
    if (this.closed) return Promise.reject(new Error('client closed'));
    const correlationId = this.nextCorrelationId++;
    const frame = encodeRequestFrame(
      { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId: this.clientId },
      body,
    );
    const size = Buffer.alloc(4);
    size.writeInt32BE(frame.length);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`request api ${apiKey} v${apiVersion} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(correlationId, { apiKey, apiVersion, resolve, reject, timer });
      this.socket.write(Buffer.concat([size, frame]));
    });
  }

  /** Sends raw frame bytes (size prefix included) and returns nothing. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    // Chunks of a large response wait in a list and are joined once (joining
    // on every chunk is quadratic in the response size).
    if (this.parts.length > 0 || (this.buf.length > 0 && this.buf.length + chunk.length < this.need)) {
      if (this.parts.length === 0) this.parts.push(this.buf);
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
      if (this.partsBytes < this.need) return;
      this.buf = Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    this.need = 0;
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) {
        this.need = 4 + size;
        this.partsBytes = this.buf.length;
        break;
      }
      const frame = this.buf.subarray(4, 4 + size);
      this.buf = this.buf.subarray(4 + size);
      const correlationId = frame.readInt32BE(0);
      const p = this.pending.get(correlationId);
      if (!p) continue;
      this.pending.delete(correlationId);
      clearTimeout(p.timer);
      try {
        p.resolve(decodeResponseFrame(p.apiKey, p.apiVersion, frame).body);
      } catch (e) {
        p.reject(e as Error);
      }
    }
  }

  private failAll(e: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
