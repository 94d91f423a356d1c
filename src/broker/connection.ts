/**
 * One client connection: bytes in through the incremental `FrameDecoder`, requests served
 * concurrently (pipelined; replies go out as each finishes, so out of order), replies coalesced by a
 * `FrameEncoder` and written once per event-loop turn (setImmediate), so a burst of completions costs
 * one socket write instead of one per frame.
 *
 * Backpressure: reading pauses while the queued reply bytes (socket buffer + not yet flushed) exceed
 * `queuedBytesMax` or `requestsInFlightMax` requests are being served, and resumes on 'drain' /
 * completion. So a client that sends without reading cannot grow broker memory past about
 * queuedBytesMax + one socket read + the requests in flight.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, ErrorCodes, FrameDecoder, FrameEncoder, ProtocolError, validateRequest } from '../protocol/index.js';
import type { FetchResult, Request } from '../protocol/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { MetricsRecorder } from './metrics.js';
import type { Session } from './session.js';
import { ReplyBudget } from './reply-budget.js';
import { toWireError } from './wire-error.js';

/** What a connection needs from the broker. */
export interface ConnectionContext {
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Counting hooks; `NO_METRICS` when metrics are off. */
  readonly metrics: MetricsRecorder;
  readonly maxFrameBytes: number;
  readonly queuedBytesMax: number;
  readonly requestsInFlightMax: number;
  isStopping(): boolean;
  /** Called once, after the socket closed. */
  onClosed(connection: Connection): void;
}

/** What `Connection.stats()` reports. */
export interface ConnectionStats {
  id: number;
  clientId: string | undefined;
  /** Reply bytes queued in the socket and not yet flushed. */
  queuedBytes: number;
  requestsInFlight: number;
  /** True while reading from the socket is paused for backpressure. */
  readPaused: boolean;
}

/** Serves one socket. */
export class Connection {
  readonly session: Session;
  private readonly socket: Socket;
  private readonly ctx: ConnectionContext;
  private readonly logger: Logger;
  private readonly decoder: FrameDecoder;
  private readonly encoder = new FrameEncoder();
  private requestsInFlight = 0;
  private flushScheduled = false;
  private readPaused = false;
  /** Set after a fatal error or at shutdown: flush what is queued, then end the socket. */
  private ending = false;
  /** Resolvers waiting for this connection to have no request in flight. */
  private idleWaiters: Array<() => void> = [];

