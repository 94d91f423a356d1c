/**
 * Pipeline stage 1: emits COUNT (default 10,000) numbered jobs to `jobs`.
 *
 *   npx tsx examples/pipeline/source.ts
 */
import { connect, jsonSerializer } from '../../src/client/index.js';

const count = Number(process.env.COUNT ?? 10_000);
const client = await connect({ host: process.env.WALRUS_HOST, port: Number(process.env.WALRUS_PORT ?? 9797), clientId: 'pipeline-source' });
const producer = client.producer<{ job: number }>({ serializer: jsonSerializer });

// Windows of concurrent sends: the SDK batches each window into a handful of frames.
for (let start = 0; start < count; start += 1_000) {
  const window = Array.from({ length: Math.min(1_000, count - start) }, (_, i) => producer.send('jobs', { job: start + i }));
  await Promise.all(window);
}
console.log(`source: sent ${count} jobs`);
await client.close();
