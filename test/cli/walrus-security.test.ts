/**
 * The `walrus` CLI against a daemon that wants a token and one that speaks TLS: `--token` /
 * WALRUS_TOKEN reach `hello`, a wrong or missing token is exit 2 with UNAUTHORIZED, and `--tls-ca`
 * trusts a self-signed certificate made by openssl at test time.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, tempDir, type Daemon } from '../broker/harness.js';
import { json, jsonLines, runCli } from './walrus-cli.js';

const OPENSSL = spawnSync('which', ['openssl'], { encoding: 'utf8' }).status === 0;
if (!OPENSSL) console.warn('test/cli/walrus-security.test.ts: TLS case skipped, `openssl` is not on PATH');

describe('walrus CLI with --auth-token', { timeout: 120_000 }, () => {
  const dir = tempDir('walrus-cli-auth-');
  const token = 'cli-test-token-1';
  let daemon: Daemon;
  let broker: string[];

  beforeAll(async () => {
    daemon = await startDaemon(dir.path, ['--auth-token', token]);
    broker = ['--broker', `127.0.0.1:${daemon.port}`];
  });

  afterAll(async () => {
    await daemon?.terminate();
    dir.cleanup();
  });

  it('sends --token or WALRUS_TOKEN in hello', async () => {
    const created = await runCli([...broker, '--token', token, 'topics', 'create', 'guarded', '--json']);
    expect(created.code).toBe(0);
    expect(json(created)).toEqual({ topic: 'guarded', created: true });
    const listed = await runCli([...broker, 'topics', 'list', '--json'], { env: { WALRUS_TOKEN: token } });
    expect(listed.code).toBe(0);
    expect(json<Array<{ topic: string }>>(listed).map((t) => t.topic)).toEqual(['guarded']);
  });

  it('exits 2 with UNAUTHORIZED for a wrong or missing token, and writes nothing', async () => {
    const wrong = await runCli([...broker, '--token', 'not-the-token', 'produce', 'guarded'], { stdin: 'x\n' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('UNAUTHORIZED');
    expect(wrong.stderr).not.toContain('not-the-token');
    const missing = await runCli([...broker, 'ping']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('UNAUTHORIZED');
    const described = await runCli([...broker, '--token', token, 'topics', 'describe', 'guarded', '--json']);
    expect(json(described)).toMatchObject({ nextOffset: 0 });
  });
});

describe.skipIf(!OPENSSL)('walrus CLI with --tls-ca', { timeout: 120_000 }, () => {
  const dir = tempDir('walrus-cli-tls-');
  let daemon: Daemon;
  let broker: string[];
  let certPath: string;

  beforeAll(async () => {
    certPath = join(dir.path, 'cert.pem');
    const keyPath = join(dir.path, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', keyPath, '-out', certPath],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    daemon = await startDaemon(join(dir.path, 'data'), ['--tls-cert', certPath, '--tls-key', keyPath]);
    broker = ['--broker', `localhost:${daemon.port}`];
  });

  afterAll(async () => {
    await daemon?.terminate();
    dir.cleanup();
  });

  it('produces and tails over TLS when the CA is given, and fails without it', async () => {
    const produced = await runCli([...broker, '--tls-ca', certPath, 'produce', 'secure', '--json'], { stdin: 'over tls\n' });
    expect(produced.code).toBe(0);
    expect(json(produced)).toMatchObject({ count: 1, firstOffset: 0 });
    const tailed = await runCli([...broker, 'tail', 'secure', '--json'], { env: { WALRUS_TLS_CA: certPath } });
    expect(jsonLines(tailed).map((r) => r.value)).toEqual(['over tls']);

    // System CAs do not trust a self-signed certificate: a connection error, exit 2.
    const untrusted = await runCli([...broker, '--tls', '--timeout-ms', '5000', 'ping']);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(/walrus: [A-Z_]+: /);
    const unreadable = await runCli([...broker, '--tls-ca', join(dir.path, 'missing.pem'), 'ping']);
    expect(unreadable.code).toBe(1);
  });
});
