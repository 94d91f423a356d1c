/**
 * Auth tokens against the real daemon: `--auth-token-file` (several tokens, comments, blank lines),
 * its WALRUS_AUTH_TOKEN_FILE fallback, UNAUTHORIZED for a missing or wrong token and for every
 * request behind it, nothing written by a refused peer, and no token in the daemon's output.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { encodeFrame } from '../../src/protocol/index.js';
import { RawClient, startDaemon, tempDir } from './harness.js';
import type { Daemon } from './harness.js';

const TOKEN_A = `tok-a-${randomBytes(12).toString('hex')}`;
const TOKEN_B = `tok-b-${randomBytes(12).toString('hex')}`;
const WRONG = `tok-wrong-${randomBytes(12).toString('hex')}`;
const TOKEN_FILE_TEXT = ['# walrus tokens', '', `  ${TOKEN_A}  `, '# rotated in:', TOKEN_B, ''].join('\n');

async function helloed(port: number, token: string): Promise<RawClient> {
  const client = await RawClient.connect(port, { hello: false });
  const reply = await client.request({ op: 'hello', version: 1, token });
  expect(reply.ok).toBe(true);
  return client;
}

describe('auth tokens (--auth-token-file)', () => {
  const dir = tempDir();
  let daemon: Daemon;

  beforeAll(async () => {
    const tokenFile = join(dir.path, 'tokens');
    writeFileSync(tokenFile, TOKEN_FILE_TEXT);
    // trace: the most the daemon ever logs, so the "never logged" check below covers every line.
    daemon = await startDaemon(join(dir.path, 'data'), ['--auth-token-file', tokenFile, '--log-level', 'trace']);
  });

  afterAll(async () => {
    await daemon?.terminate();
    dir.cleanup();
  });

  it('refuses a hello without a token, and a request without a hello, with UNAUTHORIZED and a close', async () => {
    const missing = await RawClient.connect(daemon.port, { hello: false });
    expect((await missing.request({ op: 'hello', version: 1 })).error.code).toBe('UNAUTHORIZED');
    await missing.closed;

    const skipped = await RawClient.connect(daemon.port, { hello: false });
    const reply = await skipped.request({ op: 'produce', topic: 'guarded', value: Buffer.from('no hello') });
    expect(reply.error.code).toBe('UNAUTHORIZED');
    await skipped.closed;
  });

  it('answers every request pipelined behind a wrong-token hello with UNAUTHORIZED and writes nothing', async () => {
    const bad = await RawClient.connect(daemon.port, { hello: false });
    // One write, so the broker reads the hello and the requests behind it together.
    bad.writeRaw(
      Buffer.concat([
        encodeFrame({ op: 'hello', id: 1, version: 1, token: WRONG }),
        encodeFrame({ op: 'produce', id: 2, topic: 'guarded', value: Buffer.from('sneaky') }),
        encodeFrame({ op: 'createTopic', id: 3, topic: 'guarded-created' }),
        encodeFrame({ op: 'hello', id: 4, version: 1, token: TOKEN_A }),
        encodeFrame({ op: 'produce', id: 5, topic: 'guarded', value: Buffer.from('after a good hello') }),
      ]),
    );
    await bad.closed;
    expect(bad.received.map((r) => [r.id, r.ok ?? false, r.error?.code])).toEqual([1, 2, 3, 4, 5].map((id) => [id, false, 'UNAUTHORIZED']));

    const good = await helloed(daemon.port, TOKEN_A);
    const topics = (await good.request({ op: 'listTopics' })).topics as string[];
    expect(topics).not.toContain('guarded');
    expect(topics).not.toContain('guarded-created');
    const fetched = await good.request({ op: 'fetch', topic: 'guarded', offset: 0 });
    expect(fetched.records ?? []).toEqual([]);
    good.close();
  });

  it('accepts the first and the second token of the file', async () => {
    const a = await helloed(daemon.port, TOKEN_A);
    expect((await a.request({ op: 'produce', topic: 'shared', value: Buffer.from('from a') })).ok).toBe(true);
    a.close();
    const b = await helloed(daemon.port, TOKEN_B);
    const fetched = await b.request({ op: 'fetch', topic: 'shared', offset: 0 });
    expect(fetched.records.map((r: { value: Uint8Array }) => Buffer.from(r.value).toString())).toEqual(['from a']);
    b.close();
  });

  it('SDK: a wrong token rejects connect() with UNAUTHORIZED; a listed one round-trips', async () => {
    await expect(connect({ port: daemon.port, token: WRONG, reconnect: false })).rejects.toMatchObject({ code: 'UNAUTHORIZED', retriable: false });
    const client = await connect({ port: daemon.port, token: TOKEN_B });
    try {
      const sent = await client.producer().send('sdk-auth', Buffer.from('hi'));
      expect(sent.offset).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('never writes a token, accepted or refused, to stdout or stderr', async () => {
    // The refused attempts above logged their refusal (a warn line), without the token.
    expect(daemon.lines.some((line) => line.includes('refused: no valid auth token'))).toBe(true);
    expect(daemon.lines.find((line) => JSON.parse(line).msg === 'listening')).toContain('"authTokens":2');
    expect(await daemon.terminate()).toBe(0);
    const output = `${daemon.lines.join('\n')}\n${daemon.stderr()}`;
    for (const token of [TOKEN_A, TOKEN_B, WRONG]) expect(output).not.toContain(token);
  });
});

describe('auth token file: env fallback and refusals at start', () => {
  it('takes WALRUS_AUTH_TOKEN_FILE when the flag is absent', async () => {
    const dir = tempDir();
    const tokenFile = join(dir.path, 'tokens');
    writeFileSync(tokenFile, `${TOKEN_A}\n`);
    const previous = process.env.WALRUS_AUTH_TOKEN_FILE;
    process.env.WALRUS_AUTH_TOKEN_FILE = tokenFile;
    let daemon: Daemon | undefined;
    try {
      daemon = await startDaemon(join(dir.path, 'data'));
      const refused = await RawClient.connect(daemon.port, { hello: false });
      expect((await refused.request({ op: 'hello', version: 1, token: TOKEN_B })).error.code).toBe('UNAUTHORIZED');
      (await helloed(daemon.port, TOKEN_A)).close();
    } finally {
      if (previous === undefined) delete process.env.WALRUS_AUTH_TOKEN_FILE;
      else process.env.WALRUS_AUTH_TOKEN_FILE = previous;
      await daemon?.terminate();
      dir.cleanup();
    }
  });

  it('does not start on a token file that lists no token, or that is missing', async () => {
    const dir = tempDir();
    const empty = join(dir.path, 'empty');
    writeFileSync(empty, '# nothing yet\n\n');
    try {
      await expect(startDaemon(join(dir.path, 'data'), ['--auth-token-file', empty])).rejects.toThrow(/lists no token/);
      await expect(startDaemon(join(dir.path, 'data'), ['--auth-token-file', join(dir.path, 'absent')])).rejects.toThrow(/auth token file .*absent/);
    } finally {
      dir.cleanup();
    }
  });
});
