import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ERRORS,
  ErrorCode,
  type ErrorCodeName,
  errorInfo,
  KafkaProtocolError,
  kafkaError,
} from '../../../src/protocol/error-codes.ts';

// Independently remembered sample: [name, code, retriable].
const SAMPLE: readonly [ErrorCodeName, number, boolean][] = [
  ['UNKNOWN_SERVER_ERROR', -1, false],
  ['NONE', 0, false],
  ['CORRUPT_MESSAGE', 2, true],
  ['UNKNOWN_TOPIC_OR_PARTITION', 3, true],
  ['NOT_LEADER_OR_FOLLOWER', 6, true],
  ['REQUEST_TIMED_OUT', 7, true],
  ['MESSAGE_TOO_LARGE', 10, false],
  ['NOT_ENOUGH_REPLICAS', 19, true],
  ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 20, true],
  ['ILLEGAL_GENERATION', 22, false],
  ['UNKNOWN_MEMBER_ID', 25, false],
  ['TOPIC_AUTHORIZATION_FAILED', 29, false],
  ['INVALID_TIMESTAMP', 32, false],
  ['UNSUPPORTED_VERSION', 35, false],
  ['TOPIC_ALREADY_EXISTS', 36, false],
  ['UNSUPPORTED_FOR_MESSAGE_FORMAT', 43, false],
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false],
  ['DUPLICATE_SEQUENCE_NUMBER', 46, false],
  ['INVALID_PRODUCER_EPOCH', 47, false],
  ['KAFKA_STORAGE_ERROR', 56, true],
  ['SASL_AUTHENTICATION_FAILED', 58, false],
  ['FENCED_LEADER_EPOCH', 74, true],
  ['MEMBER_ID_REQUIRED', 79, false],
  ['FENCED_INSTANCE_ID', 82, false],
  ['INVALID_RECORD', 87, false],
  ['PRODUCER_FENCED', 90, false],
  ['INVALID_REGISTRATION', 119, false],
  ['TRANSACTION_ABORTABLE', 120, false],
  ['INVALID_RECORD_STATE', 121, false],
  ['SHARE_SESSION_NOT_FOUND', 122, true],
  ['INVALID_SHARE_SESSION_EPOCH', 123, true],
  ['FENCED_STATE_EPOCH', 124, false],
  ['INVALID_VOTER_KEY', 125, false],
  ['DUPLICATE_VOTER', 126, false],
  ['VOTER_NOT_FOUND', 127, false],
  ['INVALID_REGULAR_EXPRESSION', 128, false],
  ['REBOOTSTRAP_REQUIRED', 129, false],
];

describe('error code table', () => {
  test('codes are unique', () => {
    const codes = ERRORS.map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
  });

  test('names are unique and UPPER_SNAKE_CASE', () => {
    const names = ERRORS.map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^[A-Z][A-Z0-9_]*$/);
  });

  test('sorted by code and dense from -1 to 129 (Kafka 4.0)', () => {
    for (let i = 1; i < ERRORS.length; i++) assert.ok(ERRORS[i - 1]!.code < ERRORS[i]!.code);
    assert.equal(ERRORS[0]!.code, -1);
    assert.equal(ERRORS.at(-1)!.code, 129);
    assert.equal(ERRORS.length, 131);
  });

  test('every entry has a non-empty description', () => {
    for (const e of ERRORS) assert.ok(e.description.length > 0, e.name);
  });

  test('sample of well-known codes', () => {
    for (const [name, code, retriable] of SAMPLE) {
      assert.equal(ErrorCode[name], code, name);
      const info = errorInfo(code);
      assert.ok(info, `no entry for ${code}`);
      assert.equal(info.name, name);
      assert.equal(info.retriable, retriable, `${name} retriable`);
    }
  });

  test('ErrorCode covers exactly the table', () => {
    assert.deepEqual(Object.keys(ErrorCode).sort(), ERRORS.map((e) => e.name).sort());
    for (const e of ERRORS) assert.equal(ErrorCode[e.name as ErrorCodeName], e.code);
  });

  test('errorInfo round trips and rejects unknown codes', () => {
    for (const e of ERRORS) assert.equal(errorInfo(e.code), e);
    for (const bad of [-2, 130, 1000, 1.5, Number.NaN]) assert.equal(errorInfo(bad), undefined);
  });

  test('table entries are frozen', () => {
    assert.ok(Object.isFrozen(ERRORS));
    assert.ok(Object.isFrozen(ERRORS[0]));
    assert.ok(Object.isFrozen(ErrorCode));
  });
});

describe('KafkaProtocolError', () => {
  test('carries code, name and retriable flag', () => {
    const err = new KafkaProtocolError(6, 'partition moved');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'KafkaProtocolError');
    assert.equal(err.code, 6);
    assert.equal(err.errorName, 'NOT_LEADER_OR_FOLLOWER');
    assert.equal(err.retriable, true);
    assert.equal(err.message, 'partition moved');
  });

  test('defaults message to the table description', () => {
    const err = new KafkaProtocolError(ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(err.message, errorInfo(36)!.description);
    assert.equal(err.retriable, false);
  });

  test('kafkaError builds by name', () => {
    const err = kafkaError('UNKNOWN_TOPIC_OR_PARTITION', 'no such topic: x');
    assert.ok(err instanceof KafkaProtocolError);
    assert.equal(err.code, 3);
    assert.equal(err.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(err.retriable, true);
    assert.equal(err.message, 'no such topic: x');
  });

  test('unknown codes keep their number and are not retriable', () => {
    const err = new KafkaProtocolError(999);
    assert.equal(err.code, 999);
    assert.equal(err.errorName, 'UNKNOWN_ERROR_CODE');
    assert.equal(err.retriable, false);
  });
});
