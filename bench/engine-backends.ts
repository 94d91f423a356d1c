/**
 * Backend micro-benchmark: the io_uring FileIO against the fs FileIO, driven directly (no engine), in
 * the same run, on the same disk directory, into preallocated zero-filled 64 MiB segment files.
 *
 * Cases, 1 KiB records:
 * - sync-each xN (N = 1, 64, 256): commit cycles of N records — one writev of N buffers, then
 *   fdatasync — as the engine's SyncEach does with N appenders waiting. uring runs it three ways:
 *   `writev` then `datasync` (what write-pipeline.ts calls today: page-cache write, fdatasync through
 *   the ring), `writevAndSync` (O_DIRECT write linked to fdatasync, one submission), and O_DIRECT
 *   `writev` then `datasync` (policy `always`).
 * - batch-256: one writev of 256 records per call, no sync (appendBatch under a time-based fsync).
 * - no-sync: one writev of one record per call, no sync (NoFsync).
 * Figures: records/s, CPU µs per record (process.cpuUsage: every thread of the process, so io_uring
 * workers and the libuv pool are included), and p50/p99 of one call.
 *
 * The machine is shared and its disk noisy, so a case runs its variants in short alternating slices
 * (BENCH_ROUNDS slices of BENCH_SECONDS each, order reversed every round) and reports the median slice.
 * `fs (control)` repeats the fs row on its own file: its distance from `fs` is the run's noise floor.
 *
 * Env: BENCH_SECONDS (per slice, default 0.4), BENCH_ROUNDS (slices per variant, default 9),
 * BENCH_DIR (default os.tmpdir(); must be a disk filesystem), BENCH_CASES (comma list of cases).
 * Run: `npx tsx bench/engine-backends.ts` (needs @walrus/uring-napi built; otherwise fs rows only).
 * Writes bench/out/engine-backends.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FileHandle, FileIO } from '../src/engine/file-io.js';
import { FsFileIO } from '../src/engine/fs-file-io.js';
import { UringFileIO } from '../src/engine/backends/uring-file-io.js';
import { loadUringAddon, type UringAddon } from '../src/engine/backends/uring-ring.js';

const RECORD_BYTES = 1024;
const SEGMENT_BYTES = 64 * 1024 * 1024;

/** One measured row. */
export interface BackendRow {
  case: string;
  backend: string;
  recordsPerSecond: number;
  cpuUsPerRecord: number;
  callP50Us: number;
  callP99Us: number;
}

/** Options of `runEngineBackends`. */
export interface EngineBackendsOptions {
  /** Seconds per slice; default 0.4. */
  seconds?: number;
  /** Slices per variant; default 9. */
  rounds?: number;
  /** Parent of the temp directory; default os.tmpdir(). */
  dir?: string;
  /** Case names to run; default all. */
  cases?: string[];
  /** Default: import @walrus/uring-napi (fs rows only when that fails). */
  addon?: UringAddon;
  log?: (line: string) => void;
}

interface Variant {
  backend: string;
  io: FileIO;
  /** One call of `buffers` at `position`. */
  call: (handle: FileHandle, buffers: Uint8Array[], position: number) => Promise<void>;
}

interface Case {
  name: string;
  records: number;
  variants: Variant[];
}

/** A variant's open file and what its slices added up. */
interface Lane {
  variant: Variant;
  handle: FileHandle;
  file: string;
  position: number;
  rates: number[];
  cpuUs: number;
  records: number;
  latenciesNs: number[];
}

const writeThenSync = async (h: FileHandle, b: Uint8Array[], at: number): Promise<void> => {
  await h.writev(b, at);
  await h.datasync();
};
const linked = (h: FileHandle, b: Uint8Array[], at: number): Promise<void> => h.writevAndSync!(b, at);
const writeOnly = (h: FileHandle, b: Uint8Array[], at: number): Promise<void> => h.writev(b, at);

function cases(fsIo: FileIO, synced: FileIO | undefined, always: FileIO | undefined): Case[] {
  const list: Case[] = [];
  for (const n of [1, 64, 256]) {
    const variants: Variant[] = [
      { backend: 'fs', io: fsIo, call: writeThenSync },
      { backend: 'fs (control)', io: fsIo, call: writeThenSync },
    ];
    if (synced && always) {
      variants.push({ backend: 'uring writev+datasync', io: synced, call: writeThenSync });
      variants.push({ backend: 'uring writevAndSync', io: synced, call: linked });
      variants.push({ backend: 'uring always: w+datasync', io: always, call: writeThenSync });
    }
    list.push({ name: `sync-each x${n}`, records: n, variants });
  }
  for (const [name, records] of [['batch-256', 256], ['no-sync', 1]] as const) {
    const variants: Variant[] = [
      { backend: 'fs', io: fsIo, call: writeOnly },
      { backend: 'fs (control)', io: fsIo, call: writeOnly },
    ];
    if (synced && always) {
      variants.push({ backend: 'uring', io: synced, call: writeOnly });
      variants.push({ backend: 'uring always (O_DIRECT)', io: always, call: writeOnly });
    }
    list.push({ name, records, variants });
  }
  return list;
}

