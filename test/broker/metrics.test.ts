/**
 * Metrics and health against the real daemon (`--metrics-port 0`): produced and fetched counts and
 * bytes, group lag and in-flight after a fetch without commit, redeliveries after a member leaves,
 * the I/O backend, /healthz and /readyz. Then two in-process brokers, to show each serves only its
 * own numbers (a registry per broker, not prom-client's global one).
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/index.js';
import { MsgpackWriter, writeProduceBlob } from '../../src/protocol/index.js';
import { bin, daemonCommand, lazyTempDir, RawClient, startDaemon, tempDir } from './harness.js';
import type { Daemon } from './harness.js';

/** GET on the metrics port: status and body. */
function get(port: number, path: string): Promise<{ status: number; body: string; contentType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Value of the sample `name{labels}` in Prometheus text, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]] = pair[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v) && Object.keys(found).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

async function scrape(port: number): Promise<string> {
  const reply = await get(port, '/metrics');
  expect(reply.status).toBe(200);
  expect(reply.contentType).toMatch(/^text\/plain/);
  return reply.body;
}

describe('metrics and health endpoints of the daemon', () => {
  const dir = lazyTempDir();
  let daemon: Daemon;
  let metricsPort: number;
  let backend: string;

  beforeAll(async () => {
    daemon = await startDaemon(dir.path, ['--metrics-port', '0']);
    const listening = daemon.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'listening');
    metricsPort = listening?.metricsPort as number;
    backend = listening?.backend as string;
    expect(typeof metricsPort).toBe('number');
  });

  afterAll(async () => {
    if (daemon) await daemon.terminate();
    dir.cleanup();
  });

  it('/healthz and /readyz answer 200 while the broker runs; other paths 404', async () => {
    expect((await get(metricsPort, '/healthz')).status).toBe(200);
    expect((await get(metricsPort, '/readyz')).status).toBe(200);
    expect((await get(metricsPort, '/nope')).status).toBe(404);
  });

  it('counts produced records and value bytes per topic, and reports disk bytes and the backend', async () => {
    const client = await RawClient.connect(daemon.port);
    for (let i = 0; i < 5; i++) expect((await client.request({ op: 'produce', topic: 'orders', value: bin('abc') })).ok).toBe(true);
    const records = Array.from({ length: 10 }, () => ({ value: bin('hello') }));
    expect((await client.request({ op: 'produceBatch', topic: 'orders', records })).ok).toBe(true);

    const text = await scrape(metricsPort);
    expect(sample(text, 'walrus_produce_requests_total', { topic: 'orders' })).toBe(6);
    expect(sample(text, 'walrus_produced_records_total', { topic: 'orders' })).toBe(15);
    expect(sample(text, 'walrus_produced_bytes_total', { topic: 'orders' })).toBe(5 * 3 + 10 * 5);
    expect(sample(text, 'walrus_topic_next_offset', { topic: 'orders' })).toBe(15);
    expect(sample(text, 'walrus_topic_disk_bytes', { topic: 'orders' })).toBeGreaterThanOrEqual(65);
    expect(sample(text, 'walrus_request_duration_seconds_count', { op: 'produce' })).toBe(5);
    expect(sample(text, 'walrus_request_duration_seconds_count', { op: 'produceBatch' })).toBe(1);
    expect(sample(text, 'walrus_append_durable_seconds_count')).toBe(6);
    // Under the daemon's default --fsync sync-each every acknowledged produce went through a group fdatasync.
    expect(sample(text, 'walrus_fdatasync_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'walrus_io_backend_info', { backend })).toBe(1);
    expect(sample(text, 'walrus_connections')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'walrus_queued_reply_bytes')).toBeGreaterThanOrEqual(0);
    client.close();
  });

  it('counts a recordsBlob produceBatch as the same records sent as records (value bytes)', async () => {
    const client = await RawClient.connect(daemon.port);
    const records = [{ value: bin('hello') }, { value: bin('ab'), key: bin('key'), headers: { h: 'x' } }, { value: Buffer.alloc(0), key: bin('k') }];
    const w = new MsgpackWriter(64);
    writeProduceBlob(w, records);
    const recordsBlob = Buffer.from(w.buffer.subarray(5, w.position));
    expect((await client.request({ op: 'produceBatch', topic: 'm-records', records })).ok).toBe(true);
    expect((await client.request({ op: 'produceBatch', topic: 'm-blob', recordsBlob })).ok).toBe(true);
    const text = await scrape(metricsPort);
    for (const topic of ['m-records', 'm-blob']) {
      expect(sample(text, 'walrus_produced_records_total', { topic })).toBe(3);
      expect(sample(text, 'walrus_produced_bytes_total', { topic })).toBe(7);
    }
    client.close();
  });

  it('reports group lag and in-flight after a fetch without commit, then lag 0 after the commit', async () => {
    const client = await RawClient.connect(daemon.port);
    const records = Array.from({ length: 8 }, (_, i) => ({ value: bin(`v${i}`) }));
    expect((await client.request({ op: 'produceBatch', topic: 'lagging', records })).ok).toBe(true);
    const fetched = await client.request({ op: 'fetch', topic: 'lagging', group: 'billing', maxRecords: 100 });
    expect(fetched.records).toHaveLength(8);

    const before = await scrape(metricsPort);
    expect(sample(before, 'walrus_group_lag_records', { topic: 'lagging', group: 'billing' })).toBe(8);
    expect(sample(before, 'walrus_group_in_flight_records', { topic: 'lagging', group: 'billing' })).toBe(8);
    expect(sample(before, 'walrus_fetch_requests_total', { topic: 'lagging' })).toBe(1);
    expect(sample(before, 'walrus_fetched_records_total', { topic: 'lagging' })).toBe(8);
    expect(sample(before, 'walrus_fetched_bytes_total', { topic: 'lagging' })).toBe(8 * 2);

    expect((await client.request({ op: 'commit', topic: 'lagging', group: 'billing', offset: 8 })).ok).toBe(true);
    const after = await scrape(metricsPort);
    expect(sample(after, 'walrus_group_lag_records', { topic: 'lagging', group: 'billing' })).toBe(0);
    expect(sample(after, 'walrus_group_in_flight_records', { topic: 'lagging', group: 'billing' })).toBe(0);
    expect(sample(after, 'walrus_commit_requests_total', { topic: 'lagging', group: 'billing' })).toBe(1);
    client.close();
  });

  it('counts redeliveries when a member disconnects holding leases, and request errors by code', async () => {
    const producer = await RawClient.connect(daemon.port);
    const records = Array.from({ length: 4 }, (_, i) => ({ value: bin(`x${i}`) }));
    expect((await producer.request({ op: 'produceBatch', topic: 'flaky', records })).ok).toBe(true);
    const first = await RawClient.connect(daemon.port);
    expect((await first.request({ op: 'fetch', topic: 'flaky', group: 'workers', maxRecords: 100 })).records).toHaveLength(4);
    first.close();
    const second = await RawClient.connect(daemon.port);
    // The long-poll answers once the broker has seen the close and released the leases.
    const again = await second.request({ op: 'fetch', topic: 'flaky', group: 'workers', maxRecords: 100, maxWaitMs: 20_000 });
    expect(again.records).toHaveLength(4);
    const missing = await second.request({ op: 'commit', topic: 'no-such-topic', group: 'workers', offset: 1 });
    expect(missing.error.code).toBe('NOT_FOUND');

    const text = await scrape(metricsPort);
    expect(sample(text, 'walrus_redeliveries_total', { topic: 'flaky', group: 'workers' })).toBe(4);
    expect(sample(text, 'walrus_request_errors_total', { op: 'commit', code: 'NOT_FOUND' })).toBe(1);
    producer.close();
    second.close();
  });
});

