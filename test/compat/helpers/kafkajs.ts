/**
 * kafkajs in-process: a client factory (quiet logs), compression codecs for
 * snappy/lz4/zstd (kafkajs ships only gzip; users plug codecs in exactly like
 * this, here backed by independent libraries: `snappy`, `lz4-napi` frames,
 * node:zlib zstd), and a group-less reader built from kafkajs' own cluster and
 * Fetch code, so reading back does not depend on consumer groups.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import kafkajsPkg, { type Kafka as KafkaClient, type KafkaConfig } from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import snappy from 'snappy';
import type { Codec, ReadRecord } from './records.ts';

const require = createRequire(import.meta.url);
// kafkajs is CommonJS without static named exports: take them off the default export.
export const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajsPkg;
export type Kafka = KafkaClient;

export const KAFKAJS_CODEC: Record<Codec, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/** Snappy as Kafka uses it: raw blocks, or Java's xerial framing when reading. */
function snappyDecompress(buf: Buffer): Buffer {
  if (buf.length >= 16 && buf.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const parts: Buffer[] = [];
    let o = 16;
    while (o + 4 <= buf.length) {
      const n = buf.readUInt32BE(o);
      o += 4;
      parts.push(snappy.uncompressSync(buf.subarray(o, o + n)) as Buffer);
      o += n;
    }
    return Buffer.concat(parts);
  }
  return snappy.uncompressSync(buf) as Buffer;
}

let codecsRegistered = false;
/** Registers snappy, lz4 and zstd with kafkajs (once per process). */
export function registerKafkajsCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  type Enc = { buffer: Buffer };
  const codecs = CompressionCodecs as unknown as Record<number, () => unknown>;
  codecs[CompressionTypes.Snappy] = () => ({
    compress: async (e: Enc) => snappy.compressSync(e.buffer),
    decompress: async (b: Buffer) => snappyDecompress(b),
  });
  codecs[CompressionTypes.LZ4] = () => ({
    compress: async (e: Enc) => compressFrameSync(e.buffer),
    decompress: async (b: Buffer) => decompressFrameSync(b),
  });
  codecs[CompressionTypes.ZSTD] = () => ({
    compress: async (e: Enc) => zlib.zstdCompressSync(e.buffer),
    decompress: async (b: Buffer) => zlib.zstdDecompressSync(b),
  });
}

export function kafkajs(bootstrap: string, extra: Partial<KafkaConfig> = {}): Kafka {
  registerKafkajsCodecs();
  return new Kafka({
    clientId: 'samsa-compat-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    ...extra,
  });
}

interface KjsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  isControlRecord?: boolean;
}

function headerPairs(h: KjsMessage['headers']): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(h ?? {})) {
    if (Array.isArray(v)) for (const x of v) out.push([k, x.toString()]);
    else out.push([k, v == null ? '' : v.toString()]);
  }
  return out;
}

/**
 * Reads partition records from `fromOffset` with kafkajs' Cluster + Broker.fetch
 * (ListOffsets for "beginning"), until `count` records or the high watermark.
 */
export async function kafkajsRead(
  bootstrap: string,
  topic: string,
  opts: { partition?: number; from?: number | 'beginning'; count?: number; timeoutMs?: number } = {},
): Promise<{ records: ReadRecord[]; highWatermark: number; logStartOffset: number }> {
  registerKafkajsCodecs();
  const Cluster = require('kafkajs/src/cluster');
  const { createLogger, LEVELS } = require('kafkajs/src/loggers');
  const LoggerConsole = require('kafkajs/src/loggers/console');
  const socketFactory = require('kafkajs/src/network/socketFactory');
  const cluster = new Cluster({
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: LoggerConsole }),
    socketFactory: socketFactory(),
    brokers: [bootstrap],
    clientId: 'samsa-compat-kafkajs-reader',
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    enforceRequestTimeout: true,
    metadataMaxAge: 300_000,
    allowAutoTopicCreation: false,
    retry: { retries: 3, initialRetryTime: 100 },
    offsets: new Map(),
  });
  const partition = opts.partition ?? 0;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  try {
    await cluster.connect();
    await cluster.addTargetTopic(topic);
    const leaders = cluster.findLeaderForPartitions(topic, [partition]) as Record<string, number[]>;
    const nodeId = Number(Object.keys(leaders)[0]);
    const broker = await cluster.findBroker({ nodeId });
    let offset: number;
    if (opts.from === undefined || opts.from === 'beginning') {
      const lo = await broker.listOffsets({
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic, partitions: [{ partition, timestamp: -2 }] }],
      });
      offset = Number(lo.responses[0].partitions[0].offset);
    } else offset = opts.from;
    const records: ReadRecord[] = [];
    let hw = -1;
    let logStart = -1;
    for (;;) {
      const res = await broker.fetch({
        replicaId: -1,
        isolationLevel: 1,
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: 10 << 20,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 4 << 20 }] }],
      });
      const p = res.responses[0].partitions[0];
      if (p.errorCode !== 0) throw new Error(`kafkajs fetch: error code ${p.errorCode}`);
      hw = Number(p.highWatermark);
      logStart = Number(p.lastStartOffset ?? p.logStartOffset ?? -1); // kafkajs spells it lastStartOffset
      for (const m of p.messages as KjsMessage[]) {
        const o = Number(m.offset);
        if (o < offset || m.isControlRecord) continue;
        records.push({
          offset: o,
          key: m.key == null ? null : m.key.toString(),
          value: m.value == null ? null : m.value.toString(),
          headers: headerPairs(m.headers),
          timestamp: Number(m.timestamp),
        });
        offset = o + 1;
      }
      if (opts.count !== undefined && records.length >= opts.count) break;
      if (offset >= hw && opts.count === undefined) break;
      if (Date.now() > deadline) break;
      if (p.messages.length === 0 && offset >= hw) await new Promise((r) => setTimeout(r, 50));
    }
    return { records, highWatermark: hw, logStartOffset: logStart };
  } finally {
    await cluster.disconnect();
  }
}
