/**
 * The records the group coordinator writes to `__consumer_offsets`, in
 * Kafka's formats (../shared/kafka-protocol/coordinator-records): each key
 * and value is an int16 version followed by the struct. Key version 0/1 is an
 * offset commit, 2 a group's metadata; a null value is a tombstone. Other
 * key versions (the KIP-848 consumer-group records) are skipped on load.
 */
import {
  decodeGroupMetadataKey,
  encodeGroupMetadataKey,
} from '../../protocol/generated/records/group-metadata-key.ts';
import {
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
  type GroupMetadataValue,
} from '../../protocol/generated/records/group-metadata-value.ts';
import {
  decodeOffsetCommitKey,
  encodeOffsetCommitKey,
} from '../../protocol/generated/records/offset-commit-key.ts';
import {
  decodeOffsetCommitValue,
  encodeOffsetCommitValue,
} from '../../protocol/generated/records/offset-commit-value.ts';
import { Reader } from '../../protocol/primitives/reader.ts';
import { Writer } from '../../protocol/primitives/writer.ts';
import type { CommittedOffset } from './group.ts';

export type CoordinatorRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; value: CommittedOffset | null }
  | { type: 'group'; group: string; value: GroupMetadataValue | null };

export interface EncodedRecord {
  key: Buffer;
  value: Buffer | null;
}

/** Key version Kafka writes for offset commits. */
const OFFSET_KEY_VERSION = 1;
const GROUP_KEY_VERSION = 2;
/** Value versions Kafka writes: offsets v3 (v1 when an expire timestamp is set), group metadata v3. */
const OFFSET_VALUE_VERSION = 3;
const OFFSET_VALUE_VERSION_WITH_EXPIRY = 1;
const GROUP_VALUE_VERSION = 3;

function versioned(version: number, write: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  write(w);
  return w.toBuffer();
}

export function encodeRecord(r: CoordinatorRecord): EncodedRecord {
  if (r.type === 'offset') {
    const key = versioned(OFFSET_KEY_VERSION, (w) =>
      encodeOffsetCommitKey(w, OFFSET_KEY_VERSION, {
        group: r.group,
        topic: r.topic,
        partition: r.partition,
      }),
    );
    if (r.value === null) return { key, value: null };
    const v = r.value;
    const version = v.expireTimestamp !== null ? OFFSET_VALUE_VERSION_WITH_EXPIRY : OFFSET_VALUE_VERSION;
    const value = versioned(version, (w) =>
      encodeOffsetCommitValue(w, version, {
        offset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: BigInt(v.commitTimestamp),
        expireTimestamp: BigInt(v.expireTimestamp ?? -1),
      }),
    );
    return { key, value };
  }
  const key = versioned(GROUP_KEY_VERSION, (w) =>
    encodeGroupMetadataKey(w, GROUP_KEY_VERSION, { group: r.group }),
  );
  if (r.value === null) return { key, value: null };
  const gv = r.value;
  return {
    key,
    value: versioned(GROUP_VALUE_VERSION, (w) => encodeGroupMetadataValue(w, GROUP_VALUE_VERSION, gv)),
  };
}

/** Decodes a record read back from the log; null for record types the classic coordinator does not use. */
export function decodeRecord(key: Buffer, value: Buffer | null): CoordinatorRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.readInt16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = decodeOffsetCommitKey(kr, keyVersion);
    if (value === null)
      return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const vv = vr.readInt16();
    const v = decodeOffsetCommitValue(vr, Math.min(vv, 4));
    const expire = v.expireTimestamp ?? -1n;
    return {
      type: 'offset',
      group: k.group,
      topic: k.topic,
      partition: k.partition,
      value: {
        offset: v.offset,
        leaderEpoch: v.leaderEpoch ?? -1,
        metadata: v.metadata,
        commitTimestamp: Number(v.commitTimestamp),
        expireTimestamp: expire === -1n ? null : Number(expire),
      },
    };
  }
  if (keyVersion === 2) {
    const k = decodeGroupMetadataKey(kr, keyVersion);
    if (value === null) return { type: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const vv = vr.readInt16();
    return { type: 'group', group: k.group, value: decodeGroupMetadataValue(vr, Math.min(vv, 4)) };
  }
  return null;
}
