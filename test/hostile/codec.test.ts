/**
 * Hostile input for the generated codec: every malformed frame must end in a
 * typed DecodeError (never a RangeError, never a hang), and no declared length
 * may cause an allocation larger than the bytes actually present.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API_CODECS,
  DecodeError,
  decodeRequestFrame,
  encodeRequestFrame,
  Reader,
} from '../../src/protocol/index.ts';

function expectDecodeError(fn: () => unknown, kinds?: string[]): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${(e as Error)?.constructor?.name}: ${e}`);
    if (kinds) assert.ok(kinds.includes(e.kind), `kind ${e.kind} not in ${kinds}`);
    return e;
  }
  assert.fail('expected a DecodeError');
}

const produceV9 = encodeRequestFrame(
  { requestApiKey: 0, requestApiVersion: 9, correlationId: 7, clientId: 'hostile' },
  {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: 'events', partitionData: [{ index: 0, records: Buffer.alloc(70, 1) }] }],
  },
);
const metadataV12 = encodeRequestFrame(
  { requestApiKey: 3, requestApiVersion: 12, correlationId: 8, clientId: 'hostile' },
  {
    topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'a' }],
    allowAutoTopicCreation: true,
    includeTopicAuthorizedOperations: false,
  },
);
const fetchV4 = encodeRequestFrame(
  { requestApiKey: 1, requestApiVersion: 4, correlationId: 9, clientId: null },
  {
    replicaId: -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  },
);

test('every truncation of valid frames gives a typed error', () => {
  for (const frame of [produceV9, metadataV12, fetchV4]) {
    assert.ok(decodeRequestFrame(frame));
    for (let n = 0; n < frame.length; n++) {
      expectDecodeError(() => decodeRequestFrame(frame.subarray(0, n)));
    }
  }
});

test('trailing bytes after the body are rejected', () => {
  expectDecodeError(() => decodeRequestFrame(Buffer.concat([fetchV4, Buffer.from([0])])), ['TRAILING_BYTES']);
});

test('unknown api key and unsupported version are typed errors', () => {
  const bad = Buffer.from(fetchV4);
  bad.writeInt16BE(999, 0);
  expectDecodeError(() => decodeRequestFrame(bad), ['UNSUPPORTED_VERSION']);
  bad.writeInt16BE(1, 0);
  bad.writeInt16BE(99, 2);
  expectDecodeError(() => decodeRequestFrame(bad), ['UNSUPPORTED_VERSION']);
  bad.writeInt16BE(-1, 0);
  expectDecodeError(() => decodeRequestFrame(bad), ['UNSUPPORTED_VERSION']);
});

test('huge and negative declared lengths are rejected before allocating', () => {
  // Fetch v4 body: replicaId, maxWait, minBytes, maxBytes, isolation, then the topics array length.
  const headerLen = 2 + 2 + 4 + 2; // key, version, correlation id, null client id
  const topicsAt = headerLen + 4 + 4 + 4 + 4 + 1;
  for (const n of [0x7fffffff, 1 << 30, 100_000]) {
    const f = Buffer.from(fetchV4);
    f.writeInt32BE(n, topicsAt);
    const before = process.memoryUsage().arrayBuffers;
    expectDecodeError(() => decodeRequestFrame(f), ['LENGTH_EXCEEDS_INPUT', 'TRUNCATED']);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  }
  for (const n of [-2, -1000, -0x80000000]) {
    const f = Buffer.from(fetchV4);
    f.writeInt32BE(n, topicsAt);
    expectDecodeError(() => decodeRequestFrame(f), ['NEGATIVE_LENGTH']);
  }
  // -1 (null) for a non-nullable array.
  const f = Buffer.from(fetchV4);
  f.writeInt32BE(-1, topicsAt);
  expectDecodeError(() => decodeRequestFrame(f), ['NULL_NOT_ALLOWED']);
  // String length claiming more than is present.
  const s = Buffer.from(fetchV4);
  s.writeInt16BE(0x7fff, topicsAt + 4);
  expectDecodeError(() => decodeRequestFrame(s), ['LENGTH_EXCEEDS_INPUT']);
  // Negative string length other than -1.
  s.writeInt16BE(-5, topicsAt + 4);
  expectDecodeError(() => decodeRequestFrame(s), ['NEGATIVE_LENGTH', 'NULL_NOT_ALLOWED']);
  // Records (bytes) length larger than the frame.
  const p = Buffer.from(produceV9);
  const recAt = p.indexOf(Buffer.alloc(70, 1)) - 1; // compact length byte (71 = 70 + 1)
  assert.equal(p[recAt], 71);
  p[recAt] = 0x7f;
  expectDecodeError(() => decodeRequestFrame(p), ['LENGTH_EXCEEDS_INPUT', 'TRUNCATED']);
});

test('invalid varints are typed errors', () => {
  const r1 = new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
  expectDecodeError(() => r1.readUVarint(), ['BAD_VARINT']);
  const r2 = new Reader(Buffer.from([0x80, 0x80]));
  expectDecodeError(() => r2.readUVarint(), ['TRUNCATED']);
  const r3 = new Reader(Buffer.alloc(11, 0xff));
  expectDecodeError(() => r3.readVarlong(), ['BAD_VARINT']);
  // A compact array count varint that never ends, inside a real frame.
  const m = Buffer.from(metadataV12);
  const topicsAt = 2 + 2 + 4 + 2 + 'hostile'.length + 1; // header v2 ends with an empty tag section
  m.fill(0xff, topicsAt, Math.min(m.length, topicsAt + 6));
  expectDecodeError(() => decodeRequestFrame(m), ['BAD_VARINT', 'LENGTH_EXCEEDS_INPUT', 'TRUNCATED']);
});

test('unknown tagged fields are skipped and preserved; oversized tags rejected', () => {
  // Metadata v12 request ends with the top-level tag section (0 tags). Append a tag.
  const base = Buffer.from(metadataV12);
  assert.equal(base[base.length - 1], 0);
  const withTag = Buffer.concat([base.subarray(0, base.length - 1), Buffer.from([1, 77, 3, 9, 9, 9])]);
  const d = decodeRequestFrame(withTag);
  assert.deepEqual(d.body._unknownTaggedFields, [{ tag: 77, data: Buffer.from([9, 9, 9]) }]);
  assert.ok(encodeRequestFrame(d.header, d.body).equals(withTag), 'unknown tag preserved on re-encode');
  const lying = Buffer.concat([base.subarray(0, base.length - 1), Buffer.from([1, 77, 0x7f, 9])]);
  expectDecodeError(() => decodeRequestFrame(lying), ['LENGTH_EXCEEDS_INPUT']);
  const many = Buffer.concat([
    base.subarray(0, base.length - 1),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
  ]);
  expectDecodeError(() => decodeRequestFrame(many), ['TRUNCATED']);
});

test('seeded random mutations of every request version never escape as non-DecodeErrors', () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  let cases = 0;
  for (const codec of API_CODECS) {
    if (!codec) continue;
    for (let v = codec.minVersion; v <= codec.maxVersion; v++) {
      for (let k = 0; k < 20; k++) {
        const len = rand() % 64;
        const f = Buffer.alloc(8 + len);
        for (let i = 0; i < f.length; i++) f[i] = rand() & 0xff;
        f.writeInt16BE(codec.apiKey, 0);
        f.writeInt16BE(v, 2);
        try {
          decodeRequestFrame(f);
        } catch (e) {
          assert.ok(e instanceof DecodeError, `${codec.name} v${v}: ${e}`);
        }
        cases++;
      }
    }
  }
  assert.ok(cases > 5000);
});
