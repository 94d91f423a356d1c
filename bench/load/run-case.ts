/**
 * Runs one benchmark case: prepares the target, optionally prefills it, forks the producer and
 * consumer processes, starts them together, prints a progress line, samples the server's CPU and
 * RSS, and merges every worker's histograms into one result row.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addEncoded, latencyHistogram, summarise, type LatencySummary } from '../lib/latency.js';
import { ProcSampler } from '../lib/proc-stats.js';
import { driverFor, type TargetSpec } from '../targets/index.js';
import type { RunnerMessage, WorkerMessage, WorkerReport, WorkerTask } from './messages.js';

/** What the producers do in a case. */
export const Shape = {
  /** Producers only, as fast as acks allow (or at RATE): produce-to-ack latency. */
  Produce: 'produce',
  /** Prefill, then consumers drain with group commits: consume throughput. */
  Consume: 'consume',
  /** Producers and consumers together: produce-to-consume latency. */
  Pipeline: 'pipeline',
} as const;
export type Shape = (typeof Shape)[keyof typeof Shape];

export interface CaseSpec {
  scenario: string;
  /** Short name of the case, e.g. `produce durable`. */
  name: string;
  /** System and mode, e.g. `walrus sync-each`, `redis always`. */
  system: string;
  /** What an ack (or a commit) means in this configuration. */
  durability: string;
  shape: Shape;
  target: TargetSpec;
  producers: number;
  consumers: number;
  payloadBytes: number;
  window: number;
  /** Total fixed rate in msgs/s over all producers; 0 = window mode. */
  rateTotalPerS: number;
  durationS: number;
  /** Messages written before a consume case starts. */
  prefill: number;
  /** PID of the server process, for CPU and RSS; undefined if unknown. */
  serverPid: number | undefined;
}

export interface CaseResult {
  spec: CaseSpec;
  produced: number;
  consumed: number;
  produceMsgsPerS: number;
  consumeMsgsPerS: number;
  /** Throughput of the case's main operation in MB/s (payload bytes, 10^6). */
  mbPerS: number;
  ack: LatencySummary | undefined;
  e2e: LatencySummary | undefined;
  serverCpuPercent: number | undefined;
  serverRssBytes: number | undefined;
  /** Load-generator CPU (all workers), percent of one core. */
  clientCpuPercent: number;
  errors: number;
  skipped: number;
  firstError: string | undefined;
  wallS: number;
}

/** Prefill may take this long at most, in ms. */
const PREFILL_MS_MAX = 300_000;
/** A pipeline case lets consumers catch up for at most this long after producers stop. */
const CATCH_UP_MS_MAX = 5_000;
/** Longest wait for every worker to connect and say `ready`. */
const READY_MS_MAX = 60_000;
/** Window of the prefill producers (throughput only; latency is not recorded). */
const PREFILL_WINDOW = 512;
/** Producers send this long before their counts start (JIT, connections, first segment). */
export const WARMUP_MS = 1000;
/** Where worker profiles go when WALRUS_WORKER_PROFILE=1. */
const WORKER_PROFILE_DIR = fileURLToPath(new URL('../out/profiles/', import.meta.url));

