/**
 * Broker metrics for Prometheus (`--metrics-port`, served by http-endpoints.ts).
 *
 * Cost model: the request paths call a `MetricsRecorder`. With metrics off that is `NO_METRICS`, a
 * set of empty functions. With metrics on, counters are plain numbers in per-topic and per-group
 * records (one Map lookup and an addition per call; no label hashing), copied into prom-client
 * metrics only when someone scrapes. Gauges (lag, in-flight, disk bytes, connections, queued bytes)
 * are not kept at all between scrapes: `scrape()` reads them from the engine, the group registry and
 * the connections. The two histograms are `LatencyHistogram`s (plain counts; prom-client's `observe`
 * costs 300–700 ns, see latency-histogram.ts), appended to the registry's text on scrape.
 * Measured for the recorder calls of one produce (startTimer, produced, requestFinished; 2 M calls,
 * Node 20): 0.18–0.31 µs, most of it three `performance.now()`; 1.5–1.6 µs with prom-client
 * histograms; 16–32 ns with NO_METRICS.
 *
 * Every broker owns its own `Registry` (never prom-client's global one), so two brokers can run in
 * one process and each serves only its own numbers.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import type { FetchedRecord } from '../protocol/index.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { BrokerEngine } from './engine-port.js';
import { LatencyHistogram } from './latency-histogram.js';

/** What the broker's request paths report. Implementations must not throw. */
export interface MetricsRecorder {
  /** A monotonic start mark (ms) for a later call that takes `startMs`; 0 when metrics are off. */
  startTimer(): number;
  /** A request (any op) finished, successfully or not, after starting at `startMs`. */
  requestFinished(op: string, startMs: number): void;
  /** A request failed with the error `code` (from the protocol's error table). */
  requestFailed(op: string, code: string): void;
  /** A produce or produceBatch of `records` records with `bytes` value bytes was acknowledged. */
  produced(topic: string, records: number, bytes: number, startMs: number): void;
  /** A fetch answered with `records`. */
  fetched(topic: string, records: readonly FetchedRecord[]): void;
  /** A commit of `group` on `topic` was served. */
  committed(topic: string, group: string): void;
  /** `records` records of `group` were handed out again (after a lease expired or a member left). */
  redelivered(topic: string, group: string, records: number): void;
  /** `records` records were reclaimed by a retention cap before `group` was handed them. */
  retentionSkipped(topic: string, group: string, records: number): void;
  /** Forgets the counters of a deleted topic. */
  topicDeleted(topic: string): void;
  /** The engine finished a group fdatasync that took `durationMs`. */
  synced(durationMs: number): void;
}

/** Metrics off: every call is empty. */
export const NO_METRICS: MetricsRecorder = Object.freeze({
  startTimer: () => 0,
  synced: () => {},
  requestFinished: () => {},
  requestFailed: () => {},
  produced: () => {},
  fetched: () => {},
  committed: () => {},
  redelivered: () => {},
  retentionSkipped: () => {},
  topicDeleted: () => {},
});

/** Where gauges are read from at scrape time; bound once the engine is open. */
export interface MetricsSources {
  readonly engine: Pick<BrokerEngine, 'topics' | 'topicStats' | 'backend'>;
  /** Every consumer group loaded in memory (the others are read from the engine's cursors). */
  loadedGroups(): Iterable<ConsumerGroup>;
  connectionCount(): number;
  /** Reply bytes queued in all connections (socket buffers plus not yet flushed). */
  queuedReplyBytes(): number;
}

/** Options of `BrokerMetrics`. */
export interface BrokerMetricsOptions {
  /** Monotonic clock in ms for latencies. Default `performance.now`. */
  monotonicMs?: () => number;
}

/** Request latency buckets, seconds: sub-millisecond produces up to long-polls of half a minute. */
const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Append-to-durable buckets, seconds: an fdatasync on SSD is 0.1–5 ms, on a busy disk far more. */
const APPEND_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Counters of one topic, plain numbers between scrapes. */
interface TopicCounts {
  produceRequests: number;
  producedRecords: number;
  producedBytes: number;
  fetchRequests: number;
  fetchedRecords: number;
  fetchedBytes: number;
}

/** Counters of one group on one topic. */
interface GroupCounts {
  readonly topic: string;
  readonly group: string;
  commitRequests: number;
  redeliveries: number;
  retentionSkipped: number;
}

/** The prom-client side of the metrics: a registry per broker. */
export class BrokerMetrics implements MetricsRecorder {
  readonly registry = new Registry();
  private readonly monotonicMs: () => number;
  private sources: MetricsSources | undefined;
  private readonly topicCounts = new Map<string, TopicCounts>();
  private readonly groupCounts = new Map<string, GroupCounts>();
  /** Scrapes run one after another: each resets and refills the same metrics. */
  private scrapes: Promise<unknown> = Promise.resolve();

