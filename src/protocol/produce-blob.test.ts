import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from './error-codes.js';
import { createUnpackr } from './frame-decoder.js';
import { encodeFrame } from './frame-encoder.js';
import { FrameDecoder } from './frame-decoder.js';
import { BATCH_RECORDS_MAX, HEADERS_COUNT_MAX } from './limits.js';
import type { Headers, ProduceRecord } from './messages.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { readProduceBlob, writeProduceBlob } from './produce-blob.js';
import { validateRequest } from './validate-request.js';
import { bin32Body } from '../../test/support/bin32-body.js';

const unpackr = createUnpackr();

/** The blob's bytes (without the bin header) for `records`. */
function produceBlobOf(records: readonly ProduceRecord[]): Buffer {
  return bin32Body((w) => writeProduceBlob(w, records));
}

/** A record back from its stored body (the fetch side's reading of it, records-blob.ts). */
function decodeBody(body: Buffer): ProduceRecord {
  if (body[0] === 0x00) return { value: Buffer.from(body.subarray(1)) };
  const metaBytes = body.readUInt32BE(1);
  const meta = unpackr.unpack(body.subarray(5, 5 + metaBytes)) as { k?: Uint8Array; h?: Headers };
  const record: ProduceRecord = { value: Buffer.from(body.subarray(5 + metaBytes)) };
  if (meta.k !== undefined) record.key = Buffer.from(meta.k);
  if (meta.h !== undefined) record.headers = Object.fromEntries(Object.entries(meta.h).map(([n, v]) => [n, typeof v === 'string' ? v : Buffer.from(v)]));
  return record;
}

/** The error `readProduceBlob` throws for `blob`. */
function errorOf(blob: Buffer): ProtocolError {
  try {
    readProduceBlob(blob, 9);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).requestId).toBe(9);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

/** One blob record around `body`. */
function frame(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** A META body with `meta` (raw msgpack bytes) and value "v". */
function metaBody(meta: Buffer): Buffer {
  const m = Buffer.alloc(4);
  m.writeUInt32BE(meta.length);
  return Buffer.concat([Buffer.from([0x01]), m, meta, Buffer.from('v')]);
}

/** msgpack bytes of `value` through the protocol's writer. */
function pack(value: unknown): Buffer {
  const w = new MsgpackWriter(8);
  w.write(value);
  return Buffer.from(w.buffer.subarray(0, w.position));
}

const recordArb: fc.Arbitrary<ProduceRecord> = fc.record(
  {
    value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    key: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    headers: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 20 }).filter((n) => n !== '__proto__'),
      fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))),
      { maxKeys: 8 },
    ),
  },
  { requiredKeys: ['value'] },
);

