/**
 * `recordsBlob`: the records of a fetch reply as one msgpack `bin` instead of an array of maps, for
 * a client that asks for it (`fetch.recordsBlob: true`). Records back to back, integers big-endian:
 *
 *   +----------------+-------------------+------------+------------------------+
 *   | offset: uint64 | timestamp: uint64 | N: uint32  | N bytes: record body   |
 *   +----------------+-------------------+------------+------------------------+
 *
 *   record body, value only:   +------+----------+
 *                              | 0x00 | value... |
 *                              +------+----------+
 *   with key and/or headers:   +------+------------+---------------------------------------+----------+
 *                              | 0x01 | M: uint32  | M bytes: msgpack map { k?: bin,         | value... |
 *                              |      |            |   h?: map of str -> str or bin }        |          |
 *                              +------+------------+---------------------------------------+----------+
 *
 * The body is laid out as the broker stores a record (src/broker/record-codec.ts), so a value-only
 * record costs a 21-byte header and one copy on each side, and neither side builds a map per record.
 * Measured on a drain of 1 KiB records: decoding an array of maps with msgpackr cost the consumer
 * ~1 us per record plus the garbage of one object per record, about a quarter of its CPU.
 */
import { ErrorCode, ProtocolError } from './error-codes.js';
import type { FetchedRecord, Headers } from './messages.js';
import type { MsgpackWriter } from './msgpack-writer.js';

/** Tag of a value-only record body. */
export const RECORD_TAG_VALUE = 0x00;
/** Tag of a record body with key and/or headers. */
export const RECORD_TAG_META = 0x01;

/** Bytes in front of each record body in a blob: offset, timestamp, body length. */
export const BLOB_RECORD_HEADER_BYTES = 8 + 8 + 4;

/** 2^32, to split and join uint64 values that are JS safe integers. */
const UINT32_RANGE = 0x1_0000_0000;

/** Receives one record of a blob; `value` and `key` are views into the blob. */
export type BlobRecordVisitor = (offset: number, timestamp: number, value: Buffer, key: Buffer | undefined, headers: Headers | undefined) => void;

/** Decodes the msgpack map of a META body; msgpackr's `unpack` fits. */
export type MetaUnpacker = (bytes: Buffer) => unknown;

/** Bytes `writeRecordsBlob` needs for `records` when none has key or headers; a lower bound otherwise. */
export function recordsBlobBytes(records: readonly FetchedRecord[]): number {
  return valueOnlyBlobBytes(records, BLOB_RECORD_HEADER_BYTES);
}

/** Blob bytes of `records` as value-only bodies, each behind `headerBytes` of record header. */
export function valueOnlyBlobBytes(records: readonly { readonly value: Uint8Array }[], headerBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < records.length; i++) bytes += headerBytes + 1 + records[i].value.length;
  return bytes;
}

/**
 * Appends `records` as one msgpack bin (always the bin32 form, so its length is patched in after the
 * records are written).
 */
export function writeRecordsBlob(w: MsgpackWriter, records: readonly FetchedRecord[]): void {
  const bin = openBin32(w, recordsBlobBytes(records));
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    w.ensure(BLOB_RECORD_HEADER_BYTES + 1 + r.value.length);
    let p = w.position;
    p = writeUint64(w.buffer, p, r.offset);
    p = writeUint64(w.buffer, p, r.timestamp);
    w.position = p + 4;
    writeRecordBody(w, p, r.value, r.key, r.headers);
  }
  closeBin32(w, bin);
}

/** Starts a bin32 whose length `closeBin32` patches in; reserves room for `bytes` of content. */
export function openBin32(w: MsgpackWriter, bytes: number): { lengthAt: number; start: number } {
  w.ensure(5 + bytes);
  w.buffer[w.position] = 0xc6;
  const lengthAt = w.position + 1;
  w.position += 5;
  return { lengthAt, start: w.position };
}

/** Ends a bin32 begun by `openBin32`: its length is everything written since. */
export function closeBin32(w: MsgpackWriter, bin: { lengthAt: number; start: number }): void {
  w.buffer.writeUInt32BE(w.position - bin.start, bin.lengthAt);
}

/**
 * Writes one record body in the stored layout at `w.position` (tag, META map when there is a key or
 * headers, value) and patches its length into the uint32 at `bodyLengthAt`, which the caller placed
 * right before it. The caller has made room for the tag and the value; the META map makes its own.
 */