  private readonly produceRequests: Counter<'topic'>;
  private readonly producedRecords: Counter<'topic'>;
  private readonly producedBytes: Counter<'topic'>;
  private readonly fetchRequests: Counter<'topic'>;
  private readonly fetchedRecords: Counter<'topic'>;
  private readonly fetchedBytes: Counter<'topic'>;
  private readonly commitRequests: Counter<'topic' | 'group'>;
  private readonly redeliveries: Counter<'topic' | 'group'>;
  private readonly retentionSkippedRecords: Counter<'topic' | 'group'>;
  private readonly requestErrors: Counter<'op' | 'code'>;
  private readonly requestSeconds: LatencyHistogram;
  private readonly appendDurableSeconds: LatencyHistogram;
  private readonly fdatasyncSeconds: LatencyHistogram;
  private readonly groupLag: Gauge<'topic' | 'group'>;
  private readonly groupInFlight: Gauge<'topic' | 'group'>;
  private readonly topicDiskBytes: Gauge<'topic'>;
  private readonly topicNextOffset: Gauge<'topic'>;
  private readonly connections: Gauge<string>;
  private readonly queuedReplyBytes: Gauge<string>;
  private readonly ioBackend: Gauge<'backend'>;

  constructor(options: BrokerMetricsOptions = {}) {
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> =>
      new Gauge<L>({ name, help, labelNames, registers });
    this.produceRequests = counter('walrus_produce_requests_total', 'produce and produceBatch requests acknowledged', ['topic']);
    this.producedRecords = counter('walrus_produced_records_total', 'Records appended by produce requests', ['topic']);
    this.producedBytes = counter('walrus_produced_bytes_total', 'Record value bytes appended by produce requests', ['topic']);
    this.fetchRequests = counter('walrus_fetch_requests_total', 'fetch requests answered', ['topic']);
    this.fetchedRecords = counter('walrus_fetched_records_total', 'Records returned by fetch requests', ['topic']);
    this.fetchedBytes = counter('walrus_fetched_bytes_total', 'Record value bytes returned by fetch requests', ['topic']);
    this.commitRequests = counter('walrus_commit_requests_total', 'commit requests served', ['topic', 'group']);
    this.redeliveries = counter('walrus_redeliveries_total', 'Records handed out again after a lease expired or a member disconnected', ['topic', 'group']);
    this.retentionSkippedRecords = counter(
      'walrus_retention_skipped_records_total',
      'Records a retention cap reclaimed before the group was handed them (the group fell behind retention)',
      ['topic', 'group'],
    );
    this.requestErrors = counter('walrus_request_errors_total', 'Requests answered with an error, by error code', ['op', 'code']);
    this.requestSeconds = new LatencyHistogram(
      'walrus_request_duration_seconds',
      'Time from a request being read to its reply being queued (a fetch includes its long-poll wait)',
      REQUEST_SECONDS_BUCKETS,
      'op',
    );
    this.appendDurableSeconds = new LatencyHistogram(
      'walrus_append_durable_seconds',
      'Time from the broker handing a produce to the engine until the engine acknowledges it (includes the group fdatasync under --fsync sync-each)',
      APPEND_SECONDS_BUCKETS,
    );
    this.fdatasyncSeconds = new LatencyHistogram(
      'walrus_fdatasync_seconds',
      'Wall time of one group fdatasync of the engine (all files touched by a commit cycle, synced in parallel)',
      APPEND_SECONDS_BUCKETS,
    );
    this.groupLag = gauge('walrus_group_lag_records', 'Records between the group committed cursor and the end of the topic', ['topic', 'group']);
    this.groupInFlight = gauge('walrus_group_in_flight_records', 'Records leased to group members and not yet committed', ['topic', 'group']);
    this.topicDiskBytes = gauge('walrus_topic_disk_bytes', 'Payload and header bytes the log retains on disk for the topic', ['topic']);
    this.topicNextOffset = gauge('walrus_topic_next_offset', 'Offset the next record appended to the topic will get', ['topic']);
    this.connections = gauge('walrus_connections', 'Open client connections', []);
    this.queuedReplyBytes = gauge('walrus_queued_reply_bytes', 'Reply bytes queued in all connections and not yet taken by the kernel', []);
    this.ioBackend = gauge('walrus_io_backend_info', 'Engine file I/O backend in use (value is always 1)', ['backend']);
  }

  /** Binds the gauge sources (once the engine is open); scrapes before that report counters only. */
  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Prometheus text exposition content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the gauges, copies the counters and renders the Prometheus text. */
  scrape(): Promise<string> {
    const next = this.scrapes.then(() => this.render());
    this.scrapes = next.catch(() => undefined);
    return next;
  }

  startTimer(): number {
    return this.monotonicMs();
  }

  synced(durationMs: number): void {
    this.fdatasyncSeconds.observe(durationMs / 1000);
  }

  requestFinished(op: string, startMs: number): void {
    this.requestSeconds.observe((this.monotonicMs() - startMs) / 1000, op);
  }

  requestFailed(op: string, code: string): void {
    this.requestErrors.inc({ op, code });
  }

