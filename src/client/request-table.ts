import { ErrorCodes, isErrorCode } from '../protocol/index.js';
import { AbortedError, BrokerError, type WalrusError } from './errors.js';
import { PENDING_REQUESTS_MAX, REQUEST_ID_LIMIT } from './limits.js';

/**
 * Requests awaiting replies on one connection, by id. Replies may come in any order; each settles
 * the request with its id. Ids are u32, wrap around, and skip ids still pending, so a reply is never
 * matched to the wrong request. At most `PENDING_REQUESTS_MAX` entries.
 */
export class RequestTable {
  readonly #pending = new Map<number, PendingRequest>();
  #nextId: number;

  /** `firstId` lets tests start next to the wrap point. */
  constructor(firstId = 1) {
    this.#nextId = firstId;
  }

  /** Requests awaiting replies. */
  get size(): number {
    return this.#pending.size;
  }

  /** True when another request may be added. */
  get hasRoom(): boolean {
    return this.#pending.size < PENDING_REQUESTS_MAX;
  }

  /** A fresh id not currently pending. */
  allocateId(): number {
    // The table is far smaller than the id space, so this loop ends within PENDING_REQUESTS_MAX steps.
    let id = this.#nextId;
    while (this.#pending.has(id)) id = id + 1 >= REQUEST_ID_LIMIT ? 1 : id + 1;
    this.#nextId = id + 1 >= REQUEST_ID_LIMIT ? 1 : id + 1;
    return id;
  }

  /**
   * Registers request `id`; the promise settles with its reply. If `signal` aborts first, the promise
   * rejects with `ABORTED` and a late reply is dropped (the request itself cannot be unsent).
   */
  add<R>(id: number, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const pending: PendingRequest = { resolve: resolve as (result: never) => void, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        pending.onAbort = () => {
          this.#pending.delete(id);
          reject(new AbortedError(signal.reason));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#pending.set(id, pending);
    });
  }

  /** Settles the request a decoded reply answers; replies to unknown ids (aborted, or id 0) are dropped. */
  settle(reply: Record<string, unknown>): void {
    const id = reply.id;
    if (typeof id !== 'number') return;
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (reply.ok === true) pending.resolve(reply as never);
    else pending.reject(toBrokerError(reply.error));
  }

  /** Rejects every pending request with `error` (the connection is gone). */
  failAll(error: WalrusError): void {
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of pending) {
      if (request.onAbort !== undefined) request.signal?.removeEventListener('abort', request.onAbort);
      request.reject(error);
    }
  }
}

interface PendingRequest {
  resolve: (result: never) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Turns a reply's `error` field into a `BrokerError`, trusting nothing about its shape. */
export function toBrokerError(error: unknown): WalrusError {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const code = typeof fields.code === 'string' ? fields.code : 'INTERNAL';
  const message = typeof fields.message === 'string' ? fields.message : 'the broker reported an error without a message';
  return new BrokerError(code, message, isErrorCode(code) ? ErrorCodes[code].retriable : false);
}
