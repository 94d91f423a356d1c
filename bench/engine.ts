/**
 * Engine micro-benchmark (`make bench-engine`): in-process appends and reads of 1 KiB entries on a
 * real disk directory, each printed beside the raw ceiling measured in the same run — `fs.writevSync`
 * of N × 1 KiB into a preallocated zero-filled file, with and without one fdatasync per call.
 *
 * Env: BENCH_SECONDS (per case, default 3), BENCH_DIR (default os.tmpdir()), PAYLOAD (default 1024),
 * BENCH_BACKENDS (default fs,uring), BENCH_CASES (comma-separated substrings of case names to run,
 * e.g. "256 appenders"; default all), BENCH_ROUNDS (default 1: each append case this many times, the
 * backends' order alternating per round, so drift on a shared disk cancels; the uring/fs table then
 * lists every round's ratio and their median). Each case runs right after a fresh measure of its ceiling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { FsyncSchedule, ReadConsistency, Walrus } from '../src/engine/index.js';

type Backend = 'fs' | 'uring';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const PAYLOAD = Number(process.env.PAYLOAD ?? 1024);
const ROOT = process.env.BENCH_DIR ?? os.tmpdir();
/** Comma-separated substrings: only cases whose name contains one run (with their ceilings). */
const CASES = process.env.BENCH_CASES ? process.env.BENCH_CASES.split(',') : null;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const quiet = pino({ level: 'silent' });
const data = Buffer.alloc(PAYLOAD, 0x61);

interface Row {
  case: string;
  perSecond: number;
  ceiling?: string;
  ratio?: number;
  cpuUsPerMsg: number;
}
const rows: Row[] = [];
const ceilings = new Map<string, number>();

function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function ceiling(name: string, n: number, sync: boolean): number {
  const dir = fs.mkdtempSync(path.join(ROOT, 'walrus-ceiling-'));
  const file = path.join(dir, 'f');
  // With sync: a preallocated, zero-filled file (as the engine's SyncEach segments are), rewritten
  // in a loop. Without sync: a fresh file that grows, as a log does (the engine's NoFsync segments are
  // sparse), so the kernel's page allocation and writeback are part of the ceiling, as they are for us.
  const bytes = sync ? 256 * 1024 * 1024 : Number.MAX_SAFE_INTEGER;
  const fd = fs.openSync(file, 'w+');
  if (sync) {
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = 0; at < bytes; at += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, at);
    fs.fdatasyncSync(fd);
  }
  const bufs = Array.from({ length: n }, () => data);
  const deadline = performance.now() + SECONDS * 1000;
  const cpu0 = cpuNow();
  let pos = 0;
  let count = 0;
  while (performance.now() < deadline) {
    if (pos + n * PAYLOAD > bytes) pos = 0;
    fs.writevSync(fd, bufs, pos);
    if (sync) fs.fdatasyncSync(fd);
    pos += n * PAYLOAD;
    count += n;
  }
  const elapsed = SECONDS;
  fs.ftruncateSync(fd, 0);
  const cpu = cpuNow() - cpu0;
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  const perSecond = count / elapsed;
  ceilings.set(name, perSecond);
  rows.push({ case: `ceiling: ${name}`, perSecond, cpuUsPerMsg: cpu / count });
  return perSecond;
}

