/**
 * The options of a supervisor, and how they are checked and given their defaults.
 *
 * @module
 */
import type { Observer } from 'rxjs';
import { pino, type Logger } from 'pino';
import type { Child } from './child.js';
import { resolveChildSpec, type ChildSpec, type ResolvedChildSpec, type RestartType, type ShutdownSpec } from './childSpec.js';
import { checkBackoff, type BackoffOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import type { Strategy } from './strategy.js';
import { SupervisorError, showValue } from './supervisorError.js';
import type { SupervisorEvent } from './supervisorEvent.js';

/**
 * Argument list of a child spec's `start`, left open so static specs (`() => …`) and a
 * `simple_one_for_one` template (`(name: string) => …`) both fit.
 *
 * @example
 * ```ts
 * const template: ChildSpec<Tuncer, AnyArgs> = { id: 'tun', start: (name: string) => Tuncer.create({ name }) };
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyArgs = any[];

/**
 * When the exits of `significant` children shut the supervisor down (OTP `auto_shutdown`):
 * `never`, `any_significant` (the first one that exits on its own and is not restarted),
 * `all_significant` (once no significant child is running or restarting).
 *
 * @example
 * ```ts
 * const autoShutdown: AutoShutdown = 'any_significant';
 * ```
 */
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';

/**
 * Options of {@link Supervisor.start}. `C` is inferred from `children` when they share one
 * type; for mixed children name it: `Supervisor.start<Tuncer | Supervisor>({ … })`. `H` is the
 * type of the handles the children's `handle` factories make (see `Supervisor.child`),
 * inferred too: `TuncerHandle` for children made by `tuncerChild`.
 *
 * @example
 * ```ts
 * const options: SupervisorOptions = {
 *   name: 'net',
 *   strategy: 'rest_for_one',
 *   intensity: 3,
 *   period: 10,
 *   children: [tunSpec, routerSpec],
 *   backoff: { minMs: 100, maxMs: 5000, randomFactor: 0.2, resetAfterMs: 10_000 },
 *   logger,
 * };
 * ```
 */
export interface SupervisorOptions<C extends Child = Child, H = unknown> {
  /** Which siblings are restarted with a dead child; see {@link Strategy}. */
  readonly strategy: Strategy;
  /** Most restarts allowed within `period`; one more and the supervisor gives up. Default 1. */
  readonly intensity?: number;
  /** Length of the intensity window, in seconds. Default 5. */
  readonly period?: number;
  /** Children, started in this order; for `simple_one_for_one` exactly one template spec. */
  readonly children: ReadonlyArray<ChildSpec<C, AnyArgs, H>>;
  /** Whether significant children's exits stop the supervisor. Default `'never'` (the only choice for `simple_one_for_one`). */
  readonly autoShutdown?: AutoShutdown;
  /** Delay restarts exponentially (beyond OTP). Default: restart at once. */
  readonly backoff?: BackoffOptions;
  /** Where reports go. Default: a silent pino logger. */
  readonly logger?: Logger;
  /** Name in events and logs. Default `'supervisor'`. */
  readonly name?: string;
  /** Time source and timers. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Random numbers in [0, 1) for backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Subscribed to `events$` before any child starts, so it also sees the initial starts. */
  readonly observer?: Partial<Observer<SupervisorEvent>>;
}

/**
 * Options of {@link Supervisor.asChild}: the supervisor's own options plus how its parent treats it.
 *
 * @example
 * ```ts
 * const o: NestedSupervisorOptions = { id: 'workers', strategy: 'one_for_one', children: [] };
 * ```
 */
export interface NestedSupervisorOptions<C extends Child = Child, H = unknown> extends SupervisorOptions<C, H> {
  /** Its id in the parent (also its default `name`). */
  readonly id: string;
  /** Default `'permanent'`. Note it gives up with reason 'shutdown', so only permanent restarts it. */
  readonly restart?: RestartType;
  /** Default `'infinity'`. */
  readonly shutdown?: ShutdownSpec;
  readonly significant?: boolean;
}

/**
 * {@link SupervisorOptions} checked, with every default filled in, as a supervisor keeps them.
 *
 * @example
 * ```ts
 * const o: ResolvedSupervisorOptions = resolveSupervisorOptions({ strategy: 'one_for_one', children: [] });
 * o.periodMs; // 5000
 * ```
 */
export interface ResolvedSupervisorOptions<C extends Child = Child, H = unknown> {
  readonly name: string;
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly autoShutdown: AutoShutdown;
  readonly backoff: BackoffOptions | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: () => number;
  /** The static children in start order (none for `simple_one_for_one`). */
  readonly specs: ReadonlyArray<ResolvedChildSpec<C, AnyArgs, H>>;
  /** The template of a `simple_one_for_one` supervisor. */
  readonly template: ResolvedChildSpec<C, AnyArgs, H> | undefined;
  readonly observer: Partial<Observer<SupervisorEvent>> | undefined;
}

let silent: Logger | undefined;
const silentLogger = (): Logger => (silent ??= pino({ level: 'silent' }));

/**
 * Checks supervisor options as OTP's `init` does and fills in the defaults. Throws a
 * {@link SupervisorError} `EINVAL` naming the first problem (among them, as in OTP,
 * `simple_one_for_one` with an `autoShutdown` other than `'never'`).
 *
 * @example
 * ```ts
 * resolveSupervisorOptions({ strategy: 'one_for_one', intensity: -1, children: [] }); // throws EINVAL
 * ```
 */
export function resolveSupervisorOptions<C extends Child, H = unknown>(options: SupervisorOptions<C, H>): ResolvedSupervisorOptions<C, H> {
  const bad = (what: string): never => {
    throw new SupervisorError('EINVAL', `invalid supervisor options: ${what}`);
  };
  if (options === null || typeof options !== 'object') bad('not an object');
  const { strategy } = options;
  if (!['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'].includes(strategy)) {
    bad(`strategy ${showValue(strategy)}`);
  }
  const intensity = options.intensity ?? 1;
  if (!Number.isInteger(intensity) || intensity < 0) bad('intensity must be an integer >= 0');
  const period = options.period ?? 5;
  if (typeof period !== 'number' || !Number.isFinite(period) || period <= 0) bad('period must be a number of seconds > 0');
  const autoShutdown = options.autoShutdown ?? 'never';
  if (!['never', 'any_significant', 'all_significant'].includes(autoShutdown)) bad(`autoShutdown ${showValue(autoShutdown)}`);
  if (options.backoff !== undefined) {
    const problem = checkBackoff(options.backoff);
    if (problem !== undefined) bad(`backoff: ${problem}`);
  }
  if (!Array.isArray(options.children)) bad('children must be an array');
  const specs = options.children.map((s) => resolveChildSpec(s, autoShutdown));
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) bad(`duplicate child id ${s.id}`);
    ids.add(s.id);
  }
  const dynamic = strategy === 'simple_one_for_one';
  if (dynamic && specs.length !== 1) bad('simple_one_for_one needs exactly one child spec (the template)');
  // OTP refuses it too: {bad_combination, [{strategy, simple_one_for_one}, {auto_shutdown, _}]}.
  if (dynamic && autoShutdown !== 'never') bad(`simple_one_for_one cannot have autoShutdown ${showValue(autoShutdown)}`);
  return {
    name: options.name ?? 'supervisor',
    strategy,
    intensity,
    periodMs: period * 1000,
    autoShutdown,
    backoff: options.backoff,
    logger: options.logger ?? silentLogger(),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    specs: dynamic ? [] : specs,
    template: dynamic ? specs[0] : undefined,
    observer: options.observer,
  };
}
