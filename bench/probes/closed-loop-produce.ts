/**
 * One producer process against a running broker: W sends in flight (each ack sends the next), 1 KiB
 * each, for DUR ms, through the SDK. Prints msgs/s and this client's CPU per message. Start a broker
 * first, e.g. `node dist/broker/cli.js --data-dir $(mktemp -d) --port 9811 --fsync sync-each`.
 */
import { connect } from '../../src/client/index.js';

const port = Number(process.env.PORT ?? 9797);
const window = Number(process.env.W ?? 256);
const batchBytesMax = Number(process.env.BBM ?? 1024 * 1024);
const durationMs = Number(process.env.DUR ?? 4000);
const client = await connect({ host: '127.0.0.1', port, clientId: 'probe', reconnect: false });
const producer = client.producer({ lingerMs: 0, batchBytesMax });
const value = Buffer.alloc(1024, 0x61);
let count = 0;
let stop = false;
const t0 = performance.now();
const c0 = process.cpuUsage();
await new Promise<void>((resolve) => {
  let inFlight = 0;
  const sendOne = (): void => {
    inFlight++;
    void producer.send('probe', value).then(() => {
      inFlight--;
      count++;
      if (!stop) sendOne();
      else if (inFlight === 0) resolve();
    });
  };
  for (let i = 0; i < window; i++) sendOne();
  setTimeout(() => (stop = true), durationMs);
});
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
console.log(`W=${window} batchBytesMax=${batchBytesMax}: ${(count / seconds).toFixed(0)} msgs/s, client CPU ${((cpu.user + cpu.system) / count).toFixed(2)} µs/msg`);
await client.close({ timeoutMs: 2000 });
