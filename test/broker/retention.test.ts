/**
 * Retention caps through the protocol: createTopic {retentionBytes} reclaims whole sealed blocks even
 * though no group has committed, describeTopic reports the cap and the moved first offset, and a
 * group's next fetch starts at the first retained offset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyTempDir, RawClient, startDaemon } from './harness.js';
import type { Daemon } from './harness.js';

describe('retention caps', () => {
  const dir = lazyTempDir();
  let daemon: Daemon;
  let client: RawClient;

  beforeAll(async () => {
    // none: no fdatasync per batch and sparse segments, so 12 MiB go in quickly.
    daemon = await startDaemon(dir.path, ['--fsync', 'none', '--metrics-port', '0']);
    client = await RawClient.connect(daemon.port);
  });
  afterAll(async () => {
    client?.close();
    await daemon?.terminate();
    dir.cleanup();
  });

  it('createTopic with retentionBytes reclaims old blocks with no commit, and a group resumes at the first retained offset', async () => {
    expect(await client.request({ op: 'createTopic', topic: 'capped', retentionBytes: 1024 * 1024 })).toMatchObject({ ok: true, created: true });
    // Before anything is produced, a group takes its place at offset 0.
    expect(await client.request({ op: 'fetch', topic: 'capped', group: 'slow', maxRecords: 1 })).toMatchObject({ ok: true });
    const value = Buffer.alloc(8 * 1024, 7);
    for (let i = 0; i < 12; i++) {
      const records = Array.from({ length: 128 }, () => ({ value }));
      expect(await client.request({ op: 'produceBatch', topic: 'capped', records })).toMatchObject({ ok: true });
    }
    let described: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      described = await client.request({ op: 'describeTopic', topic: 'capped' });
      if ((described.firstOffset as number) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(described).toMatchObject({ ok: true, retentionBytes: 1024 * 1024, nextOffset: 12 * 128 });
    const firstOffset = described.firstOffset as number;
    expect(firstOffset).toBeGreaterThan(0);
    // Whole 4 MiB blocks go: at least the cap stays, at most the cap plus a block plus the active one.
    expect(described.bytes as number).toBeGreaterThanOrEqual(1024 * 1024);
    expect(described.bytes as number).toBeLessThanOrEqual(1024 * 1024 + 2 * 4 * 1024 * 1024 + 64 * 1024);
    const fetched = await client.request({ op: 'fetch', topic: 'capped', group: 'other', maxRecords: 1 });
    expect((fetched.records as Array<{ offset: number }>)[0].offset).toBe(firstOffset);
    const slow = await client.request({ op: 'fetch', topic: 'capped', group: 'slow', maxRecords: 1 });
    expect((slow.records as Array<{ offset: number }>)[0].offset).toBe(firstOffset);
    // The group that fell behind is reported: a metric, and a warning in the broker's log.
    const metricsPort = daemon.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'listening')?.metricsPort;
    const text = await (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
    const skipped = /walrus_retention_skipped_records_total\{topic="capped",group="slow"\} (\d+)/.exec(text);
    expect(Number(skipped?.[1])).toBe(firstOffset);
    expect(daemon.lines.some((l) => l.includes('group fell behind retention'))).toBe(true);
    // A cap of 0 is refused.
    expect(await client.request({ op: 'createTopic', topic: 'capped', retentionMs: 0 })).toMatchObject({ ok: false });
  });
});
