/**
 * The `walrus` CLI end to end: every verb against a real daemon on loopback with a temp data dir,
 * `--json` output parsed here, exit code 2 with the broker's code for a refusal and 1 for usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { connect } from '../../src/client/index.js';
import { startDaemon, tempDir, type Daemon } from '../broker/harness.js';
import { json, jsonLines, runCli, startCli, type CliRun } from './walrus-cli.js';

// Each CLI run is a fresh Node process through tsx (~1 s on a busy two-core machine), so tests get more room.
describe('walrus CLI', { timeout: 180_000 }, () => {
  const dir = tempDir('walrus-cli-test-');
  let daemon: Daemon;
  let broker: string[];
  const running = new Set<CliRun>();

  beforeAll(async () => {
    daemon = await startDaemon(dir.path);
    broker = ['--broker', `127.0.0.1:${daemon.port}`];
  });

  afterAll(async () => {
    for (const run of running) run.child.kill('SIGKILL');
    await Promise.all([...running].map((run) => run.done.catch(() => undefined)));
    await daemon?.terminate();
    dir.cleanup();
  });

  const walrus = (args: string[], stdin?: string | Buffer) => runCli([...broker, ...args], { stdin });

  it('topics create, list, describe and delete', async () => {
    const created = await walrus(['topics', 'create', 'alpha', '--json']);
    expect(created.code).toBe(0);
    expect(json(created)).toEqual({ topic: 'alpha', created: true });
    expect(json(await walrus(['topics', 'create', 'alpha', '--json']))).toEqual({ topic: 'alpha', created: false });

    const listed = await walrus(['topics', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(json(listed)).toContainEqual({ topic: 'alpha', firstOffset: 0, nextOffset: 0, bytes: expect.any(Number), groups: [] });
    const table = await walrus(['topics', 'list']);
    expect(table.stdout).toMatch(/^TOPIC\s+FIRST\s+NEXT\s+BYTES\s+GROUPS/);
    expect(table.stdout).toContain('alpha');

    const described = await walrus(['topics', 'describe', 'alpha', '--json']);
    expect(json(described)).toMatchObject({ topic: 'alpha', firstOffset: 0, nextOffset: 0, groups: [] });

    const deleted = await walrus(['topics', 'delete', 'alpha', '--json']);
    expect(deleted.code).toBe(0);
    expect(json(deleted)).toEqual({ topic: 'alpha', deleted: true });
    expect(json<Array<{ topic: string }>>(await walrus(['topics', 'list', '--json'])).map((t) => t.topic)).not.toContain('alpha');
  });

  it('topics list describes more topics than it asks about at once', async () => {
    // DESCRIBE_CONCURRENCY_MAX is 64: 70 topics make the listing go round more than once.
    const names = Array.from({ length: 70 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    const client = await connect({ port: daemon.port, reconnect: false });
    try {
      await Promise.all(names.map((name) => client.admin.createTopic(name)));
    } finally {
      await client.close();
    }
    const listed = json<Array<{ topic: string }>>(await walrus(['topics', 'list', '--json']));
    expect(listed.map((t) => t.topic).filter((t) => t.startsWith('many-'))).toEqual(names);
  });

  it('exits 2 and prints the broker code for a broker error', async () => {
    const result = await walrus(['topics', 'delete', 'never-created']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NOT_FOUND');
    expect(result.stdout).toBe('');
    const missing = await walrus(['topics', 'describe', 'never-created', '--json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('NOT_FOUND');
  });

  it('exits 2 with a connection code when no broker answers', async () => {
    // Port 1 on loopback: nothing listens there, the connect is refused at once.
    const result = await runCli(['--broker', '127.0.0.1:1', 'ping', '--timeout-ms', '2000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/walrus: [A-Z_]+: /);
  });

  it('exits 1 for usage errors, before reaching the broker', async () => {
    const cases: string[][] = [
      [],
      ['topics'],
      ['topics', 'frob'],
      ['tail'],
      ['groups', 'seek', '--topic', 't', '--group', 'g'],
      ['groups', 'seek', '--topic', 't', '--group', 'g', '--to', 'yesterday'],
      ['tail', 't', '--from', 'soon'],
      ['tail', 't', '--max', '0'],
      ['produce', 't', '--format', 'xml'],
      ['produce', 't', '--header', 'no-equals-sign'],
      ['ping', '--count', '0'],
      ['topics', 'create', 'bad/name'],
    ];
    const results = await Promise.all(cases.map((args) => walrus(args)));
    results.forEach((result, i) => {
      expect({ args: cases[i], code: result.code }).toEqual({ args: cases[i], code: 1 });
      expect(result.stderr).toContain('walrus:');
    });
    const badBroker = await runCli(['--broker', 'host:notaport', 'ping']);
    expect(badBroker.code).toBe(1);
  });

  it('produce lines with key and headers, then tail them as plain reads', async () => {
    const produced = await walrus(['produce', 'lines', '--key', 'k1', '--header', 'trace=abc', '--header', 'source=cli', '--json'], 'one\ntwo\r\n\nthree\n');
    expect(produced.code).toBe(0);
    expect(json(produced)).toEqual({ topic: 'lines', count: 4, firstOffset: 0, lastOffset: 3 });

    const tailed = await walrus(['tail', 'lines', '--json']);
    expect(tailed.code).toBe(0);
    const records = jsonLines(tailed);
    expect(records.map((r) => r.value)).toEqual(['one', 'two', '', 'three']);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(records[0]).toMatchObject({ topic: 'lines', key: 'k1', headers: { trace: 'abc', source: 'cli' } });
    expect(new Date(records[0].time).getTime()).toBe(records[0].timestamp);

    expect(jsonLines(await walrus(['tail', 'lines', '--from', '2', '--json'])).map((r) => r.offset)).toEqual([2, 3]);
    expect(jsonLines(await walrus(['tail', 'lines', '--max', '2', '--json'])).map((r) => r.offset)).toEqual([0, 1]);
    expect(jsonLines(await walrus(['tail', 'lines', '--from', 'latest', '--json']))).toEqual([]);
    const human = await walrus(['tail', 'lines', '--from', '3']);
    expect(human.stdout.trim()).toMatch(/^3\s+\S+Z\s+key=k1\s+trace=abc\s+source=cli\s+three$/);
  });

  it('produce --format json and msgpack', async () => {
    const fromJson = await walrus(['produce', 'formats', '--format', 'json', '--json'], '{ "a": 1 }\n\n[2, 3]\n"s"\n');
    expect(json(fromJson)).toMatchObject({ count: 3, firstOffset: 0, lastOffset: 2 });
    const fromMsgpack = await walrus(['produce', 'formats', '--format', 'msgpack', '--json'], Buffer.concat([pack({ x: 1 }), pack('hi')]));
    expect(json(fromMsgpack)).toMatchObject({ count: 2, firstOffset: 3, lastOffset: 4 });

    const records = jsonLines(await walrus(['tail', 'formats', '--json']));
    expect(records.slice(0, 3).map((r) => r.value)).toEqual(['{"a":1}', '[2,3]', '"s"']);
    // msgpack values are stored as msgpack; the map is not UTF-8 text, so it comes back as base64.
    expect(Buffer.from(records[3].valueBase64, 'base64')).toEqual(Buffer.from(pack({ x: 1 })));

    const badJson = await walrus(['produce', 'formats', '--format', 'json'], '{"ok":true}\nnot json\n');
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toContain('line 2');
  });

  it('tail --from an ISO time starts at the first record appended at or after it', async () => {
    await walrus(['produce', 'timed'], 'a\nb\nc\n');
    const before = jsonLines(await walrus(['tail', 'timed', '--json']));
    // Let the clock move past the first batch's timestamps before the second batch is appended.
    while (Date.now() <= before[before.length - 1].timestamp + 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await walrus(['produce', 'timed'], 'd\ne\n');
    const all = jsonLines(await walrus(['tail', 'timed', '--json']));
    expect(all.map((r) => r.value)).toEqual(['a', 'b', 'c', 'd', 'e']);

    const fromEach = await Promise.all(all.map((pivot) => walrus(['tail', 'timed', '--from', pivot.time, '--json'])));
    all.forEach((pivot, i) => {
      expect(fromEach[i].code).toBe(0);
      const expected = all.filter((r) => r.timestamp >= pivot.timestamp).map((r) => r.offset);
      expect(jsonLines(fromEach[i]).map((r) => r.offset)).toEqual(expected);
    });
    const future = new Date(all[all.length - 1].timestamp + 60_000).toISOString();
    expect(jsonLines(await walrus(['tail', 'timed', '--from', future, '--json']))).toEqual([]);
    const past = await walrus(['tail', 'timed', '--from', '2000-01-01', '--json']);
    expect(jsonLines(past)).toHaveLength(5);
  });

  it('tail --follow waits for records produced after it started', async () => {
    await walrus(['topics', 'create', 'live']);
    const follower = startCli([...broker, 'tail', 'live', '--follow', '--from', 'latest', '--max', '2', '--json']);
    running.add(follower);
    // The follower starts at "latest": keep producing until it has seen two records (its start
    // races with our first produce, so a fixed count could be missed).
    let sent = 0;
    let finished = false;
    void follower.done.then(() => (finished = true));
    while (!finished && sent < 50) {
      await walrus(['produce', 'live'], `live-${sent}\n`);
      sent += 1;
    }
    const result = await follower.done;
    running.delete(follower);
    expect(result.code).toBe(0);
    const records = jsonLines(result);
    expect(records).toHaveLength(2);
    expect(records[1].offset).toBe(records[0].offset + 1);
    expect(records[0].value).toMatch(/^live-\d+$/);
  });

  it('tail --follow ends cleanly (exit 0) on SIGINT', async () => {
    await walrus(['produce', 'interrupted'], 'first\n');
    const follower = startCli([...broker, 'tail', 'interrupted', '--follow', '--json']);
    running.add(follower);
    // Wait for the record to be printed: the follower is then inside its long-poll loop.
    while (!follower.stdoutSoFar().includes('\n')) {
      if (follower.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    follower.child.kill('SIGINT');
    const result = await follower.done;
    running.delete(follower);
    expect(result.code).toBe(0);
    expect(jsonLines(result).map((r) => r.value)).toEqual(['first']);
  });

  it('tail --group consumes and commits; groups list, describe and seek', async () => {
    await walrus(['produce', 'jobs'], 'j0\nj1\nj2\nj3\n');

    const firstTwo = await walrus(['tail', 'jobs', '--group', 'workers', '--max', '2', '--json']);
    expect(firstTwo.code).toBe(0);
    expect(jsonLines(firstTwo).map((r) => r.value)).toEqual(['j0', 'j1']);

    const listed = await walrus(['groups', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(json(listed)).toContainEqual({ topic: 'jobs', group: 'workers', committed: 2, inFlight: 0, lag: 2 });
    expect(json(await walrus(['groups', 'list', '--topic', 'jobs', '--json']))).toEqual([
      { topic: 'jobs', group: 'workers', committed: 2, inFlight: 0, lag: 2 },
    ]);
    expect((await walrus(['groups', 'list'])).stdout).toMatch(/^TOPIC\s+GROUP\s+COMMITTED\s+IN-FLIGHT\s+LAG/);

    // The rest, then nothing more: without --follow the group tail ends at the topic's end.
    expect(jsonLines(await walrus(['tail', 'jobs', '--group', 'workers', '--json'])).map((r) => r.value)).toEqual(['j2', 'j3']);
    const caughtUp = await walrus(['tail', 'jobs', '--group', 'workers', '--json']);
    expect(caughtUp.code).toBe(0);
    expect(jsonLines(caughtUp)).toEqual([]);

    const described = await walrus(['groups', 'describe', '--group', 'workers', '--json']);
    expect(json(described)).toEqual([{ topic: 'jobs', group: 'workers', committed: 4, inFlight: 0, lag: 0 }]);
    const unknown = await walrus(['groups', 'describe', '--group', 'nobody']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('NOT_FOUND');

    const seek = await walrus(['groups', 'seek', '--topic', 'jobs', '--group', 'workers', '--to', '1', '--json']);
    expect(seek.code).toBe(0);
    expect(json(seek)).toEqual({ topic: 'jobs', group: 'workers', offset: 1 });
    expect(json(await walrus(['groups', 'seek', '--topic', 'jobs', '--group', 'workers', '--to', 'latest', '--json']))).toMatchObject({ offset: 4 });
    expect(json(await walrus(['groups', 'seek', '--topic', 'jobs', '--group', 'workers', '--to', 'earliest', '--json']))).toMatchObject({ offset: 0 });

    // --from with --group seeks the group first.
    const replay = await walrus(['tail', 'jobs', '--group', 'workers', '--from', '3', '--json']);
    expect(jsonLines(replay).map((r) => r.offset)).toEqual([3]);

    const seekMissing = await walrus(['groups', 'seek', '--topic', 'no-such-topic', '--group', 'workers', '--to', 'earliest']);
    expect(seekMissing.code).toBe(2);
    expect(seekMissing.stderr).toContain('NOT_FOUND');
  });

  it('ping reports connect and round-trip times; WALRUS_BROKER is the fallback address', async () => {
    const result = await runCli(['ping', '--count', '2', '--json'], { env: { WALRUS_BROKER: `127.0.0.1:${daemon.port}` } });
    expect(result.code).toBe(0);
    const summary = json(result);
    expect(summary).toMatchObject({ broker: `127.0.0.1:${daemon.port}` });
    expect(summary.roundTripsMs).toHaveLength(2);
    for (const field of ['connectMs', 'minMs', 'avgMs', 'maxMs']) expect(summary[field]).toBeGreaterThanOrEqual(0);
    expect((await walrus(['ping'])).stdout).toContain('round trips');
  });
});
