import { describe, expect, it } from 'vitest';
import { RecordCodec, RECORD_TAG_META, RECORD_TAG_VALUE } from './record-codec.js';
import { countWithinBudget } from './fetch-budget.js';
import { MsgpackWriter, readProduceBlob, writeProduceBlob } from '../protocol/index.js';
import type { ProduceRecord } from '../protocol/index.js';

describe('RecordCodec', () => {
  const codec = new RecordCodec();

  it('stores a value-only record as one tag byte plus the value', () => {
    const stored = codec.encode({ value: Buffer.from('hello') });
    expect(stored[0]).toBe(RECORD_TAG_VALUE);
    expect(stored.length).toBe(6);
    const back = codec.decode(7, 123, stored);
    expect(back).toEqual({ offset: 7, timestamp: 123, value: Buffer.from('hello') });
  });

  it('round-trips key and headers, empty values included', () => {
    const records: ProduceRecord[] = [
      { value: Buffer.alloc(0), key: Buffer.from('k') },
      { value: Buffer.from('v'), headers: { a: 'x', b: Buffer.from([0, 1]) } },
      { value: Buffer.alloc(70_000, 9), key: Buffer.alloc(0), headers: {} },
    ];
    for (const record of records) {
      const stored = codec.encode(record);
      expect(stored[0]).toBe(RECORD_TAG_META);
      const back = codec.decode(1, 2, stored);
      expect(Buffer.from(back.value)).toEqual(Buffer.from(record.value));
      expect(back.key === undefined ? undefined : Buffer.from(back.key)).toEqual(record.key === undefined ? undefined : Buffer.from(record.key));
      if (record.headers) expect(Object.keys(back.headers!)).toEqual(Object.keys(record.headers));
    }
  });

  it('encodeAll stores each record as encode does, value-only ones as views of one buffer', () => {
    const records: ProduceRecord[] = [
      { value: Buffer.from('a') },
      { value: Buffer.from('bb'), key: Buffer.from('k') },
      { value: Buffer.alloc(0) },
      { value: Buffer.alloc(2000, 3), headers: { h: 'v' } },
      { value: Buffer.alloc(1024, 4) },
    ];
    const all = codec.encodeAll(records);
    expect(all.map((b) => Buffer.from(b))).toEqual(records.map((r) => codec.encode(r)));
    expect(all[0].buffer).toBe(all[2].buffer);
    expect(all[2].buffer).toBe(all[4].buffer);
    expect(codec.encodeAll([{ value: Buffer.from('x'), key: Buffer.from('y') }]).map((b) => codec.decode(0, 0, b).value.toString())).toEqual(['x']);
  });

  it('stores a produce recordsBlob body byte for byte as it encodes the same record from records', () => {
    const records: ProduceRecord[] = [
      { value: Buffer.from('v') },
      { value: Buffer.alloc(0), key: Buffer.from('k') },
      { value: Buffer.from('w'), headers: { trace: 'abc', raw: Buffer.from([1, 2]) } },
      { value: Buffer.alloc(3000, 7), key: Buffer.alloc(0), headers: { a: '' } },
    ];
    const w = new MsgpackWriter(8);
    writeProduceBlob(w, records);
    const { bodies } = readProduceBlob(w.buffer.subarray(5, w.position), 1);
    expect(bodies).toEqual(records.map((r) => codec.encode(r)));
  });

  it('serves entries it did not write (other tags, truncated meta) whole as the value', () => {
    for (const raw of [Buffer.alloc(0), Buffer.from([7, 1, 2]), Buffer.from([RECORD_TAG_META, 0, 0]), Buffer.from([RECORD_TAG_META, 0, 0, 0, 9, 1])]) {
      expect(codec.decode(0, 0, raw).value).toBe(raw);
    }
  });
});

describe('countWithinBudget', () => {
  const rec = (n: number) => ({ offset: 0, timestamp: 0, value: Buffer.alloc(n) });
  it('always keeps the first record and stops before the budget is exceeded', () => {
    expect(countWithinBudget([], 10)).toBe(0);
    expect(countWithinBudget([rec(1000)], 10)).toBe(1);
    expect(countWithinBudget([rec(36), rec(36), rec(36)], 200)).toBe(2);
    expect(countWithinBudget([rec(36), rec(36), rec(36)], 300)).toBe(3);
  });
});
