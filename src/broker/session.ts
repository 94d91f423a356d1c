import type { ReplyBudget } from './reply-budget.js';

/**
 * What request handlers know about the connection a request came on. The connection owns it;
 * handlers read it (and `hello` marks it greeted).
 */
export interface Session {
  /** Unique per broker; the owner id of the leases this connection holds. */
  readonly id: number;
  /** Set by a successful hello. */
  greeted: boolean;
  /** Set once a request was refused UNAUTHORIZED: every later request is refused the same way until the socket ends. */
  refused: boolean;
  clientId: string | undefined;
  /** Set when the socket closed; long-polls stop waiting and group hand-outs are not leased. */
  closed: boolean;
  /** Long-polls of this connection in progress, woken when it closes. */
  readonly waiters: Set<{ wake(): void }>;
  /** Byte budget fetches reserve before reading (backpressure across pipelined fetches). */
  readonly replyBudget: ReplyBudget;
}
