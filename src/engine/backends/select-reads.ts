/**
 * Chooses the engine's read path at open: `pread` through the file backend, or `mmap` (frozen segment
 * files mapped copy-on-write, batch reads served as views of the mapping; src/engine/segment-mapper.ts),
 * and says why.
 *
 * - `pread` always works.
 * - `mmap` needs the addon's `mapFile` and the segment files on disk, which only the engine's own
 *   backends and FsFileIO are known to keep there. Asked for by the option it never falls back: it
 *   throws (IoError without the addon, InvalidArgumentError with a caller's FileIO). Asked for by
 *   `WALRUS_READS=mmap` it falls back to pread for a caller's FileIO only, so suites run under the
 *   variable keep their in-memory doubles.
 * - `auto` (the default) picks mmap where it can, as it measured faster here (AUTO_READS), else pread.
 * Explicit options win over the environment variable, as everywhere in the engine.
 */
import type { FileMapper } from '../file-io.js';
import { InvalidArgumentError, IoError } from '../errors.js';
import { loadMmapAddon, MmapFileMapper, type MmapAddon } from './mmap-file-mapper.js';

/** Read paths accepted by `Walrus.open({ reads })` and `WALRUS_READS`. */
export const ReadsChoice = {
  auto: 'auto',
  pread: 'pread',
  mmap: 'mmap',
} as const;
export type ReadsChoice = (typeof ReadsChoice)[keyof typeof ReadsChoice];

/** Environment variable read when `reads` is `auto` or absent. */
export const READS_ENV = 'WALRUS_READS';

/**
 * What `auto` picks when it can: mmap. Measured by bench/engine.ts `batchReads` (bench/RESULTS.md,
 * "mmap vs pread reads"; 1 KiB entries in the page cache, pread and mmap alternating on one log, five
 * runs): readFrom of 1 MiB per call 1.34-1.49x the entries/s of pread at ~0.7x the CPU per entry, and
 * cursor reads with checkpoint 1.56-1.93x, in four runs; 0.91x and 1.04x in the fifth, where pread ran
 * unusually fast. pread spends ~0.3 µs per entry in the kernel (the copy out of the page cache) and
 * allocates a fresh buffer per call; a view of an already mapped, cached page costs neither. The
 * checksum is verified on both paths.
 */
const AUTO_READS: 'pread' | 'mmap' = 'mmap';
const AUTO_WHY = 'auto (measured 1.3-1.9x the entries/s of pread, bench/RESULTS.md)';

/** A read-path request and where it came from (the option or the environment variable). */
export interface ReadsRequest {
  choice: ReadsChoice;
  /** `reads option`, `WALRUS_READS=<value>` or `default`. */
  source: string;
}

/**
 * Resolves the option and the environment into one request; InvalidArgumentError for an unknown
 * value from either. Pure, so `Walrus.open` validates it before any file opens.
 */
export function resolveReadsRequest(option: unknown, env: Readonly<Record<string, string | undefined>>): ReadsRequest {
  const fromEnv = env[READS_ENV];
  let request: ReadsRequest;
  if (option !== undefined && option !== ReadsChoice.auto) request = { choice: option as ReadsChoice, source: 'reads option' };
  else if (fromEnv !== undefined && fromEnv !== '') request = { choice: fromEnv as ReadsChoice, source: `${READS_ENV}=${fromEnv}` };
  else request = { choice: ReadsChoice.auto, source: option === undefined ? 'default' : 'reads option' };
  if (request.choice !== ReadsChoice.auto && request.choice !== ReadsChoice.pread && request.choice !== ReadsChoice.mmap) {
    throw new InvalidArgumentError(`unknown read path ${JSON.stringify(String(request.choice))} from ${request.source}: use auto, pread or mmap`);
  }
  return request;
}

/** Options of `selectReads`. */
export interface SelectReadsOptions {
  request: ReadsRequest;
  /**
   * Name of a caller-supplied FileIO, whose files may not be on disk (the crash tests' in-memory
   * double); undefined for the engine's own backends and FsFileIO, whose files are.
   */
  foreignIo?: string;
  /** Default: import `@walrus/uring-napi`. Tests inject failures here. */
  loadAddon?: () => Promise<MmapAddon>;
}

/** The chosen read path, its mapper (mmap only) and one line saying why. */
export interface SelectedReads {
  name: 'pread' | 'mmap';
  mapper: FileMapper | null;
  reason: string;
}

/** Picks the read path for one engine. */
export async function selectReads(options: SelectReadsOptions): Promise<SelectedReads> {
  const { choice, source } = options.request;
  if (choice === ReadsChoice.pread) return pread(`chosen by ${source}`);
  if (choice === ReadsChoice.auto && AUTO_READS === 'pread') return pread(AUTO_WHY);
  const asked = choice === ReadsChoice.mmap ? `mmap asked by ${source}` : 'auto';
  if (options.foreignIo !== undefined) {
    const why = `the caller's FileIO (${options.foreignIo}) is not known to keep the segment files on disk`;
    if (choice === ReadsChoice.mmap && source === 'reads option') throw new InvalidArgumentError(`reads: 'mmap' is impossible: ${why}`);
    return pread(`${asked}, but ${why}`);
  }
  let addon: MmapAddon;
  try {
    addon = await (options.loadAddon ?? loadMmapAddon)();
  } catch (error) {
    const failure = `@walrus/uring-napi not loadable: ${(error as Error)?.message ?? String(error)}`;
    if (choice === ReadsChoice.mmap) throw new IoError('select read path mmap', new Error(`${failure} (requested by ${source})`));
    return pread(`fallback from ${asked}, ${failure}`);
  }
  const why = choice === ReadsChoice.mmap ? `chosen by ${source}` : AUTO_WHY;
  return { name: 'mmap', mapper: new MmapFileMapper(addon), reason: `mmap (frozen segments mapped copy-on-write, the rest pread): ${why}` };
}

function pread(why: string): SelectedReads {
  return { name: 'pread', mapper: null, reason: `pread: ${why}` };
}