describe('metrics of two brokers in one process', () => {
  it('each broker serves only its own numbers; no metrics port unless asked', async () => {
    const dirs = [tempDir(), tempDir(), tempDir()];
    const logger = pino({ level: 'silent' });
    const a = await startBroker({ dataDir: dirs[0].path, port: 0, metricsPort: 0, logger });
    const b = await startBroker({ dataDir: dirs[1].path, port: 0, metricsPort: 0, logger });
    const off = await startBroker({ dataDir: dirs[2].path, port: 0, logger });
    try {
      expect(off.metricsPort).toBeUndefined();
      const client = await RawClient.connect(a.port);
      expect((await client.request({ op: 'produce', topic: 'only-a', value: bin('1234') })).ok).toBe(true);
      client.close();
      const textA = await scrape(a.metricsPort!);
      const textB = await scrape(b.metricsPort!);
      expect(sample(textA, 'walrus_produced_records_total', { topic: 'only-a' })).toBe(1);
      expect(sample(textA, 'walrus_produced_bytes_total', { topic: 'only-a' })).toBe(4);
      expect(sample(textB, 'walrus_produced_records_total', { topic: 'only-a' })).toBeUndefined();
      expect((await get(b.metricsPort!, '/readyz')).status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop(), off.stop()]);
      for (const d of dirs) d.cleanup();
    }
  });
});

describe('--metrics-port on the command line', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const run = (args: string[]) =>
    spawnSync(process.execPath, [...daemonCommand(), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, WALRUS_METRICS_PORT: '' }, timeout: 30_000 });

  it('is documented in --help and rejects bad values with exit code 1', () => {
    expect(run(['--help']).stdout).toContain('--metrics-port');
    const dir = tempDir();
    try {
      for (const value of ['x', '65536', '-1']) {
        const out = run(['--data-dir', dir.path, '--port', '0', '--metrics-port', value]);
        expect(out.status, value).toBe(1);
        expect(out.stdout).toContain('failed to start');
      }
    } finally {
      dir.cleanup();
    }
  });

  it('falls back to WALRUS_METRICS_PORT', async () => {
    const dir = tempDir();
    const previous = process.env.WALRUS_METRICS_PORT;
    process.env.WALRUS_METRICS_PORT = '0';
    try {
      const daemon = await startDaemon(dir.path);
      const listening = daemon.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'listening');
      expect(typeof listening?.metricsPort).toBe('number');
      expect((await get(listening?.metricsPort as number, '/healthz')).status).toBe(200);
      expect(await daemon.terminate()).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.WALRUS_METRICS_PORT;
      else process.env.WALRUS_METRICS_PORT = previous;
      dir.cleanup();
    }
  });
});
