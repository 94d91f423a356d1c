/**
 * Dead letters, nack and lease extension against the real daemon, in raw frames: a record given back
 * `maxDeliveries` times lands in the dead-letter topic with its headers and leaves the source group;
 * a delayed nack comes back; an extended lease outlives its original length.
 */
import { describe, expect, it } from 'vitest';
import { bin, offsetsOf, RawClient, text, useDaemon } from './harness.js';
import type { Reply } from './harness.js';

/** describeTopic until `group` reports `lag` (the cursor write follows the dead-letter copy). */
async function waitForLag(client: RawClient, topic: string, group: string, lag: number): Promise<Reply> {
  for (let i = 0; ; i++) {
    const described = await client.request({ op: 'describeTopic', topic });
    const g = described.groups.find((x: { group: string }) => x.group === group);
    if (g?.lag === lag || i === 200) return g;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('dead letters, nack and extend', () => {
  const shared = useDaemon();

  it('a record nacked maxDeliveries times lands in <topic>.dlq with its headers and leaves the group', async () => {
    const c = await RawClient.connect(shared.daemon.port);
    const records = [{ value: bin('a') }, { value: bin('poison'), key: bin('k1'), headers: { trace: 'abc' } }, { value: bin('c') }];
    expect((await c.request({ op: 'produceBatch', topic: 'orders', records })).ok).toBe(true);
    const first = await c.request({ op: 'fetch', topic: 'orders', group: 'svc', maxDeliveries: 3 });
    expect(offsetsOf(first)).toEqual([0, 1, 2]);
    expect(await c.request({ op: 'nack', topic: 'orders', group: 'svc', offset: 1, reason: 'bad-1' })).toMatchObject({ ok: true });
    expect((await c.request({ op: 'commit', topic: 'orders', group: 'svc', offset: 3 })).committed).toBe(1);
    for (const attempt of [2, 3]) {
      const again = await c.request({ op: 'fetch', topic: 'orders', group: 'svc' });
      expect(offsetsOf(again)).toEqual([1]);
      expect(text(again.records[0].value)).toBe('poison');
      expect((await c.request({ op: 'nack', topic: 'orders', group: 'svc', offset: 1, reason: `bad-${attempt}` })).ok).toBe(true);
    }
    const dead = await c.request({ op: 'fetch', topic: 'orders.dlq', offset: 0, maxWaitMs: 10_000 });
    expect(dead.records).toHaveLength(1);
    const letter = dead.records[0];
    expect(text(letter.value)).toBe('poison');
    expect(text(letter.key)).toBe('k1');
    expect(letter.headers).toEqual({
      trace: 'abc',
      'walrus.dlq.topic': 'orders',
      'walrus.dlq.group': 'svc',
      'walrus.dlq.offset': '1',
      'walrus.dlq.timestamp': expect.stringMatching(/^\d+$/),
      'walrus.dlq.deliveries': '3',
      'walrus.dlq.reason': 'bad-3',
    });
    expect(await waitForLag(c, 'orders', 'svc', 0)).toEqual({ group: 'svc', committed: 3, inFlight: 0, lag: 0 });
    expect(offsetsOf(await c.request({ op: 'fetch', topic: 'orders', group: 'svc' }))).toEqual([]);
    c.close();
  });

  it('configureGroup: expiry and a closed connection count as deliveries; the configured topic gets the letter', async () => {
    const admin = await RawClient.connect(shared.daemon.port);
    await admin.request({ op: 'produce', topic: 'jobs', value: bin('j0') });
    const configured = await admin.request({ op: 'configureGroup', topic: 'jobs', group: 'w', maxDeliveries: 2, deadLetterTopic: 'jobs-parked' });
    expect(configured).toMatchObject({ ok: true, maxDeliveries: 2, deadLetterTopic: 'jobs-parked' });
    // A fetch's maxDeliveries does not override a configured policy.
    const m1 = await RawClient.connect(shared.daemon.port);
    expect(offsetsOf(await m1.request({ op: 'fetch', topic: 'jobs', group: 'w', ackTimeoutMs: 50, maxDeliveries: 100 }))).toEqual([0]);
    // Its lease expires; the next member gets it (second delivery) and closes without a commit.
    const m2 = await RawClient.connect(shared.daemon.port);
    expect(offsetsOf(await m2.request({ op: 'fetch', topic: 'jobs', group: 'w', maxWaitMs: 10_000 }))).toEqual([0]);
    m2.close();
    const dead = await admin.request({ op: 'fetch', topic: 'jobs-parked', offset: 0, maxWaitMs: 10_000 });
    expect(offsetsOf(dead)).toEqual([0]);
    expect(dead.records[0].headers).toMatchObject({ 'walrus.dlq.deliveries': '2', 'walrus.dlq.reason': 'connection closed', 'walrus.dlq.offset': '0' });
    expect(await waitForLag(admin, 'jobs', 'w', 0)).toMatchObject({ committed: 1, lag: 0 });
    expect((await admin.request({ op: 'configureGroup', topic: 'jobs', group: 'w', maxDeliveries: 1, deadLetterTopic: 'jobs' })).error.code).toBe('INVALID_REQUEST');
    for (const c of [admin, m1]) c.close();
  });

  it('a nack with delayMs is handed out again once the delay ends; one with a long delay stays parked', async () => {
    const c = await RawClient.connect(shared.daemon.port);
    await c.request({ op: 'produceBatch', topic: 'later', records: [{ value: bin('x') }, { value: bin('y') }, { value: bin('z') }] });
    expect(offsetsOf(await c.request({ op: 'fetch', topic: 'later', group: 'g', maxRecords: 2 }))).toEqual([0, 1]);
    expect((await c.request({ op: 'nack', topic: 'later', group: 'g', offset: 0, delayMs: 50 })).ok).toBe(true);
    expect((await c.request({ op: 'nack', topic: 'later', group: 'g', offset: 1, delayMs: 3_600_000 })).ok).toBe(true);
    // 0 comes back once its delay ends, and fresh 2 is handed out too; 1 stays parked.
    const got: number[] = [];
    for (let i = 0; i < 20 && got.length < 2; i++) {
      got.push(...offsetsOf(await c.request({ op: 'fetch', topic: 'later', group: 'g', maxWaitMs: 10_000 })));
    }
    expect(got.sort()).toEqual([0, 2]);
    expect(offsetsOf(await c.request({ op: 'fetch', topic: 'later', group: 'g' }))).toEqual([]);
    expect((await c.request({ op: 'commit', topic: 'later', group: 'g', offset: 3 })).committed).toBe(1); // 1 still parked
    c.close();
  });

  it('extend keeps a record from another member past its original lease', async () => {
    const a = await RawClient.connect(shared.daemon.port);
    const b = await RawClient.connect(shared.daemon.port);
    await a.request({ op: 'produceBatch', topic: 'slow', records: [{ value: bin('kept') }, { value: bin('dropped') }] });
    expect(offsetsOf(await a.request({ op: 'fetch', topic: 'slow', group: 'g', ackTimeoutMs: 1000 }))).toEqual([0, 1]);
    const extended = await a.request({ op: 'extend', topic: 'slow', group: 'g', offset: 0, ms: 600_000 });
    expect(extended.ok).toBe(true);
    expect(extended.expiresAtMs).toBeGreaterThan(Date.now() + 500_000);
    // Both leases were 1 s; once b gets the one not extended, the original lease of 0 has passed too.
    expect(offsetsOf(await b.request({ op: 'fetch', topic: 'slow', group: 'g', maxWaitMs: 10_000 }))).toEqual([1]);
    expect(offsetsOf(await b.request({ op: 'fetch', topic: 'slow', group: 'g' }))).toEqual([]);
    // a still holds 0: its commit acknowledges it; a's commit cannot touch 1 any more.
    expect((await a.request({ op: 'commit', topic: 'slow', group: 'g', offset: 2 })).committed).toBe(1);
    for (const c of [a, b]) c.close();
  });

  it('nack and extend of a record this connection does not hold are NOT_LEASED', async () => {
    const a = await RawClient.connect(shared.daemon.port);
    const b = await RawClient.connect(shared.daemon.port);
    await a.request({ op: 'produce', topic: 'held', value: bin('v') });
    expect(offsetsOf(await a.request({ op: 'fetch', topic: 'held', group: 'g' }))).toEqual([0]);
    const cases = [
      await b.request({ op: 'nack', topic: 'held', group: 'g', offset: 0 }),
      await b.request({ op: 'extend', topic: 'held', group: 'g', offset: 0, ms: 1000 }),
      await a.request({ op: 'nack', topic: 'held', group: 'other', offset: 0 }),
      await a.request({ op: 'extend', topic: 'held', group: 'g', offset: 9, ms: 1000 }),
    ];
    for (const reply of cases) expect(reply).toMatchObject({ ok: false, error: { code: 'NOT_LEASED' } });
    await a.request({ op: 'commit', topic: 'held', group: 'g', offset: 1 });
    expect((await a.request({ op: 'nack', topic: 'held', group: 'g', offset: 0 })).error.code).toBe('NOT_LEASED');
    expect((await a.request({ op: 'nack', topic: 'missing', group: 'g', offset: 0 })).error.code).toBe('NOT_FOUND');
    expect((await a.request({ op: 'extend', topic: 'held', group: 'g', offset: 0, ms: 1 })).error.code).toBe('INVALID_REQUEST');
    for (const c of [a, b]) c.close();
  });
});
