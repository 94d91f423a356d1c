/**
 * Backend micro-benchmark: the io_uring FileIO against the fs FileIO, driven directly (no engine), in
 * the same run, on the same disk directory, into preallocated zero-filled 64 MiB segment files.
 *
 * Cases, 1 KiB records:
 * - sync-each ×N (N = 1, 64, 256): commit cycles of N records — one writev of N buffers, then
 *   fdatasync — as the engine's SyncEach does with N appenders waiting. The uring backend runs it
 *   three ways: O_DIRECT `writev` then `datasync` (what write-pipeline.ts calls today), O_DIRECT
 *   `writevAndSync` (one submission, write linked to fdatasync), and page-cache writes (writevSync)
 *   with the fdatasync through the ring (`directWrites: false`).
 * - batch-256: one writev of 256 records per call, no sync (appendBatch under a time-based fsync).
 * - no-sync: one writev of one record per call, no sync (NoFsync); O_DIRECT uring also with 64
 *   writes in flight (they serialize anyway: packed 1 KiB records share pages).
 * Figures: records/s, CPU µs per record (process.cpuUsage: all threads, io_uring workers and libuv
 * pool included), and the p50/p99 of one call. Backends alternate per case, ROUNDS times; medians.
 *
 * Env: BENCH_SECONDS (per slice, default 0.4), BENCH_ROUNDS (slices per variant, default 9), BENCH_DIR (default
 * os.tmpdir(); must be a disk filesystem), BENCH_CASES (comma list of case names to run).
 * Run: `npx tsx bench/engine-backends.ts` (needs @walrus/uring-napi built; otherwise fs rows only).
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
  seconds?: number;
  rounds?: number;
  dir?: string;
  cases?: string[];
  addon?: UringAddon;
  log?: (line: string) => void;
}

interface Variant {
  backend: string;
  io: FileIO;
  /** One call: `records` records at `position`; resolves when the call's promise would. */
  call: (handle: FileHandle, buffers: Uint8Array[], position: number) => Promise<void>;
  /** Calls in flight at once (1 = closed loop, each awaited). */
  inflight: number;
}

interface Case {
  name: string;
  records: number;
  variants: Variant[];
}

const writeThenSync = async (h: FileHandle, b: Uint8Array[], at: number): Promise<void> => {
  await h.writev(b, at);
  await h.datasync();
};
const linked = (h: FileHandle, b: Uint8Array[], at: number): Promise<void> => h.writevAndSync!(b, at);
const writeOnly = (h: FileHandle, b: Uint8Array[], at: number): Promise<void> => h.writev(b, at);

function cases(fsIo: FileIO, direct: FileIO | undefined, buffered: FileIO | undefined): Case[] {
  const list: Case[] = [];
  for (const n of [1, 64, 256]) {
    const variants: Variant[] = [{ backend: 'fs', io: fsIo, call: writeThenSync, inflight: 1 }];
    if (direct && buffered) {
      variants.push({ backend: 'uring direct w+sync', io: direct, call: writeThenSync, inflight: 1 });
      variants.push({ backend: 'uring direct linked', io: direct, call: linked, inflight: 1 });
      variants.push({ backend: 'uring buffered', io: buffered, call: linked, inflight: 1 });
    }
    list.push({ name: `sync-each x${n}`, records: n, variants });
  }
  const batch: Variant[] = [{ backend: 'fs', io: fsIo, call: writeOnly, inflight: 1 }];
  if (direct && buffered) {
    batch.push({ backend: 'uring direct', io: direct, call: writeOnly, inflight: 1 });
    batch.push({ backend: 'uring buffered', io: buffered, call: writeOnly, inflight: 1 });
  }
  list.push({ name: 'batch-256', records: 256, variants: batch });
  const single: Variant[] = [{ backend: 'fs', io: fsIo, call: writeOnly, inflight: 1 }];
  if (direct && buffered) {
    single.push({ backend: 'uring direct', io: direct, call: writeOnly, inflight: 1 });
    single.push({ backend: 'uring direct 64 in flight', io: direct, call: writeOnly, inflight: 64 });
    single.push({ backend: 'uring buffered', io: buffered, call: writeOnly, inflight: 1 });
  }
  list.push({ name: 'no-sync', records: 1, variants: single });
  return list;
}

