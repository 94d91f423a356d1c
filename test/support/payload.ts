/**
 * Self-describing test payloads: each carries its own identity and checksum, so a reader can tell a
 * whole, genuine entry from a corrupt, partial or foreign one without any outside record.
 *
 * Layout (little-endian), at least PAYLOAD_HEADER_BYTES long:
 *   0  u32  magic    0x57414c50 ("PLAW")
 *   4  u32  crc      zlib crc32 over bytes 8..end
 *   8  u32  stream   who wrote it (topic index, producer number, …)
 *  12  u32  seq      increasing per stream in issue order
 *  16  u16  index    position inside its atomic batch
 *  18  u16  count    entries in that batch (1 for a single append)
 *  20  u32  length   total payload bytes
 *  24  …    filler   bytes derived from (seq, index), so a misplaced sector shows up as a bad crc
 */
import { crc32 } from 'node:zlib';

export const PAYLOAD_MAGIC = 0x57414c50;
export const PAYLOAD_HEADER_BYTES = 24;

/** Identity carried by a payload. */
export interface PayloadId {
  stream: number;
  seq: number;
  index: number;
  count: number;
}

/** Builds a payload of `length` bytes (at least PAYLOAD_HEADER_BYTES) carrying `id`. */
export function encodePayload(id: PayloadId, length: number): Buffer {
  const size = Math.max(PAYLOAD_HEADER_BYTES, length);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(PAYLOAD_MAGIC, 0);
  buf.writeUInt32LE(id.stream, 8);
  buf.writeUInt32LE(id.seq, 12);
  buf.writeUInt16LE(id.index, 16);
  buf.writeUInt16LE(id.count, 18);
  buf.writeUInt32LE(size, 20);
  const base = (id.seq * 131 + id.index * 7) & 0xff;
  for (let i = PAYLOAD_HEADER_BYTES; i < size; i++) buf[i] = (base + i) & 0xff;
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** Decodes a payload, or returns a string saying why it is not a whole, genuine one. */
export function decodePayload(data: Uint8Array): PayloadId | string {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < PAYLOAD_HEADER_BYTES) return `payload of ${buf.length} bytes is shorter than its header`;
  if (buf.readUInt32LE(0) !== PAYLOAD_MAGIC) return 'payload magic missing';
  if (buf.readUInt32LE(20) !== buf.length) return `payload says ${buf.readUInt32LE(20)} bytes, has ${buf.length}`;
  if (crc32(buf.subarray(8)) !== buf.readUInt32LE(4)) return 'payload checksum mismatch';
  const id = { stream: buf.readUInt32LE(8), seq: buf.readUInt32LE(12), index: buf.readUInt16LE(16), count: buf.readUInt16LE(18) };
  if (id.count < 1 || id.index >= id.count) return `payload batch position ${id.index}/${id.count} is impossible`;
  return id;
}

/** `seq:index`, a compact key for one entry's identity. */
export function payloadKey(id: PayloadId): string {
  return `${id.seq}:${id.index}`;
}
