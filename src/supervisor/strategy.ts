/**
 * Restart strategies as pure functions: which siblings go down, and which come back up.
 *
 * @module
 */
import type { RestartType } from './childSpec.js';

/**
 * OTP restart strategy:
 * - `one_for_one`: restart only the child that died;
 * - `one_for_all`: stop all the others (reverse start order), then restart all of them;
 * - `rest_for_one`: stop the children started after it (reverse order), then restart it and them;
 * - `simple_one_for_one`: `one_for_one` over children added at run time from one template.
 *
 * @example
 * ```ts
 * const strategy: Strategy = 'rest_for_one';
 * ```
 */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';

/**
 * What a strategy does after the child `failedId` died (or failed to restart).
 *
 * @example
 * ```ts
 * const plan: RestartPlan = { terminate: ['c', 'b'], remove: ['c'], start: ['a', 'b'] };
 * ```
 */
export interface RestartPlan {
  /** Siblings to shut down, in this order (reverse start order). Never contains the failed child. */
  readonly terminate: readonly string[];
  /** Ids among `terminate` that are temporary: they are dropped, not restarted. */
  readonly remove: readonly string[];
  /**
   * Children to start, in start order: for `rest_for_one` the failed child and those after it
   * (so it comes first), for `one_for_all` every child, the failed one in its own place (OTP
   * restarts them all in start order).
   */
  readonly start: readonly string[];
}

/**
 * Decides the restart of `failedId` among `children` (in start order) under `strategy`,
 * as OTP's `restart/3` does: temporary siblings taken down with it are not restarted, and
 * siblings of the group are restarted whatever their state (a child stopped with
 * `terminateChild` comes back too, as in OTP).
 * Throws a `RangeError` if `failedId` is not among `children`.
 *
 * @example
 * ```ts
 * const kids = [{ id: 'a', restart: 'permanent' }, { id: 'b', restart: 'temporary' }, { id: 'c', restart: 'permanent' }] as const;
 * planRestart('rest_for_one', kids, 'a');
 * // { terminate: ['c', 'b'], remove: ['b'], start: ['a', 'c'] }
 * planRestart('one_for_one', kids, 'c');
 * // { terminate: [], remove: [], start: ['c'] }
 * ```
 */
export function planRestart(
  strategy: Strategy,
  children: ReadonlyArray<{ readonly id: string; readonly restart: RestartType }>,
  failedId: string,
): RestartPlan {
  const index = children.findIndex((c) => c.id === failedId);
  if (index < 0) throw new RangeError(`planRestart: unknown child ${failedId}`);
  if (strategy === 'one_for_one' || strategy === 'simple_one_for_one') {
    return { terminate: [], remove: [], start: [failedId] };
  }
  const group = strategy === 'one_for_all' ? children : children.slice(index);
  const siblings = group.filter((c) => c.id !== failedId);
  return {
    terminate: siblings.map((c) => c.id).reverse(),
    remove: siblings.filter((c) => c.restart === 'temporary').map((c) => c.id),
    start: group.filter((c) => c.id === failedId || c.restart !== 'temporary').map((c) => c.id),
  };
}
