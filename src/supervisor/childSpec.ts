/**
 * The child specification: how to start and restart a child (see `child.ts` for the child
 * contract itself), and the optional handle a supervisor hands out for it. Pure helpers
 * decide OTP's restart questions.
 *
 * @module
 */
import type { Observable } from 'rxjs';
import { isNormalExit, type Child, type ChildType, type ExitReason } from './child.js';
import { SupervisorError, showValue } from './supervisorError.js';
import type { SupervisorEvent } from './supervisorEvent.js';

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
 * What a handle factory (see {@link ChildSpec.handle}) gets of the supervisor: enough to follow
 * one child across its restarts. A `Supervisor` is one.
 *
 * @example
 * ```ts
 * const counter = (sup: ChildHost<Tuncer>, id: string) => {
 *   let restarts = 0;
 *   sup.events$.subscribe((e) => { if (e.type === 'child.restarting' && e.id === id) restarts += 1; });
 *   return { restarts: () => restarts, current: () => sup.whenRunning(id) };
 * };
 * ```
 */
export interface ChildHost<C extends Child> {
  /** Everything the supervisor reports (see `Supervisor.events$`). */
  readonly events$: Observable<SupervisorEvent>;
  /** The instances of child `id` as they come and go (see `Supervisor.instance$`). */
  instance$(id: string): Observable<C | undefined>;
  /** The running instance of `id`, or the next one (see `Supervisor.whenRunning`). */
  whenRunning(id: string, signal?: AbortSignal): Promise<C>;
}

/**
 * How to start one child and how to treat its exits (OTP child spec).
 * `A` is the argument list `start` takes: `[]` for static children, the
 * `startChild(args)` list for the template of a `simple_one_for_one` supervisor.
 * `H` is the type of the handle its optional `handle` factory makes.
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
export interface ChildSpec<C extends Child = Child, A extends readonly unknown[] = [], H = unknown> {
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
  /**
   * Makes the handle `Supervisor.child(id)` returns for this child: called at most once per
   * child (per generated id for a `simple_one_for_one` template), the handle is kept while the
   * child exists and let go when it is removed or the supervisor exits. Adapters such as
   * `tuncerChild` set it; without it the child has no handle.
   */
  handle?(sup: ChildHost<C>, id: string): H;
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
export interface ResolvedChildSpec<C extends Child = Child, A extends readonly unknown[] = readonly unknown[], H = unknown> {
  readonly id: string;
  readonly start: (...args: A) => Promise<C>;
  readonly restart: RestartType;
  readonly shutdown: ShutdownSpec;
  readonly type: ChildType;
  readonly significant: boolean;
  readonly handle: ((sup: ChildHost<C>, id: string) => H) | undefined;
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
export function resolveChildSpec<C extends Child, A extends readonly unknown[], H = unknown>(
  spec: ChildSpec<C, A, H>,
  autoShutdown: 'never' | 'any_significant' | 'all_significant' = 'never',
): ResolvedChildSpec<C, A, H> {
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
  const handle = spec.handle;
  if (handle !== undefined && typeof handle !== 'function') bad('handle must be a function');
  return { id: spec.id, start: spec.start, restart, shutdown, type, significant, handle };
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

