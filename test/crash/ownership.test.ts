/**
 * Ownership of a data dir: a second broker on a dir a live broker owns refuses to start, says why,
 * and leaves the first one serving; once the owner is SIGKILLed, a new broker takes the stale lock
 * over. (The engine-level two-process lock test is test/engine/crash-recovery.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerDaemon } from '../support/broker-daemon.js';
import { RawPeer } from '../support/raw-peer.js';

const work = fs.mkdtempSync(join(os.tmpdir(), 'walrus-ownership-'));
const daemons: BrokerDaemon[] = [];

afterAll(async () => {
  for (const d of daemons) await d.kill9();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('one broker per data dir', () => {
  it('a second broker on the same data dir refuses to start with a clear message; the first keeps serving', async () => {
    const dataDir = join(work, 'data');
    const first = new BrokerDaemon(dataDir, ['--fsync', 'sync-each']);
    daemons.push(first);
    await first.start();
    const peer = await RawPeer.connect(first.port, 'owner-check');
    expect((await peer.request({ op: 'produce', topic: 't', value: Buffer.from('before') })).ok).toBe(true);

    const second = new BrokerDaemon(dataDir, ['--fsync', 'sync-each']);
    daemons.push(second);
    const refused = await second.start().then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refused, 'the second broker started on a data dir in use').not.toBeNull();
    expect(await second.exited).not.toBe(0);
    const said = second.lines.join('\n');
    expect(said).toMatch(/LOCKED/);
    expect(said).toContain(dataDir);
    expect(said).toMatch(/in use by process \d+/);

    const after = await peer.request({ op: 'produce', topic: 't', value: Buffer.from('after') });
    expect(after.ok, JSON.stringify(after.error)).toBe(true);
    expect(after.offset).toBe(1);
    peer.close();

    // The owner dies without releasing the lock: the next broker recognises it as stale and starts.
    await first.kill9();
    const third = new BrokerDaemon(dataDir, ['--fsync', 'sync-each']);
    daemons.push(third);
    await third.start();
    const reader = await RawPeer.connect(third.port, 'owner-check-2');
    const fetched = await reader.request({ op: 'fetch', topic: 't', offset: 0 });
    expect(fetched.ok).toBe(true);
    expect((fetched.records as { value: Uint8Array }[]).map((r) => Buffer.from(r.value).toString())).toEqual(['before', 'after']);
    reader.close();
  });
});