async function openLane(variant: Variant, dir: string): Promise<Lane> {
  const file = path.join(dir, `seg-${variant.backend.replace(/\W+/g, '-')}`);
  const handle = await variant.io.open(file, { create: true });
  await handle.preallocateZeroed(SEGMENT_BYTES);
  await handle.datasync();
  return { variant, handle, file, position: 0, rates: [], cpuUs: 0, records: 0, latenciesNs: [] };
}

/** Runs one variant for `seconds`, continuing where its previous slice stopped in its file. */
async function slice(lane: Lane, buffers: Uint8Array[], seconds: number): Promise<void> {
  const callBytes = buffers.length * RECORD_BYTES;
  let calls = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    if (lane.position + callBytes > SEGMENT_BYTES) lane.position = 0;
    const at = lane.position;
    lane.position += callBytes;
    const t0 = process.hrtime.bigint();
    await lane.variant.call(lane.handle, buffers, at);
    lane.latenciesNs.push(Number(process.hrtime.bigint() - t0));
    calls++;
  }
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  lane.rates.push((calls * buffers.length) / elapsedS);
  lane.cpuUs += cpu.user + cpu.system;
  lane.records += calls * buffers.length;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Runs every case for every available backend; one row per case and backend (bench/engine.ts may call this). */
export async function runEngineBackends(options: EngineBackendsOptions = {}): Promise<BackendRow[]> {
  const seconds = options.seconds ?? 0.4;
  const rounds = options.rounds ?? 9;
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = fs.mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'walrus-backends-'));
  let addon = options.addon;
  if (addon === undefined) {
    try {
      addon = await loadUringAddon();
    } catch (error) {
      log(`uring rows skipped: ${(error as Error).message}`);
    }
  }
  const fsIo = new FsFileIO();
  const synced = addon === undefined ? undefined : UringFileIO.create(addon);
  const always = addon === undefined ? undefined : UringFileIO.create(addon, { directWrites: 'always' });
  const rows: BackendRow[] = [];
  try {
    for (const c of cases(fsIo, synced, always)) {
      if (options.cases && !options.cases.includes(c.name)) continue;
      const buffers = Array.from({ length: c.records }, (_, i) => Buffer.alloc(RECORD_BYTES, 0x61 + (i % 26)));
      const lanes: Lane[] = [];
      for (const v of c.variants) lanes.push(await openLane(v, dir));
      for (let round = 0; round < rounds; round++) {
        for (const lane of round % 2 === 0 ? lanes : [...lanes].reverse()) await slice(lane, buffers, seconds);
      }
      for (const lane of lanes) {
        await lane.handle.close();
        fs.rmSync(lane.file, { force: true });
        const sorted = lane.latenciesNs.sort((a, b) => a - b);
        const row: BackendRow = {
          case: c.name,
          backend: lane.variant.backend,
          recordsPerSecond: median(lane.rates),
          cpuUsPerRecord: lane.cpuUs / lane.records,
          callP50Us: percentile(sorted, 0.5) / 1000,
          callP99Us: percentile(sorted, 0.99) / 1000,
        };
        rows.push(row);
        const fsRow = rows.find((r) => r.case === c.name && r.backend === 'fs')!;
        const spread = [...lane.rates].sort((a, b) => a - b);
        log(
          `${c.name.padEnd(14)} ${row.backend.padEnd(26)} ${Math.round(row.recordsPerSecond).toLocaleString('en-US').padStart(11)} rec/s` +
            `  ${(row.recordsPerSecond / fsRow.recordsPerSecond).toFixed(2)}x fs` +
            `  cpu ${row.cpuUsPerRecord.toFixed(2).padStart(6)} µs/rec` +
            `  call p50 ${row.callP50Us.toFixed(0).padStart(5)} µs p99 ${row.callP99Us.toFixed(0).padStart(6)} µs` +
            `  slices ${Math.round(spread[0])}..${Math.round(spread[spread.length - 1])}`,
        );
      }
    }
  } finally {
    synced?.close();
    always?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const only = process.env.BENCH_CASES?.split(',').map((s) => s.trim());
  console.log(`engine backends: ${os.cpus().length} CPUs, Node ${process.version}, dir ${process.env.BENCH_DIR ?? os.tmpdir()}, loadavg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows = await runEngineBackends({
    seconds: Number(process.env.BENCH_SECONDS ?? 0.4),
    rounds: Number(process.env.BENCH_ROUNDS ?? 9),
    dir: process.env.BENCH_DIR,
    cases: only,
  });
  fs.mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  fs.writeFileSync(new URL('./out/engine-backends.json', import.meta.url), JSON.stringify(rows, null, 2));
}
