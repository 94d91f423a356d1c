import { describe, expect, it } from 'vitest';
import { isProducerRecord, toWireRecord } from './producer-record.js';
import { jsonSerializer } from './serde.js';
import { RECORD_OVERHEAD_BYTES } from './limits.js';

describe('toWireRecord', () => {
  it('takes a bare Buffer as the value', () => {
    const { record, bytes } = toWireRecord(Buffer.from('abc'), undefined);
    expect(record).toEqual({ value: Buffer.from('abc') });
    expect(bytes).toBe(RECORD_OVERHEAD_BYTES + 3);
  });

  it('takes a record with key and headers; string keys become UTF-8 bytes', () => {
    const { record, bytes } = toWireRecord({ value: new Uint8Array(2), key: 'k1', headers: { h: 'v' } }, undefined);
    expect(record.key).toEqual(Buffer.from('k1'));
    expect(record.headers).toEqual({ h: 'v' });
    expect(bytes).toBeGreaterThan(RECORD_OVERHEAD_BYTES + 4);
  });

  it('serializes objects, telling records from payloads by their fields', () => {
    expect(isProducerRecord<unknown>({ value: 1, unit: 'kg' })).toBe(false);
    expect(isProducerRecord({ value: 1, key: 'x' })).toBe(true);
    const payload = toWireRecord<unknown>({ value: 5, unit: 'kg' }, jsonSerializer);
    expect(Buffer.from(payload.record.value).toString()).toBe('{"value":5,"unit":"kg"}');
    const wrapped = toWireRecord<unknown>({ value: { value: 5 } }, jsonSerializer);
    expect(Buffer.from(wrapped.record.value).toString()).toBe('{"value":5}');
  });

  it('rejects non-bytes without a serializer, and wraps serializer failures', () => {
    expect(() => toWireRecord('text' as never, undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toWireRecord<unknown>(cyclic, jsonSerializer)).toThrow(expect.objectContaining({ code: 'SERIALIZE_FAILED' }));
    expect(() => toWireRecord({ value: Buffer.alloc(1), headers: { h: 5 as never } }, undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
