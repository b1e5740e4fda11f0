import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { javaStringHashCode, partitionForGroup } from '../../../../src/broker/group/partitioner.ts';
import { decodeRecord, encodeRecord } from '../../../../src/broker/group/records.ts';

describe('group partitioner', () => {
  test("Java's String.hashCode", () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode('Hello World'), -862545276);
    // UTF-16 code units, not bytes or code points
    assert.equal(javaStringHashCode('é'), 233);
    assert.equal(javaStringHashCode('😀'), 0xd83d * 31 + 0xde00);
  });

  test('abs(hashCode) % partitions, with Integer.MIN_VALUE mapping to 0', () => {
    assert.equal(partitionForGroup('hello', 50), 99162322 % 50);
    assert.equal(partitionForGroup('Hello World', 50), 862545276 % 50);
    // "polygenelubricants".hashCode() == Integer.MIN_VALUE
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(partitionForGroup('polygenelubricants', 50), 0);
  });
});

describe('__consumer_offsets records', () => {
  test('offset commit: key v1, value v3 (v1 with an expire timestamp), tombstone', () => {
    const value = {
      offset: 42n,
      leaderEpoch: 7,
      metadata: 'meta',
      commitTimestamp: 1_700_000_000_000,
      expireTimestamp: null,
    };
    const e = encodeRecord({ type: 'offset', group: 'g', topic: 't', partition: 3, value });
    assert.equal(e.key.readInt16BE(0), 1);
    assert.equal(e.value!.readInt16BE(0), 3);
    assert.deepEqual(decodeRecord(e.key, e.value), {
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 3,
      value,
    });
    const withExpiry = { ...value, leaderEpoch: -1, expireTimestamp: 1_700_000_100_000 };
    const e1 = encodeRecord({ type: 'offset', group: 'g', topic: 't', partition: 3, value: withExpiry });
    assert.equal(e1.value!.readInt16BE(0), 1);
    assert.deepEqual(decodeRecord(e1.key, e1.value), {
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 3,
      value: withExpiry,
    });
    const tomb = encodeRecord({ type: 'offset', group: 'g', topic: 't', partition: 3, value: null });
    assert.equal(tomb.value, null);
    assert.deepEqual(decodeRecord(tomb.key, null), {
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 3,
      value: null,
    });
  });

  test('group metadata: key v2, value v3, byte layout of the key', () => {
    const value = {
      protocolType: 'consumer',
      generation: 5,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 123n,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'i1',
          clientId: 'c',
          clientHost: '/127.0.0.1',
          rebalanceTimeout: 30000,
          sessionTimeout: 10000,
          subscription: Buffer.from([0, 1]),
          assignment: Buffer.from([2]),
        },
      ],
    };
    const e = encodeRecord({ type: 'group', group: 'grp', value });
    // int16 version 2, then the group id as a STRING
    assert.deepEqual(e.key, Buffer.from([0, 2, 0, 3, 0x67, 0x72, 0x70]));
    assert.equal(e.value!.readInt16BE(0), 3);
    const d = decodeRecord(e.key, e.value);
    assert.equal(d?.type, 'group');
    assert.deepEqual(d!.type === 'group' && d.value?.members[0]?.groupInstanceId, 'i1');
    assert.equal(d!.type === 'group' && d.value?.generation, 5);
  });

  test('key versions the classic coordinator does not use are skipped', () => {
    assert.equal(decodeRecord(Buffer.from([0, 3, 0, 1, 0x67]), null), null);
  });
});
