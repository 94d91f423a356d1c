/**
 * A minimal raw-frame peer for crash and fuzz scenarios: one TCP connection, `hello` once, then
 * pipelined requests matched to replies by id. No retries and no reconnects, on purpose: a crash test
 * must know exactly which request was acknowledged, and an SDK's retry would blur that.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../../src/protocol/index.js';

/** A decoded reply map. */
export type Reply = Record<string, any>;

/** A connection whose replies resolve the matching request; every pending request fails on close. */
export class RawPeer {
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private isClosed = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder({
      maxFrameBytes: 64 * 1024 * 1024,
      onMessage: (m) => {
        const waiter = this.pending.get(m.id as number);
        if (!waiter) return;
        this.pending.delete(m.id as number);
        waiter.resolve(m);
      },
      onError: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const w of this.pending.values()) w.reject(new Error('connection closed'));
        this.pending.clear();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:`port` and says hello; rejects when either fails. */
  static async connect(port: number, clientId = 'raw-peer'): Promise<RawPeer> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const peer = new RawPeer(socket);
    const hello = await peer.request({ op: 'hello', version: 1, clientId });
    if (hello.ok !== true) {
      socket.destroy();
      throw new Error(`hello refused: ${JSON.stringify(hello.error)}`);
    }
    return peer;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Sends one request (its id is assigned here) and resolves with the reply. */
  request(message: Record<string, unknown>): Promise<Reply> {
    if (this.isClosed) return Promise.reject(new Error('connection closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(encodeFrame({ ...message, id }));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
