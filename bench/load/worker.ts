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

function waitForRunner(type: RunnerMessage['type'], waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    const onMessage = (message: RunnerMessage): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}

async function runProducer(task: WorkerTask): Promise<WorkerReport> {
  const client = await driverFor(task.target.kind).producer(task.target);
  post({ type: 'ready' });
  await waitForRunner('start', START_WAIT_MS_MAX);
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
  await produceLoop(client, task, ackHistogram, totals);
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
  await waitForRunner('start', START_WAIT_MS_MAX);
  const e2eHistogram = latencyHistogram();
  let count = 0;
  let bytes = 0;
  let lastNs = 0n;
  const controller = new AbortController();
  const stopTimer = setTimeout(() => controller.abort(), task.durationMs + CONSUMER_GRACE_MS);
  void waitForRunner('stop', task.durationMs + CONSUMER_GRACE_MS).then(() => controller.abort());
  const cpuStart = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  // Producers start together with consumers; with no warm-up (a prefilled topic) count everything.
  const measureFromNs = task.warmupMs > 0 ? startNs + BigInt(task.warmupMs) * 1_000_000n : 0n;
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
