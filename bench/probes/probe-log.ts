/** The log the engine probes measure: a temp dir, knobs from the environment (F, B), silent logger. */
import fs from 'node:fs';
import { pino } from 'pino';
import { FsyncSchedule, ReadConsistency, Walrus, type WalrusOptions } from '../../src/engine/index.js';

/** `F=none` → NoFsync, else SyncEach. */
export const probeFsyncName = process.env.F === 'none' ? 'NoFsync' : 'SyncEach';

/** Opens a fresh log in a temp dir (`options` win over the defaults); `close()` closes it and removes the dir. */
export async function openProbeLog(options: WalrusOptions = {}): Promise<{ wal: Walrus; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync('/tmp/walrus-probe-');
  const wal = await Walrus.open({
    dataDir: dir,
    logger: pino({ level: 'silent' }),
    fsync: process.env.F === 'none' ? FsyncSchedule.NoFsync : FsyncSchedule.SyncEach,
    backend: (process.env.B ?? 'auto') as 'auto' | 'fs' | 'uring',
    consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5000 }),
    ...options,
  });
  return {
    wal,
    close: async () => {
      await wal.close();
      fs.rmSync(dir, { recursive: true });
    },
  };
}
