/**
 * The one error class of the supervisor.
 *
 * @module
 */

/**
 * Why a supervisor operation failed:
 * - `EINVAL`: bad supervisor options or child spec (a programming error).
 * - `ESTART`: {@link Supervisor.start} failed because a child failed to start
 *   (OTP `{shutdown, {failed_to_start_child, Id, Reason}}`); `childId` and `cause` say which and why.
 * - `ENOPROC`: the supervisor has stopped or is stopping (OTP `noproc`).
 * - `ENOCHILD`: no instance of that child exists or will come (it is unknown, deleted,
 *   down with no restart pending, or the supervisor is stopping).
 *
 * @example
 * ```ts
 * if (err instanceof SupervisorError && err.code === 'ESTART') console.error(err.childId, err.cause);
 * ```
 */
export type SupervisorErrorCode = 'EINVAL' | 'ESTART' | 'ENOPROC' | 'ENOCHILD';

/**
 * A typed supervisor failure: `code` says what went wrong, `childId` which child (if any),
 * and the standard `cause` carries the underlying reason (for `ESTART`, the start rejection).
 *
 * @example
 * ```ts
 * try {
 *   await Supervisor.start({ strategy: 'one_for_one', children: [spec] });
 * } catch (err) {
 *   if (err instanceof SupervisorError && err.code === 'ESTART') {
 *     console.error(`child ${err.childId} failed to start`, err.cause);
 *   }
 * }
 * ```
 */
export class SupervisorError extends Error {
  override readonly name = 'SupervisorError';
  /** What went wrong; see {@link SupervisorErrorCode}. */
  readonly code: SupervisorErrorCode;
  /** The child concerned, when there is one. */
  readonly childId: string | undefined;

  /**
   * @example
   * ```ts
   * new SupervisorError('ENOCHILD', 'no instance of child tun0 will come', { childId: 'tun0' });
   * ```
   */
  constructor(code: SupervisorErrorCode, message: string, options: { childId?: string; cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.childId = options.childId;
  }
}

/**
 * Show any value in an error message without throwing (a BigInt, an object whose
 * `toString` is not a function, a null-prototype object).
 *
 * @example
 * ```ts
 * showValue(1n); // '1n'
 * showValue(Object.create(null)); // '[object Object]'
 * ```
 */
export function showValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  return Object.prototype.toString.call(value);
}
