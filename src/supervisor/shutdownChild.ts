/**
 * Ending one child according to its shutdown spec (OTP `shutdown/1`).
 *
 * @module
 */
import type { Child, ExitReason } from './child.js';
import type { ShutdownSpec } from './childSpec.js';
import { systemClock, type Clock } from './clock.js';

/**
 * How a shutdown went: the child's exit reason, and whether `kill()` had to be used.
 *
 * @example
 * ```ts
 * const r: ShutdownOutcome = { reason: 'shutdown', killed: false };
 * ```
 */
export interface ShutdownOutcome {
  /** What the child's `exit` resolved with. */
  readonly reason: ExitReason;
  /** True when `kill()` was called (brutal_kill, or the timeout ran out). */
  readonly killed: boolean;
}

/**
 * Ends `child` per `shutdown` and resolves once it has exited:
 * `'brutal_kill'` → `kill()`; `N` ms → `stop()`, then `kill()` if it has not exited after N ms;
 * `'infinity'` → `stop()` and wait. Errors thrown (or rejected) by `stop`/`kill` go to
 * `onError` and do not stop the procedure. Resolves at once if the child has already exited.
 *
 * @example
 * ```ts
 * const { reason, killed } = await shutdownChild(child, 2000);
 * if (killed) console.warn('child ignored stop(); killed after 2 s', reason);
 * ```
 */
export async function shutdownChild(
  child: Child,
  shutdown: ShutdownSpec,
  clock: Clock = systemClock,
  onError: (error: unknown, during: 'stop' | 'kill') => void = () => {},
): Promise<ShutdownOutcome> {
  const call = (during: 'stop' | 'kill'): void => {
    try {
      const r = during === 'stop' ? child.stop() : child.kill();
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).then(undefined, (e: unknown) => onError(e, during));
      }
    } catch (e) {
      onError(e, during);
    }
  };
  const exit = child.exit.then(
    (reason) => reason,
    (error: unknown) => error,
  );
  if (shutdown === 'brutal_kill') {
    call('kill');
    return { reason: await exit, killed: true };
  }
  call('stop');
  if (shutdown === 'infinity') return { reason: await exit, killed: false };
  const timedOut = Symbol('timeout');
  let handle: unknown;
  const timer = new Promise<typeof timedOut>((resolve) => {
    handle = clock.setTimeout(() => resolve(timedOut), shutdown);
  });
  const first = await Promise.race([exit, timer]);
  clock.clearTimeout(handle);
  if (first !== timedOut) return { reason: first, killed: false };
  call('kill');
  return { reason: await exit, killed: true };
}
