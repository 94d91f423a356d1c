import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../../src/protocol/index.js';

/**
 * A loopback peer speaking real frames with scripted replies, for unit tests of the SDK's state
 * machines: things the real broker does not do on cue (silence, garbage, chosen reply order).
 * `hello` is answered automatically unless `answerHello: false` (with no `features`, as a broker
 * that predates them, unless `helloFields` adds some).
 */

/** Called with each decoded request (except an auto-answered hello). */
export type PeerHandler = (request: Record<string, unknown>, reply: (message: object) => void, socket: net.Socket) => void;

/** A running scripted peer. */
export interface ScriptedPeer {
  port: number;
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** Starts a peer on 127.0.0.1 and a free port. */
export async function startScriptedPeer(
  handle: PeerHandler = () => {},
  options: { answerHello?: boolean; port?: number; helloFields?: object } = {},
): Promise<ScriptedPeer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const reply = (message: object): void => void socket.write(encodeFrame(message));
    const decoder = new FrameDecoder({
      onMessage: (request) => {
        if (request.op === 'hello' && options.answerHello !== false) {
          reply({ id: request.id, ok: true, version: 1, broker: 'scripted/0', maxFrameBytes: 1 << 20, batchRecordsMax: 2000, fetchBytesMax: 1 << 20, ...options.helloFields });
          return;
        }
        handle(request, reply, socket);
      },
      onError: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
