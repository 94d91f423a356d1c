/**
 * Chooses the engine's file backend at open: the io_uring addon when it is built and works here,
 * else the pure fs backend, and says why.
 *
 * `auto` falls back to `fs` when:
 * - `WALRUS_IO_BACKEND=fs` is set (tests and operators force the fallback this way);
 * - `@walrus/uring-napi` is not installed or not built (it is an optional dependency);
 * - `/proc/sys/kernel/io_uring_disabled` is 2, or io_uring_setup/io_uring_enter fail (seccomp in
 *   Docker ≥ 25 and containerd returns EPERM; old kernels ENOSYS);
 * - the data directory is on tmpfs (before Linux 6.6 it refuses O_DIRECT; since, O_DIRECT there
 *   only adds copies, with no disk to reach), or its filesystem refuses O_DIRECT, or writing and
 *   fdatasyncing one page there through the ring fails (the probe).
 * An explicit `backend: 'uring'` never falls back: it throws an IoError carrying the reason.
 * Explicit options win over the environment variable, as everywhere in the engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FileIO } from '../file-io.js';
import { FsFileIO } from '../fs-file-io.js';
import { IoError } from '../errors.js';
import { loadUringAddon, type UringAddon } from './uring-ring.js';
import { DirectWrites, UringFileIO } from './uring-file-io.js';

/** Backend names accepted by `Walrus.open({ backend })` and `--io-backend`. */
export const BackendChoice = {
  auto: 'auto',
  fs: 'fs',
  uring: 'uring',
} as const;
export type BackendChoice = (typeof BackendChoice)[keyof typeof BackendChoice];

/** Environment variable read when `backend` is `auto` or absent. */
export const IO_BACKEND_ENV = 'WALRUS_IO_BACKEND';
/** 0 enabled, 1 restricted to a group, 2 disabled (Linux 6.6+). */
const IO_URING_DISABLED_PATH = '/proc/sys/kernel/io_uring_disabled';
const PROBE_PAGE_BYTES = 4096;
/** statfs f_type of tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;

/** Options of `selectBackend`. */
export interface SelectBackendOptions {
  /** Default `auto`. */
  backend?: BackendChoice;
  /** Directory whose filesystem is probed for O_DIRECT (created if missing). Without it, no probe. */
  dataDir?: string;
  /** Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default: import `@walrus/uring-napi`. Tests inject failures here. */
  loadAddon?: () => Promise<UringAddon>;
  /**
   * O_DIRECT policy of the uring backend (default `synced`). Under SyncEach, where every write is
   * followed by an fdatasync at once, `always` lets the engine's writev + datasync take the direct path
   * too (bench/engine-backends.ts: same CPU per record as `writevAndSync`); under a time-based or no
   * fsync keep `synced`, as direct writes without a sync lose to the page cache.
   */
  directWrites?: DirectWrites;
}

/** The chosen backend, its name (also `io.name`) and one line saying why it was chosen. */
export interface SelectedBackend {
  io: FileIO;
  name: 'fs' | 'uring';
  reason: string;
}

/** Picks and constructs the FileIO for one engine. */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  const env = options.env ?? process.env;
  let choice: string = options.backend ?? BackendChoice.auto;
  let source = 'backend option';
  if (choice === BackendChoice.auto && env[IO_BACKEND_ENV] !== undefined && env[IO_BACKEND_ENV] !== '') {
    choice = env[IO_BACKEND_ENV]!;
    source = `${IO_BACKEND_ENV}=${choice}`;
  }
  if (choice !== BackendChoice.auto && choice !== BackendChoice.fs && choice !== BackendChoice.uring) {
    throw new IoError('select io backend', new Error(`unknown backend ${JSON.stringify(choice)} from ${source}: use auto, fs or uring`));
  }
  if (choice === BackendChoice.fs) return { io: new FsFileIO(), name: 'fs', reason: `fs: chosen by ${source}` };

  const uring = await tryUring(options.loadAddon ?? loadUringAddon, options.dataDir, options.directWrites ?? DirectWrites.synced);
  if ('io' in uring) return { io: uring.io, name: 'uring', reason: `uring (O_DIRECT ${options.directWrites ?? DirectWrites.synced}): ${uring.detail}` };
  if (choice === BackendChoice.uring) {
    throw new IoError('select io backend uring', new Error(`${uring.failure} (requested by ${source})`));
  }
  return { io: new FsFileIO(), name: 'fs', reason: `fs: fallback, ${uring.failure}` };
}

async function tryUring(
  loadAddon: () => Promise<UringAddon>,
  dataDir: string | undefined,
  directWrites: DirectWrites,
): Promise<{ io: UringFileIO; detail: string } | { failure: string }> {
  const disabled = readIoUringDisabled();
  if (disabled === '2') return { failure: `io_uring disabled (${IO_URING_DISABLED_PATH} = 2)` };
  let addon: UringAddon;
  try {
    addon = await loadAddon();
  } catch (error) {
    return { failure: `@walrus/uring-napi not loadable: ${describe(error)}` };
  }
  let io: UringFileIO;
  try {
    io = UringFileIO.create(addon, { directWrites });
  } catch (error) {
    return { failure: `io_uring_setup refused: ${describe(error)}` };
  }
  if (dataDir === undefined) return { io, detail: 'io_uring available; O_DIRECT not probed (no data dir)' };
  const problem = await probeDirect(io, dataDir);
  if (problem !== undefined) {
    io.close();
    return { failure: problem };
  }
  return { io, detail: `io_uring available, O_DIRECT and linked fdatasync work in ${dataDir}` };
}

/** Writes and fdatasyncs one page through the ring with O_DIRECT; undefined when all of it worked. */
async function probeDirect(io: UringFileIO, dataDir: string): Promise<string | undefined> {
  const probePath = path.join(dataDir, `.walrus-uring-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await io.mkdirp(dataDir);
    if (fs.statfsSync(dataDir).type === TMPFS_MAGIC) return `${dataDir} is on tmpfs: O_DIRECT unsupported or pointless there`;
    const handle = await io.open(probePath, { create: true });
    try {
      if (!(handle as { direct?: boolean }).direct) return `O_DIRECT unsupported on ${dataDir}'s filesystem`;
      await handle.preallocateZeroed(PROBE_PAGE_BYTES);
      await handle.writevAndSync!([Buffer.alloc(PROBE_PAGE_BYTES, 0x5a)], 0);
    } finally {
      await handle.close();
    }
    return undefined;
  } catch (error) {
    return `io_uring write probe in ${dataDir} failed: ${describe(error)}`;
  } finally {
    fs.rmSync(probePath, { force: true });
  }
}

function readIoUringDisabled(): string | undefined {
  try {
    return fs.readFileSync(IO_URING_DISABLED_PATH, 'utf8').trim();
  } catch {
    return undefined; // older kernels have no switch
  }
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const code = e?.code !== undefined ? `${e.code}: ` : '';
  const message = e?.message ?? String(error);
  return message.startsWith(code) ? message : `${code}${message}`;
}
