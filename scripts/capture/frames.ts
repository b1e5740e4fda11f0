/**
 * Splits reassembled Kafka TCP streams into frames, pairs responses with their
 * requests by correlation id, dedupes, and writes the golden files + index.json.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TcpStream, tsAt } from './pcap.ts';

export interface ApiSpec {
  name: string;
  flexibleMin: number | null;
}

/** apiKey -> { name, first flexible request version } from the Kafka JSON specs. */
export function loadApiSpecs(messagesDir: string): Map<number, ApiSpec> {
  const out = new Map<number, ApiSpec>();
  for (const f of readdirSync(messagesDir)) {
    if (!f.endsWith('Request.json')) continue;
    const text = readFileSync(join(messagesDir, f), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('//'))
      .join('\n');
    const spec = JSON.parse(text) as { apiKey: number; name: string; flexibleVersions: string };
    const m = /^(\d+)\+$/.exec(spec.flexibleVersions);
    out.set(spec.apiKey, {
      name: spec.name.replace(/Request$/, ''),
      flexibleMin: m ? Number(m[1]) : null,
    });
  }
  return out;
}

export interface RawFrame {
  /** Frame without its 4-byte size prefix. */
  bytes: Buffer;
  ts: number;
  conn: string;
}

export interface FramePair {
  conn: string;
  ts: number;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  request: Buffer;
  response?: Buffer;
  /** ApiVersions answered with UNSUPPORTED_VERSION: the body is in the v0 layout. */
  responseDecodeVersion?: number;
  clientSoftware?: { name: string; version: string };
}

export interface SplitResult {
  pairs: FramePair[];
  warnings: string[];
}

function splitFrames(stream: TcpStream, conn: string, warnings: string[]): RawFrame[] {
  const out: RawFrame[] = [];
  const d = stream.data;
  let o = 0;
  while (o + 4 <= d.length) {
    const size = d.readInt32BE(o);
    if (size < 0 || o + 4 + size > d.length) {
      warnings.push(`${stream.id}: incomplete frame at ${o} (size ${size}, ${d.length - o - 4} bytes left)`);
      break;
    }
    out.push({ bytes: Buffer.from(d.subarray(o + 4, o + 4 + size)), ts: tsAt(stream, o), conn });
    o += 4 + size;
  }
  if (o < d.length && o + 4 > d.length) warnings.push(`${stream.id}: ${d.length - o} trailing bytes`);
  if (stream.gapAt !== undefined) warnings.push(`${stream.id}: TCP gap at ${stream.gapAt}`);
  return out;
}

function readUvarint(b: Buffer, o: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[o++]!;
    v += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) return [v, o];
    shift += 7;
  }
}

function readCompactString(b: Buffer, o: number): [string | null, number] {
  const [n, o2] = readUvarint(b, o);
  if (n === 0) return [null, o2];
  return [b.toString('utf8', o2, o2 + n - 1), o2 + n - 1];
}

