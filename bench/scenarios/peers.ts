/**
 * bench-peers: the same workload shapes against our broker, Redis Streams (AOF `always` and
 * `everysec`) and NATS JetStream, in one run, then one table of ratios (ours / peer) against the
 * targets of issue 6. Pairs compare equal durability: sync-each with Redis `always`; interval fsync
 * with Redis `everysec` and with JetStream (whose acks are not fsync'd at all).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../lib/config.js';
import { formatRate, markdownTable, OUT_DIR, resultsTable } from '../lib/report.js';
import type { CaseResult } from '../load/run-case.js';
import { RedisFsync } from '../peers/redis-server.js';
import { Lab, main, Shape } from './lab.js';
import { TargetKind } from '../targets/types.js';
import { startJetStream, startRedisSystem, startWalrus, type SystemUnderTest } from './systems.js';

/** Goal p99 produce-to-ack in the durable mode at the steady rate, in µs (issue 6). */
const DURABLE_P99_US_GOAL = 2000;

interface Comparison {
  goal: string;
  ours: CaseResult | undefined;
  peer: CaseResult | undefined;
  /** ours / peer for throughput; peer / ours for latency (so > 1 is better for us either way). */
  metric: 'produce' | 'consume' | 'p99';
  minRatio: number;
}

function value(result: CaseResult | undefined, metric: Comparison['metric']): number | undefined {
  if (result === undefined) return undefined;
  if (metric === 'produce') return result.produceMsgsPerS;
  if (metric === 'consume') return result.consumeMsgsPerS;
  return result.ack?.p99Us;
}

function ratioRows(comparisons: Comparison[]): string[][] {
  return comparisons.map((c) => {
    const ours = value(c.ours, c.metric);
    const peer = value(c.peer, c.metric);
    const show = (v: number | undefined): string =>
      v === undefined ? '–' : c.metric === 'p99' ? `${(v / 1000).toFixed(2)} ms p99` : `${formatRate(v)}/s`;
    let ratio: number | undefined;
    if (ours !== undefined && peer !== undefined && ours > 0 && peer > 0) {
      ratio = c.metric === 'p99' ? peer / ours : ours / peer;
    }
    let met = ratio === undefined ? 'n/a' : ratio >= c.minRatio ? 'yes' : 'NO';
    if (c.metric === 'p99' && ours !== undefined && ours > DURABLE_P99_US_GOAL) met = 'NO (p99 > 2 ms)';
    return [
      c.goal,
      `${c.ours?.spec.system ?? '–'}: ${show(ours)}`,
      `${c.peer?.spec.system ?? '–'}: ${show(peer)}`,
      ratio === undefined ? '–' : `${ratio.toFixed(2)}×`,
      met,
    ];
  });
}

main(async () => {
  const config = readConfig({ durationS: 10, prefill: 200_000 });
  const interval = /^\d+ms$/.test(config.fsync) ? config.fsync : '1000ms';
  const rate = config.rate > 0 ? config.rate : 20_000;
  const peers = (process.env.PEERS || 'redis,jetstream').split(',');
  const lab = new Lab('peers', config);
  const r: Record<string, CaseResult> = {};

  const isWalrus = (system: SystemUnderTest): boolean => system.kind === TargetKind.Walrus;
  const durableCases = async (system: SystemUnderTest, key: string): Promise<void> => {
    r[`${key}.produce`] = await lab.run(system, { name: 'produce, max', shape: Shape.Produce });
    if (isWalrus(system)) {
      r[`${key}.produceLinger0`] = await lab.run(system, { name: 'produce, max, linger 0', shape: Shape.Produce, lingerMs: 0 });
    }
    r[`${key}.consume`] = await lab.run(system, { name: 'consume + commit', shape: Shape.Consume });
    r[`${key}.rate`] = await lab.run(system, { name: `produce at ${rate}/s`, shape: Shape.Produce, rateTotalPerS: rate });
  };
  const intervalCases = async (system: SystemUnderTest, key: string): Promise<void> => {
    r[`${key}.produce`] = await lab.run(system, { name: 'produce, max', shape: Shape.Produce });
    if (isWalrus(system)) {
      r[`${key}.produceLinger0`] = await lab.run(system, { name: 'produce, max, linger 0', shape: Shape.Produce, lingerMs: 0 });
    }
    r[`${key}.consume`] = await lab.run(system, { name: 'consume + commit', shape: Shape.Consume });
  };

  await lab.with(() => startWalrus('sync-each', config), (s) => durableCases(s, 'walrusDurable'));
  if (peers.includes('redis')) {
    await lab.with(() => startRedisSystem(RedisFsync.Always), (s) => durableCases(s, 'redisAlways'));
  }
  await lab.with(() => startWalrus(interval, config), (s) => intervalCases(s, 'walrusInterval'));
  if (peers.includes('redis')) {
    await lab.with(() => startRedisSystem(RedisFsync.EverySec), (s) => intervalCases(s, 'redisEverySec'));
  }
  if (peers.includes('jetstream')) {
    await lab.with(() => startJetStream(), (s) => intervalCases(s, 'jetstream'));
  }

  const comparisons: Comparison[] = [
    { goal: 'durable produce ≥ 3× Redis always', ours: r['walrusDurable.produce'], peer: r['redisAlways.produce'], metric: 'produce', minRatio: 3 },
    { goal: '(same, our SDK with linger 0)', ours: r['walrusDurable.produceLinger0'], peer: r['redisAlways.produce'], metric: 'produce', minRatio: 3 },
    { goal: 'interval produce ≥ 2× Redis everysec', ours: r['walrusInterval.produce'], peer: r['redisEverySec.produce'], metric: 'produce', minRatio: 2 },
    { goal: 'interval produce ≥ 3× JetStream', ours: r['walrusInterval.produce'], peer: r['jetstream.produce'], metric: 'produce', minRatio: 3 },
    { goal: '(same, our SDK with linger 0)', ours: r['walrusInterval.produceLinger0'], peer: r['redisEverySec.produce'], metric: 'produce', minRatio: 2 },
    { goal: '(same vs JetStream, linger 0)', ours: r['walrusInterval.produceLinger0'], peer: r['jetstream.produce'], metric: 'produce', minRatio: 3 },
    { goal: 'consume ≥ 2× Redis XREADGROUP+XACK (always)', ours: r['walrusDurable.consume'], peer: r['redisAlways.consume'], metric: 'consume', minRatio: 2 },
    { goal: 'consume ≥ 2× Redis XREADGROUP+XACK (everysec)', ours: r['walrusInterval.consume'], peer: r['redisEverySec.consume'], metric: 'consume', minRatio: 2 },
    { goal: 'consume ≥ 2× JetStream consume()+ack', ours: r['walrusInterval.consume'], peer: r['jetstream.consume'], metric: 'consume', minRatio: 2 },
    { goal: `durable p99 at ${formatRate(rate)}/s ≤ 2 ms and below Redis always`, ours: r['walrusDurable.rate'], peer: r['redisAlways.rate'], metric: 'p99', minRatio: 1 },
  ];
  const ratios = markdownTable(['target', 'ours', 'peer', 'ratio (ours/peer; latency: peer/ours)', 'met'], ratioRows(comparisons));
  lab.report();
  process.stdout.write(`\n### Ratios from this run\n\n${ratios}\n`);
  const markdown = `## peers (${new Date().toISOString()})\n\n${resultsTable(lab.results)}\n\n### Ratios\n\n${ratios}\n`;
  const path = join(OUT_DIR, `peers-${lab.stamp}.md`);
  writeFileSync(path, markdown);
  process.stdout.write(`markdown: ${path}\n`);
});
