/**
 * bench-smoke: proves the tooling works in ~20 s (plus the build): our broker (produce, consume, pipeline) and Redis
 * if redis-server is installed, with tiny durations. Exits 1 if any case moved no messages or had
 * errors. Not a measurement: the figures are too short to mean anything.
 */
import { execFileSync } from 'node:child_process';
import { readConfig } from '../lib/config.js';
import { RedisFsync } from '../peers/redis-server.js';
import { Lab, main, Shape } from './lab.js';
import { startRedisSystem, startWalrus } from './systems.js';

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

main(async () => {
  const config = readConfig({ durationS: 1, prefill: 2_000 });
  const lab = new Lab('smoke', config);
  await lab.with(() => startWalrus(config.fsync, config), async (walrus) => {
    await lab.run(walrus, { name: 'produce', shape: Shape.Produce });
    await lab.run(walrus, { name: 'consume', shape: Shape.Consume });
    await lab.run(walrus, { name: 'pipeline at 1000/s', shape: Shape.Pipeline, rateTotalPerS: 1000 });
  });
  if (hasRedis()) {
    await lab.with(() => startRedisSystem(RedisFsync.EverySec), async (redis) => {
      await lab.run(redis, { name: 'produce', shape: Shape.Produce });
    });
  }
  lab.report();
  const failed = lab.results.filter((r) => r.errors > 0 || (r.spec.shape === Shape.Produce ? r.produced : r.consumed) === 0);
  for (const r of failed) process.stderr.write(`smoke: ${r.spec.system} ${r.spec.name} failed: ${r.firstError ?? 'no messages'}\n`);
  if (failed.length > 0) throw new Error(`smoke: ${failed.length} case(s) failed`);
  process.stdout.write(`smoke: ${lab.results.length} cases passed\n`);
});
