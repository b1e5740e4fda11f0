/**
 * A Kafka-aware TCP proxy for tests: forwards every connection to a target
 * port, parses the frames both ways, and lets a test drop a response (the
 * request was handled, the client never hears back) and cut the connection:
 * the "appended but unacknowledged" case that idempotence exists for.
 *
 * Point the broker's advertised.listeners at the proxy so that clients reach
 * the broker only through it:
 *
 *   const proxy = await FaultProxy.start(() => brokerPort);
 *   const b = await startBroker({ config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
 *   proxy.onResponse = (apiKey, n) => (apiKey === 0 && n === 3 ? 'drop-and-close' : 'pass');
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

export type ResponseAction = 'pass' | 'drop-and-close';

/** Splits a byte stream into size-prefixed Kafka frames. */
class Frames {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) break;
      out.push(this.buf.subarray(0, 4 + size));
      this.buf = this.buf.subarray(4 + size);
    }
    return out;
  }
}

export class FaultProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly target: () => number;
  port = 0;
  /** Decides per response; `n` counts responses of that api key, from 1, across connections. */
  onResponse: (apiKey: number, n: number) => ResponseAction = () => 'pass';
  /** Called after a response was dropped and its connection cut. */
  onDropped: (apiKey: number) => void = () => {};
  private readonly counts = new Map<number, number>();

  private constructor(target: () => number) {
    this.target = target;
    this.server = createServer((client) => this.accept(client));
  }

  static async start(target: () => number): Promise<FaultProxy> {
    const p = new FaultProxy(target);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  private accept(client: Socket): void {
    const upstream = netConnect({ host: '127.0.0.1', port: this.target(), noDelay: true });
    client.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const inflight = new Map<number, number>(); // correlation id -> api key
    const fromClient = new Frames();
    const fromBroker = new Frames();
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      for (const f of fromClient.push(chunk)) {
        if (f.length >= 12) inflight.set(f.readInt32BE(8), f.readInt16BE(4));
        upstream.write(f);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const f of fromBroker.push(chunk)) {
        const corr = f.length >= 8 ? f.readInt32BE(4) : -1;
        const apiKey = inflight.get(corr) ?? -1;
        inflight.delete(corr);
        const n = (this.counts.get(apiKey) ?? 0) + 1;
        this.counts.set(apiKey, n);
        if (this.onResponse(apiKey, n) === 'drop-and-close') {
          cut();
          this.onDropped(apiKey);
          return;
        }
        client.write(f);
      }
    });
    for (const s of [client, upstream]) {
      s.on('error', () => cut());
      s.on('close', () => {
        this.sockets.delete(s);
        cut();
      });
    }
  }

  /** Cuts every proxied connection (clients reconnect). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
