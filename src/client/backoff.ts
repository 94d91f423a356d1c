/**
 * Reconnect delays: capped exponential growth with jitter.
 *
 *   base(attempt) = min(maxDelayMs, initialDelayMs × multiplier^attempt)      attempt = 0, 1, 2, …
 *   delay         = base × (1 − jitter + jitter × random())                 ∈ [base × (1 − jitter), base]
 *
 * With `jitter = 0.5` a fleet restarted together spreads its reconnects over half of each step, and
 * no delay ever exceeds the cap. `random` is injected so tests can pin it.
 */

/** Shape of the reconnect schedule (validated by `resolveConnectOptions`). */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  readonly initialDelayMs: number;
  /** Ceiling of the delay, ms. */
  readonly maxDelayMs: number;
  /** Growth per failed attempt (≥ 1). */
  readonly multiplier: number;
  /** Randomised fraction of each delay, 0 (none) … 1 (full jitter). */
  readonly jitter: number;
}

/** Delay in ms before retry number `attempt` (0-based). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  // Past ~60 doublings the power is Infinity; min() caps it, so no overflow check is needed.
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** attempt);
  return Math.round(base * (1 - policy.jitter + policy.jitter * random()));
}
