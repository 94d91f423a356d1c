/**
 * The `walrus-broker` CLI: --help documents every flag, WALRUS_* env fallbacks apply, explicit flags
 * win, bad values stop the daemon with exit code 1 and a "failed to start" log line.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { daemonCommand, startDaemon, tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = daemonCommand();

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
}

describe('walrus-broker CLI', () => {
  it('--help documents every flag', () => {
    const out = run(['--help']);
    expect(out.status).toBe(0);
    for (const flag of ['--data-dir', '--host', '--port', '--fsync', '--consistency', '--max-frame-bytes', '--max-connections', '--ack-timeout-ms', '--log-level', '--auth-token', '--auth-token-file', '--tls-cert', '--tls-key', '--shutdown-grace-ms', '--io-backend']) {
      expect(out.stdout).toContain(flag);
    }
    expect(out.stdout).toContain('WALRUS_');
  });

  it('takes WALRUS_* fallbacks, lets explicit flags win, and logs the mode at start', async () => {
    const dir = tempDir();
    const previous = { ...process.env };
    process.env.WALRUS_FSYNC = '25ms';
    process.env.WALRUS_MAX_CONNECTIONS = '7';
    process.env.WALRUS_CONSISTENCY = 'at-least-once:50';
    process.env.WALRUS_QUIET = '1'; // someone else's WALRUS_ variable must not be rejected
    try {
      const daemon = await startDaemon(dir.path, ['--max-connections', '9']);
      const listening = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
      expect(listening).toMatchObject({ fsync: '25ms', consistency: 'at-least-once:50', maxConnections: 9 });
      expect(await daemon.terminate()).toBe(0);
    } finally {
      for (const key of ['WALRUS_FSYNC', 'WALRUS_MAX_CONNECTIONS', 'WALRUS_CONSISTENCY', 'WALRUS_QUIET']) {
        if (previous[key] === undefined) delete process.env[key];
        else process.env[key] = previous[key];
      }
      dir.cleanup();
    }
  });

  it('lets the last of a flag given twice win, and starts on the io backend it was told', async () => {
    const dir = tempDir();
    try {
      const daemon = await startDaemon(dir.path, ['--fsync', 'none', '--fsync', '50ms', '--io-backend', 'fs']);
      const listening = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
      expect(listening).toMatchObject({ fsync: '50ms', backend: 'fs' });
      expect(await daemon.terminate()).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it('exits 1 on bad values and on a missing data dir', () => {
    const dir = tempDir();
    try {
      for (const args of [['--fsync', 'sometimes'], ['--max-frame-bytes', '10'], ['--consistency', 'maybe'], ['--port', 'x']]) {
        const out = run(['--data-dir', dir.path, '--port', '0', ...args]);
        expect(out.status, args.join(' ')).toBe(1);
        expect(out.stdout).toContain('failed to start');
      }
      expect(run(['--port', '0'], { WALRUS_DATA_DIR: '' }).status).toBe(1);
      expect(run(['--data-dir', dir.path, '--no-such-flag']).status).toBe(1);
    } finally {
      dir.cleanup();
    }
  });
});
