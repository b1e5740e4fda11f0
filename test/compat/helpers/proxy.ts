/**
 * A TCP proxy in front of a broker, for making clients retry: with
 * `dropResponses` on, requests still reach the broker (and are acted on) but
 * nothing comes back, as when a response is lost; `cut()` resets every
 * connection. Point the broker's advertised.listeners at the proxy so clients
 * reach the broker only through it.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface Proxy {
  readonly port: number;
  /** When true, broker -> client bytes are discarded (the broker still receives and acts). */
  dropResponses: boolean;
  /** Bytes forwarded client -> broker so far. */
  readonly requestBytes: number;
  /** Broker -> client bytes discarded while dropResponses was on. */
  readonly droppedBytes: number;
  /** Resets every open connection (both sides). */
  cut(): void;
  close(): Promise<void>;
}

/** Listens on an ephemeral (or given) 127.0.0.1 port and forwards to 127.0.0.1:targetPort. */
export async function startProxy(targetPort: () => number, listenPort = 0): Promise<Proxy> {
  const pairs = new Set<[Socket, Socket]>();
  let requestBytes = 0;
  let droppedBytes = 0;
  const state = { dropResponses: false };
  const server: Server = createServer((client) => {
    client.pause();
    const upstream = new (client.constructor as typeof Socket)();
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const done = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    upstream.connect(targetPort(), '127.0.0.1', () => {
      client.on('data', (d: Buffer) => {
        requestBytes += d.length;
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        if (state.dropResponses) droppedBytes += d.length;
        else client.write(d);
      });
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const proxy: Proxy = {
    port,
    get dropResponses() {
      return state.dropResponses;
    },
    set dropResponses(v: boolean) {
      state.dropResponses = v;
    },
    get requestBytes() {
      return requestBytes;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    cut() {
      for (const [c, u] of [...pairs]) {
        c.resetAndDestroy();
        u.resetAndDestroy();
      }
      pairs.clear();
    },
    async close() {
      proxy.cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}