describe('produce recordsBlob', () => {
  it('round-trips value-only records, keys, headers and empty values as stored-layout bodies', () => {
    const records: ProduceRecord[] = [
      { value: Buffer.from('hello') },
      { value: Buffer.alloc(0) },
      { value: Buffer.from('v'), key: Buffer.from('customer-7') },
      { value: Buffer.alloc(70_000, 9), headers: { trace: 'abc', raw: Buffer.from([0, 1, 2]), ünï: 'cödé' } },
      { value: Buffer.alloc(0), key: Buffer.alloc(0), headers: {} },
    ];
    const blob = produceBlobOf(records);
    const { bodies, valueBytes } = readProduceBlob(blob, 1);
    expect(bodies.map(decodeBody)).toEqual(records);
    expect(valueBytes).toBe(5 + 0 + 1 + 70_000 + 0);
    expect(bodies[0]).toEqual(Buffer.from([0x00, ...Buffer.from('hello')]));
    // Views into the blob, not copies.
    expect(bodies[3].buffer).toBe(blob.buffer);
  });

  it('property: any list of records encodes to a blob that reads back as the same records', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (records) => {
        const { bodies, valueBytes } = readProduceBlob(produceBlobOf(records), 1);
        expect(bodies.map(decodeBody)).toEqual(records);
        expect(valueBytes).toBe(records.reduce((sum, r) => sum + r.value.length, 0));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses framing errors: a cut length, a body past the end, an empty body, no records', () => {
    const good = frame(Buffer.from([0x00, 0x61]));
    expect(errorOf(Buffer.concat([good, Buffer.from([0, 0])])).message).toMatch(/cut off/);
    expect(errorOf(Buffer.concat([good, frame(Buffer.from([0x00, 0x62])).subarray(0, 5)])).message).toMatch(/runs past/);
    expect(errorOf(Buffer.concat([good, Buffer.from([0, 0, 0, 0])])).message).toMatch(/empty body/);
    const empty = errorOf(Buffer.alloc(0));
    expect(empty.code).toBe(ErrorCode.INVALID_REQUEST);
    expect(empty.message).toMatch(/at least one record/);
  });

  it('counts exactly: 2,000 records pass, 2,001 are BATCH_TOO_LARGE', () => {
    const one = frame(Buffer.from([0x00]));
    expect(readProduceBlob(Buffer.concat(Array(BATCH_RECORDS_MAX).fill(one)), 1).bodies.length).toBe(BATCH_RECORDS_MAX);
    expect(errorOf(Buffer.concat(Array(BATCH_RECORDS_MAX + 1).fill(one))).code).toBe(ErrorCode.BATCH_TOO_LARGE);
  });

  it('refuses bad tags and every META map that breaks the record rules', () => {
    const cases: Array<[string, Buffer]> = [
      ['tag 2', Buffer.from([0x02, 0x61])],
      ['META without its length', Buffer.from([0x01, 0, 0])],
      ['META past the body', Buffer.from([0x01, 0, 0, 0, 9, 0x80])],
      ['meta not a map', metaBody(pack([1]))],
      ['unknown field', metaBody(pack({ k: Buffer.from('k'), x: 1 }))],
      ['key as str', metaBody(pack({ k: 'k' }))],
      ['key nil', metaBody(Buffer.from([0x81, 0xa1, 0x6b, 0xc0]))],
      ['key twice', metaBody(Buffer.from([0x82, 0xa1, 0x6b, 0xc4, 0x00, 0xa1, 0x6b, 0xc4, 0x00]))],
      ['headers not a map', metaBody(pack({ h: [1] }))],
      ['header value int', metaBody(pack({ h: { a: 1 } }))],
      ['header name empty', metaBody(pack({ h: { '': 'x' } }))],
      ['header name 257 bytes', metaBody(pack({ h: { ['n'.repeat(257)]: 'x' } }))],
      ['header name not str', metaBody(Buffer.from([0x81, 0xa1, 0x68, 0x81, 0x01, 0xa1, 0x78]))],
      ['header twice', metaBody(Buffer.from([0x81, 0xa1, 0x68, 0x82, 0xa1, 0x61, 0xa0, 0xa1, 0x61, 0xa0]))],
      ['header value not UTF-8', metaBody(Buffer.from([0x81, 0xa1, 0x68, 0x81, 0xa1, 0x61, 0xa1, 0xff]))],
      ['too many headers', metaBody(pack({ h: Object.fromEntries(Array.from({ length: HEADERS_COUNT_MAX + 1 }, (_, i) => [`h${i}`, 'x'])) }))],
      ['bytes after the map', metaBody(Buffer.concat([pack({ k: Buffer.from('k') }), Buffer.from([0xc0])]))],
      ['bin running past the map', metaBody(Buffer.from([0x81, 0xa1, 0x6b, 0xc4, 0x05, 0x61]))],
      ['ext key', metaBody(Buffer.from([0x81, 0xa1, 0x6b, 0xd4, 0x74, 0x01]))],
    ];
    for (const [what, body] of cases) {
      const error = errorOf(Buffer.concat([frame(Buffer.from([0x00])), frame(body)]));
      expect(error.code, what).toBe(ErrorCode.INVALID_REQUEST);
    }
    // The limits themselves pass: 64 headers, a 256-byte name, a map16 header.
    const edge = { h: Object.fromEntries(Array.from({ length: HEADERS_COUNT_MAX }, (_, i) => [i === 0 ? 'n'.repeat(256) : `h${i}`, 'x'])) };
    expect(readProduceBlob(frame(metaBody(pack(edge))), 1).valueBytes).toBe(1);
  });

  it('validateRequest takes records or recordsBlob, exactly one, through the real frame codec', () => {
    const decode = (message: object): Record<string, unknown> => {
      let out: Record<string, unknown> | undefined;
      new FrameDecoder({ onMessage: (m) => (out = m), onError: (e) => { throw e; } }).push(encodeFrame(message));
      return out!;
    };
    const blob = produceBlobOf([{ value: Buffer.from('a') }, { value: Buffer.from('b'), key: Buffer.from('k') }]);
    const request = validateRequest(decode({ id: 4, op: 'produceBatch', topic: 't', recordsBlob: blob }));
    expect(request).toMatchObject({ op: 'produceBatch', topic: 't', valueBytes: 2 });
    expect(request.op === 'produceBatch' && request.recordBodies?.length).toBe(2);
    const codeOf = (message: Record<string, unknown>): string => {
      try {
        validateRequest(message);
      } catch (error) {
        return (error as ProtocolError).code;
      }
      return 'ok';
    };
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't', records: [{ value: Buffer.from('a') }], recordsBlob: blob })).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't' })).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't', records: null, recordsBlob: null })).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't', recordsBlob: 'abc' })).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't', recordsBlob: Buffer.alloc(0) })).toBe(ErrorCode.INVALID_REQUEST);
    expect(codeOf({ id: 1, op: 'produceBatch', topic: 't', records: null, recordsBlob: blob })).toBe('ok');
  });
});
