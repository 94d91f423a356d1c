/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): the functions with the most self
 * time, and the share of time per script. Usage: `npx tsx bench/profile-summary.ts FILE… [--top N]`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** One line of the summary: a function (or script) and its self time. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  percent: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const marker = url.lastIndexOf('node_modules/');
  if (marker >= 0) return url.slice(marker + 'node_modules/'.length);
  const src = url.search(/\/(src|bench|dist)\//);
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

/** Self time per function and per script of one profile, largest first. */
export function summariseProfile(profile: CpuProfile, top: number): { functions: ProfileEntry[]; scripts: ProfileEntry[]; totalMs: number } {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i += 1) {
    const id = samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byScript = new Map<string, number>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const script = shortUrl(url);
    const name = `${functionName || '(anonymous)'} ${script}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byScript.set(script, (byScript.get(script) ?? 0) + us);
  }
  const rank = (map: Map<string, number>): ProfileEntry[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, percent: totalUs > 0 ? (us / totalUs) * 100 : 0 }));
  return { functions: rank(byFunction), scripts: rank(byScript), totalMs: totalUs / 1000 };
}

function formatEntries(entries: ProfileEntry[]): string {
  return entries.map((e) => `  ${e.percent.toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}`).join('\n');
}

/** Text summary of one profile file. */
export function profileReport(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { functions, scripts, totalMs } = summariseProfile(profile, top);
  return [
    `${basename(file)}: ${(totalMs / 1000).toFixed(1)} s sampled`,
    'self time by function:',
    formatEntries(functions),
    'self time by script:',
    formatEntries(scripts.slice(0, 12)),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  // Without --top (topIndex -1) every argument is a file; `i !== topIndex + 1` dropped the first one.
  const files = args.filter((_, i) => topIndex < 0 || (i !== topIndex && i !== topIndex + 1));
  if (files.length === 0) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile… [--top N]\n');
    process.exit(2);
  }
  for (const file of files) process.stdout.write(`${profileReport(file, top)}\n\n`);
}
