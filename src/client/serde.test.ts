import { describe, expect, it } from 'vitest';
import { jsonDeserializer, jsonSerializer, msgpackDeserializer, msgpackSerializer } from './serde.js';

describe('serde hooks', () => {
  const value = { order: 42, items: ['a', 'b'], nested: { ok: true }, text: 'zürich' };

  it('round-trips JSON', () => {
    const bytes = jsonSerializer(value);
    expect(Buffer.from(bytes).toString('utf8')).toBe(JSON.stringify(value));
    expect(jsonDeserializer(Buffer.from(bytes))).toEqual(value);
  });

  it('round-trips msgpack', () => {
    expect(msgpackDeserializer(Buffer.from(msgpackSerializer(value)))).toEqual(value);
  });

  it('throws on bytes that are not JSON', () => {
    expect(() => jsonDeserializer(Buffer.from('{nope'))).toThrow();
  });
});
