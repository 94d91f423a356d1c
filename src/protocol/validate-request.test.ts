import { describe, expect, it } from 'vitest';
import { validateRequest, isValidName } from './validate-request.js';
import { ErrorCode, ProtocolError } from './error-codes.js';
import { BATCH_RECORDS_MAX, NAME_LENGTH_MAX } from './limits.js';

function codeOf(message: Record<string, unknown>): { code: string; requestId: number } {
  try {
    validateRequest(message);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    const e = error as ProtocolError;
    return { code: e.code, requestId: e.requestId };
  }
  throw new Error('expected a ProtocolError');
}

const value = new Uint8Array([1]);

describe('validateRequest', () => {
  it('accepts every op in its documented shape', () => {
    const ok: Record<string, unknown>[] = [
      { id: 1, op: 'hello', version: 1, clientId: 'c' },
      { id: 2, op: 'produce', topic: 'a.b-c_1', value, key: value, headers: { h: 'v', b: value } },
      { id: 3, op: 'produceBatch', topic: 't', records: [{ value }, { value, key: value }] },
      { id: 4, op: 'fetch', topic: 't', offset: 0, maxBytes: 10, maxRecords: 5, maxWaitMs: 100 },
      { id: 5, op: 'fetch', topic: 't', group: 'g' },
      { id: 5, op: 'fetch', topic: 't', group: 'g', ackTimeoutMs: 1000 },
      { id: 5, op: 'fetch', topic: 't', group: 'g', recordsBlob: true },
      { id: 6, op: 'commit', topic: 't', group: 'g', offset: 2 ** 40 },
      { id: 7, op: 'createTopic', topic: 't' },
      { id: 8, op: 'deleteTopic', topic: 't' },
      { id: 9, op: 'listTopics' },
      { id: 10, op: 'describeTopic', topic: 't' },
      { id: 11, op: 'seek', topic: 't', group: 'g', to: 'earliest' },
      { id: 12, op: 'seek', topic: 't', group: 'g', to: 42 },
    ];
    for (const m of ok) expect(validateRequest(m).op).toBe(m.op);
  });

  it('ignores unknown extra fields and treats nil optionals as absent', () => {
    const r = validateRequest({ id: 1, op: 'produce', topic: 't', value, key: null, future: 1 });
    expect(r).toEqual({ op: 'produce', id: 1, topic: 't', value });
  });

  it('rejects a missing or bad id with INVALID_REQUEST and request id 0', () => {
    for (const id of [undefined, 0, -1, 1.5, '1', 2 ** 53, 2n ** 60n]) {
      expect(codeOf({ id, op: 'listTopics' })).toEqual({ code: ErrorCode.INVALID_REQUEST, requestId: 0 });
    }
  });

  it('rejects unknown ops with UNKNOWN_OP and the request id', () => {
    expect(codeOf({ id: 7, op: 'explode' })).toEqual({ code: ErrorCode.UNKNOWN_OP, requestId: 7 });
    expect(codeOf({ id: 7, op: 'toString' })).toEqual({ code: ErrorCode.UNKNOWN_OP, requestId: 7 });
    expect(codeOf({ id: 7, op: 5 })).toEqual({ code: ErrorCode.INVALID_REQUEST, requestId: 7 });
  });

  it('rejects missing fields and wrong types with INVALID_REQUEST', () => {
    const bad: Record<string, unknown>[] = [
      { id: 1, op: 'hello' },
      { id: 1, op: 'hello', version: '1' },
      { id: 1, op: 'produce', topic: 't' },
      { id: 1, op: 'produce', topic: 't', value: 'text' },
      { id: 1, op: 'produce', topic: 't', value, key: 'k' },
      { id: 1, op: 'produce', topic: 't', value, headers: { h: 1 } },
      { id: 1, op: 'produce', topic: 't', value, headers: [1] },
      { id: 1, op: 'produce', value },
      { id: 1, op: 'produce', topic: 5, value },
      { id: 1, op: 'produceBatch', topic: 't' },
      { id: 1, op: 'produceBatch', topic: 't', records: [] },
      { id: 1, op: 'produceBatch', topic: 't', records: [value] },
      { id: 1, op: 'fetch', topic: 't' },
      { id: 1, op: 'fetch', topic: 't', offset: -1 },
      { id: 1, op: 'fetch', topic: 't', offset: 1.5 },
      { id: 1, op: 'fetch', topic: 't', offset: 0, group: 'g' },
      { id: 1, op: 'fetch', topic: 't', offset: 0, maxRecords: 0 },
      { id: 1, op: 'fetch', topic: 't', offset: 0, maxRecords: 2001 },
      { id: 1, op: 'fetch', topic: 't', offset: 0, maxWaitMs: 10 ** 9 },
      { id: 1, op: 'fetch', topic: 't', group: 'g', ackTimeoutMs: 5 },
      { id: 1, op: 'fetch', topic: 't', group: 'g', ackTimeoutMs: 10 ** 9 },
      { id: 1, op: 'fetch', topic: 't', group: 'g', recordsBlob: 1 },
      { id: 1, op: 'commit', topic: 't', group: 'g' },
      { id: 1, op: 'commit', topic: 't', offset: 1 },
      { id: 1, op: 'seek', topic: 't', group: 'g', to: 'middle' },
      { id: 1, op: 'seek', topic: 't', group: 'g' },
    ];
    for (const m of bad) expect(codeOf(m), JSON.stringify(m)).toEqual({ code: ErrorCode.INVALID_REQUEST, requestId: 1 });
  });

  it('rejects path-like and over-long names with INVALID_TOPIC / INVALID_GROUP', () => {
    for (const topic of ['../etc', '..', '.', '', 'a/b', 'a b', 'x'.repeat(NAME_LENGTH_MAX + 1), 'é']) {
      expect(codeOf({ id: 3, op: 'createTopic', topic }).code, topic).toBe(ErrorCode.INVALID_TOPIC);
    }
    expect(codeOf({ id: 3, op: 'commit', topic: 't', group: '../g', offset: 1 }).code).toBe(ErrorCode.INVALID_GROUP);
    expect(codeOf({ id: 3, op: 'fetch', topic: 't', group: '__default' }).code).toBe(ErrorCode.INVALID_GROUP);
    expect(validateRequest({ id: 3, op: 'createTopic', topic: 'x'.repeat(NAME_LENGTH_MAX) }).op).toBe('createTopic');
  });

  it('caps produceBatch at exactly BATCH_RECORDS_MAX records', () => {
    const records = (n: number) => Array.from({ length: n }, () => ({ value }));
    expect(validateRequest({ id: 1, op: 'produceBatch', topic: 't', records: records(BATCH_RECORDS_MAX) }).op).toBe('produceBatch');
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't', records: records(BATCH_RECORDS_MAX + 1) }).code).toBe(ErrorCode.BATCH_TOO_LARGE);
  });

  it('isValidName mirrors the engine rule', () => {
    expect(isValidName('orders.v1')).toBe(true);
    expect(isValidName('..')).toBe(false);
    expect(isValidName('...')).toBe(true);
    expect(isValidName(3)).toBe(false);
  });

  it('checks nack, extend, configureGroup and the fetch dead-letter fields', () => {
    expect(validateRequest({ id: 1, op: 'nack', topic: 't', group: 'g', offset: 3 })).toMatchObject({ op: 'nack', offset: 3 });
    expect(validateRequest({ id: 1, op: 'nack', topic: 't', group: 'g', offset: 3, delayMs: 50, reason: 'r' })).toMatchObject({ delayMs: 50, reason: 'r' });
    expect(codeOf({ id: 2, op: 'nack', topic: 't', group: 'g' })).toEqual({ code: ErrorCode.INVALID_REQUEST, requestId: 2 });
    expect(codeOf({ id: 2, op: 'nack', topic: 't', group: 'g', offset: 0, delayMs: 24 * 3600 * 1000 + 1 }).code).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 2, op: 'nack', topic: 't', group: 'g', offset: 0, reason: 'x'.repeat(1025) }).code).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 2, op: 'nack', topic: 't', group: '__g', offset: 0 }).code).toBe(ErrorCode.INVALID_GROUP);
    expect(validateRequest({ id: 1, op: 'extend', topic: 't', group: 'g', offset: 0, ms: 10 })).toMatchObject({ ms: 10 });
    expect(codeOf({ id: 3, op: 'extend', topic: 't', group: 'g', offset: 0, ms: 9 }).code).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 3, op: 'extend', topic: 't', group: 'g', offset: 0 }).code).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateRequest({ id: 1, op: 'configureGroup', topic: 't', group: 'g', maxDeliveries: 0 })).toMatchObject({ maxDeliveries: 0 });
    expect(codeOf({ id: 4, op: 'configureGroup', topic: 't', group: 'g', maxDeliveries: 1_000_001 }).code).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 4, op: 'configureGroup', topic: 't', group: 'g', maxDeliveries: 1, deadLetterTopic: '../x' }).code).toBe(ErrorCode.INVALID_TOPIC);
    expect(validateRequest({ id: 1, op: 'fetch', topic: 't', group: 'g', maxDeliveries: 3, deadLetterTopic: 'dead' })).toMatchObject({ maxDeliveries: 3, deadLetterTopic: 'dead' });
    expect(codeOf({ id: 5, op: 'fetch', topic: 't', group: 'g', maxDeliveries: 0 }).code).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateRequest({ id: 1, op: 'fetch', topic: 't', offset: 0, maxDeliveries: 3 })).toMatchObject({ maxDeliveries: undefined });
  });
});