  produced(topic: string, records: number, bytes: number, startMs: number): void {
    this.appendDurableSeconds.observe((this.monotonicMs() - startMs) / 1000);
    const t = this.topic(topic);
    t.produceRequests++;
    t.producedRecords += records;
    t.producedBytes += bytes;
  }

  fetched(topic: string, records: readonly FetchedRecord[]): void {
    let bytes = 0;
    for (let i = 0; i < records.length; i++) bytes += records[i].value.length;
    const t = this.topic(topic);
    t.fetchRequests++;
    t.fetchedRecords += records.length;
    t.fetchedBytes += bytes;
  }

  committed(topic: string, group: string): void {
    this.group(topic, group).commitRequests++;
  }

  redelivered(topic: string, group: string, records: number): void {
    this.group(topic, group).redeliveries += records;
  }

  retentionSkipped(topic: string, group: string, records: number): void {
    this.group(topic, group).retentionSkipped += records;
  }

  topicDeleted(topic: string): void {
    this.topicCounts.delete(topic);
    for (const [key, g] of this.groupCounts) if (g.topic === topic) this.groupCounts.delete(key);
  }

  private topic(name: string): TopicCounts {
    let t = this.topicCounts.get(name);
    if (t === undefined) {
      t = { produceRequests: 0, producedRecords: 0, producedBytes: 0, fetchRequests: 0, fetchedRecords: 0, fetchedBytes: 0 };
      this.topicCounts.set(name, t);
    }
    return t;
  }

  private group(topic: string, group: string): GroupCounts {
    // '/' never appears in a valid topic or group name, so the key is unambiguous.
    const key = `${topic}/${group}`;
    let g = this.groupCounts.get(key);
    if (g === undefined) {
      g = { topic, group, commitRequests: 0, redeliveries: 0, retentionSkipped: 0 };
      this.groupCounts.set(key, g);
    }
    return g;
  }

  private async render(): Promise<string> {
    this.copyCounters();
    await this.readGauges();
    const text = await this.registry.metrics();
    return text + this.requestSeconds.render() + this.appendDurableSeconds.render() + this.fdatasyncSeconds.render();
  }

  private copyCounters(): void {
    const perTopic: Array<[Counter<'topic'>, keyof TopicCounts]> = [
      [this.produceRequests, 'produceRequests'],
      [this.producedRecords, 'producedRecords'],
      [this.producedBytes, 'producedBytes'],
      [this.fetchRequests, 'fetchRequests'],
      [this.fetchedRecords, 'fetchedRecords'],
      [this.fetchedBytes, 'fetchedBytes'],
    ];
    for (const [metric, field] of perTopic) {
      metric.reset();
      for (const [topic, counts] of this.topicCounts) metric.inc({ topic }, counts[field]);
    }
    this.commitRequests.reset();
    this.redeliveries.reset();
    this.retentionSkippedRecords.reset();
    for (const g of this.groupCounts.values()) {
      const labels = { topic: g.topic, group: g.group };
      if (g.retentionSkipped > 0) this.retentionSkippedRecords.inc(labels, g.retentionSkipped);
      if (g.commitRequests > 0) this.commitRequests.inc(labels, g.commitRequests);
      if (g.redeliveries > 0) this.redeliveries.inc(labels, g.redeliveries);
    }
  }

  private async readGauges(): Promise<void> {
    const gauges = [this.groupLag, this.groupInFlight, this.topicDiskBytes, this.topicNextOffset, this.ioBackend];
    for (const g of gauges) g.reset();
    const sources = this.sources;
    if (sources === undefined) return;
    this.connections.set(sources.connectionCount());
    this.queuedReplyBytes.set(sources.queuedReplyBytes());
    this.ioBackend.set({ backend: sources.engine.backend.name }, 1);
    const loaded = new Map<string, ConsumerGroup[]>();
    for (const group of sources.loadedGroups()) {
      const list = loaded.get(group.topic);
      if (list === undefined) loaded.set(group.topic, [group]);
      else list.push(group);
    }
    for (const topic of sources.engine.topics()) {
      let stats;
      try {
        stats = await sources.engine.topicStats(topic);
      } catch {
        continue; // deleted while we were scraping
      }
      const next = stats.nextOffset;
      this.topicDiskBytes.set({ topic }, stats.bytes);
      this.topicNextOffset.set({ topic }, next);
      const seen = new Set<string>();
      for (const g of loaded.get(topic) ?? []) {
        seen.add(g.name);
        this.groupLag.set({ topic, group: g.name }, Math.max(0, next - g.persisted));
        this.groupInFlight.set({ topic, group: g.name }, g.inFlight);
      }
      for (const [name, position] of Object.entries(stats.cursors)) {
        // Names starting with `__` are the log's own cursors, not consumer groups.
        if (seen.has(name) || name.startsWith('__')) continue;
        this.groupLag.set({ topic, group: name }, Math.max(0, next - position));
        this.groupInFlight.set({ topic, group: name }, 0);
      }
    }
  }
}
