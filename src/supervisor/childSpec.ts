/**
 * The child contract and child specification: what a supervisor needs from anything it
 * supervises, and how to start and restart it. Pure helpers decide OTP's restart questions.
 *
 * @module
 */
import { SupervisorError, showValue } from './supervisorError.js';

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
 * When a child is restarted after it exits on its own:
 * `permanent` always, `transient` only after an abnormal exit (see {@link isNormalExit}),
 * `temporary` never (its spec is dropped when it exits).
 *
 * @example
 * ```ts
 * const restart: RestartType = 'transient';
 * ```
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * How a child is ended by its supervisor: `'brutal_kill'` calls {@link Child.kill};
 * a number of ms calls {@link Child.stop}, then `kill` if it has not exited in time;
 * `'infinity'` calls `stop` and waits as long as it takes.
 *
 * @example
 * ```ts
 * const shutdown: ShutdownSpec = 2000; // stop, kill after 2 s
 * ```
 */
export type ShutdownSpec = 'brutal_kill' | number | 'infinity';

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
 * How to start one child and how to treat its exits (OTP child spec).
 * `A` is the argument list `start` takes: `[]` for static children, the
 * `startChild(args)` list for the template of a `simple_one_for_one` supervisor.
 *
 * @example
 * ```ts
 * const spec: ChildSpec<Tuncer> = {
 *   id: 'tun0',
 *   start: () => Tuncer.create({ name: 'tun0' }),
 *   restart: 'permanent',
 *   shutdown: 5000,
 * };
 * ```
 */
export interface ChildSpec<C extends Child = Child, A extends readonly unknown[] = []> {
  /** Unique among its siblings; names the child in the API, events and logs. */
  readonly id: string;
  /** Starts one instance; a rejection (or a value that is not a Child) is a failed start. */
  readonly start: (...args: A) => Promise<C>;
  /** When to restart it after it exits on its own; default `'permanent'`. */
  readonly restart?: RestartType;
  /** How to end it; default 5000 ms for workers, `'infinity'` for supervisors. */
  readonly shutdown?: ShutdownSpec;
  /** Default `'worker'`. */
  readonly type?: ChildType;
  /** Its own exit may shut the supervisor down (see `autoShutdown`); never with `'permanent'`. */
  readonly significant?: boolean;
}

/**
 * A {@link ChildSpec} with every default filled in and checked, as the supervisor keeps it.
 *
 * @example
 * ```ts
 * const r: ResolvedChildSpec = resolveChildSpec({ id: 'a', start });
 * r.shutdown; // 5000
 * ```
 */
export interface ResolvedChildSpec<C extends Child = Child, A extends readonly unknown[] = readonly unknown[]> {
  readonly id: string;
  readonly start: (...args: A) => Promise<C>;
  readonly restart: RestartType;
  readonly shutdown: ShutdownSpec;
  readonly type: ChildType;
  readonly significant: boolean;
}

/**
 * Fills in the defaults of a child spec and checks it as OTP's `check_childspec` does.
 * Throws a {@link SupervisorError} `EINVAL` for a bad spec; `significant: true` is refused
 * with a `permanent` restart or when the supervisor's `autoShutdown` is `'never'`.
 *
 * @example
 * ```ts
 * resolveChildSpec({ id: 'sup', start, type: 'supervisor' }).shutdown; // 'infinity'
 * ```
 */
export function resolveChildSpec<C extends Child, A extends readonly unknown[]>(
  spec: ChildSpec<C, A>,
  autoShutdown: 'never' | 'any_significant' | 'all_significant' = 'never',
): ResolvedChildSpec<C, A> {
  const bad = (what: string): never => {
    throw new SupervisorError('EINVAL', `invalid child spec ${showValue(spec?.id)}: ${what}`, {
      childId: typeof spec?.id === 'string' ? spec.id : undefined,
    });
  };
  if (spec === null || typeof spec !== 'object') bad('not an object');
  if (typeof spec.id !== 'string' || spec.id === '') bad('id must be a non-empty string');
  if (typeof spec.start !== 'function') bad('start must be a function');
  const restart = spec.restart ?? 'permanent';
  if (restart !== 'permanent' && restart !== 'transient' && restart !== 'temporary') bad(`restart ${showValue(restart)}`);
  const type = spec.type ?? 'worker';
  if (type !== 'worker' && type !== 'supervisor') bad(`type ${showValue(type)}`);
  const shutdown = spec.shutdown ?? (type === 'supervisor' ? 'infinity' : 5000);
  if (
    shutdown !== 'brutal_kill' &&
    shutdown !== 'infinity' &&
    !(typeof shutdown === 'number' && Number.isFinite(shutdown) && shutdown >= 0)
  ) {
    bad(`shutdown ${showValue(shutdown)}`);
  }
  const significant = spec.significant ?? false;
  if (typeof significant !== 'boolean') bad('significant must be a boolean');
  if (significant && restart === 'permanent') bad('a significant child cannot be permanent');
  if (significant && autoShutdown === 'never') bad("a significant child needs autoShutdown other than 'never'");
  return { id: spec.id, start: spec.start, restart, shutdown, type, significant };
}

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
 * Whether a child that exited on its own with `reason` must be restarted (OTP `do_restart`).
 *
 * @example
 * ```ts
 * shouldRestart('transient', 'normal');          // false
 * shouldRestart('transient', new Error('x'));    // true
 * shouldRestart('temporary', new Error('x'));    // false
 * ```
 */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'temporary') return false;
  return !isNormalExit(reason);
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