const WORKER_PATH = fileURLToPath(new URL('./worker.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

interface WorkerHandle {
  task: WorkerTask;
  child: ChildProcess;
  count: number;
  ready: Promise<void>;
  done: Promise<WorkerReport>;
}

function spawnWorker(task: WorkerTask): WorkerHandle {
  const child = fork(WORKER_PATH, [JSON.stringify(task)], {
    execArgv: ['--import', TSX_LOADER, ...(process.env.WALRUS_WORKER_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir', WORKER_PROFILE_DIR] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let markReady: () => void = () => {};
  let failReady: (error: Error) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const handle: WorkerHandle = {
    task,
    child,
    count: 0,
    ready: new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    }),
    done: new Promise<WorkerReport>((resolve, reject) => {
      fail = reject;
      child.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'ready':
            markReady();
            break;
          case 'progress':
            handle.count = message.count;
            break;
          case 'done':
            handle.count = message.report.count;
            resolve(message.report);
            break;
          case 'failed':
            reject(new Error(`${task.role} ${task.workerId} failed: ${message.message}`));
            break;
        }
      });
      child.on('exit', (code, signal) => fail(new Error(`${task.role} ${task.workerId} exited (${code ?? signal})`)));
    }),
  };
  // A worker that dies before `ready` fails the wait for ready at once, not after READY_MS_MAX.
  handle.done.catch((error: Error) => failReady(error));
  handle.ready.catch(() => undefined);
  return handle;
}

function tell(handle: WorkerHandle, message: RunnerMessage): void {
  if (handle.child.connected) handle.child.send(message);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A worker that said `done` exits by itself; this long is allowed (profiles are written at exit). */
const WORKER_EXIT_MS_MAX = 5_000;

/** Waits for every worker to exit, up to WORKER_EXIT_MS_MAX, then SIGKILLs the rest by PID. */
async function stopAll(handles: WorkerHandle[]): Promise<void> {
  const alive = (handle: WorkerHandle): boolean => handle.child.exitCode === null && handle.child.signalCode === null;
  const deadline = Date.now() + WORKER_EXIT_MS_MAX;
  while (handles.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const handle of handles) {
    const pid = handle.child.pid;
    if (pid !== undefined && alive(handle)) process.kill(pid, 'SIGKILL');
  }
}

function sum(handles: WorkerHandle[]): number {
  let total = 0;
  for (const handle of handles) total += handle.count;
  return total;
}

/** Progress goes to stderr: one rewritten line on a terminal, one line a second otherwise. */
function progressLine(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
  else process.stderr.write(`${text}\n`);
}

function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}

function producerTasks(spec: CaseSpec, count: number, base: Omit<WorkerTask, 'role' | 'workerId'>): WorkerTask[] {
  return Array.from({ length: count }, (_, i) => ({ ...base, role: 'producer' as const, workerId: i }));
}

async function prefill(spec: CaseSpec): Promise<void> {
  const producers = Math.max(1, spec.producers);
  const share = Math.ceil(spec.prefill / producers);
  const handles = producerTasks(spec, producers, {
    target: spec.target,
    payloadBytes: spec.payloadBytes,
    window: PREFILL_WINDOW,
    ratePerS: 0,
    durationMs: PREFILL_MS_MAX,
    warmupMs: 0,
    countMax: share,
  }).map(spawnWorker);
  try {
    await withTimeout(Promise.all(handles.map((h) => h.ready)), READY_MS_MAX, 'prefill workers ready');
    const measureFromNs = String(process.hrtime.bigint());
    for (const handle of handles) tell(handle, { type: 'start', measureFromNs });
    const started = performance.now();
    const ticker = setInterval(() => {
      const s = (performance.now() - started) / 1000;
      progressLine(`  ${spec.system} | prefill ${sum(handles).toLocaleString()} / ${(share * producers).toLocaleString()} | ${s.toFixed(0)} s`);
    }, 1000);
    const reports = await Promise.all(handles.map((h) => h.done)).finally(() => clearInterval(ticker));
    endProgress();
    const errors = reports.reduce((n, r) => n + r.errors, 0);
    if (errors > 0) throw new Error(`prefill: ${errors} sends failed (${reports.find((r) => r.firstError)?.firstError})`);
  } finally {
    await stopAll(handles);
  }
}

/** Runs one case to completion and returns its figures. Every worker is stopped before it returns. */
export async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const wallStart = performance.now();
  await driverFor(spec.target.kind).prepare(spec.target);
  if (spec.shape === Shape.Consume) await prefill(spec);

  const durationMs = spec.durationS * 1000;
  const base = {
    target: spec.target,
    payloadBytes: spec.payloadBytes,
    window: spec.window,
    ratePerS: spec.rateTotalPerS > 0 ? spec.rateTotalPerS / Math.max(1, spec.producers) : 0,
    durationMs,
    warmupMs: spec.shape === Shape.Consume ? 0 : WARMUP_MS,
    countMax: 0,
  };
  const producers = spec.shape === Shape.Consume ? [] : producerTasks(spec, spec.producers, base).map(spawnWorker);
  const consumers =
    spec.shape === Shape.Produce
      ? []
      : Array.from({ length: spec.consumers }, (_, i) => spawnWorker({ ...base, role: 'consumer', workerId: i }));
  const all = [...producers, ...consumers];

  try {
    await withTimeout(Promise.all(all.map((h) => h.ready)), READY_MS_MAX, `${spec.system} workers ready`);
    const sampler = spec.serverPid === undefined ? undefined : new ProcSampler(spec.serverPid);
    sampler?.start();
    const measureFromNs = String(process.hrtime.bigint() + BigInt(base.warmupMs) * 1_000_000n);
    for (const handle of all) tell(handle, { type: 'start', measureFromNs });
    const started = performance.now();
    let lastProduced = 0;
    let lastConsumed = 0;
    const ticker = setInterval(() => {
      const s = (performance.now() - started - base.warmupMs) / 1000;
      const produced = sum(producers);
      const consumed = sum(consumers);
      const clock = s < 0 ? 'warm-up' : `${s.toFixed(0)}/${spec.durationS} s`;
      const parts = [`  ${spec.system} | ${spec.name} | ${clock}`];
      if (producers.length > 0) parts.push(`produced ${produced.toLocaleString()} (${(produced - lastProduced).toLocaleString()}/s)`);
      if (consumers.length > 0) parts.push(`consumed ${consumed.toLocaleString()} (${(consumed - lastConsumed).toLocaleString()}/s)`);
      progressLine(parts.join(' | '));
      lastProduced = produced;
      lastConsumed = consumed;
    }, 1000);

    let consumerStop: Promise<void> = Promise.resolve();
    if (consumers.length > 0) {
      consumerStop = (async () => {
        const expected = (): number => (spec.shape === Shape.Consume ? spec.prefill : sum(producers));
        const producersDone = Promise.allSettled(producers.map((h) => h.done));
        let producersFinished = producers.length === 0;
        void producersDone.then(() => (producersFinished = true));
        const deadline = started + durationMs;
        let catchUpDeadline = Number.POSITIVE_INFINITY;
        // Bounded: the case ends at the duration (consume) or the catch-up bound (pipeline).
        for (;;) {
          await new Promise((r) => setTimeout(r, 20));
          const now = performance.now();
          if (producersFinished && catchUpDeadline === Number.POSITIVE_INFINITY) catchUpDeadline = now + CATCH_UP_MS_MAX;
          const drained = sum(consumers) >= expected() && (producersFinished || spec.shape === Shape.Consume);
          if (drained || now >= catchUpDeadline || (spec.shape === Shape.Consume && now >= deadline)) break;
        }
        for (const handle of consumers) tell(handle, { type: 'stop' });
      })();
    }

    const reports = await withTimeout(
      Promise.all([consumerStop, ...all.map((h) => h.done)]).then((r) => r.slice(1) as WorkerReport[]),
      durationMs + PREFILL_MS_MAX,
      `${spec.system} workers done`,
    ).finally(() => clearInterval(ticker));
    endProgress();
    const usage = sampler?.stop();
    return summariseCase(spec, reports.slice(0, producers.length), reports.slice(producers.length), usage, wallStart);
  } finally {
    await stopAll(all);
  }
}

