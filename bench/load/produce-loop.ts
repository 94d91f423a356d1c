import { recordUs, type Histogram } from '../lib/latency.js';
import { payloadTemplate, stampedPayload } from '../lib/payload.js';
import type { ProducerClient } from '../targets/types.js';

/** A producer gives up after this many failed sends (the target is down; more says nothing). */
export const PRODUCE_ERRORS_MAX = 1000;
/** Fixed-rate mode checks its schedule this often, in ms; sends due since the last tick go together. */
const RATE_TICK_MS = 1;
/**
 * Sends in flight allowed in fixed-rate mode (1 s at 64k msgs/s): a stalled target shows up as
 * latency, and only a stall longer than this shows up as `skipped` sends.
 */
const RATE_IN_FLIGHT_MAX = 65_536;

/** Running totals a produce loop updates; read by the worker's progress timer. */
export interface ProduceTotals {
  count: number;
  bytes: number;
  errors: number;
  skipped: number;
  lastAckNs: bigint;
  /** When counting started (after warm-up), on the monotonic clock. */
  measureFromNs: bigint;
  firstError: string | undefined;
}

export interface ProduceLoopOptions {
  payloadBytes: number;
  window: number;
  ratePerS: number;
  durationMs: number;
  /** Sends scheduled before this monotonic time (ns) are not counted nor recorded (warm-up). */
  measureFromNs: bigint;
  countMax: number;
}

/**
 * Sends until the duration or count bound, recording produce-to-ack latency per message.
 * Window mode keeps `window` sends in flight (each ack issues the next send, so acks that arrive
 * together issue their successors in one turn, which auto-batching clients coalesce). Fixed-rate mode
 * sends on a schedule and measures from the *scheduled* time, so a stalled target cannot hide its
 * stall by slowing the sender (coordinated omission).
 */
export function produceLoop(
  client: ProducerClient,
  options: ProduceLoopOptions,
  ackHistogram: Histogram,
  totals: ProduceTotals,
): Promise<void> {
  const template = payloadTemplate(options.payloadBytes);
  const startNs = process.hrtime.bigint();
  const measureFromNs = options.measureFromNs;
  const deadlineNs = measureFromNs + BigInt(options.durationMs) * 1_000_000n;
  const countMax = options.countMax > 0 ? options.countMax : Number.MAX_SAFE_INTEGER;
  totals.measureFromNs = measureFromNs;
  let inFlight = 0;
  let issued = 0;
  let finished = false;
  // Set per mode below: what an ack (or a failed send) does next.
  let afterAck: () => void = () => {};

  return new Promise((resolve) => {
    const shouldStop = (nowNs: bigint): boolean =>
      nowNs >= deadlineNs || issued >= countMax || totals.errors >= PRODUCE_ERRORS_MAX;

    const sendOne = (scheduledNs: bigint): void => {
      inFlight += 1;
      issued += 1;
      client.send(stampedPayload(template, scheduledNs)).then(
        () => {
          const nowNs = process.hrtime.bigint();
          inFlight -= 1;
          if (scheduledNs >= measureFromNs) {
            totals.count += 1;
            totals.bytes += options.payloadBytes;
            totals.lastAckNs = nowNs;
            recordUs(ackHistogram, Number(nowNs - scheduledNs) / 1000);
          }
          afterAck();
        },
        (error: unknown) => {
          inFlight -= 1;
          totals.errors += 1;
          totals.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          afterAck();
        },
      );
    };

    const finishIfIdle = (): void => {
      if (finished || inFlight > 0) return;
      finished = true;
      resolve();
    };

    if (options.ratePerS <= 0) {
      let stopped = false;
      const fill = (): void => {
        while (!stopped && inFlight < options.window) {
          const nowNs = process.hrtime.bigint();
          if (shouldStop(nowNs)) {
            stopped = true;
            break;
          }
          sendOne(nowNs);
        }
      };
      // An ack refills one slot; the slot check keeps the window exact.
      afterAck = (): void => {
        if (!stopped) fill();
        if (stopped) finishIfIdle();
      };
      fill();
      if (stopped) finishIfIdle();
      return;
    }

    const intervalNs = 1e9 / options.ratePerS;
    let sent = 0;
    const timer = setInterval(() => {
      const nowNs = process.hrtime.bigint();
      if (shouldStop(nowNs)) {
        clearInterval(timer);
        finishIfIdle();
        return;
      }
      const due = Math.floor(Number(nowNs - startNs) / intervalNs) + 1;
      while (sent < due && issued < countMax) {
        const scheduledNs = startNs + BigInt(Math.round(sent * intervalNs));
        sent += 1;
        if (inFlight >= RATE_IN_FLIGHT_MAX) {
          totals.skipped += 1;
          continue;
        }
        sendOne(scheduledNs);
      }
    }, RATE_TICK_MS);
    afterAck = (): void => {
      if (process.hrtime.bigint() >= deadlineNs || totals.errors >= PRODUCE_ERRORS_MAX) {
        clearInterval(timer);
        finishIfIdle();
      }
    };
  });
}
