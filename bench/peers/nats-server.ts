import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LOOPBACK_HOST } from '../lib/free-port.js';
import { spawnServer, waitForPort, withTempDir, type SpawnedServer } from '../lib/spawned-server.js';

/** Debian installs nats-server under /usr/sbin, which a non-login PATH may lack. */
function natsServerPath(): string {
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

/**
 * Starts Debian's nats-server with JetStream (file storage in a fresh temp dir) on a free loopback
 * port. nats-server 2.9 has no `sync_interval`: its file store leaves fsync to the OS (it syncs every
 * 2 minutes), so a JetStream publish ack does not mean the message reached the disk.
 */
export async function startNats(): Promise<SpawnedServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'walrus-bench-nats-'));
  const args = ['-js', '-sd', dir, '-a', LOOPBACK_HOST, '-p', String(port)];
  return withTempDir(dir, spawnServer('nats-server', natsServerPath(), args, port, () => waitForPort(port)));
}