function summariseCase(
  spec: CaseSpec,
  producerReports: WorkerReport[],
  consumerReports: WorkerReport[],
  usage: { cpuPercent: number; rssPeakBytes: number } | undefined,
  wallStart: number,
): CaseResult {
  const ack = latencyHistogram();
  const e2e = latencyHistogram();
  let produced = 0;
  let consumed = 0;
  let produceActiveMs = 0;
  let consumeActiveMs = 0;
  let cpuUs = 0;
  let errors = 0;
  let skipped = 0;
  let firstError: string | undefined;
  for (const r of producerReports) {
    produced += r.count;
    produceActiveMs = Math.max(produceActiveMs, r.activeMs);
    addEncoded(ack, r.ackHistogram);
  }
  for (const r of consumerReports) {
    consumed += r.count;
    consumeActiveMs = Math.max(consumeActiveMs, r.activeMs);
    addEncoded(e2e, r.e2eHistogram);
  }
  for (const r of [...producerReports, ...consumerReports]) {
    cpuUs += r.cpuUs;
    errors += r.errors;
    skipped += r.skipped;
    firstError ??= r.firstError;
  }
  const produceMsgsPerS = produceActiveMs > 0 ? produced / (produceActiveMs / 1000) : 0;
  const consumeMsgsPerS = consumeActiveMs > 0 ? consumed / (consumeActiveMs / 1000) : 0;
  const mainRate = spec.shape === Shape.Produce ? produceMsgsPerS : consumeMsgsPerS;
  const activeMs = Math.max(produceActiveMs, consumeActiveMs);
  return {
    spec,
    produced,
    consumed,
    produceMsgsPerS,
    consumeMsgsPerS,
    mbPerS: (mainRate * spec.payloadBytes) / 1e6,
    ack: summarise(ack),
    e2e: spec.shape === Shape.Pipeline ? summarise(e2e) : undefined,
    serverCpuPercent: usage?.cpuPercent,
    serverRssBytes: usage?.rssPeakBytes,
    clientCpuPercent: activeMs > 0 ? (cpuUs / 1000 / (activeMs + (spec.shape === Shape.Consume ? 0 : WARMUP_MS))) * 100 : 0,
    errors,
    skipped,
    firstError,
    wallS: (performance.now() - wallStart) / 1000,
  };
}