async function withEngine<T>(options: { fsync: FsyncSchedule; backend?: Backend; blocksPerSegment?: number }, fn: (wal: Walrus) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(ROOT, 'walrus-bench-'));
  const geometry = options.blocksPerSegment ? { blocksPerSegment: options.blocksPerSegment } : {};
  const wal = await Walrus.open({ dataDir: dir, logger: quiet, fsync: options.fsync, backend: options.backend ?? 'fs', consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5000 }), ...geometry });
  try {
    return await fn(wal);
  } finally {
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function appenders(name: string, fsync: FsyncSchedule, concurrency: number, batch: number, ceilingName: string, backend: Backend, topics = 8, blocksPerSegment?: number): Promise<void> {
  await withEngine({ fsync, backend, blocksPerSegment }, async (wal) => {
    const entries = Array.from({ length: batch }, () => data);
    // Warm up: the first segment is created and zero-filled here, not inside the timed window.
    await wal.batchAppendForTopic('warm', [data]);
    let count = 0;
    let stop = false;
    const cpu0 = cpuNow();
    const t0 = performance.now();
    const timer = setTimeout(() => (stop = true), SECONDS * 1000);
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const topic = `t${i % topics}`;
        while (!stop) {
          if (batch === 1) await wal.appendForTopic(topic, data);
          else await wal.batchAppendForTopic(topic, entries);
          count += batch;
        }
      }),
    );
    clearTimeout(timer);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuNow() - cpu0;
    const perSecond = count / elapsed;
    const c = ceilings.get(ceilingName)!;
    rows.push({ case: name, perSecond, ceiling: ceilingName, ratio: perSecond / c, cpuUsPerMsg: cpu / count });
  });
}

/**
 * Batch reads, `pread` against `mmap` (issue 8) on one log in the same run. The log (200,000 entries,
 * ~205 MiB) is written once in 1 MiB blocks, 4 per segment, so ~65 segments are sealed and frozen and
 * only the last is open; it is in the page cache (NoFsync, just written). Then the log is reopened
 * once per measurement, in the order pread, mmap, mmap, pread so that drift on a shared machine
 * cancels, and read untimed once (recovered blocks get their index, mappings their pages) before
 * the timed window: `readFrom` of 1 MiB per call from offset 0 to the end, again and again. Then a
 * fresh cursor consumes with `batchReadForTopic` (1 MiB, checkpoint) until the end or the window
 * closes; a cursor held at 0 keeps the log from being reclaimed.
 */