/** Frames from every connection to one of `brokerPorts`, paired request/response. */
export function extractPairs(
  streams: TcpStream[],
  brokerPorts: Set<number>,
  specs: Map<number, ApiSpec>,
): SplitResult {
  const warnings: string[] = [];
  const pairs: FramePair[] = [];
  const byConn = new Map<string, { req?: TcpStream; resp?: TcpStream }>();
  for (const s of streams) {
    if (brokerPorts.has(s.dstPort)) {
      const conn = `${s.src}:${s.srcPort}-${s.dst}:${s.dstPort}`;
      byConn.set(conn, { ...byConn.get(conn), req: s });
    } else if (brokerPorts.has(s.srcPort)) {
      const conn = `${s.dst}:${s.dstPort}-${s.src}:${s.srcPort}`;
      byConn.set(conn, { ...byConn.get(conn), resp: s });
    }
  }
  for (const [conn, { req, resp }] of byConn) {
    if (!req) continue;
    const requests = splitFrames(req, conn, warnings);
    const responses = resp ? splitFrames(resp, conn, warnings) : [];
    const pending = new Map<number, FramePair>();
    for (const f of requests) {
      const b = f.bytes;
      const apiKey = b.readInt16BE(0);
      const apiVersion = b.readInt16BE(2);
      const correlationId = b.readInt32BE(4);
      const idLen = b.readInt16BE(8);
      const clientId = idLen < 0 ? null : b.toString('utf8', 10, 10 + idLen);
      const pair: FramePair = {
        conn,
        ts: f.ts,
        apiKey,
        apiVersion,
        correlationId,
        clientId,
        request: f.bytes,
      };
      const spec = specs.get(apiKey);
      if (apiKey === 18 && apiVersion >= 3 && spec?.flexibleMin !== null) {
        // Header v2: clientId, then tagged fields; body: ClientSoftwareName, ClientSoftwareVersion.
        let o = 10 + Math.max(idLen, 0);
        const [ntags, o1] = readUvarint(b, o);
        o = o1;
        for (let i = 0; i < ntags; i++) {
          const [, o2] = readUvarint(b, o);
          const [len, o3] = readUvarint(b, o2);
          o = o3 + len;
        }
        const [name, o4] = readCompactString(b, o);
        const [version] = readCompactString(b, o4);
        pair.clientSoftware = { name: name ?? '', version: version ?? '' };
      }
      if (pending.has(correlationId)) warnings.push(`${conn}: correlation id ${correlationId} reused`);
      pending.set(correlationId, pair);
      pairs.push(pair);
    }
    for (const f of responses) {
      const cid = f.bytes.readInt32BE(0);
      const pair = pending.get(cid);
      if (!pair) {
        warnings.push(`${conn}: response with unknown correlation id ${cid}`);
        continue;
      }
      pending.delete(cid);
      pair.response = f.bytes;
      if (pair.apiKey === 18 && f.bytes.length >= 6 && f.bytes.readInt16BE(4) === 35) {
        pair.responseDecodeVersion = 0;
      }
    }
  }
  pairs.sort((a, b) => a.ts - b.ts);
  return { pairs, warnings };
}

export interface IndexEntry {
  file: string;
  direction: 'request' | 'response';
  apiKey: number;
  apiName: string;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  clientSoftware: { name: string; version: string } | null;
  /** Version to decode the body with when it differs from apiVersion (ApiVersions fallback). */
  decodeVersion?: number;
  /** Request file for a response, response file for a request (absent for acks=0 Produce). */
  pair?: string;
}

/** Bytes with the correlation id zeroed, so that repeated identical calls dedupe. */
function masked(b: Buffer | undefined, at: number): string {
  if (!b) return '';
  const c = Buffer.from(b);
  if (c.length >= at + 4) c.writeInt32BE(0, at);
  return c.toString('base64');
}

/**
 * Writes one file per frame into `dir` (cleared first) and returns the index entries.
 * A request/response pair identical to an earlier one apart from the correlation id is skipped,
 * and at most `maxPerApiVersion` pairs are kept per (api key, version), the earliest ones.
 */
export function writeFrames(
  dir: string,
  pairs: FramePair[],
  specs: Map<number, ApiSpec>,
  maxPerApiVersion = 12,
): IndexEntry[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  const perApi = new Map<string, number>();
  const entries: IndexEntry[] = [];
  let n = 0;
  for (const p of pairs) {
    const key = `${masked(p.request, 4)}|${masked(p.response, 0)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Long polls repeat the same call with small variations: keep the first few of each kind.
    const kind = `${p.apiKey}/${p.apiVersion}`;
    const count = perApi.get(kind) ?? 0;
    if (count >= maxPerApiVersion) continue;
    perApi.set(kind, count + 1);
    n++;
    const apiName = specs.get(p.apiKey)?.name ?? `Api${p.apiKey}`;
    const stem = `${String(n).padStart(4, '0')}-${apiName}-v${p.apiVersion}`;
    const reqFile = `${stem}.request.bin`;
    const respFile = `${stem}.response.bin`;
    const common = {
      apiKey: p.apiKey,
      apiName,
      apiVersion: p.apiVersion,
      correlationId: p.correlationId,
      clientId: p.clientId,
      clientSoftware: p.clientSoftware ?? null,
    };
    writeFileSync(join(dir, reqFile), p.request);
    const reqEntry: IndexEntry = { file: reqFile, direction: 'request', ...common };
    if (p.response) reqEntry.pair = respFile;
    entries.push(reqEntry);
    if (p.response) {
      writeFileSync(join(dir, respFile), p.response);
      const respEntry: IndexEntry = { file: respFile, direction: 'response', ...common, pair: reqFile };
      if (p.responseDecodeVersion !== undefined) respEntry.decodeVersion = p.responseDecodeVersion;
      entries.push(respEntry);
    }
  }
  return entries;
}