export function writeRecordBody(w: MsgpackWriter, bodyLengthAt: number, value: Uint8Array, key: Uint8Array | undefined, headers: Headers | undefined): void {
  const bodyStart = w.position;
  if (key === undefined && headers === undefined) {
    w.buffer[w.position++] = RECORD_TAG_VALUE;
  } else {
    w.buffer[w.position] = RECORD_TAG_META;
    const metaLengthAt = w.position + 1;
    w.position += 5;
    w.writeMapHeader((key === undefined ? 0 : 1) + (headers === undefined ? 0 : 1));
    if (key !== undefined) {
      w.writeString('k');
      w.writeBin(key);
    }
    if (headers !== undefined) {
      w.writeString('h');
      w.write(headers, 1);
    }
    w.buffer.writeUInt32BE(w.position - metaLengthAt - 4, metaLengthAt);
    w.ensure(value.length);
  }
  w.buffer.set(value, w.position);
  w.position += value.length;
  w.buffer.writeUInt32BE(w.position - bodyStart, bodyLengthAt);
}

/**
 * Calls `visit` for each record of `blob`, in order; returns how many. A blob that does not parse
 * (a length running past the end, an offset beyond 2^53, an unreadable META map) is BAD_FRAME.
 * A body whose first byte is neither tag is all value (as the broker serves such stored entries).
 */
export function readRecordsBlob(blob: Uint8Array, unpack: MetaUnpacker, visit: BlobRecordVisitor): number {
  const b = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  let p = 0;
  let count = 0;
  while (p < b.length) {
    if (b.length - p < BLOB_RECORD_HEADER_BYTES) throw badBlob(`a record header is cut off at byte ${p}`);
    const offset = readUint64(b, p);
    const timestamp = readUint64(b, p + 8);
    const bodyBytes = b.readUInt32BE(p + 16);
    const bodyStart = p + BLOB_RECORD_HEADER_BYTES;
    const end = bodyStart + bodyBytes;
    if (end > b.length) throw badBlob(`record at byte ${p} runs past the blob`);
    if (offset < 0 || timestamp < 0) throw badBlob(`record at byte ${p} has an offset or timestamp beyond 2^53`);
    const tag = bodyBytes > 0 ? b[bodyStart] : -1;
    if (tag === RECORD_TAG_VALUE) {
      visit(offset, timestamp, b.subarray(bodyStart + 1, end), undefined, undefined);
    } else if (tag === RECORD_TAG_META) {
      if (bodyBytes < 5) throw badBlob(`record at byte ${p} has a META body without its length`);
      const metaBytes = b.readUInt32BE(bodyStart + 1);
      const metaEnd = bodyStart + 5 + metaBytes;
      if (metaEnd > end) throw badBlob(`record at byte ${p} has a META map running past its body`);
      const meta = unpackMeta(unpack, b.subarray(bodyStart + 5, metaEnd), p);
      visit(offset, timestamp, b.subarray(metaEnd, end), meta.key, meta.headers);
    } else {
      visit(offset, timestamp, b.subarray(bodyStart, end), undefined, undefined);
    }
    count += 1;
    p = end;
  }
  return count;
}

function unpackMeta(unpack: MetaUnpacker, bytes: Buffer, at: number): { key: Buffer | undefined; headers: Headers | undefined } {
  let meta: unknown;
  try {
    meta = unpack(bytes);
  } catch (cause) {
    throw badBlob(`record at byte ${at} has an unreadable META map: ${(cause as Error).message}`);
  }
  if (typeof meta !== 'object' || meta === null) throw badBlob(`record at byte ${at} has a META value that is not a map`);
  const { k, h } = meta as { k?: unknown; h?: unknown };
  if (k !== undefined && !(k instanceof Uint8Array)) throw badBlob(`record at byte ${at} has a key that is not bin`);
  if (h !== undefined && (typeof h !== 'object' || h === null)) throw badBlob(`record at byte ${at} has headers that are not a map`);
  const key = k === undefined ? undefined : Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength);
  return { key, headers: h as Headers | undefined };
}

/** Writes a safe non-negative integer as uint64 at `p`; returns the position after it. */
function writeUint64(b: Buffer, p: number, value: number): number {
  b.writeUInt32BE(Math.floor(value / UINT32_RANGE), p);
  b.writeUInt32BE(value >>> 0, p + 4);
  return p + 8;
}

/** Reads a uint64 at `p`; -1 when it is beyond 2^53 (not a safe integer). */
function readUint64(b: Buffer, p: number): number {
  const high = b.readUInt32BE(p);
  if (high >= 0x20_0000) return -1;
  return high * UINT32_RANGE + b.readUInt32BE(p + 4);
}

function badBlob(message: string): ProtocolError {
  return new ProtocolError(ErrorCode.BAD_FRAME, `recordsBlob: ${message}`);
}