  constructor(socket: Socket, id: number, ctx: ConnectionContext) {
    this.socket = socket;
    this.ctx = ctx;
    this.session = {
      id,
      greeted: false,
      refused: false,
      clientId: undefined,
      closed: false,
      waiters: new Set(),
      replyBudget: new ReplyBudget(ctx.queuedBytesMax, () => this.socket.writableLength + this.encoder.pendingBytes),
    };
    this.logger = ctx.logger.child({ conn: id });
    this.decoder = new FrameDecoder({
      maxFrameBytes: ctx.maxFrameBytes,
      onMessage: (message) => this.onMessage(message),
      onError: (error) => this.onFrameError(error),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    socket.on('drain', () => {
      this.session.replyBudget.pump();
      this.updateReading();
    });
    socket.on('error', (error) => this.logger.debug({ err: error.message }, 'socket error'));
    socket.on('close', () => this.onClose());
  }

  /** Requests being served. */
  get inFlight(): number {
    return this.requestsInFlight;
  }

  /** Backpressure state, for `Broker.stats()`. */
  stats(): ConnectionStats {
    return {
      id: this.session.id,
      clientId: this.session.clientId,
      queuedBytes: this.socket.writableLength + this.encoder.pendingBytes,
      requestsInFlight: this.requestsInFlight,
      readPaused: this.readPaused,
    };
  }

  /** Resolves when no request is being served on this connection. */
  whenIdle(): Promise<void> {
    if (this.requestsInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sends one connection-level error (id 0) and closes after it is flushed. */
  rejectAndClose(code: ErrorCode, message: string): void {
    this.encoder.pushError(0, code, message);
    this.endAfterFlush();
  }

  /** Stops reading, flushes queued replies and ends the socket (after a fatal error). */
  endAfterFlush(): void {
    this.ending = true;
    this.decoder.stop();
    this.scheduleFlush();
  }

  /**
   * Graceful stop: flushes queued replies and ends the socket. Requests that arrive before the flush
   * are still answered (with SHUTTING_DOWN, as the broker is stopping); later bytes are ignored.
   */
  shutdown(): void {
    this.ending = true;
    this.scheduleFlush();
  }

  /** Closes the socket now. */
  destroy(): void {
    this.socket.destroy();
  }

  private onMessage(message: Record<string, unknown>): void {
    let request: Request;
    try {
      request = validateRequest(message);
    } catch (error) {
      this.replyError(toWireError(error, (error as ProtocolError).requestId ?? 0));
      return;
    }
    if (this.session.refused) {
      this.replyError(new ProtocolError(ErrorCode.UNAUTHORIZED, 'a hello without a valid token was refused on this connection', { requestId: request.id }));
      return;
    }
    if (this.ctx.isStopping()) {
      this.replyError(new ProtocolError(ErrorCode.SHUTTING_DOWN, 'the broker is stopping', { requestId: request.id }));
      return;
    }
    if (!this.session.greeted && request.op !== 'hello') {
      // With auth on, a peer that has not shown a token learns nothing but UNAUTHORIZED.
      const code = this.ctx.dispatcher.authRequired ? ErrorCode.UNAUTHORIZED : ErrorCode.HELLO_REQUIRED;
      this.replyError(new ProtocolError(code, `send hello${this.ctx.dispatcher.authRequired ? ' with a valid token' : ''} before ${request.op}`, { requestId: request.id }));
      return;
    }
    this.requestsInFlight++;
    this.updateReading();
    void this.serve(request);
  }

  private async serve(request: Request): Promise<void> {
    const startMs = this.ctx.metrics.startTimer();
    try {
      const fields = await this.ctx.dispatcher.dispatch(request, this.session);
      if (this.session.closed) return;
      try {
        if (request.op === 'fetch') this.encoder.pushFetchOk(request.id, fields as FetchResult, request.recordsBlob === true);
        else this.encoder.pushOk(request.id, fields);
      } catch (error) {
        this.logger.error({ err: (error as Error).message, op: request.op }, 'reply could not be encoded');
        this.encoder.pushError(request.id, ErrorCode.INTERNAL, 'reply could not be encoded');
      }
      this.scheduleFlush();
    } catch (error) {
      const wire = toWireError(error, request.id);
      this.ctx.metrics.requestFailed(request.op, wire.code);
      if (wire.code === ErrorCode.INTERNAL) this.logger.error({ err: (error as Error)?.message, op: request.op }, 'request failed');
      this.replyError(wire);
    } finally {
      this.ctx.metrics.requestFinished(request.op, startMs);
      this.requestsInFlight--;
      if (this.requestsInFlight === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
      this.session.replyBudget.pump();
      this.updateReading();
    }
  }

  private onFrameError(error: ProtocolError): void {
    this.logger.debug({ code: error.code, err: error.message }, 'bad frame');
    this.replyError(error);
  }

  private replyError(error: ProtocolError): void {
    if (this.session.closed) return;
    this.encoder.pushError(error.requestId, error.code, error.message);
    if (error.code === ErrorCode.UNAUTHORIZED) this.refuse();
    else if (ErrorCodes[error.code].closesConnection) this.endAfterFlush();
    else this.scheduleFlush();
  }

  /**
   * After UNAUTHORIZED: unlike `endAfterFlush`, reading goes on until the flush, so requests already
   * sent behind the refused one are each answered UNAUTHORIZED (never served) instead of vanishing.
   * Logged once per connection, with the peer address and never the token.
   */
  private refuse(): void {
    if (!this.session.refused) this.logger.warn({ remote: `${this.socket.remoteAddress}:${this.socket.remotePort}` }, 'refused: no valid auth token');
    this.session.refused = true;
    this.session.greeted = false;
    this.ending = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.session.closed) return;
    if (this.socket.writableEnded) return;
    if (this.encoder.pendingBytes > 0) this.socket.write(this.encoder.take());
    if (this.ending) {
      this.decoder.stop();
      this.socket.end();
    }
    this.session.replyBudget.pump();
    this.updateReading();
  }

  /** Pauses or resumes reading per the backpressure rule in the file comment. */
  private updateReading(): void {
    if (this.session.closed) return;
    const queued = this.socket.writableLength + this.encoder.pendingBytes;
    const overloaded = queued > this.ctx.queuedBytesMax || this.requestsInFlight >= this.ctx.requestsInFlightMax;
    if (overloaded && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    } else if (!overloaded && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private onClose(): void {
    if (this.session.closed) return;
    this.session.closed = true;
    this.decoder.stop();
    this.session.replyBudget.close();
    for (const waiter of this.session.waiters) waiter.wake();
    this.ctx.onClosed(this);
  }
}
