/**
 * bench-reads: consume throughput of a consumer group (WALRUS_PREFILL messages written first, then
 * THREADS consumer processes drain them, committing per batch), and produce-to-consume latency with
 * producers and consumers running together at RATE msgs/s (default 20,000).
 */
import { readConfig } from '../lib/config.js';
import { Lab, main, Shape } from './lab.js';
import { startWalrus } from './systems.js';

main(async () => {
  const config = readConfig({ rate: 20_000 });
  const lab = new Lab('reads', config);
  await lab.with(() => startWalrus(config.fsync, config), async (walrus) => {
    for (const consumers of config.threads) {
      await lab.run(walrus, { name: 'consume (drain)', shape: Shape.Consume, producers: 1, consumers });
      await lab.run(walrus, {
        name: `pipeline at ${config.rate}/s`,
        shape: Shape.Pipeline,
        producers: 1,
        consumers,
        rateTotalPerS: config.rate,
      });
    }
  });
  lab.report();
});
