/**
 * Sanity check of the golden captures, independent of src/protocol: every frame must
 * decode with the spec interpreter (stub/spec-codec.ts) to the end of the frame and
 * re-encode to the same bytes. Run after a capture:
 *
 *   npx node scripts/capture/verify.ts [captures dir]
 *
 * Exits non-zero on any mismatch, except the documented ApiVersions fallback
 * responses of librdkafka's mock (test/golden/README.md).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpecs, SpecCodec } from './stub/spec-codec.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

export function verifyCaptures(capturesDir: string, messagesDir: string): { ok: number; bad: string[] } {
  const specs = loadSpecs(messagesDir);
  const codecs = new Map<number, { req: SpecCodec; resp: SpecCodec }>();
  for (const s of specs.values()) {
    if (s.type !== 'request') continue;
    const resp = specs.get(s.name.replace(/Request$/, 'Response'))!;
    codecs.set(s.apiKey!, { req: new SpecCodec(s), resp: new SpecCodec(resp) });
  }
  let ok = 0;
  const bad: string[] = [];
  for (const client of readdirSync(capturesDir)) {
    const indexFile = join(capturesDir, client, 'index.json');
    if (!existsSync(indexFile)) continue;
    const ix = JSON.parse(readFileSync(indexFile, 'utf8')) as {
      frames: {
        file: string;
        direction: string;
        apiKey: number;
        apiVersion: number;
        decodeVersion?: number;
      }[];
    };
    for (const e of ix.frames) {
      const frame = readFileSync(join(capturesDir, client, e.file));
      const c = codecs.get(e.apiKey)!;
      try {
        let start: number;
        let codec: SpecCodec;
        let v = e.apiVersion;
        if (e.direction === 'request') {
          codec = c.req;
          start = 10 + Math.max(frame.readInt16BE(8), 0);
          if (codec.isFlexible(v)) start += 1; // header tagged fields: clients send none
          if (codec.isFlexible(v) && frame[start - 1] !== 0)
            throw new Error('request header has tagged fields');
        } else {
          codec = c.resp;
          v = e.decodeVersion ?? v;
          start = codec.isFlexible(v) && e.apiKey !== 18 ? 5 : 4;
        }
        const { value, offset } = codec.decode(frame, v, start);
        if (offset !== frame.length) throw new Error(`${frame.length - offset} bytes left after the body`);
        const again = Buffer.concat([frame.subarray(0, start), codec.encode(value, v)]);
        if (!again.equals(frame)) throw new Error('re-encoded bytes differ');
        ok++;
      } catch (err) {
        if (e.decodeVersion !== undefined) continue; // documented mock quirk
        bad.push(`${client}/${e.file}: ${(err as Error).message}`);
      }
    }
  }
  return { ok, bad };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(repo, 'test/golden/captures');
  const messages = [
    join(repo, '../shared/kafka-protocol/messages'),
    '/work/shared/kafka-protocol/messages',
  ].find((d) => existsSync(d));
  if (!messages) throw new Error('Kafka JSON specs not found at ../shared/kafka-protocol/messages');
  const { ok, bad } = verifyCaptures(dir, messages);
  for (const b of bad) console.error(`BAD ${b}`);
  console.log(`verify: ${ok} frames round-trip through the spec interpreter, ${bad.length} do not`);
  if (bad.length) process.exitCode = 1;
}
