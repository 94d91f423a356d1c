/**
 * bench-scaling: produce and consume throughput, and produce-to-ack p99, as THREADS grows
 * (default 1-8: 1, 2, 4, 8 processes). Writes a CSV and an SVG chart to bench/out/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../lib/config.js';
import { OUT_DIR } from '../lib/report.js';
import { lineChartSvg } from '../lib/svg-chart.js';
import { Lab, main, Shape } from './lab.js';
import { startWalrus } from './systems.js';

main(async () => {
  const config = readConfig({ threads: '1-8', durationS: 5, prefill: 100_000 });
  const lab = new Lab('scaling', config);
  const produce: { x: number; rate: number; p99Ms: number }[] = [];
  const consume: { x: number; rate: number }[] = [];
  await lab.with(() => startWalrus(config.fsync, config), async (walrus) => {
    for (const threads of config.threads) {
      const p = await lab.run(walrus, { name: `produce ×${threads}`, shape: Shape.Produce, producers: threads });
      produce.push({ x: threads, rate: p.produceMsgsPerS, p99Ms: (p.ack?.p99Us ?? 0) / 1000 });
      const c = await lab.run(walrus, { name: `consume ×${threads}`, shape: Shape.Consume, producers: threads, consumers: threads });
      consume.push({ x: threads, rate: c.consumeMsgsPerS });
    }
  });
  lab.report();
  const svg = lineChartSvg({
    title: `walrus-broker scaling (FSYNC=${config.fsync}, ${config.payloadBytes} B messages, ${config.window} in flight per producer)`,
    xLabel: 'producer / consumer processes',
    leftLabel: 'msgs/s',
    rightLabel: 'produce-to-ack p99 (ms)',
    series: [
      { label: 'produce msgs/s', axis: 'left', color: '#1f77b4', dashed: false, points: produce.map((p) => ({ x: p.x, y: p.rate })) },
      { label: 'consume msgs/s', axis: 'left', color: '#2ca02c', dashed: false, points: consume.map((c) => ({ x: c.x, y: c.rate })) },
      { label: 'produce p99 ms', axis: 'right', color: '#d62728', dashed: true, points: produce.map((p) => ({ x: p.x, y: p.p99Ms })) },
    ],
  });
  const path = join(OUT_DIR, `scaling-${lab.stamp}.svg`);
  writeFileSync(path, svg);
  process.stdout.write(`chart: ${path}\n`);
});
