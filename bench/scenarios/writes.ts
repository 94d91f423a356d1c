/**
 * bench-writes: produce-to-ack throughput and latency against our broker, for each THREADS count
 * (producer processes), each keeping WALRUS_BATCH_SIZE sends in flight. With RATE set, a second
 * case per count sends at that fixed total rate to show latency below saturation.
 */
import { readConfig } from '../lib/config.js';
import { Lab, main, Shape } from './lab.js';
import { startWalrus } from './systems.js';

main(async () => {
  const config = readConfig();
  const lab = new Lab('writes', config);
  await lab.with(() => startWalrus(config.fsync, config), async (walrus) => {
    for (const producers of config.threads) {
      await lab.run(walrus, { name: 'produce', shape: Shape.Produce, producers });
      if (config.rate > 0) {
        await lab.run(walrus, { name: `produce at ${config.rate}/s`, shape: Shape.Produce, producers, rateTotalPerS: config.rate });
      }
    }
  });
  lab.report();
});
