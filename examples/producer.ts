/**
 * Sends a few JSON orders to the `orders` topic.
 *
 *   make run                      # in another terminal: the broker on 127.0.0.1:9797
 *   npx tsx examples/producer.ts  # WALRUS_HOST / WALRUS_PORT override the address
 *
 * In your own app the import is `from 'walrus-broker/client'`; the examples import the source so they
 * run and typecheck straight from a checkout.
 */
import { connect, jsonSerializer } from '../src/client/index.js';

interface Order {
  id: number;
  item: string;
  cents: number;
}

const client = await connect({
  host: process.env.WALRUS_HOST ?? '127.0.0.1',
  port: Number(process.env.WALRUS_PORT ?? 9797),
  clientId: 'example-producer',
  signal: AbortSignal.timeout(10_000), // give up if no broker answers within 10 s
});
client.on('reconnecting', ({ attempt, delayMs }) => console.error(`broker away; retry ${attempt} in ${delayMs} ms`));

const producer = client.producer<Order>({ serializer: jsonSerializer });

// One send: resolves once the broker has the record (on disk with the default fsync mode).
const { offset } = await producer.send('orders', { value: { id: 1, item: 'coffee', cents: 350 }, key: 'customer-7' });
console.log(`order 1 stored at offset ${offset}`);

// Many concurrent sends are batched into few frames by the SDK: this is the fast way to send.
const results = await Promise.all(
  Array.from({ length: 1_000 }, (_, i) => producer.send('orders', { id: i + 2, item: 'tea', cents: 300 })),
);
console.log(`orders 2..1001 stored at offsets ${results[0].offset}..${results.at(-1)!.offset}`);

await client.close({ timeoutMs: 5_000 });
