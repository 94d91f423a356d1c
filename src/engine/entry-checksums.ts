/**
 * Entry checksums computed in batches by the native addon: one call per written run instead of one
 * node:zlib call per entry (profiled at 1 KiB entries: zlib's per-call work was about half of the
 * checksum's cost, and the checksum 17 % of the engine's CPU under NoFsync). The addon uses zlib's
 * own crc32, so the values are the ones entry-format.ts computes: logs are interchangeable. Without
 * the addon, or with WALRUS_NATIVE_CRC=0, the engine checksums entry by entry with node:zlib.
 */
import { loadUringAddon } from './backends/uring-ring.js';

/** Writes the crc of `count` entries whose (header position, payload length) pairs are in `spans`. */
export type Crc32Entries = (buffer: Uint8Array, spans: Float64Array, count: number, seed: number) => void;

/** Set to 0 to checksum with node:zlib even where the addon loads (tests cover both paths). */
export const NATIVE_CRC_ENV = 'WALRUS_NATIVE_CRC';

/** The addon's batched checksum, or null (addon missing or turned off). */
export async function loadEntryChecksums(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Crc32Entries | null> {
  if (env[NATIVE_CRC_ENV] === '0') return null;
  try {
    const addon = (await loadUringAddon()) as { crc32Entries?: Crc32Entries };
    return typeof addon.crc32Entries === 'function' ? addon.crc32Entries : null;
  } catch {
    return null;
  }
}