async function measure(variant: Variant, records: number, seconds: number, dir: string): Promise<BackendRow & { name?: string }> {
  const file = path.join(dir, `seg-${variant.backend.replace(/\W+/g, '-')}-${process.hrtime.bigint()}`);
  const handle = await variant.io.open(file, { create: true });
  await handle.preallocateZeroed(SEGMENT_BYTES);
  await handle.datasync();
  const buffers = Array.from({ length: records }, (_, i) => Buffer.alloc(RECORD_BYTES, 0x61 + (i % 26)));
  const callBytes = records * RECORD_BYTES;
  const latenciesNs: number[] = [];
  let position = 0;
  let calls = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  // Each worker loops on its own calls; positions are handed out in order, wrapping inside the file.
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      if (position + callBytes > SEGMENT_BYTES) position = 0;
      const at = position;
      position += callBytes;
      const t0 = process.hrtime.bigint();
      await variant.call(handle, buffers, at);
      latenciesNs.push(Number(process.hrtime.bigint() - t0));
      calls++;
    }
  };
  await Promise.all(Array.from({ length: variant.inflight }, worker));
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  await handle.close();
  fs.rmSync(file, { force: true });
  latenciesNs.sort((a, b) => a - b);
  const recordsDone = calls * records;
  return {
    case: '',
    backend: variant.backend,
    recordsPerSecond: recordsDone / elapsedS,
    cpuUsPerRecord: (cpu.user + cpu.system) / recordsDone,
    callP50Us: latenciesNs[Math.floor(latenciesNs.length * 0.5)] / 1000,
    callP99Us: latenciesNs[Math.floor(latenciesNs.length * 0.99)] / 1000,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs every case for every available backend; returns median rows (the lead's bench/engine.ts may call this). */
export async function runEngineBackends(options: EngineBackendsOptions = {}): Promise<BackendRow[]> {
  const seconds = options.seconds ?? 1.5;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? ((line: string) => console.log(line));
  const root = options.dir ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(root, 'walrus-backends-'));
  let addon = options.addon;
  if (addon === undefined) {
    try {
      addon = await loadUringAddon();
    } catch (error) {
      log(`uring rows skipped: ${(error as Error).message}`);
    }
  }
  const fsIo = new FsFileIO();
  const direct = addon === undefined ? undefined : UringFileIO.create(addon, { directWrites: 'always' });
  const buffered = addon === undefined ? undefined : UringFileIO.create(addon, { directWrites: 'never' });
  const rows: BackendRow[] = [];
  try {
    for (const c of cases(fsIo, direct, buffered)) {
      if (options.cases && !options.cases.includes(c.name)) continue;
      const samples = new Map<string, BackendRow[]>();
      for (let round = 0; round < rounds; round++) {
        // Alternate the order each round so neither backend always runs on a warmer disk.
        const order = round % 2 === 0 ? c.variants : [...c.variants].reverse();
        for (const v of order) {
          const row = await measure(v, c.records, seconds, dir);
          samples.set(v.backend, [...(samples.get(v.backend) ?? []), row]);
        }
      }
      for (const v of c.variants) {
        const s = samples.get(v.backend)!;
        const row: BackendRow = {
          case: c.name,
          backend: v.backend,
          recordsPerSecond: median(s.map((r) => r.recordsPerSecond)),
          cpuUsPerRecord: median(s.map((r) => r.cpuUsPerRecord)),
          callP50Us: median(s.map((r) => r.callP50Us)),
          callP99Us: median(s.map((r) => r.callP99Us)),
        };
        rows.push(row);
        const fsRow = rows.find((r) => r.case === c.name && r.backend === 'fs')!;
        log(
          `${c.name.padEnd(14)} ${v.backend.padEnd(26)} ${Math.round(row.recordsPerSecond).toLocaleString('en-US').padStart(11)} rec/s` +
            `  ${(row.recordsPerSecond / fsRow.recordsPerSecond).toFixed(2)}x fs` +
            `  cpu ${row.cpuUsPerRecord.toFixed(2).padStart(6)} µs/rec` +
            `  call p50 ${row.callP50Us.toFixed(0).padStart(5)} µs p99 ${row.callP99Us.toFixed(0).padStart(6)} µs` +
            `  [${s.map((r) => Math.round(r.recordsPerSecond)).join(', ')}]`,
        );
      }
    }
  } finally {
    direct?.close();
    buffered?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cases = process.env.BENCH_CASES?.split(',').map((s) => s.trim());
  console.log(`engine backends: ${os.cpus().length} CPUs, Node ${process.version}, dir ${process.env.BENCH_DIR ?? os.tmpdir()}`);
  const rows = await runEngineBackends({
    seconds: Number(process.env.BENCH_SECONDS ?? 1.5),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    dir: process.env.BENCH_DIR,
    cases,
  });
  fs.mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  fs.writeFileSync(new URL('./out/engine-backends.json', import.meta.url), JSON.stringify(rows, null, 2));
}
