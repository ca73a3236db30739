/**
 * Results of the supervisor API. Outcomes OTP answers with `{error, Reason}` are returned as
 * discriminated unions (`ok: false` plus an `error` tag, never thrown); misuse (a bad spec,
 * a stopped supervisor) rejects with a {@link SupervisorError}.
 *
 * @module
 */
import type { Child, ChildType } from './child.js';

/**
 * Result of `startChild`: the new child and its id (generated `template#n` for
 * `simple_one_for_one`), or why not:
 * `already_started` (that id runs: `child` is it), `already_present` (that id exists but is
 * not running: use `restartChild`), `start_failed` (`start` rejected: `cause`; no spec is kept).
 *
 * @example
 * ```ts
 * const r = await sup.startChild(spec);
 * if (r.ok) use(r.child); else if (r.error === 'start_failed') console.error(r.cause);
 * ```
 */
export type StartChildResult<C extends Child = Child> =
  | { readonly ok: true; readonly id: string; readonly child: C }
  | { readonly ok: false; readonly error: 'already_started'; readonly child: C }
  | { readonly ok: false; readonly error: 'already_present' }
  | { readonly ok: false; readonly error: 'start_failed'; readonly cause: unknown };

/**
 * Result of `terminateChild`: done, or `not_found`.
 *
 * @example
 * ```ts
 * const r = await sup.terminateChild('tun0'); // { ok: true }
 * ```
 */
export type TerminateChildResult = { readonly ok: true } | { readonly ok: false; readonly error: 'not_found' };

/**
 * Result of `restartChild` (only for a child that is down): the new child, or
 * `running`, `restarting`, `not_found`, `simple_one_for_one` (not supported there, as in OTP),
 * or `start_failed` (`cause`; the spec stays, down).
 *
 * @example
 * ```ts
 * const r = await sup.restartChild('tun0');
 * if (!r.ok && r.error === 'running') {}
 * ```
 */
export type RestartChildResult<C extends Child = Child> =
  | { readonly ok: true; readonly child: C }
  | { readonly ok: false; readonly error: 'running' | 'restarting' | 'not_found' | 'simple_one_for_one' }
  | { readonly ok: false; readonly error: 'start_failed'; readonly cause: unknown };

/**
 * Result of `deleteChild` (only for a child that is down): done, or
 * `running`, `restarting`, `not_found`, `simple_one_for_one`.
 *
 * @example
 * ```ts
 * await sup.terminateChild('tun0');
 * await sup.deleteChild('tun0'); // { ok: true }
 * ```
 */
export type DeleteChildResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: 'running' | 'restarting' | 'not_found' | 'simple_one_for_one' };

/**
 * One row of `whichChildren()` (OTP `which_children`): the instance, `'restarting'`
 * while a restart is pending, or `undefined` when down.
 *
 * @example
 * ```ts
 * for (const { id, child } of sup.whichChildren()) console.log(id, child === 'restarting' ? 'restarting' : child ? 'up' : 'down');
 * ```
 */
export interface ChildInfo<C extends Child = Child> {
  readonly id: string;
  readonly child: C | 'restarting' | undefined;
  readonly type: ChildType;
}

/**
 * `countChildren()` (OTP `count_children`): `specs` child specs (1 for `simple_one_for_one`,
 * as in OTP), `active` running instances, and how many children are `supervisors` or `workers`.
 *
 * @example
 * ```ts
 * const { active, specs } = sup.countChildren();
 * ```
 */
export interface ChildCounts {
  readonly specs: number;
  readonly active: number;
  readonly supervisors: number;
  readonly workers: number;
}
