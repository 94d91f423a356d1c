/**
 * A two-axis line chart as standalone SVG (no dependencies): throughput on the left axis and p99
 * latency on the right, against the number of producer/consumer processes.
 */

export interface ChartSeries {
  label: string;
  /** Which y axis the series uses. */
  axis: 'left' | 'right';
  color: string;
  /** Dashed lines for latency, solid for throughput. */
  dashed: boolean;
  points: { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  leftLabel: string;
  rightLabel: string;
  series: ChartSeries[];
}

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { top: 48, right: 84, bottom: 92, left: 84 };
const TICKS = 5;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round upper bound (1, 2 or 5 × 10^n) at or above `value`. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(2)}`;
}

/** Renders the chart; x values are placed evenly (thread counts 1, 2, 4, 8 read best that way). */
export function lineChartSvg(options: ChartOptions): string {
  const xs = [...new Set(options.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xAt = (x: number): number => {
    const i = xs.indexOf(x);
    return MARGIN.left + (xs.length <= 1 ? plotW / 2 : (i / (xs.length - 1)) * plotW);
  };
  const maxOf = (axis: 'left' | 'right'): number =>
    niceMax(Math.max(0, ...options.series.filter((s) => s.axis === axis).flatMap((s) => s.points.map((p) => p.y))));
  const leftMax = maxOf('left');
  const rightMax = maxOf('right');
  const yAt = (y: number, axis: 'left' | 'right'): number =>
    MARGIN.top + plotH - (y / (axis === 'left' ? leftMax : rightMax)) * plotH;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);
  for (let i = 0; i <= TICKS; i += 1) {
    const y = MARGIN.top + plotH - (i / TICKS) * plotH;
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y + 4}" text-anchor="end">${formatTick((leftMax * i) / TICKS)}</text>`);
    parts.push(`<text x="${MARGIN.left + plotW + 8}" y="${y + 4}">${formatTick((rightMax * i) / TICKS)}</text>`);
  }
  for (const x of xs) {
    parts.push(`<text x="${xAt(x)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${x}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 38}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(20 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.leftLabel)}</text>`);
  parts.push(`<text transform="translate(${WIDTH - 16} ${MARGIN.top + plotH / 2}) rotate(90)" text-anchor="middle">${escapeXml(options.rightLabel)}</text>`);

  options.series.forEach((series, index) => {
    const points = series.points.map((p) => `${xAt(p.x).toFixed(1)},${yAt(p.y, series.axis).toFixed(1)}`);
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2"${dash} points="${points.join(' ')}"/>`);
    for (const p of series.points) {
      parts.push(`<circle cx="${xAt(p.x).toFixed(1)}" cy="${yAt(p.y, series.axis).toFixed(1)}" r="3" fill="${series.color}"/>`);
    }
    const column = index % 2;
    const row = Math.floor(index / 2);
    const lx = MARGIN.left + column * (plotW / 2);
    const ly = HEIGHT - 34 + row * 16;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}">${escapeXml(series.label)} (${series.axis === 'left' ? 'left' : 'right'} axis)</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
