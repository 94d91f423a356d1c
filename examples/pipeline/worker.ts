/**
 * Pipeline stage 2: one member of group `workers`. Start several; the broker hands each job to one
 * of them (and re-hands it if that member dies before committing). Squares each job into `results`.
 *
 *   npx tsx examples/pipeline/worker.ts w1
 */
import { connect, jsonDeserializer, jsonSerializer } from '../../src/client/index.js';

const name = process.argv[2] ?? `worker-${process.pid}`;
const client = await connect({ host: process.env.WALRUS_HOST, port: Number(process.env.WALRUS_PORT ?? 9797), clientId: name });
// A small prefetch keeps one fast member from leasing everything: jobs spread across the group.
const jobs = client.consumer<{ job: number }>({ topic: 'jobs', group: 'workers', deserializer: jsonDeserializer, maxBufferedBytes: 32 * 1024 });
const results = client.producer<{ job: number; square: number; by: string }>({ serializer: jsonSerializer });
process.once('SIGINT', () => void client.close({ timeoutMs: 5_000 })); // ends the loop below

let handled = 0;
for await (const batch of jobs.batches({ maxRecords: 200, maxWaitMs: 10 })) {
  await Promise.all(batch.messages.map((m) => results.send('results', { job: m.value.job, square: m.value.job ** 2, by: name })));
  await batch.commit(); // only after the results are stored: a crash before this redelivers the batch
  handled += batch.messages.length;
}
console.log(`${name}: handled ${handled} jobs`);
