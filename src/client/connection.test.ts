import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedPeer, type PeerHandler, type ScriptedPeer } from '../../test/client/scripted-peer.js';
import { Connection, type ConnectionListener } from './connection.js';
import { resolveConnectOptions } from './options.js';

/**
 * The connection state machine against a scripted peer on loopback: a real socket and the real frame
 * codec, with replies the real broker would never send on cue (silence, garbage, out-of-order).
 */

const peers: ScriptedPeer[] = [];
const connections: Connection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function peer(handle?: PeerHandler, options: { answerHello?: boolean; port?: number } = {}): Promise<ScriptedPeer> {
  const started = await startScriptedPeer(handle, options);
  peers.push(started);
  return started;
}

function recordingListener() {
  const events: string[] = [];
  const listener: ConnectionListener = {
    onConnected: (e) => events.push(e.reconnected ? 'reconnected' : 'connected'),
    onDisconnected: () => events.push('disconnected'),
    onReconnecting: (e) => events.push(`reconnecting:${e.attempt}`),
    onGaveUp: () => events.push('gave-up'),
  };
  return { events, listener };
}

function open(port: number, listener: ConnectionListener, extra: object = {}): Connection {
  const settings = resolveConnectOptions({ port, reconnect: { initialDelayMs: 5, maxDelayMs: 20 }, random: () => 1, ...extra });
  const connection = new Connection(settings, listener);
  connections.push(connection);
  return connection;
}

function waitFor(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => (check() ? resolve() : void setTimeout(poll, 2));
    poll();
  });
}

describe('Connection', () => {
  it('matches pipelined replies to requests by id, whatever their order', async () => {
    const held: Array<{ id: unknown; reply: (message: object) => void }> = [];
    const { port } = await peer((request, reply) => {
      held.push({ id: request.id, reply });
      if (held.length === 3) for (const h of held.reverse()) h.reply({ id: h.id, ok: true, topics: [String(h.id)] });
    });
    const { listener } = recordingListener();
    const connection = open(port, listener);
    await connection.start(undefined);
    const replies = await Promise.all([1, 2, 3].map(() => connection.request('listTopics', {})));
    const ids = held.map((h) => String(h.id)).reverse();
    expect(replies.map((r) => r.topics[0])).toEqual(ids);
  });

  it('turns an error reply into a BrokerError with the wire code and its retriable flag', async () => {
    const { port } = await peer((request, reply) => {
      const code = request.topic === 'full' ? 'STORAGE_FULL' : 'NOT_FOUND';
      reply({ id: request.id, ok: false, error: { code, message: 'no' } });
    });
    const connection = open(port, recordingListener().listener);
    await connection.start(undefined);
    await expect(connection.request('describeTopic', { topic: 'x' })).rejects.toMatchObject({ name: 'BrokerError', code: 'NOT_FOUND', retriable: false });
    await expect(connection.request('describeTopic', { topic: 'full' })).rejects.toMatchObject({ code: 'STORAGE_FULL', retriable: true });
  });

  it('fails in-flight requests with CONNECTION_LOST, refuses new ones with NOT_CONNECTED, then reconnects', async () => {
    const { port, sockets } = await peer(() => {}); // never answers requests
    const { events, listener } = recordingListener();
    const connection = open(port, listener);
    await connection.start(undefined);
    const inFlight = connection.request('listTopics', {});
    await waitFor(() => sockets.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 10)); // let the request reach the peer
    sockets[0].destroy();
    await expect(inFlight).rejects.toMatchObject({ code: 'CONNECTION_LOST', retriable: true });
    await waitFor(() => events.includes('disconnected'));
    if (connection.state !== 'connected') {
      await expect(connection.request('listTopics', {})).rejects.toMatchObject({ code: 'NOT_CONNECTED', retriable: true });
    }
    await connection.whenConnected();
    expect(connection.generation).toBe(2);
    expect(events).toEqual(['connected', 'disconnected', 'reconnecting:1', 'reconnected']);
  });

  it('retries the first connection with backoff until the peer appears', async () => {
    const probe = await peer();
    const port = probe.port;
    await peers.pop()!.close();
    const { events, listener } = recordingListener();
    const connection = open(port, listener);
    const started = connection.start(undefined);
    await waitFor(() => events.filter((e) => e.startsWith('reconnecting')).length >= 3);
    await peer(undefined, { port });
    await started;
    expect(connection.hello?.broker).toBe('scripted/0');
  });

  it('gives up on the first attempt when reconnect is disabled', async () => {
    const probe = await peer();
    const port = probe.port;
    await peers.pop()!.close();
    const connection = open(port, recordingListener().listener, { reconnect: false });
    await expect(connection.start(undefined)).rejects.toMatchObject({ code: 'CONNECTION_LOST', retriable: true });
    expect(connection.state).toBe('closed');
  });

  it('does not retry a refusal that cannot change (UNAUTHORIZED)', async () => {
    const { port } = await peer(
      (request, reply) => {
        if (request.op === 'hello') reply({ id: request.id, ok: false, error: { code: 'UNAUTHORIZED', message: 'bad token' } });
      },
      { answerHello: false },
    );
    const connection = open(port, recordingListener().listener, { token: 'wrong' });
    await expect(connection.start(undefined)).rejects.toMatchObject({ code: 'UNAUTHORIZED', retriable: false });
  });

  it('times out a peer that never answers hello, and keeps trying', async () => {
    const { port } = await peer(() => {}, { answerHello: false });
    const { events, listener } = recordingListener();
    const connection = open(port, listener, { connectTimeoutMs: 30 });
    const controller = new AbortController();
    const started = connection.start(controller.signal);
    await waitFor(() => events.filter((e) => e.startsWith('reconnecting')).length >= 2);
    controller.abort();
    await expect(started).rejects.toMatchObject({ code: 'ABORTED' });
    expect(connection.state).toBe('closed');
  });

  it('drops a peer that sends garbage and reconnects', async () => {
    let garbageSent = false;
    const { port } = await peer((request, _reply, socket) => {
      if (!garbageSent) {
        garbageSent = true;
        socket.write(Buffer.from([0, 0, 0, 2, 0xc1, 0xc1])); // 0xc1 is never valid msgpack
      }
    });
    const { events, listener } = recordingListener();
    const connection = open(port, listener);
    await connection.start(undefined);
    await expect(connection.request('listTopics', {})).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    await waitFor(() => events.includes('reconnected'));
  });

  it('close() fails pending requests with CLIENT_CLOSED and is idempotent', async () => {
    const { port } = await peer(() => {});
    const connection = open(port, recordingListener().listener);
    await connection.start(undefined);
    const pending = connection.request('listTopics', {});
    connection.close();
    connection.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED', retriable: false });
    await expect(connection.request('listTopics', {})).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('aborting a request rejects it with ABORTED at once', async () => {
    const { port } = await peer(() => {});
    const connection = open(port, recordingListener().listener);
    await connection.start(undefined);
    const controller = new AbortController();
    const pending = connection.request('fetch', { topic: 't', group: 'g', maxWaitMs: 60_000 }, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(connection.pendingCount).toBe(0);
  });
});
