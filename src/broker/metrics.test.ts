import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConsumerGroup } from './consumer-group.js';
import { startHttpEndpoints } from './http-endpoints.js';
import { BrokerMetrics, NO_METRICS } from './metrics.js';
import type { MetricsSources } from './metrics.js';
import type { TopicStats } from './engine-port.js';

/** Sources with one topic `t` of 10 records, a loaded group `g` and an engine-only cursor `old`. */
function sources(group: ConsumerGroup): MetricsSources {
  const stats: TopicStats = { firstOffset: 0, nextOffset: 10, bytes: 1234, cursors: { g: 0, old: 4, __checkpoint: 0 }, config: {} };
  return {
    engine: {
      topics: () => ['t'],
      topicStats: () => Promise.resolve(stats),
      backend: { name: 'fs', reason: 'test' },
    },
    loadedGroups: () => [group],
    connectionCount: () => 3,
    queuedReplyBytes: () => 4096,
  };
}

describe('BrokerMetrics', () => {
  it('counts into plain numbers and renders them on scrape', async () => {
    const clock = { ms: 100 };
    const metrics = new BrokerMetrics({ monotonicMs: () => clock.ms });
    const start = metrics.startTimer();
    clock.ms += 2;
    metrics.produced('t', 3, 30, start);
    metrics.produced('t', 1, 5, start);
    metrics.fetched('t', [{ offset: 0, timestamp: 0, value: new Uint8Array(7) }]);
    metrics.committed('t', 'g');
    metrics.redelivered('t', 'g', 2);
    metrics.requestFinished('produce', start);
    metrics.requestFailed('commit', 'NOT_FOUND');
    const text = await metrics.scrape();
    expect(text).toContain('walrus_produce_requests_total{topic="t"} 2');
    expect(text).toContain('walrus_produced_records_total{topic="t"} 4');
    expect(text).toContain('walrus_produced_bytes_total{topic="t"} 35');
    expect(text).toContain('walrus_fetched_bytes_total{topic="t"} 7');
    expect(text).toContain('walrus_commit_requests_total{topic="t",group="g"} 1');
    expect(text).toContain('walrus_redeliveries_total{topic="t",group="g"} 2');
    expect(text).toContain('walrus_request_errors_total{op="commit",code="NOT_FOUND"} 1');
    expect(text).toContain('walrus_request_duration_seconds_bucket{op="produce",le="0.0025"} 1');
    expect(text).toContain('walrus_request_duration_seconds_bucket{op="produce",le="0.001"} 0');
    expect(text).toContain('walrus_request_duration_seconds_bucket{op="produce",le="+Inf"} 1');
    expect(text).toContain('walrus_request_duration_seconds_count{op="produce"} 1');
    expect(text).toContain('walrus_append_durable_seconds_count 2');
    expect(text).toContain('walrus_append_durable_seconds_sum 0.004');
    // Not bound yet: no gauges read, no backend.
    expect(text).not.toContain('walrus_io_backend_info{');
  });

  it('reads gauges from the sources on scrape, skipping the log-internal cursors', async () => {
    const group = new ConsumerGroup('t', 'g', 0);
    group.beginHandOut(3, 10);
    const metrics = new BrokerMetrics();
    metrics.bind(sources(group));
    const text = await metrics.scrape();
    expect(text).toContain('walrus_group_lag_records{topic="t",group="g"} 10');
    expect(text).toContain('walrus_group_lag_records{topic="t",group="old"} 6');
    expect(text).toContain('walrus_group_in_flight_records{topic="t",group="old"} 0');
    expect(text).not.toContain('__checkpoint');
    expect(text).toContain('walrus_topic_disk_bytes{topic="t"} 1234');
    expect(text).toContain('walrus_connections 3');
    expect(text).toContain('walrus_queued_reply_bytes 4096');
    expect(text).toContain('walrus_io_backend_info{backend="fs"} 1');
  });

  it('forgets a deleted topic', async () => {
    const metrics = new BrokerMetrics();
    metrics.produced('gone', 1, 1, metrics.startTimer());
    metrics.committed('gone', 'g');
    metrics.topicDeleted('gone');
    const text = await metrics.scrape();
    expect(text).not.toContain('topic="gone"');
  });

  it('two instances do not share a registry', async () => {
    const a = new BrokerMetrics();
    const b = new BrokerMetrics();
    a.produced('x', 1, 1, a.startTimer());
    expect(await a.scrape()).toContain('walrus_produced_records_total{topic="x"} 1');
    expect(await b.scrape()).not.toContain('topic="x"');
  });

  it('NO_METRICS does nothing and times nothing', () => {
    expect(NO_METRICS.startTimer()).toBe(0);
    NO_METRICS.produced('t', 1, 1, 0);
    NO_METRICS.fetched('t', []);
  });
});

describe('HTTP endpoints', () => {
  it('/readyz follows isReady (503 while starting or stopping); /healthz is always 200; only GET and HEAD', async () => {
    const state = { ready: false };
    const http = await startHttpEndpoints({
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      isReady: () => state.ready,
      scrape: () => Promise.resolve('walrus_x 1\n'),
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
    });
    const url = (path: string): string => `http://127.0.0.1:${http.port}${path}`;
    try {
      expect((await fetch(url('/readyz'))).status).toBe(503);
      expect((await fetch(url('/healthz'))).status).toBe(200);
      state.ready = true;
      expect((await fetch(url('/readyz'))).status).toBe(200);
      const metrics = await fetch(url('/metrics?x=1'));
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toBe('walrus_x 1\n');
      expect((await fetch(url('/metrics'), { method: 'POST', body: 'x' })).status).toBe(405);
      expect((await fetch(url('/'))).status).toBe(404);
    } finally {
      await http.close();
      await http.close();
    }
  });

  it('a failing scrape answers 500', async () => {
    const http = await startHttpEndpoints({
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      isReady: () => true,
      scrape: () => Promise.reject(new Error('boom')),
      contentType: 'text/plain',
    });
    try {
      expect((await fetch(`http://127.0.0.1:${http.port}/metrics`)).status).toBe(500);
    } finally {
      await http.close();
    }
  });
});
