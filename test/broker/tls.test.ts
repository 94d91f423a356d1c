/**
 * TLS against the real daemon: `--tls-cert`/`--tls-key` with a self-signed certificate made by
 * openssl at test time, a produce + consume round trip through the SDK's `tls` option, and clean
 * failures for a plain-TCP peer, an SDK that does not trust the certificate, and bad flags.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, WalrusError } from '../../src/client/index.js';
import { RawClient, startDaemon, tempDir } from './harness.js';
import type { Daemon } from './harness.js';

const OPENSSL = spawnSync('which', ['openssl'], { encoding: 'utf8' }).status === 0;
if (!OPENSSL) console.warn('test/broker/tls.test.ts: skipped, `openssl` is not on PATH (needed to make a self-signed certificate)');

/** Makes key.pem and cert.pem (CN=localhost, SAN localhost and 127.0.0.1, valid one day) in `dir`. */
function selfSigned(dir: string): { certPath: string; keyPath: string; cert: Buffer } {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const out = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', keyPath, '-out', certPath],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (out.status !== 0) throw new Error(`openssl failed: ${out.stderr}`);
  return { certPath, keyPath, cert: readFileSync(certPath) };
}

describe.skipIf(!OPENSSL)('TLS (--tls-cert/--tls-key)', () => {
  const dir = tempDir();
  let daemon: Daemon;
  let pem: ReturnType<typeof selfSigned>;

  beforeAll(async () => {
    pem = selfSigned(dir.path);
    daemon = await startDaemon(join(dir.path, 'data'), ['--tls-cert', pem.certPath, '--tls-key', pem.keyPath]);
  }, 60_000);

  afterAll(async () => {
    await daemon?.terminate();
    dir.cleanup();
  });

  it('logs tls:true in the listening line', () => {
    expect(daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening')).toMatchObject({ tls: true });
  });

  it('round-trips produce and consume through the SDK with tls: { ca }', async () => {
    const client = await connect({ port: daemon.port, tls: { ca: pem.cert }, reconnect: false });
    try {
      const sent = await client.producer().send('secure', { value: Buffer.from('over tls'), key: 'k' });
      expect(sent.offset).toBe(0);
      const consumer = client.consumer({ topic: 'secure', group: 'g' });
      for await (const message of consumer.messages()) {
        expect(message.value.toString()).toBe('over tls');
        expect(message.key?.toString()).toBe('k');
        await message.commit();
        break;
      }
      await consumer.close();
    } finally {
      await client.close();
    }
  });

  it('verifies the certificate against servername when one is given', async () => {
    const client = await connect({ host: '127.0.0.1', port: daemon.port, tls: { ca: pem.cert, servername: 'localhost' }, reconnect: false });
    expect(await client.admin.listTopics()).toContain('secure');
    await client.close();
    const wrongName = connect({ port: daemon.port, tls: { ca: pem.cert, servername: 'not-the-broker' }, reconnect: false });
    await expect(wrongName).rejects.toMatchObject({ code: 'CONNECTION_LOST', cause: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
  });

  it('refuses an SDK that does not trust the certificate (no ca), and one that speaks plain TCP', async () => {
    const untrusted = connect({ port: daemon.port, tls: true, reconnect: false, connectTimeoutMs: 5000 });
    await expect(untrusted).rejects.toBeInstanceOf(WalrusError);
    await expect(untrusted).rejects.toMatchObject({ code: 'CONNECTION_LOST', cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });

    const plain = connect({ port: daemon.port, reconnect: false, connectTimeoutMs: 5000 });
    await expect(plain).rejects.toBeInstanceOf(WalrusError);
    await expect(plain).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('a raw plain-TCP hello gets no reply and a closed socket; TLS clients are still served', async () => {
    const raw = await RawClient.connect(daemon.port, { hello: false });
    raw.send({ op: 'hello', version: 1 });
    await raw.closed;
    expect(raw.received).toEqual([]);

    const client = await connect({ port: daemon.port, tls: { ca: pem.cert }, reconnect: false });
    expect((await client.producer().send('secure', Buffer.from('still here'))).offset).toBe(1);
    await client.close();
  });
});

describe.skipIf(!OPENSSL)('TLS flags refused at start', () => {
  it('needs both --tls-cert and --tls-key, and a loadable pair', async () => {
    const dir = tempDir();
    try {
      const pem = selfSigned(dir.path);
      await expect(startDaemon(join(dir.path, 'data'), ['--tls-cert', pem.certPath])).rejects.toThrow(/--tls-cert and --tls-key go together/);
      const garbage = join(dir.path, 'garbage.pem');
      writeFileSync(garbage, 'not a certificate\n');
      await expect(startDaemon(join(dir.path, 'data'), ['--tls-cert', garbage, '--tls-key', pem.keyPath])).rejects.toThrow(/tls cert\/key do not load/);
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});