async function batchReads(): Promise<void> {
  if (CASES && !CASES.some((c) => 'batch read'.includes(c))) return;
  const geometry = { blockBytes: 1024 * 1024, blocksPerSegment: 4 };
  const reads: ('pread' | 'mmap')[] = ['pread'];
  try {
    if (typeof ((await import('@walrus/uring-napi')) as { mapFile?: unknown }).mapFile === 'function') reads.push('mmap');
  } catch {
    // not built
  }
  if (reads.length === 1) console.error('@walrus/uring-napi (mapFile) is not built: measuring pread reads only');
  const dir = fs.mkdtempSync(path.join(ROOT, 'walrus-bench-reads-'));
  const open = (path: 'pread' | 'mmap'): Promise<Walrus> =>
    Walrus.open({ dataDir: dir, logger: quiet, fsync: FsyncSchedule.NoFsync, backend: 'fs', reads: path, consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5000 }), ...geometry });
  const totals = new Map<string, { count: number; ms: number; cpuUs: number }>();
  const add = (name: string, count: number, ms: number, cpuUs: number): void => {
    const t = totals.get(name) ?? { count: 0, ms: 0, cpuUs: 0 };
    totals.set(name, { count: t.count + count, ms: t.ms + ms, cpuUs: t.cpuUs + cpuUs });
  };
  try {
    const writer = await open('pread');
    const entries = Array.from({ length: 256 }, () => data);
    const total = 200_000;
    for (let i = 0; i < total; i += 256) await writer.batchAppendForTopic('r', entries);
    await writer.commitCursor('r', 'hold', 0);
    const segments = new Set(writer.blocksOf('r').map((b) => b.segment.id)).size;
    await writer.close();
    console.error(`batch read: ${total} entries of ${PAYLOAD} B in ${segments} segments of ${(geometry.blockBytes * geometry.blocksPerSegment) / 2 ** 20} MiB`);
    const order = reads.length === 2 ? (['pread', 'mmap', 'mmap', 'pread'] as const) : (['pread', 'pread'] as const);
    let round = 0;
    for (const readPath of order) {
      const wal = await open(readPath);
      try {
        if (wal.reads.name !== readPath) throw new Error(`asked for ${readPath} reads, got ${wal.reads.reason}`);
        const end = (await wal.topicStats('r')).nextOffset;
        for (let offset = 0; offset < end; ) offset = (await wal.readFrom('r', offset, { maxBytes: 1024 * 1024 })).at(-1)!.offset + 1;
        // readFrom, 1 MiB per call, over the whole log again and again.
        let count = 0;
        let cpu0 = cpuNow();
        let t0 = performance.now();
        const deadline = t0 + (SECONDS * 1000) / 2;
        let offset = 0;
        while (performance.now() < deadline) {
          const got = await wal.readFrom('r', offset, { maxBytes: 1024 * 1024 });
          count += got.length;
          offset = offset + got.length >= end ? 0 : got[got.length - 1].offset + 1;
        }
        add(`[${readPath}] batch read (readFrom, 1 MiB per call, page cache)`, count, performance.now() - t0, cpuNow() - cpu0);
        // Cursor reads: batchReadForTopic with checkpoint, the consumer path.
        count = 0;
        cpu0 = cpuNow();
        t0 = performance.now();
        const cursor = `bench${round++}`;
        while (performance.now() < deadline + (SECONDS * 1000) / 2) {
          const got = await wal.batchReadForTopic('r', 1024 * 1024, true, { cursor });
          if (got.length === 0) break;
          count += got.length;
        }
        add(`[${readPath}] batch read (batchReadForTopic + checkpoint, AtLeastOnce 5000)`, count, performance.now() - t0, cpuNow() - cpu0);
      } finally {
        await wal.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Each case as pread then mmap, the mmap row's ratio against pread's.
  const caseOf = (name: string): string => name.slice(name.indexOf(']') + 2);
  for (const [name, t] of [...totals].sort(([a], [b]) => caseOf(a).localeCompare(caseOf(b)))) {
    const perSecond = t.count / (t.ms / 1000);
    const pread = name.startsWith('[mmap]') ? totals.get(`[pread] ${caseOf(name)}`) : undefined;
    const ratio = pread ? perSecond / (pread.count / (pread.ms / 1000)) : undefined;
    rows.push({ case: name, perSecond, ceiling: ratio === undefined ? undefined : '[pread], same run', ratio, cpuUsPerMsg: t.cpuUs / t.count });
  }
}

async function uringAvailable(): Promise<boolean> {
  try {
    await import('@walrus/uring-napi');
    return true;
  } catch {
    return false;
  }
}

/** Case-name suffix of one round when BENCH_ROUNDS > 1. */
function roundSuffix(round: number): string {
  return ROUNDS > 1 ? ` (round ${round})` : '';
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** 4 MiB blocks in the first segment of the "space reserved" case: twice what SECONDS at 700 MB/s write. */
const RESERVED_BLOCKS = Math.max(64, Math.ceil((2 * SECONDS * 700e6) / (4 * 1024 * 1024)));

/** The append cases; each runs right after its own ceiling, then on every backend in turn. */
const APPEND_CASES: Array<{ name: string; fsync: FsyncSchedule; concurrency: number; batch: number; ceiling: { n: number; sync: boolean }; topics?: number; blocksPerSegment?: number }> = [
  { name: 'SyncEach, 1 appender', fsync: FsyncSchedule.SyncEach, concurrency: 1, batch: 1, ceiling: { n: 1, sync: true } },
  { name: 'SyncEach, 64 appenders', fsync: FsyncSchedule.SyncEach, concurrency: 64, batch: 1, ceiling: { n: 64, sync: true } },
  { name: 'SyncEach, 256 appenders', fsync: FsyncSchedule.SyncEach, concurrency: 256, batch: 1, ceiling: { n: 256, sync: true } },
  // The ceiling writes one contiguous range; one topic does too (eight topics write eight blocks).
  { name: 'SyncEach, 256 appenders, 1 topic', fsync: FsyncSchedule.SyncEach, concurrency: 256, batch: 1, ceiling: { n: 256, sync: true }, topics: 1 },
  { name: 'SyncEach, batch append of 256', fsync: FsyncSchedule.SyncEach, concurrency: 1, batch: 256, ceiling: { n: 256, sync: true } },
  // Diagnostic: the log above grows, so new segments are zero-filled while it runs (SyncEach appends
  // must land in written space to need no metadata); the ceiling rewrites space written before. Here
  // one first segment, zero-filled at open, is so large that the window's bytes (up to 700 MB/s) fill
  // less than half of it, so not even its spare is made during the window: no zero-fill competes.
  { name: 'SyncEach, batch append of 256, space reserved at open', fsync: FsyncSchedule.SyncEach, concurrency: 1, batch: 256, ceiling: { n: 256, sync: true }, blocksPerSegment: RESERVED_BLOCKS },
  { name: 'NoFsync, 256 appenders', fsync: FsyncSchedule.NoFsync, concurrency: 256, batch: 1, ceiling: { n: 256, sync: false } },
  { name: 'NoFsync, batch append of 256', fsync: FsyncSchedule.NoFsync, concurrency: 1, batch: 256, ceiling: { n: 256, sync: false } },
  { name: 'milliseconds(1000), 256 appenders', fsync: FsyncSchedule.milliseconds(1000), concurrency: 256, batch: 1, ceiling: { n: 256, sync: false } },
];

export async function main(): Promise<Row[]> {
  console.error(`engine bench: ${SECONDS}s per case, ${PAYLOAD} B payloads, dir ${ROOT}`);
  const backends: Backend[] = (process.env.BENCH_BACKENDS ?? 'fs,uring').split(',') as Backend[];
  if (backends.includes('uring') && !(await uringAvailable())) {
    console.error('@walrus/uring-napi is not built: measuring the fs backend only');
    backends.splice(backends.indexOf('uring'), 1);
  }
  // The disk here is shared and its speed drifts over minutes: each case's ceiling and its backends
  // run back to back, so the ratios compare figures taken seconds apart.
  for (const c of APPEND_CASES) {
    if (CASES && !CASES.some((x) => c.name.includes(x))) continue;
    const ceilingName = `writevSync ${c.ceiling.n}${c.ceiling.sync ? ' + fdatasync' : ', no sync'}`;
    for (let round = 1; round <= ROUNDS; round++) {
      ceiling(ceilingName, c.ceiling.n, c.ceiling.sync);
      const order = round % 2 === 1 ? backends : [...backends].reverse();
      for (const b of order) await appenders(`[${b}] ${c.name}${roundSuffix(round)}`, c.fsync, c.concurrency, c.batch, ceilingName, b, c.topics, c.blocksPerSegment);
    }
  }
  await batchReads();
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(`\n| case | entries/s | vs ceiling | ratio | CPU µs/entry |\n|---|---:|---|---:|---:|`);
  for (const r of rows) {
    console.log(`| ${r.case} | ${fmt(r.perSecond)} | ${r.ceiling ?? ''} | ${r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`} | ${r.cpuUsPerMsg ? r.cpuUsPerMsg.toFixed(2) : ''} |`);
  }
  const byCase = new Map(rows.map((r) => [r.case, r]));
  const ratios = APPEND_CASES.map((c) => {
    const speed: number[] = [];
    const cpu: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const f = byCase.get(`[fs] ${c.name}${roundSuffix(round)}`);
      const u = byCase.get(`[uring] ${c.name}${roundSuffix(round)}`);
      if (!f || !u) continue;
      speed.push(u.perSecond / f.perSecond);
      cpu.push(u.cpuUsPerMsg / f.cpuUsPerMsg);
    }
    return { name: c.name, speed, cpu };
  }).filter((r) => r.speed.length > 0);
  if (ratios.length > 0) {
    const list = (xs: number[]): string => xs.map((x) => `${x.toFixed(2)}×`).join(', ');
    if (ROUNDS === 1) {
      console.log(`\n| case | uring / fs entries/s | uring / fs CPU per entry |\n|---|---:|---:|`);
      for (const r of ratios) console.log(`| ${r.name} | ${list(r.speed)} | ${list(r.cpu)} |`);
    } else {
      console.log(`\n| case | uring / fs entries/s, median | per round | uring / fs CPU per entry, median | per round |\n|---|---:|---|---:|---|`);
      for (const r of ratios) console.log(`| ${r.name} | ${median(r.speed).toFixed(2)}× | ${list(r.speed)} | ${median(r.cpu).toFixed(2)}× | ${list(r.cpu)} |`);
    }
  }
  console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString()}`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
