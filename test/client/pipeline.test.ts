import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { BrokerProcess, ROOT, ScriptProcess } from './broker-process.js';

/**
 * Multi-process pipelines through the real daemon: producer → N workers in one group → sink, each
 * stage its own `node` process, as users run them.
 */

const FIXTURES = path.join(ROOT, 'test/client/fixtures');
const script = (name: string): string => path.join(FIXTURES, name);

function json(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

describe('3-process pipeline', () => {
  let broker: BrokerProcess;
  const processes: ScriptProcess[] = [];

  beforeAll(async () => {
    broker = await BrokerProcess.start();
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await broker?.dispose();
  });

  function run(name: string, args: string[], env: Record<string, string> = {}): ScriptProcess {
    const child = new ScriptProcess(script(name), [String(broker.port), ...args], env);
    processes.push(child);
    return child;
  }

  async function startStages(count: number, inTopic: string, outTopic: string, workerEnv: Record<string, string>) {
    const sink = run('pipeline-sink.ts', [outTopic, 'sink', String(count)]);
    const workers = [0, 1, 2].map((i) => run('pipeline-worker.ts', [inTopic, outTopic, 'workers', `w${i}`], workerEnv));
    await Promise.all([sink, ...workers].map((p) => p.waitForLine((line) => line.includes('"ready"'))));
    const producer = run('pipeline-producer.ts', [inTopic, String(count)]);
    return { sink, workers, producer };
  }

  it('delivers 100k messages through one group of 3 workers exactly once when nothing fails', async () => {
    const count = 100_000;
    const { sink, workers, producer } = await startStages(count, 'pipe-in', 'pipe-out', {});
    expect(await producer.exited).toBe(0);
    const summary = json(await sink.waitForLine((line) => line.includes('"unique"')));
    expect(await sink.exited).toBe(0);
    expect(summary).toEqual({ unique: count, total: count, duplicates: 0 });

    // Every worker took part, and the forwarding topic holds each record once: nothing was redone.
    for (const worker of workers) expect(worker.lines.some((line) => line.includes('"committed"'))).toBe(true);
    const client = await connect({ port: broker.port });
    try {
      const out = await client.admin.describeTopic('pipe-out');
      expect(out.nextOffset - out.firstOffset).toBe(count);
      const lag = await client.admin.groupLag('pipe-in', 'workers');
      expect(lag).toMatchObject({ committed: count, lag: 0 });
    } finally {
      await client.close();
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
  }, 150_000);

  it('redelivers the leases of a SIGKILLed worker to the other members', async () => {
    const count = 20_000;
    // A stall between receiving and committing keeps each worker holding leases most of the time.
    const { sink, workers, producer } = await startStages(count, 'kill-in', 'kill-out', { WORKER_DELAY_MS: '100' });
    const [victim, ...survivors] = workers;
    await victim.waitForLine((line) => line.includes('"committed"'));
    await victim.waitForLine((line) => line.includes('"got"') && victim.lines.filter((l) => l.includes('"got"')).length >= 3);
    await victim.kill('SIGKILL');

    const got = new Set<number>();
    const committed = new Set<number>();
    for (const line of victim.lines) {
      const entry = json(line);
      for (const offset of (entry.got as number[] | undefined) ?? []) got.add(offset);
      for (const offset of (entry.committed as number[] | undefined) ?? []) committed.add(offset);
    }
    const orphaned = [...got].filter((offset) => !committed.has(offset));

    expect(await producer.exited).toBe(0);
    const summary = json(await sink.waitForLine((line) => line.includes('"unique"')));
    expect(summary.unique).toBe(count);

    // What the victim held uncommitted was handed to the survivors.
    expect(orphaned.length).toBeGreaterThan(0);
    const survivorGot = new Set<number>();
    for (const worker of survivors) {
      for (const line of worker.lines) for (const offset of (json(line).got as number[] | undefined) ?? []) survivorGot.add(offset);
    }
    for (const offset of orphaned) expect(survivorGot.has(offset)).toBe(true);
    await Promise.all(survivors.map((w) => w.kill('SIGTERM')));
  }, 120_000);
});
