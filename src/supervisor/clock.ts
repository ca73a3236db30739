/**
 * Time as the supervisor sees it, injectable for tests.
 *
 * @module
 */

/**
 * The time source and timers a supervisor uses for intensity periods, backoff delays and
 * shutdown timeouts. The default, {@link systemClock}, looks up the globals at each call, so
 * fake timers (such as `vi.useFakeTimers()`) installed later still apply.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => performance.now(), setTimeout, clearTimeout };
 * ```
 */
export interface Clock {
  /** Current time in ms; only differences are used, so it must be monotonic (never stepped). */
  now(): number;
  /** Calls `fn` once after `ms` ms; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from {@link Clock.setTimeout}; harmless if it already fired. */
  clearTimeout(handle: unknown): void;
}

/**
 * The default {@link Clock}: `performance.now()` and the global timers, looked up at call time.
 * `performance.now()` is monotonic: when the wall clock is stepped (NTP, an administrator,
 * a suspended VM), restart intensity windows and backoff uptimes do not move with it.
 *
 * @example
 * ```ts
 * const t = systemClock.setTimeout(() => console.log('tick'), 100);
 * systemClock.clearTimeout(t);
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
