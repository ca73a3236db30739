/**
 * The child contract: what a supervisor needs from anything it supervises, and why a child
 * exits.
 *
 * @module
 */

/**
 * Why a child exited, with OTP's meanings:
 * - `'normal'`: it finished its work;
 * - `'shutdown'` or `{ shutdown: detail }`: it was asked to stop, or stopped deliberately;
 * - `'killed'`: it was ended at once ({@link Child.kill});
 * - anything else (usually an `Error`): it crashed.
 *
 * Only the first two are "normal" for `transient` children (see {@link isNormalExit}).
 *
 * @example
 * ```ts
 * const reason: ExitReason = { shutdown: 'link down' };
 * isNormalExit(reason); // true
 * ```
 */
export type ExitReason = 'normal' | 'shutdown' | { readonly shutdown: unknown } | 'killed' | Error | unknown;

/**
 * What a supervisor needs from a child: one exit promise and two ways to end it.
 * A {@link Supervisor} is itself a `Child`, so supervisors nest.
 *
 * @example
 * ```ts
 * function timerChild(): Child {
 *   let done!: (r: ExitReason) => void;
 *   const exit = new Promise<ExitReason>((r) => (done = r));
 *   const t = setInterval(() => {}, 1000);
 *   const end = (r: ExitReason) => { clearInterval(t); done(r); };
 *   return { exit, stop: () => end('shutdown'), kill: () => end('killed') };
 * }
 * ```
 */
export interface Child {
  /** Resolves exactly once, when the child has exited, with the reason. Never rejects. */
  readonly exit: Promise<ExitReason>;
  /** Asks the child to stop gracefully (it then exits with 'shutdown'); harmless after exit. */
  stop(): void | Promise<void>;
  /** Ends the child at once; `exit` must follow promptly (reason 'killed'); harmless after exit. */
  kill(): void | Promise<void>;
}

/**
 * Whether a child is a plain worker or a supervisor (only changes defaults and counts).
 *
 * @example
 * ```ts
 * const type: ChildType = 'supervisor';
 * ```
 */
export type ChildType = 'worker' | 'supervisor';

/**
 * True for the exit reasons OTP calls normal: `'normal'`, `'shutdown'` and `{ shutdown: _ }`.
 * A `transient` child is not restarted after these.
 *
 * @example
 * ```ts
 * isNormalExit('shutdown');          // true
 * isNormalExit(new Error('boom'));   // false
 * isNormalExit('killed');            // false
 * ```
 */
export function isNormalExit(reason: ExitReason): boolean {
  if (reason === 'normal' || reason === 'shutdown') return true;
  return (
    typeof reason === 'object' &&
    reason !== null &&
    !(reason instanceof Error) &&
    Object.prototype.hasOwnProperty.call(reason, 'shutdown')
  );
}

/**
 * True when `value` looks like a {@link Child}: an `exit` promise and `stop`/`kill` functions.
 *
 * @example
 * ```ts
 * if (!isChild(x)) throw new TypeError('start() must resolve to a Child');
 * ```
 */
export function isChild(value: unknown): value is Child {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const v = value as { exit?: { then?: unknown } | null; stop?: unknown; kill?: unknown };
  return (
    typeof v.exit === 'object' &&
    v.exit !== null &&
    typeof v.exit.then === 'function' &&
    typeof v.stop === 'function' &&
    typeof v.kill === 'function'
  );
}
