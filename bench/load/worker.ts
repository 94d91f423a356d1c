/**
 * One producer or consumer process of a benchmark case. Started by the runner with `fork`, it
 * connects, says `ready`, waits for `start` (so every worker begins together), runs, reports
 * cumulative counts every PROGRESS_INTERVAL_MS and its histograms at the end, then exits.
 */
import { encodeHistogram, latencyHistogram, recordUs } from '../lib/latency.js';
import { readStamp } from '../lib/payload.js';
import { driverFor } from '../targets/index.js';
import type { RunnerMessage, WorkerMessage, WorkerReport, WorkerTask } from './messages.js';
import { produceLoop, type ProduceTotals } from './produce-loop.js';

/** How often a worker reports its running counts to the runner. */
const PROGRESS_INTERVAL_MS = 250;
/** A consumer stops by itself this long after its duration even if no `stop` came. */
const CONSUMER_GRACE_MS = 30_000;
/** Longest wait for `start` after `ready`. */
const START_WAIT_MS_MAX = 120_000;

function post(message: WorkerMessage): void {
  process.send?.(message);
}

/** Resolves with the runner's message of `type`, or undefined after `waitMs`. */
function waitForRunner<K extends RunnerMessage['type']>(type: K, waitMs: number): Promise<Extract<RunnerMessage, { type: K }> | undefined> {
  return new Promise((resolve) => {
    const onMessage = (message: RunnerMessage): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(message as Extract<RunnerMessage, { type: K }>);
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      resolve(undefined);
    }, waitMs);
    process.on('message', onMessage);
  });
}

/** Waits for `start`; the shared measuring start, or (if the runner never said) now plus the warm-up. */
async function waitForStart(): Promise<bigint> {
  const start = await waitForRunner('start', START_WAIT_MS_MAX);
  if (start === undefined) throw new Error('no start from the runner');
  return BigInt(start.measureFromNs);
}

async function runProducer(task: WorkerTask): Promise<WorkerReport> {
  const client = await driverFor(task.target.kind).producer(task.target);
  post({ type: 'ready' });
  const measureFromNs = await waitForStart();
  const ackHistogram = latencyHistogram();
  const totals: ProduceTotals = {
    count: 0,
    bytes: 0,
    errors: 0,
    skipped: 0,
    lastAckNs: 0n,
    measureFromNs: 0n,
    firstError: undefined,
  };
  const cpuStart = process.cpuUsage();
  const progress = setInterval(() => post({ type: 'progress', count: totals.count, bytes: totals.bytes }), PROGRESS_INTERVAL_MS);
  await produceLoop(client, { ...task, measureFromNs }, ackHistogram, totals);
  clearInterval(progress);
  const cpu = process.cpuUsage(cpuStart);
  await client.close().catch(() => undefined);
  return {
    count: totals.count,
    bytes: totals.bytes,
    errors: totals.errors,
    skipped: totals.skipped,
    activeMs: totals.count > 0 ? Number(totals.lastAckNs - totals.measureFromNs) / 1e6 : 0,
    ackHistogram: encodeHistogram(ackHistogram),
    e2eHistogram: '',
    cpuUs: cpu.user + cpu.system,
    firstError: totals.firstError,
  };
}

async function runConsumer(task: WorkerTask): Promise<WorkerReport> {
  const client = await driverFor(task.target.kind).consumer(task.target, `member-${task.workerId}`);
  post({ type: 'ready' });
  const sharedMeasureFromNs = await waitForStart();
  const e2eHistogram = latencyHistogram();
  let count = 0;
  let bytes = 0;
  let lastNs = 0n;
  const controller = new AbortController();
  const stopTimer = setTimeout(() => controller.abort(), task.durationMs + CONSUMER_GRACE_MS);
  void waitForRunner('stop', task.durationMs + CONSUMER_GRACE_MS).then(() => controller.abort());
  const cpuStart = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  // With no warm-up (a prefilled topic) count everything; otherwise what producers count.
  const measureFromNs = task.warmupMs > 0 ? sharedMeasureFromNs : 0n;
  const progress = setInterval(() => post({ type: 'progress', count, bytes }), PROGRESS_INTERVAL_MS);
  let firstError: string | undefined;
  try {
    await client.run((value) => {
      const sentNs = readStamp(value);
      // Messages sent during the producers' warm-up are consumed but not counted.
      if (sentNs < measureFromNs) return;
      const nowNs = process.hrtime.bigint();
      count += 1;
      bytes += value.length;
      lastNs = nowNs;
      recordUs(e2eHistogram, Number(nowNs - sentNs) / 1000);
    }, controller.signal);
  } catch (error) {
    firstError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  clearInterval(progress);
  clearTimeout(stopTimer);
  const cpu = process.cpuUsage(cpuStart);
  await client.close().catch(() => undefined);
  return {
    count,
    bytes,
    errors: firstError === undefined ? 0 : 1,
    skipped: 0,
    activeMs: count > 0 ? Number(lastNs - (measureFromNs > 0n ? measureFromNs : startNs)) / 1e6 : 0,
    ackHistogram: '',
    e2eHistogram: encodeHistogram(e2eHistogram),
    cpuUs: cpu.user + cpu.system,
    firstError,
  };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as WorkerTask;
  const report = task.role === 'producer' ? await runProducer(task) : await runConsumer(task);
  finish({ type: 'done', report }, 0);
}

/** Sends the last message, then exits: client libraries may hold timers or sockets open. */
function finish(message: WorkerMessage, code: number): void {
  const exit = (): never => process.exit(code);
  if (process.send === undefined) exit();
  else process.send(message, undefined, {}, exit);
}

main().then(
  () => undefined,
  (error: unknown) => {
    finish({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 1);
  },
);
