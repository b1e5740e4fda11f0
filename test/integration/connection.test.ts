/**
 * Connection behaviour: pipelined requests are answered strictly in order,
 * an unsupported ApiVersions version gets Kafka's v0 fallback, and malformed
 * or unknown requests close only the offending connection.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/protocol/frames.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { RawClient } from '../helpers/raw-client.ts';

let broker: TestBroker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

function sized(frame: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(frame.length, 0);
  return Buffer.concat([b, frame]);
}

/** Sends raw bytes, collects whatever comes back until the socket closes or `ms` pass. */
function exchange(bytes: Buffer, ms = 1500): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: broker.port });
    const chunks: Buffer[] = [];
    let closed = false;
    const t = setTimeout(() => {
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    }, ms);
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve({ data: Buffer.concat(chunks), closed });
    });
    s.on('error', () => {});
    s.write(bytes);
  });
}

test('pipelined requests are answered in request order', async () => {
  const frames: Buffer[] = [];
  const expect: [number, number, number][] = [];
  for (let i = 0; i < 50; i++) {
    const metadata = i % 2 === 0;
    const apiKey = metadata ? 3 : 18;
    const apiVersion = metadata ? 12 : 3;
    const body = metadata
      ? { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }
      : { clientSoftwareName: 'order-test', clientSoftwareVersion: '1.0' };
    frames.push(
      sized(
        encodeRequestFrame(
          { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId: 1000 + i, clientId: 't' },
          body,
        ),
      ),
    );
    expect.push([apiKey, apiVersion, 1000 + i]);
  }
  const { data } = await exchange(Buffer.concat(frames), 1000);
  let pos = 0;
  for (const [apiKey, apiVersion, correlationId] of expect) {
    const size = data.readInt32BE(pos);
    const res = decodeResponseFrame(apiKey, apiVersion, data.subarray(pos + 4, pos + 4 + size));
    assert.equal(res.header.correlationId, correlationId);
    pos += 4 + size;
  }
  assert.equal(pos, data.length);
});

test('an ApiVersions version we do not know gets a v0 UNSUPPORTED_VERSION answer with our versions', async () => {
  const f = encodeRequestFrame(
    { requestApiKey: 18, requestApiVersion: 0, correlationId: 77, clientId: 'x' },
    {},
  );
  f.writeInt16BE(99, 2);
  const { data } = await exchange(sized(f), 800);
  const res = decodeResponseFrame(18, 0, data.subarray(4, 4 + data.readInt32BE(0)));
  assert.equal(res.header.correlationId, 77);
  assert.equal(res.body.errorCode, 35);
  assert.ok(res.body.apiKeys.some((k: { apiKey: number }) => k.apiKey === 18));
});

test('garbage, unknown api keys and oversized frames close only that connection', async () => {
  const canary = await RawClient.connect(broker.bootstrapServers);
  try {
    const cases: Buffer[] = [
      Buffer.from([0, 0, 0, 3, 1, 2, 3]), // shorter than a header
      sized(Buffer.from([0x7f, 0x7f, 0, 0, 0, 0, 0, 1, 0xff, 0xff])), // unknown api key
      Buffer.from([0x7f, 0xff, 0xff, 0xff]), // 2^31-1 declared
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // -1
      Buffer.from([0, 0, 0, 0]), // 0
    ];
    for (const c of cases) {
      const r = await exchange(c, 1500);
      assert.ok(r.closed, `connection closed for ${c.subarray(0, 8).toString('hex')}`);
    }
    const v = await canary.request(18, 3, { clientSoftwareName: 'canary', clientSoftwareVersion: '1' });
    assert.equal(v.errorCode, 0);
  } finally {
    canary.close();
  }
});
