import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult } from '../load/run-case.js';
import type { LatencySummary } from './latency.js';

/** Results land here (gitignored). */
export const OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));

const CSV_COLUMNS = [
  'scenario', 'case', 'system', 'durability', 'shape', 'producers', 'consumers', 'payload_bytes', 'window',
  'rate_target_per_s', 'duration_s', 'produced', 'consumed', 'produce_msgs_per_s', 'consume_msgs_per_s',
  'mb_per_s', 'ack_p50_us', 'ack_p99_us', 'ack_p999_us', 'ack_max_us', 'e2e_p50_us', 'e2e_p99_us',
  'e2e_p999_us', 'e2e_max_us', 'server_cpu_percent', 'server_rss_mb', 'client_cpu_percent', 'errors',
  'skipped', 'first_error',
] as const;

function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : value;
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(r: CaseResult): string {
  const s = r.spec;
  const values: (string | number | undefined)[] = [
    s.scenario, s.name, s.system, s.durability, s.shape, s.producers, s.consumers, s.payloadBytes, s.window,
    s.rateTotalPerS, s.durationS, r.produced, r.consumed, r.produceMsgsPerS, r.consumeMsgsPerS, r.mbPerS,
    r.ack?.p50Us, r.ack?.p99Us, r.ack?.p999Us, r.ack?.maxUs, r.e2e?.p50Us, r.e2e?.p99Us, r.e2e?.p999Us,
    r.e2e?.maxUs, r.serverCpuPercent, r.serverRssBytes === undefined ? undefined : r.serverRssBytes / 1e6,
    r.clientCpuPercent, r.errors, r.skipped, r.firstError,
  ];
  return values.map(csvField).join(',');
}

/** Timestamp for file names: 20261126T121500Z. */
export function runStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Writes the rows as CSV to bench/out/<scenario>-<stamp>.csv and returns the path. */
export function writeCsv(scenario: string, stamp: string, results: CaseResult[]): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `${scenario}-${stamp}.csv`);
  writeFileSync(path, `${CSV_COLUMNS.join(',')}\n${results.map(csvRow).join('\n')}\n`);
  return path;
}

/** 1234567 → "1,234,567"; rates are rounded to whole messages. */
export function formatRate(perS: number): string {
  return Math.round(perS).toLocaleString('en-US');
}

function ms(us: number): string {
  const value = us / 1000;
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** "p50 / p99 / p99.9" in ms. */
export function formatLatency(summary: LatencySummary | undefined): string {
  return summary === undefined ? '–' : `${ms(summary.p50Us)} / ${ms(summary.p99Us)} / ${ms(summary.p999Us)}`;
}

/** A Markdown table: readable in a terminal and pasteable into RESULTS.md. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The standard results table of a scenario. */
export function resultsTable(results: CaseResult[]): string {
  const header = [
    'case', 'system', 'what an ack means', 'P×C', 'msgs/s', 'MB/s', 'ack p50/p99/p99.9 ms',
    'e2e p50/p99/p99.9 ms', 'server CPU %', 'server RSS MB', 'client CPU %', 'errors',
  ];
  const rows = results.map((r) => {
    const main = r.spec.shape === 'produce' ? r.produceMsgsPerS : r.consumeMsgsPerS;
    const rate = r.spec.rateTotalPerS > 0 ? ` (target ${formatRate(r.spec.rateTotalPerS)})` : '';
    return [
      r.spec.name,
      r.spec.system,
      r.spec.durability,
      `${r.spec.shape === 'consume' ? 0 : r.spec.producers}×${r.spec.shape === 'produce' ? 0 : r.spec.consumers}`,
      formatRate(main) + rate,
      r.mbPerS.toFixed(1),
      formatLatency(r.ack),
      formatLatency(r.e2e),
      r.serverCpuPercent === undefined ? '–' : r.serverCpuPercent.toFixed(0),
      r.serverRssBytes === undefined ? '–' : (r.serverRssBytes / 1e6).toFixed(0),
      r.clientCpuPercent.toFixed(0),
      r.errors + r.skipped === 0 ? '0' : `${r.errors} err, ${r.skipped} skipped`,
    ];
  });
  return markdownTable(header, rows);
}
