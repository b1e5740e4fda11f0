import { DecodeError } from '../primitives/errors.ts';
import { ATTR_CONTROL } from './batch-header.ts';
import type { DecodedRecordBatch } from './record-batch.ts';
import { encodeRecordBatch } from './record-batch.ts';

/**
 * Control batches (attributes bit 5) carry one control record. Its key is
 * `version int16 | type int16`; for transaction markers (types 0 and 1) the
 * value is `version int16 | coordinatorEpoch int32` (Kafka's
 * EndTransactionMarker). As Kafka does, a negative version is corruption,
 * a higher version than ours is read by the fields we know, and trailing
 * bytes are ignored.
 */
export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  /** KRaft only; listed so they are recognised, never written here. */
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

export const CONTROL_RECORD_KEY_VERSION = 0;
export const END_TXN_MARKER_VERSION = 0;

export interface ControlRecordKey {
  version: number;
  type: number;
}

export interface EndTxnMarker {
  version: number;
  coordinatorEpoch: number;
}

export function encodeControlRecordKey(type: number, version = CONTROL_RECORD_KEY_VERSION): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt16BE(version, 0);
  b.writeInt16BE(type, 2);
  return b;
}

export function decodeControlRecordKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < 4) {
    throw new DecodeError('INVALID_RECORD', `control record key of ${key?.length ?? 'null'} bytes, need 4`);
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new DecodeError('INVALID_RECORD', `control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number, version = END_TXN_MARKER_VERSION): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeInt16BE(version, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}

export function decodeEndTxnMarkerValue(value: Buffer | null): EndTxnMarker {
  if (value === null || value.length < 6) {
    throw new DecodeError(
      'INVALID_RECORD',
      `end transaction marker of ${value?.length ?? 'null'} bytes, need 6`,
    );
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new DecodeError('INVALID_RECORD', `end transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export interface EndTxnMarkerBatchInput {
  commit: boolean;
  coordinatorEpoch: number;
  producerId: bigint;
  producerEpoch: number;
  /** Marker write time (ms). */
  timestamp: bigint;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

/** A transactional control batch holding one COMMIT or ABORT marker, as the transaction coordinator writes. */
export function encodeEndTxnMarkerBatch(input: EndTxnMarkerBatchInput): Buffer {
  return encodeRecordBatch({
    baseOffset: input.baseOffset ?? 0n,
    partitionLeaderEpoch: input.partitionLeaderEpoch ?? -1,
    isTransactional: true,
    isControl: true,
    baseTimestamp: input.timestamp,
    maxTimestamp: input.timestamp,
    producerId: input.producerId,
    producerEpoch: input.producerEpoch,
    baseSequence: -1,
    records: [
      {
        key: encodeControlRecordKey(input.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT),
        value: encodeEndTxnMarkerValue(input.coordinatorEpoch),
      },
    ],
  });
}

/**
 * The COMMIT/ABORT marker of a decoded control batch, or null when the batch
 * is not a control batch or its record is another control type.
 */
export function readEndTxnMarker(batch: DecodedRecordBatch): (EndTxnMarker & { commit: boolean }) | null {
  if ((batch.header.attributes & ATTR_CONTROL) === 0) return null;
  const record = batch.records[0];
  if (record === undefined) return null;
  const key = decodeControlRecordKey(record.key);
  if (key.type !== ControlRecordType.ABORT && key.type !== ControlRecordType.COMMIT) return null;
  return { ...decodeEndTxnMarkerValue(record.value), commit: key.type === ControlRecordType.COMMIT };
}
