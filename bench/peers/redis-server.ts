import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LOOPBACK_HOST } from '../lib/free-port.js';
import { spawnServer, waitForPort, withTempDir, type SpawnedServer } from '../lib/spawned-server.js';

/** Redis AOF fsync policies compared: `always` = fdatasync before replies; `everysec` = once a second. */
export const RedisFsync = { Always: 'always', EverySec: 'everysec' } as const;
export type RedisFsync = (typeof RedisFsync)[keyof typeof RedisFsync];

/**
 * Starts Debian's redis-server on a free loopback port with a fresh temp dir: AOF on with the given
 * `appendfsync`, RDB snapshots off (`save ""`) so only the AOF costs disk time. Stop it with `stop()`,
 * which also removes the temp dir.
 */
export async function startRedis(fsync: RedisFsync): Promise<SpawnedServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `walrus-bench-redis-${fsync}-`));
  const args = [
    '--port', String(port),
    '--bind', LOOPBACK_HOST,
    '--protected-mode', 'yes',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', fsync,
    '--save', '',
    '--daemonize', 'no',
    '--logfile', '',
  ];
  return withTempDir(dir, spawnServer(`redis-server (${fsync})`, 'redis-server', args, port, () => waitForPort(port)));
}
