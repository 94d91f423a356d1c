/**
 * Unsigned 64-bit little-endian fields holding JS safe integers (offsets, timestamps, sequence
 * numbers), written as two u32 halves: measured faster here than BigInt-based writeBigUInt64LE.
 * Values stay below 2^53, so the high half never exceeds 21 bits.
 */
const TWO_POW_32 = 0x1_0000_0000;

/** Writes `value` (a safe non-negative integer) as a u64 at `at`. */
export function writeU64(target: Buffer, value: number, at: number): void {
  target.writeUInt32LE(value % TWO_POW_32, at);
  target.writeUInt32LE(Math.floor(value / TWO_POW_32), at + 4);
}

/** Writes `value` as a u64 at `at` through a DataView (the encode hot path; no range checks). */
export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_POW_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_POW_32), true);
}

/** Reads a u64 written by writeU64 or setU64. */
export function readU64(source: Buffer, at: number): number {
  return source.readUInt32LE(at) + source.readUInt32LE(at + 4) * TWO_POW_32;
}
