/**
 * Akka-style exponential restart backoff, as pure functions.
 *
 * @module
 */

/**
 * Restart backoff (Akka `restartWithBackoff`): the n-th consecutive restart of a child waits
 * `min(maxMs, minMs * 2^n) * (1 + random * randomFactor)` ms; the count goes back to 0 once
 * the child has run for `resetAfterMs` without exiting.
 *
 * @example
 * ```ts
 * const backoff: BackoffOptions = { minMs: 100, maxMs: 10_000, randomFactor: 0.2, resetAfterMs: 30_000 };
 * ```
 */
export interface BackoffOptions {
  /** Delay before the first restart, ms (>= 0). */
  readonly minMs: number;
  /** Cap of the exponential part, ms (>= minMs); jitter may go past it, as in Akka. */
  readonly maxMs: number;
  /** Jitter: the delay is multiplied by `1 + random * randomFactor` (>= 0); default 0. */
  readonly randomFactor?: number;
  /** Uptime after which the next crash counts as the first again, ms; default `minMs` (Akka). */
  readonly resetAfterMs?: number;
}

/**
 * The delay (ms) before restart number `attempt` (0 for the first one), Akka's formula.
 * `random` must return a number in [0, 1).
 *
 * @example
 * ```ts
 * const o = { minMs: 100, maxMs: 1000, randomFactor: 0.5 };
 * backoffDelay(0, o, () => 0);   // 100
 * backoffDelay(3, o, () => 0);   // 800
 * backoffDelay(10, o, () => 0);  // 1000
 * backoffDelay(10, o, () => 1);  // 1500 (jitter may exceed maxMs)
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.minMs * 2 ** Math.max(0, attempt));
  const factor = 1 + random() * (options.randomFactor ?? 0);
  return Number.isFinite(base * factor) ? base * factor : options.maxMs;
}

/**
 * One backoff step, pure: given the child's previous restart count and how long its last
 * instance ran (`undefined` when it never came up, e.g. a failed start), returns the delay
 * for this restart and the count to keep for the next one.
 *
 * @example
 * ```ts
 * const o = { minMs: 100, maxMs: 1000, resetAfterMs: 5000 };
 * backoff(0, 10, o);          // { delayMs: 100, attempt: 1 }
 * backoff(1, 10, o);          // { delayMs: 200, attempt: 2 }
 * backoff(2, undefined, o);   // { delayMs: 400, attempt: 3 }
 * backoff(3, 6000, o);        // { delayMs: 100, attempt: 1 }  (ran long enough: reset)
 * ```
 */
export function backoff(
  attempt: number,
  uptimeMs: number | undefined,
  options: BackoffOptions,
  random: () => number = Math.random,
): { readonly delayMs: number; readonly attempt: number } {
  const resetAfter = options.resetAfterMs ?? options.minMs;
  const n = uptimeMs !== undefined && uptimeMs >= resetAfter ? 0 : attempt;
  return { delayMs: backoffDelay(n, options, random), attempt: n + 1 };
}

/**
 * Checks backoff options; returns a message describing the first problem, or `undefined`.
 *
 * @example
 * ```ts
 * checkBackoff({ minMs: 10, maxMs: 5 }); // 'maxMs must be >= minMs'
 * ```
 */
export function checkBackoff(options: BackoffOptions): string | undefined {
  if (options === null || typeof options !== 'object') return 'must be an object { minMs, maxMs, randomFactor?, resetAfterMs? }';
  const nonNeg = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (!nonNeg(options.minMs)) return 'minMs must be a finite number >= 0';
  if (!nonNeg(options.maxMs)) return 'maxMs must be a finite number >= 0';
  if (options.maxMs < options.minMs) return 'maxMs must be >= minMs';
  if (options.randomFactor !== undefined && !nonNeg(options.randomFactor)) return 'randomFactor must be >= 0';
  if (options.resetAfterMs !== undefined && !nonNeg(options.resetAfterMs)) return 'resetAfterMs must be >= 0';
  return undefined;
}
