/**
 * Entry codec. Entries are packed back to back inside a block, each a 32-byte header then the payload.
 *
 *   0  u32  crc        zlib crc32, seeded with the block's seed, over bytes 4..31 then the payload
 *   4  u32  length     payload bytes
 *   8  u64  offset     dense per-topic offset (low u32, high u32)
 *  16  u64  timestamp  ms since the epoch (low u32, high u32)
 *  24  u32  epoch      replication epoch of the writer (0 on a single node)
 *  28  u16  remaining  entries after this one in the same atomic batch (0: last of a batch, or single)
 *  30  u16  flags      reserved, 0
 *
 * All little-endian. Seeding the crc with the block's sequence number means bytes left over from an
 * older block in the same place can never pass as an entry of the new one. An all-zero header is
 * "no entry" (preallocated segments are zero-filled).
 */
import { crc32 } from 'node:zlib';
import { ENTRY_HEADER_BYTES } from './limits.js';
import { readU64, setU64 } from './u64.js';


/** Fields of one entry header as read from disk. */
export interface EntryHeader {
  length: number;
  offset: number;
  timestamp: number;
  epoch: number;
  remaining: number;
}

/**
 * Fills header bytes 4..31 (everything but the checksum) at `at` through `view`, a DataView over the
 * same memory as the target Buffer: its stores compile to plain moves, where Buffer#writeUInt32LE
 * range-checks every call (profiled: the header stores were a third of the encode time).
 */
function writeHeaderFields(view: DataView, at: number, length: number, offset: number, timestamp: number, epoch: number, remaining: number): void {
  view.setUint32(at + 4, length, true);
  setU64(view, at + 8, offset);
  setU64(view, at + 16, timestamp);
  view.setUint32(at + 24, epoch >>> 0, true);
  view.setUint32(at + 28, remaining, true); // remaining (u16) and flags (u16, 0) in one store
}

/** A Buffer to encode entries into, with a DataView over the same bytes for the header stores. */
export interface EncodeTarget {
  readonly bytes: Buffer;
  readonly view: DataView;
}

/** Wraps `bytes` as an EncodeTarget. */
export function encodeTarget(bytes: Buffer): EncodeTarget {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * Writes the header for `payload` into `target` at `at`, checksum included, when the payload is
 * stored elsewhere (passed to the kernel as its own buffer).
 */
export function writeEntryHeader(
  target: EncodeTarget,
  at: number,
  payload: Uint8Array,
  offset: number,
  timestamp: number,
  epoch: number,
  remaining: number,
  seed: number,
  crc: Crc32,
): void {
  writeHeaderFields(target.view, at, payload.length, offset, timestamp, epoch, remaining);
  const headerCrc = crc(target.bytes.subarray(at + 4, at + ENTRY_HEADER_BYTES), seed);
  target.view.setUint32(at, crc(payload, headerCrc), true);
}

/**
 * Copies `payload` to `at + 32` in `target` and writes its header at `at`: the fast path for small
 * payloads, one checksum call over the contiguous header-and-payload bytes (measured: the crc call
 * and its subarray dominate the per-entry cost after the checksum work itself).
 */
export function writeEntryInline(
  target: EncodeTarget,
  at: number,
  payload: Uint8Array,
  offset: number,
  timestamp: number,
  epoch: number,
  remaining: number,
  seed: number,
  crc: Crc32,
): void {
  writeEntryInlineUnsummed(target, at, payload, offset, timestamp, epoch, remaining);
  target.view.setUint32(at, crc(target.bytes.subarray(at + 4, at + ENTRY_HEADER_BYTES + payload.length), seed), true);
}

/** writeEntryInline without the checksum, for a caller that checksums a batch of entries at once. */
export function writeEntryInlineUnsummed(
  target: EncodeTarget,
  at: number,
  payload: Uint8Array,
  offset: number,
  timestamp: number,
  epoch: number,
  remaining: number,
): void {
  target.bytes.set(payload, at + ENTRY_HEADER_BYTES);
  writeHeaderFields(target.view, at, payload.length, offset, timestamp, epoch, remaining);
}

/** Reads the header fields at `at` without verifying anything. */
export function readEntryHeader(source: Buffer, at: number): EntryHeader {
  return {
    length: source.readUInt32LE(at + 4),
    offset: readU64(source, at + 8),
    timestamp: readU64(source, at + 16),
    epoch: source.readUInt32LE(at + 24),
    remaining: source.readUInt16LE(at + 28),
  };
}

/**
 * zlib's crc32 of `data` seeded with `seed`: node:zlib's `crc32`, or the addon's identical and faster
 * one (entry-checksums.ts). Each engine passes the one it loaded.
 */
export type Crc32 = (data: Uint8Array, seed: number) => number;

/** node:zlib's crc32, for engines without the addon's. */
export const zlibCrc32: Crc32 = crc32;

/** True when the header at `at` and the payload after it match the stored checksum. */
export function entryChecksumMatches(source: Buffer, at: number, length: number, seed: number, crc: Crc32): boolean {
  return crc(source.subarray(at + 4, at + ENTRY_HEADER_BYTES + length), seed) === source.readUInt32LE(at);
}

/** True when the 32 header bytes at `at` are all zero: nothing was ever written there. */
export function isEmptyHeader(source: Buffer, at: number): boolean {
  for (let i = at; i < at + ENTRY_HEADER_BYTES; i += 4) {
    if (source.readUInt32LE(i) !== 0) return false;
  }
  return true;
}
