/**
 * Entry checksums through the native addon: one call per written run instead of one node:zlib call
 * per entry (profiled at 1 KiB entries: zlib's per-call work was about half of the checksum's cost,
 * and the checksum 17 % of the engine's CPU under NoFsync), and a crc32 that folds with PCLMULQDQ
 * where the CPU has it (native/src/crc32-fold.cc: 1 KiB in ~0.15 µs against ~0.45-0.6 µs for zlib's
 * table-driven code). The values are zlib's crc32 bit for bit, the ones entry-format.ts computes
 * with node:zlib, so logs are interchangeable. Without the addon, or with WALRUS_NATIVE_CRC=0, the
 * engine checksums and verifies entry by entry with node:zlib.
 */
import { loadUringAddon } from './backends/uring-ring.js';
import type { Crc32 } from './entry-format.js';

/** Writes the crc of `count` entries whose (header position, payload length) pairs are in `spans`. */
export type Crc32Entries = (buffer: Uint8Array, spans: Float64Array, count: number, seed: number) => void;

/** Set to 0 to checksum with node:zlib even where the addon loads (tests cover both paths). */
export const NATIVE_CRC_ENV = 'WALRUS_NATIVE_CRC';

/** What the addon offers for checksums. */
export interface NativeChecksums {
  /** A run's entry checksums in one call. */
  crc32Entries: Crc32Entries;
  /** One buffer's crc (reads verify entry by entry). */
  crc32: Crc32;
  /** Whether this CPU takes the folded (PCLMULQDQ) path; otherwise the addon calls zlib's code. */
  folds: boolean;
}

/** The addon's checksums, or null (addon missing, too old, or turned off). */
export async function loadEntryChecksums(env: Readonly<Record<string, string | undefined>> = process.env): Promise<NativeChecksums | null> {
  if (env[NATIVE_CRC_ENV] === '0') return null;
  try {
    const addon = (await loadUringAddon()) as { crc32Entries?: Crc32Entries; crc32?: Crc32; crc32Folds?: () => boolean };
    if (typeof addon.crc32Entries !== 'function' || typeof addon.crc32 !== 'function' || typeof addon.crc32Folds !== 'function') return null;
    return { crc32Entries: addon.crc32Entries, crc32: addon.crc32, folds: addon.crc32Folds() };
  } catch {
    return null;
  }
}
