/**
 * One SDK producer against a running broker at a steady RATE (msgs/s) of 1 KiB sends for DUR ms:
 * ack latency from each send's scheduled time, after a 1 s warm-up, and how late this process's own
 * event loop ran (so a stall here is not blamed on the broker). Start a broker first, e.g.
 * `node dist/broker/cli.js --data-dir $(mktemp -d) --port 9811 --fsync sync-each`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect } from '../../src/client/index.js';

const port = Number(process.env.PORT ?? 9797);
const RATE = Number(process.env.RATE ?? 20000);
const DURATION_MS = Number(process.env.DUR ?? 6000);
const client = await connect({ host: '127.0.0.1', port, clientId: 'paced-probe', reconnect: false });
const producer = client.producer({ lingerMs: 0 });
const value = Buffer.alloc(1024, 0x61);
const latencies: number[] = [];
/** Ack time minus the moment `send` was called (service time, without the pacing tick's wait). */
const service: number[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const t0 = performance.now();
let sent = 0;
await new Promise<void>((resolve) => {
  // A 1 ms interval, as the bench's load generator paces: sends due since the last tick go together.
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - t0 > DURATION_MS) {
      clearInterval(timer);
      return resolve();
    }
    const due = Math.floor(((now - t0) * RATE) / 1000);
    while (sent < due) {
      const scheduled = t0 + (sent * 1000) / RATE;
      sent++;
      const calledAt = performance.now();
      void producer.send('paced', value).then(() => {
        if (scheduled - t0 > 1000) {
          const ackedAt = performance.now();
          latencies.push(ackedAt - scheduled);
          service.push(ackedAt - calledAt);
        }
      });
    }
  }, 1);
});
await producer.flush();
loopDelay.disable();
latencies.sort((a, b) => a - b);
service.sort((a, b) => a - b);
const q = (p: number, xs = latencies): string => xs[Math.floor(xs.length * p)].toFixed(3);
console.log(
  `${latencies.length} sends at ${RATE}/s after warm-up: ack p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, p99.9 ${q(0.999)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms; ` +
    `from the send call: p50 ${q(0.5, service)} ms, p99 ${q(0.99, service)} ms; ` +
    `this process's event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(2)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
);
await client.close({ timeoutMs: 2000 });
