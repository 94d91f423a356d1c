/**
 * Pipeline stage 3: collects `results` until it has COUNT distinct jobs, then reports and exits.
 *
 *   npx tsx examples/pipeline/sink.ts
 */
import { connect, jsonDeserializer } from '../../src/client/index.js';

const count = Number(process.env.COUNT ?? 10_000);
const client = await connect({ host: process.env.WALRUS_HOST, port: Number(process.env.WALRUS_PORT ?? 9797), clientId: 'pipeline-sink' });
const consumer = client.consumer<{ job: number; by: string }>({ topic: 'results', group: 'sink', deserializer: jsonDeserializer });

const seen = new Set<number>();
const byWorker = new Map<string, number>();
let received = 0;
for await (const batch of consumer.batches({ maxRecords: 500, maxWaitMs: 10 })) {
  for (const { value } of batch.messages) {
    received += 1;
    seen.add(value.job);
    byWorker.set(value.by, (byWorker.get(value.by) ?? 0) + 1);
  }
  await batch.commit();
  if (seen.size >= count) break;
}
// At-least-once: `received - distinct` counts redeliveries (0 unless something failed).
console.log(`sink: ${seen.size} distinct of ${received} received`, Object.fromEntries(byWorker));
await client.close();
