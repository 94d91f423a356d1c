/**
 * The frame shared by the segment and block headers: a fixed-size buffer whose bytes 0..3 hold a
 * zlib crc32 of bytes 4..end, bytes 4..7 a magic number and bytes 8..9 the format version.
 */
import { crc32 } from 'node:zlib';

/** Format version written into every header; a reader refuses any other. */
export const FORMAT_VERSION = 1;

/** A zeroed header of `bytes` with its magic and version filled in. */
export function newHeader(bytes: number, magic: number): Buffer {
  const buf = Buffer.alloc(bytes);
  buf.writeUInt32LE(magic, 4);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  return buf;
}

/** Writes the checksum once every other field is in place. */
export function sealHeader(buf: Buffer): Buffer {
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0);
  return buf;
}

/** True when `buf` holds a whole header of `bytes` with this magic, a matching crc and our version. */
export function isValidHeader(buf: Buffer, bytes: number, magic: number): boolean {
  return (
    buf.length >= bytes &&
    buf.readUInt32LE(4) === magic &&
    crc32(buf.subarray(4, bytes)) === buf.readUInt32LE(0) &&
    buf.readUInt16LE(8) === FORMAT_VERSION
  );
}
