import { describe, expect, it } from 'vitest';
import { createUnpackr } from './frame-decoder.js';
import { FrameEncoder } from './frame-encoder.js';
import type { FetchedRecord, FetchResult } from './messages.js';
import { readRecordsBlob } from './records-blob.js';

/** The frame `pushOk` writes for `result`: the reference `pushFetchOk` must match byte for byte. */
function generic(id: number, result: FetchResult): Buffer {
  const encoder = new FrameEncoder(8);
  encoder.pushOk(id, result);
  return encoder.take();
}

function fast(id: number, result: FetchResult, encoder = new FrameEncoder(8), asBlob = false): Buffer {
  encoder.pushFetchOk(id, result, asBlob);
  return encoder.take();
}

const TIMESTAMP = 1_764_000_000_000;

describe('FrameEncoder.pushFetchOk', () => {
  it('writes the same bytes as pushOk: empty, value-only, key, headers, with and without handOutId', () => {
    const cases: FetchResult[] = [
      { records: [], highWatermark: 0 },
      { records: [{ offset: 0, timestamp: TIMESTAMP, value: Buffer.alloc(0) }], highWatermark: 1, handOutId: 1 },
      {
        records: [
          { offset: 7, timestamp: TIMESTAMP, value: Buffer.from('a') },
          { offset: 8, timestamp: TIMESTAMP + 1, value: Buffer.from('bb'), key: Buffer.from('k') },
          { offset: 9, timestamp: TIMESTAMP + 2, value: Buffer.from('ccc'), headers: { trace: 'x', raw: Buffer.from([1, 2]) } },
          { offset: 10, timestamp: TIMESTAMP + 3, value: Buffer.alloc(1024, 5), key: Buffer.alloc(300, 1), headers: { h: 'y'.repeat(200) } },
        ],
        highWatermark: 11,
      },
      // Offsets past 32 bits (uint64), values needing bin16 and bin32 headers.
      {
        records: [
          { offset: 2 ** 40, timestamp: TIMESTAMP, value: Buffer.alloc(300, 1) },
          { offset: 2 ** 40 + 1, timestamp: TIMESTAMP, value: Buffer.alloc(70_000, 2) },
        ],
        highWatermark: 2 ** 40 + 2,
        handOutId: 2 ** 33,
      },
    ];
    for (const result of cases) expect(fast(12345, result).equals(generic(12345, result))).toBe(true);
  });

  it('sizes the buffer once for many records and appends after frames already pending', () => {
    const records = Array.from({ length: 2000 }, (_, i) => ({ offset: 1_000_000 + i, timestamp: TIMESTAMP + i, value: Buffer.alloc(1024, i % 256) }));
    const result: FetchResult = { records, highWatermark: 1_002_000, handOutId: 42 };
    const encoder = new FrameEncoder(16);
    encoder.pushOk(1, { offset: 3, timestamp: TIMESTAMP });
    const before = encoder.pendingBytes;
    const both = fast(2, result, encoder);
    const first = new FrameEncoder(16);
    first.pushOk(1, { offset: 3, timestamp: TIMESTAMP });
    // equals(), not toEqual(): a deep compare of 2 MiB byte by byte takes seconds.
    expect(both.equals(Buffer.concat([first.take(), generic(2, result)]))).toBe(true);
    expect(both.length).toBeGreaterThan(before);
  });

  it('with asBlob, sends the same records as one recordsBlob bin in place of records', () => {
    const records: FetchedRecord[] = [
      { offset: 4, timestamp: TIMESTAMP, value: Buffer.from('plain') },
      { offset: 5, timestamp: TIMESTAMP + 1, value: Buffer.from('meta'), key: Buffer.from('k'), headers: { h: 'v' } },
    ];
    const frame = fast(9, { records, highWatermark: 6, handOutId: 3 }, undefined, true);
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    const unpackr = createUnpackr();
    const reply = unpackr.unpack(frame.subarray(4)) as Record<string, unknown>;
    expect(Object.keys(reply)).toEqual(['id', 'ok', 'recordsBlob', 'highWatermark', 'handOutId']);
    expect(reply).toMatchObject({ id: 9, ok: true, highWatermark: 6, handOutId: 3 });
    const back: FetchedRecord[] = [];
    readRecordsBlob(reply.recordsBlob as Buffer, (b) => unpackr.unpack(b), (offset, timestamp, value, key, headers) => {
      back.push({ offset, timestamp, value, ...(key === undefined ? {} : { key }), ...(headers === undefined ? {} : { headers }) });
    });
    expect(back).toEqual(records);
  });

  it('a large frame handed over by take() stays intact while later frames are encoded', () => {
    const encoder = new FrameEncoder(16);
    const big = { op: 'produceBatch', id: 1, topic: 't', records: Array.from({ length: 300 }, (_, i) => ({ value: Buffer.alloc(1024, i % 256) })) };
    encoder.push(big);
    const first = encoder.take();
    const copy = Buffer.from(first);
    encoder.push({ ...big, id: 2, records: big.records.map(() => ({ value: Buffer.alloc(1024, 0xee) })) });
    const second = encoder.take();
    expect(first.equals(copy)).toBe(true);
    expect(second.equals(copy)).toBe(false);
    expect(second.length).toBe(first.length);
  });
});
