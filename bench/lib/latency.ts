import * as hdr from 'hdr-histogram-js';

/** Highest latency tracked, in µs (60 s); larger values are clamped, so a stall still shows. */
export const LATENCY_US_MAX = 60_000_000;

/** An HDR histogram of latencies in µs with 3 significant digits (≈ 0.1 % error at any value). */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_US_MAX,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Records a latency in µs, clamped to [1, LATENCY_US_MAX]. */
export function recordUs(histogram: hdr.Histogram, us: number): void {
  histogram.recordValue(Math.min(LATENCY_US_MAX, Math.max(1, Math.round(us))));
}

/** Serialises for the IPC channel between a worker process and the runner. */
export function encodeHistogram(histogram: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Adds an encoded histogram (from `encodeHistogram`) into `into`. */
export function addEncoded(into: hdr.Histogram, encoded: string): void {
  if (encoded === '') return;
  into.add(hdr.decodeFromCompressedBase64(encoded, 32, false));
}

/** The percentiles every result row reports, in µs; undefined when nothing was recorded. */
export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

export function summarise(histogram: hdr.Histogram): LatencySummary | undefined {
  if (histogram.totalCount === 0) return undefined;
  return {
    count: histogram.totalCount,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    maxUs: histogram.maxValue,
  };
}

export type Histogram = hdr.Histogram;
