/**
 * Listeners: parse `listeners` / `advertised.listeners` /
 * `listener.security.protocol.map`, bind TCP servers, enforce connection
 * limits, and hand each socket to a Connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { ConfigError } from '../../common/config/registry.ts';
import type { Logger } from '../../common/logger.ts';
import type { HandlerRegistry } from '../handlers/registry.ts';
import type { BrokerServices } from '../services.ts';
import { Connection } from './connection.ts';
import { RequestMemoryPool } from './request-memory-pool.ts';

export interface ListenerSpec {
  name: string;
  host: string;
  port: number;
}

/** Parses "NAME://host:port" (host may be empty or a [v6] literal). */
export function parseListener(uri: string, key = 'listeners'): ListenerSpec {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(uri.trim());
  if (!m) {
    throw new ConfigError(
      key,
      `invalid listener ${JSON.stringify(uri)} in ${key}: expected NAME://host:port, e.g. PLAINTEXT://127.0.0.1:9092`,
    );
  }
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(key, `invalid port ${port} in ${key}`);
  return { name: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export function securityProtocolMap(config: BrokerConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of config.list('listener.security.protocol.map') ?? []) {
    const [name, proto] = e.split(':');
    if (!name || !proto)
      throw new ConfigError(
        'listener.security.protocol.map',
        `invalid entry ${JSON.stringify(e)}: expected NAME:PROTOCOL`,
      );
    map.set(name.toUpperCase(), proto.toUpperCase());
  }
  return map;
}

export interface BoundListener extends ListenerSpec {
  securityProtocol: string;
  server: Server;
  /** Port actually bound (differs from `port` when it was 0). */
  boundPort: number;
}

export class ListenerSet {
  readonly bound: BoundListener[] = [];
  readonly connections = new Set<Connection>();
  /** Open connections per client address (max.connections.per.ip). */
  private readonly perIp = new Map<string, number>();
  private nextId = 0;
  private readonly config: BrokerConfig;
  private readonly services: BrokerServices;
  private readonly registry: HandlerRegistry;
  private readonly log: Logger;
  private accepting = true;
  /** Request memory shared by every connection (queued.max.request.bytes, queued.max.requests). */
  readonly pool: RequestMemoryPool;

  constructor(config: BrokerConfig, services: BrokerServices, registry: HandlerRegistry, log: Logger) {
    this.config = config;
    this.services = services;
    this.registry = registry;
    this.log = log;
    this.pool = new RequestMemoryPool({
      maxBytes: config.int('queued.max.request.bytes'),
      maxRequests: config.int('queued.max.requests'),
    });
  }

  async start(): Promise<void> {
    const protocols = securityProtocolMap(this.config);
    const specs = (this.config.list('listeners') ?? []).map((u) => parseListener(u));
    if (specs.length === 0)
      throw new ConfigError(
        'listeners',
        'listeners is empty: give at least one, e.g. PLAINTEXT://127.0.0.1:9092',
      );
    for (const spec of specs) {
      const securityProtocol =
        protocols.get(spec.name) ?? (spec.name === 'PLAINTEXT' ? 'PLAINTEXT' : undefined);
      if (!securityProtocol) {
        throw new ConfigError(
          'listener.security.protocol.map',
          `listener ${spec.name} has no entry in listener.security.protocol.map`,
        );
      }
      if (securityProtocol !== 'PLAINTEXT') {
        throw new ConfigError(
          'listeners',
          `listener ${spec.name} uses ${securityProtocol}, which this version does not support yet; use PLAINTEXT`,
        );
      }
      const server = createServer({ noDelay: true }, (s) => this.accept(s, spec.name, securityProtocol));
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            e.code === 'EADDRINUSE'
              ? new ConfigError(
                  'listeners',
                  `cannot listen on ${spec.host || '0.0.0.0'}:${spec.port}: address in use; stop the other process or choose another port`,
                )
              : e,
          ),
        );
        server.listen({ host: spec.host === '' ? undefined : spec.host, port: spec.port }, () => resolve());
      });
      const addr = server.address();
      const boundPort = typeof addr === 'object' && addr ? addr.port : spec.port;
      this.bound.push({ ...spec, securityProtocol, server, boundPort });
    }
  }

  private accept(socket: Socket, listenerName: string, securityProtocol: string): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const max = this.config.int('max.connections');
    if (this.connections.size >= max) {
      this.log.warn({ max }, 'max.connections reached; refusing connection');
      socket.destroy();
      return;
    }
    const ip = socket.remoteAddress ?? '';
    const perIp = this.config.int('max.connections.per.ip');
    if (perIp < max && (this.perIp.get(ip) ?? 0) >= perIp) {
      socket.destroy();
      return;
    }
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    const id = `${listenerName}-${++this.nextId}`;
    const conn = new Connection({
      id,
      socket,
      services: this.services,
      registry: this.registry,
      listenerName,
      securityProtocol,
      maxFrameBytes: this.config.int('socket.request.max.bytes'),
      idleTimeoutMs: this.config.int('connections.max.idle.ms'),
      pool: this.pool,
      log: this.log.child({ conn: id, remote: `${socket.remoteAddress}:${socket.remotePort}` }),
      onClose: (c) => {
        if (!this.connections.delete(c)) return;
        const n = (this.perIp.get(ip) ?? 1) - 1;
        if (n <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, n);
      },
    });
    this.connections.add(conn);
  }

  /** Stops accepting, lets in-flight requests finish (bounded), closes every connection. */
  async stop(graceMs = 5000): Promise<void> {
    this.accepting = false;
    const closes = this.bound.map((l) => new Promise<void>((r) => l.server.close(() => r())));
    const idle = Promise.all([...this.connections].map((c) => c.whenIdle()));
    await Promise.race([idle, new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const c of this.connections) c.close();
    for (const c of this.connections) c.socket.destroy();
    await Promise.all(closes);
    const p = this.pool;
    this.log.info(
      {
        queuedMaxRequestBytes: Number.isFinite(p.maxBytes) ? p.maxBytes : -1,
        peakRequestBytes: p.peakUsed,
        peakResponseBytes: p.peakResponseBytes,
        pauses: p.pauses,
      },
      'request memory at shutdown',
    );
  }
}
