import net from 'node:net';
import tls from 'node:tls';
import type { Transport, TransportConnector, TransportEvents, TransportTarget } from './transport.js';

/**
 * TCP (or TLS) transport on `node:net`. The connection already coalesces a turn's frames into one
 * buffer (see connection.ts), so each `write` here is one socket write.
 */
class NodeTransport implements Transport {
  readonly #socket: net.Socket;

  constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  write(bytes: Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(bytes);
  }

  destroy(error?: Error): void {
    this.#socket.destroy(error);
  }
}

/** Opens a TCP connection (TLS when `target.tls` is set) with Nagle off and keep-alive on. */
export const connectNodeTransport: TransportConnector = (
  target: TransportTarget,
  events: TransportEvents,
  signal: AbortSignal,
) =>
  new Promise<Transport>((resolve, reject) => {
    const secure = target.tls !== undefined;
    const socket: net.Socket = secure
      ? tls.connect({ ...(target.tls as tls.ConnectionOptions), host: target.host, port: target.port })
      : net.connect({ host: target.host, port: target.port });
    const readyEvent = secure ? 'secureConnect' : 'connect';
    let settled = false;
    let closeError: Error | undefined;

    const onAbort = (): void => {
      socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const onReady = (): void => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      socket.on('data', (chunk: Buffer) => events.onData(chunk));
      resolve(new NodeTransport(socket));
    };

    socket.once(readyEvent, onReady);
    socket.on('error', (error) => {
      closeError = error;
    });
    socket.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (!settled) {
        settled = true;
        reject(closeError ?? new Error('connection closed before it was established'));
        return;
      }
      events.onClose(closeError);
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
