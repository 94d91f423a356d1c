import { describe, expect, it } from 'vitest';
import { createUnpackr } from './frame-decoder.js';
import type { FetchedRecord } from './messages.js';
import { BLOB_RECORD_HEADER_BYTES, readRecordsBlob, recordsBlobBytes, writeRecordsBlob } from './records-blob.js';
import { bin32Body } from '../../test/support/bin32-body.js';

const unpackr = createUnpackr();
const unpack = (bytes: Buffer): unknown => unpackr.unpack(bytes);

/** The blob's bytes (without the bin header) for `records`. */
function blobOf(records: FetchedRecord[]): Buffer {
  return bin32Body((w) => writeRecordsBlob(w, records));
}

function readAll(blob: Uint8Array): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  readRecordsBlob(blob, unpack, (offset, timestamp, value, key, headers) => {
    const record: FetchedRecord = { offset, timestamp, value: Buffer.from(value) };
    if (key !== undefined) record.key = Buffer.from(key);
    if (headers !== undefined) record.headers = headers;
    out.push(record);
  });
  return out;
}

const TIMESTAMP = 1_764_000_000_000;

describe('recordsBlob', () => {
  it('round-trips value-only records, keys, headers, empty values and offsets past 32 bits', () => {
    const records: FetchedRecord[] = [
      { offset: 0, timestamp: TIMESTAMP, value: Buffer.from('hello') },
      { offset: 1, timestamp: TIMESTAMP + 1, value: Buffer.alloc(0) },
      { offset: 2, timestamp: TIMESTAMP + 2, value: Buffer.from('v'), key: Buffer.from('customer-7') },
      { offset: 3, timestamp: TIMESTAMP + 3, value: Buffer.alloc(70_000, 9), headers: { trace: 'abc', raw: Buffer.from([0, 1, 2]) } },
      { offset: 2 ** 53 - 1, timestamp: 2 ** 40, value: Buffer.from('x'), key: Buffer.alloc(0), headers: {} },
    ];
    const blob = blobOf(records);
    expect(readAll(blob)).toEqual(records);
    expect(recordsBlobBytes(records.slice(0, 2))).toBe(2 * (BLOB_RECORD_HEADER_BYTES + 1) + 5);
    expect(readAll(Buffer.alloc(0))).toEqual([]);
  });

  it('hands out values as views into the blob, not copies', () => {
    const blob = blobOf([{ offset: 5, timestamp: TIMESTAMP, value: Buffer.from('abc') }]);
    readRecordsBlob(blob, unpack, (_offset, _timestamp, value) => {
      expect(value.buffer).toBe(blob.buffer);
      expect(value.toString()).toBe('abc');
    });
  });

  it('serves a body whose first byte is neither tag whole as the value', () => {
    const blob = Buffer.alloc(BLOB_RECORD_HEADER_BYTES + 3);
    blob.writeUInt32BE(7, 4); // offset 7
    blob.writeUInt32BE(3, 16);
    blob.set([0x7b, 0x22, 0x7d], BLOB_RECORD_HEADER_BYTES);
    expect(readAll(blob)).toEqual([{ offset: 7, timestamp: 0, value: Buffer.from([0x7b, 0x22, 0x7d]) }]);
  });

  it('refuses every cut inside a record, a length past the end, a uint64 beyond 2^53 and a bad META map', () => {
    const blob = blobOf([
      { offset: 1, timestamp: TIMESTAMP, value: Buffer.from('one') },
      { offset: 2, timestamp: TIMESTAMP, value: Buffer.from('two'), key: Buffer.from('k') },
    ]);
    const firstEnd = BLOB_RECORD_HEADER_BYTES + 4;
    for (let cut = 1; cut < blob.length; cut++) {
      if (cut === firstEnd) {
        expect(readAll(blob.subarray(0, cut))).toHaveLength(1); // a record boundary
        continue;
      }
      expect(() => readAll(blob.subarray(0, cut)), `cut at ${cut}`).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
    }
    const huge = Buffer.from(blob);
    huge.writeUInt32BE(0x20_0000, 0); // offset 2^53
    expect(() => readAll(huge)).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
    const badMeta = Buffer.from(blob);
    badMeta[firstEnd + BLOB_RECORD_HEADER_BYTES + 5] = 0xc1; // never-used msgpack byte where the map starts
    expect(() => readAll(badMeta)).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
    const metaTooLong = Buffer.from(blob);
    metaTooLong.writeUInt32BE(1000, firstEnd + BLOB_RECORD_HEADER_BYTES + 1);
    expect(() => readAll(metaTooLong)).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
  });
});
