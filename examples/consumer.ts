/**
 * Reads the `orders` topic as group `billing`, committing each order once it is handled. Ctrl-C stops
 * it cleanly; run it twice to see the group share the work.
 *
 *   npx tsx examples/consumer.ts
 */
import { connect, jsonDeserializer, WalrusError } from '../src/client/index.js';

interface Order {
  id: number;
  item: string;
  cents: number;
}

const client = await connect({
  host: process.env.WALRUS_HOST ?? '127.0.0.1',
  port: Number(process.env.WALRUS_PORT ?? 9797),
  clientId: 'example-consumer',
});
client.on('disconnected', () => console.error('broker connection lost; reconnecting…'));
client.on('connected', ({ reconnected }) => reconnected && console.error('reconnected; resuming from the committed cursor'));

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

const consumer = client.consumer<Order>({ topic: 'orders', group: 'billing', deserializer: jsonDeserializer });
let total = 0;
try {
  for await (const msg of consumer.messages({ signal: stop.signal })) {
    total += msg.value.cents;
    console.log(`offset ${msg.offset}: order ${msg.value.id} (${msg.value.item}); running total ${total} cents`);
    await msg.commit(); // "done with this one": the SDK works out the broker offset
  }
} catch (error) {
  if (!(error instanceof WalrusError && error.code === 'ABORTED')) throw error;
}
await client.close({ timeoutMs: 5_000 });
