/**
 * An Erlang/OTP-style supervisor for anything that follows the {@link Child} contract.
 *
 * Restart flow (every step runs in the supervisor's one serial queue, like an OTP mailbox):
 *
 * ```text
 *  child.exit resolves(reason)
 *        |
 *        v
 *  ended by the supervisor itself? --yes--> ignored (its shutdown reports it)
 *        | no
 *        v
 *  event child.exited(by: 'self')
 *        |
 *        v
 *  restart type says restart?  permanent: always | transient: unless normal,
 *        |                     'shutdown', {shutdown} | temporary: never
 *        |--no--> spec kept, down (temporary / simple_one_for_one: spec dropped)
 *        |          `--> significant child and autoShutdown says so? --> stop all, exit 'shutdown'
 *        | yes
 *        v
 *  +-> add restart to the window: more than `intensity` in `period` s?
 *  |     |--yes--> event supervisor.max_intensity; stop all children in reverse
 *  |     |         start order; the supervisor exits with 'shutdown'
 *  |     | no
 *  |     v
 *  |   planRestart(strategy): stop the affected siblings in reverse start order
 *  |   (one_for_all: all others, rest_for_one: those started after it; temporary ones dropped)
 *  |     |
 *  |     v
 *  |   event child.restarting(delayMs) --> wait delayMs (backoff; stop() cancels the wait)
 *  |     |
 *  |     v
 *  |   start the group in start order, one at a time
 *  |     |--a start fails--> event child.start_failed; try again later (OTP try_again_restart)
 *  +-----'
 *        | all started
 *        v
 *  event child.started; instance$(id) emits the new instance; whenRunning(id) resolves
 * ```
 *
 * A stop (or give-up) cancels pending restarts; a start already in flight is waited for and
 * the late child is shut down at once, so nothing is left running when `exit` resolves.
 *
 * @module
 */
import { BehaviorSubject, Observable, Subject, of, type Observer } from 'rxjs';
import { pino, type Logger } from 'pino';
import {
  isChild,
  isNormalExit,
  resolveChildSpec,
  shouldRestart,
  type Child,
  type ChildSpec,
  type ExitReason,
  type ResolvedChildSpec,
  type RestartType,
  type ShutdownSpec,
} from './childSpec.js';
import { backoff, checkBackoff, type BackoffOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { restartIntensity } from './restartIntensity.js';
import { shutdownChild } from './shutdownChild.js';
import { planRestart, type Strategy } from './strategy.js';
import { SupervisorError, showValue } from './supervisorError.js';
import { TuncerHandle } from './tuncerHandle.js';
import type { Tuncer } from '../actors/tuncer.js';
import { logSupervisorEvent, type SupervisorEvent, type SupervisorExitCause } from './supervisorEvent.js';
import type {
  ChildCounts,
  ChildInfo,
  DeleteChildResult,
  RestartChildResult,
  StartChildResult,
  TerminateChildResult,
} from './supervisorResult.js';

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
 * type; for mixed children name it: `Supervisor.start<Tuncer | Supervisor>({ … })`.
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
export interface SupervisorOptions<C extends Child = Child> {
  /** Which siblings are restarted with a dead child; see {@link Strategy}. */
  readonly strategy: Strategy;
  /** Most restarts allowed within `period`; one more and the supervisor gives up. Default 1. */
  readonly intensity?: number;
  /** Length of the intensity window, in seconds. Default 5. */
  readonly period?: number;
  /** Children, started in this order; for `simple_one_for_one` exactly one template spec. */
  readonly children: ReadonlyArray<ChildSpec<C, AnyArgs>>;
  /** Whether significant children's exits stop the supervisor. Default `'never'`. */
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
export interface NestedSupervisorOptions<C extends Child = Child> extends SupervisorOptions<C> {
  /** Its id in the parent (also its default `name`). */
  readonly id: string;
  /** Default `'permanent'`. Note it gives up with reason 'shutdown', so only permanent restarts it. */
  readonly restart?: RestartType;
  /** Default `'infinity'`. */
  readonly shutdown?: ShutdownSpec;
  readonly significant?: boolean;
}

type Status = 'running' | 'starting' | 'restarting' | 'down';

interface Waiter<C> {
  resolve(child: C): void;
  reject(error: unknown): void;
}

interface ChildRecord<C extends Child> {
  readonly id: string;
  readonly spec: ResolvedChildSpec<C, AnyArgs>;
  readonly args: readonly unknown[];
  child: C | undefined;
  status: Status;
  /** Bumped whenever the supervisor acts on this record; stale queued exits compare it. */
  epoch: number;
  startedAt: number | undefined;
  /** How long the last instance ran, when it exited on its own (for backoff reset). */
  uptimeMs: number | undefined;
  backoffAttempt: number;
  readonly instance$: BehaviorSubject<C | undefined>;
  readonly waiters: Set<Waiter<C>>;
}

type StartOutcome<C> = { ok: true; child: C } | { ok: false; cause: unknown } | { ok: false; stopped: true };

let silent: Logger | undefined;
const silentLogger = (): Logger => (silent ??= pino({ level: 'silent' }));
const noop = (): void => {};
const isArgs = (x: unknown): x is readonly unknown[] => Array.isArray(x);

/**
 * An OTP-style supervisor: starts children in order, restarts them by strategy, restart type,
 * intensity and (optionally) backoff, and stops them in reverse order. It is itself a
 * {@link Child} (`exit`, `stop`, `kill`), so it nests under another supervisor
 * (see {@link Supervisor.asChild}).
 *
 * API results: OTP's `{error, Reason}` outcomes come back as `{ ok: false, error }` unions
 * (see `supervisorResult.ts`); misuse rejects with a {@link SupervisorError}
 * (`EINVAL` bad spec, `ENOPROC` supervisor stopping or stopped).
 *
 * @example
 * ```ts
 * const sup = await Supervisor.start({
 *   strategy: 'one_for_one',
 *   intensity: 3,
 *   period: 5,
 *   children: [{ id: 'tun0', start: () => Tuncer.create({ name: 'tun0' }) }],
 *   logger: pino(),
 * });
 * const tun = await sup.whenRunning('tun0');
 * sup.instance$('tun0').subscribe((t) => console.log(t ? 'up' : 'down'));
 * await sup.stop();
 * ```
 */
export class Supervisor<C extends Child = Child> implements Child {
  /** Name in events and logs. */
  readonly name: string;
  /** Restart strategy. */
  readonly strategy: Strategy;
  /** Resolves once, when the supervisor and all its children are gone: 'shutdown' or 'killed'. Never rejects. */
  readonly exit: Promise<ExitReason>;
  /** Everything that happens, in order; completes after `supervisor.exited`. */
  readonly events$: Observable<SupervisorEvent>;

  readonly #intensity: number;
  readonly #periodMs: number;
  readonly #autoShutdown: AutoShutdown;
  readonly #backoff: BackoffOptions | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #specs: ReadonlyArray<ResolvedChildSpec<C, AnyArgs>>;
  readonly #template: ResolvedChildSpec<C, AnyArgs> | undefined;
  readonly #events = new Subject<SupervisorEvent>();
  #resolveExit: (reason: ExitReason) => void = noop;
  #records: ChildRecord<C>[] = [];
  #restarts: readonly number[] = [];
  #timers = new Set<unknown>();
  #dying = new Set<Child>();
  #tail: Promise<unknown> = Promise.resolve();
  #seq = 0;
  #handles = new Map<string, TuncerHandle>();
  #stopping = false;
  #killing = false;
  #exited = false;

  private constructor(options: SupervisorOptions<C>) {
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
    if (strategy === 'simple_one_for_one' && specs.length !== 1) {
      bad('simple_one_for_one needs exactly one child spec (the template)');
    }

    this.name = options.name ?? 'supervisor';
    this.strategy = strategy;
    this.#intensity = intensity;
    this.#periodMs = period * 1000;
    this.#autoShutdown = autoShutdown;
    this.#backoff = options.backoff;
    this.#logger = options.logger ?? silentLogger();
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#specs = strategy === 'simple_one_for_one' ? [] : specs;
    this.#template = strategy === 'simple_one_for_one' ? specs[0] : undefined;
    this.exit = new Promise<ExitReason>((resolve) => (this.#resolveExit = resolve));
    this.events$ = this.#events.asObservable();
    if (options.observer) this.#events.subscribe(options.observer);
  }

  /**
   * Creates a supervisor and starts its children in order, each start awaited before the next.
   * If one fails, those already started are stopped in reverse order and this rejects with a
   * {@link SupervisorError} `ESTART` (`childId`, `cause`). Bad options reject with `EINVAL`.
   *
   * @example
   * ```ts
   * const sup = await Supervisor.start({
   *   strategy: 'one_for_all',
   *   children: [
   *     { id: 'tun0', start: () => Tuncer.create({ name: 'tun0' }) },
   *     { id: 'pump', start: () => Pump.start('tun0'), shutdown: 'brutal_kill' },
   *   ],
   * });
   * ```
   */
  static async start<C extends Child = Child>(options: SupervisorOptions<C>): Promise<Supervisor<C>> {
    const sup = new Supervisor<C>(options);
    await sup.#enqueue(() => sup.#init());
    return sup;
  }

  /**
   * A child spec that starts a supervisor with `options` under another supervisor
   * (type `'supervisor'`, shutdown `'infinity'` unless given). When it gives up (too many
   * restarts) it exits with `'shutdown'`, which its parent counts as one restart if it is
   * `permanent` (the default).
   *
   * @example
   * ```ts
   * const root = await Supervisor.start({
   *   strategy: 'one_for_one',
   *   children: [Supervisor.asChild({ id: 'tunnels', strategy: 'one_for_one', children: [tunSpec] })],
   * });
   * ```
   */
  static asChild<C extends Child = Child>(options: NestedSupervisorOptions<C>): ChildSpec<Supervisor<C>> {
    const { id, restart, shutdown, significant, ...rest } = options;
    return {
      id,
      type: 'supervisor',
      restart,
      shutdown,
      significant,
      start: () => Supervisor.start<C>({ name: id, ...rest }),
    };
  }

  /**
   * Adds a child and starts it (OTP `start_child`): pass a {@link ChildSpec} (not for
   * `simple_one_for_one`), or the argument list for the template's `start` (only for
   * `simple_one_for_one`; the child gets the id `template#n`). A failed start keeps no spec.
   * Rejects with `EINVAL` (bad spec or wrong kind of argument) or `ENOPROC` (stopping).
   *
   * @example
   * ```ts
   * const r = await sup.startChild({ id: 'tun1', start: () => Tuncer.create({ name: 'tun1' }) });
   * if (!r.ok) console.error(r.error);
   * const d = await dynamicSup.startChild(['tun2']); // simple_one_for_one: start('tun2')
   * ```
   */
  startChild(specOrArgs: ChildSpec<C, AnyArgs> | readonly unknown[]): Promise<StartChildResult<C>> {
    return this.#call(async (): Promise<StartChildResult<C>> => {
      let rec: ChildRecord<C>;
      if (this.#template !== undefined) {
        if (!isArgs(specOrArgs)) {
          throw new SupervisorError('EINVAL', 'a simple_one_for_one supervisor takes an argument list in startChild');
        }
        rec = this.#newRecord(this.#template, `${this.#template.id}#${++this.#seq}`, specOrArgs);
      } else {
        if (isArgs(specOrArgs)) throw new SupervisorError('EINVAL', 'startChild takes a child spec unless simple_one_for_one');
        const spec = resolveChildSpec(specOrArgs, this.#autoShutdown);
        const existing = this.#find(spec.id);
        if (existing !== undefined) {
          return existing.status === 'running' && existing.child !== undefined
            ? { ok: false, error: 'already_started', child: existing.child }
            : { ok: false, error: 'already_present' };
        }
        rec = this.#newRecord(spec, spec.id, []);
      }
      this.#records.push(rec);
      this.#setStatus(rec, 'starting');
      const r = await this.#startRecord(rec, false);
      if (r.ok) return { ok: true, id: rec.id, child: r.child };
      this.#remove(rec);
      if ('stopped' in r) throw this.#noproc();
      return { ok: false, error: 'start_failed', cause: r.cause };
    });
  }

  /**
   * Stops a child per its shutdown spec (OTP `terminate_child`), and cancels a pending restart
   * of it; its exit never causes a restart or an auto shutdown. The spec is kept (restart it
   * with {@link restartChild}) except for temporary children and `simple_one_for_one` children
   * (addressed by their generated id, where OTP uses the pid), which are removed.
   *
   * @example
   * ```ts
   * await sup.terminateChild('tun0'); // { ok: true }
   * await sup.terminateChild('nope'); // { ok: false, error: 'not_found' }
   * ```
   */
  terminateChild(id: string): Promise<TerminateChildResult> {
    return this.#call(async (): Promise<TerminateChildResult> => {
      const rec = this.#find(id);
      if (rec === undefined) return { ok: false, error: 'not_found' };
      const drop = this.#template !== undefined || rec.spec.restart === 'temporary';
      await this.#takeDown(rec, drop ? 'remove' : 'down');
      return { ok: true };
    });
  }

  /**
   * Starts again a child that is down (OTP `restart_child`): terminated, or a transient child
   * that exited normally. Errors: `running`, `restarting`, `not_found`,
   * `simple_one_for_one`, `start_failed` (with `cause`).
   *
   * @example
   * ```ts
   * await sup.terminateChild('tun0');
   * const r = await sup.restartChild('tun0'); // { ok: true, child }
   * ```
   */
  restartChild(id: string): Promise<RestartChildResult<C>> {
    return this.#call(async (): Promise<RestartChildResult<C>> => {
      if (this.#template !== undefined) return { ok: false, error: 'simple_one_for_one' };
      const rec = this.#find(id);
      if (rec === undefined) return { ok: false, error: 'not_found' };
      if (rec.status === 'running') return { ok: false, error: 'running' };
      if (rec.status !== 'down') return { ok: false, error: 'restarting' };
      this.#setStatus(rec, 'starting');
      const r = await this.#startRecord(rec, true);
      if (r.ok) return { ok: true, child: r.child };
      if ('stopped' in r) throw this.#noproc();
      this.#setStatus(rec, 'down');
      return { ok: false, error: 'start_failed', cause: r.cause };
    });
  }

  /**
   * Removes the spec of a child that is down (OTP `delete_child`). Errors: `running`,
   * `restarting`, `not_found`, `simple_one_for_one`. Completes its `instance$`.
   *
   * @example
   * ```ts
   * await sup.terminateChild('tun0');
   * await sup.deleteChild('tun0'); // { ok: true }
   * ```
   */
  deleteChild(id: string): Promise<DeleteChildResult> {
    return this.#call(async (): Promise<DeleteChildResult> => {
      if (this.#template !== undefined) return { ok: false, error: 'simple_one_for_one' };
      const rec = this.#find(id);
      if (rec === undefined) return { ok: false, error: 'not_found' };
      if (rec.status === 'running') return { ok: false, error: 'running' };
      if (rec.status !== 'down') return { ok: false, error: 'restarting' };
      this.#remove(rec);
      return { ok: true };
    });
  }

  /**
   * A stable handle on the interface child `id`: its `packets$` and `events$` keep flowing
   * across restarts, and `send`/`recv` wait for a restart in progress (see {@link TuncerHandle}).
   *
   * @example
   * ```ts
   * const tun0 = sup.child('tun0');
   * tun0.packets$.subscribe((p) => console.log(p.length));
   * ```
   */
  child(this: Supervisor<Tuncer>, id: string): TuncerHandle {
    // One handle per child: each holds subscriptions, and setopt must not apply twice.
    const cached = this.#handles.get(id);
    if (cached && !cached.gone) return cached;
    const handle = new TuncerHandle(this, id);
    this.#handles.set(id, handle);
    return handle;
  }

  /**
   * The children in start order (OTP `which_children`): the instance, `'restarting'` while a
   * restart is pending, or `undefined` while down.
   *
   * @example
   * ```ts
   * sup.whichChildren(); // [{ id: 'tun0', child: Tuncer, type: 'worker' }, { id: 'pump', child: 'restarting', type: 'worker' }]
   * ```
   */
  whichChildren(): ChildInfo<C>[] {
    return this.#records.map((r) => ({
      id: r.id,
      child: r.status === 'running' ? r.child : r.status === 'restarting' ? 'restarting' : undefined,
      type: r.spec.type,
    }));
  }

  /**
   * Counts (OTP `count_children`): `specs` (1 for `simple_one_for_one`, as in OTP), `active`
   * running instances, and children per type.
   *
   * @example
   * ```ts
   * sup.countChildren(); // { specs: 2, active: 2, supervisors: 0, workers: 2 }
   * ```
   */
  countChildren(): ChildCounts {
    const active = this.#records.filter((r) => r.status === 'running').length;
    const supervisors = this.#records.filter((r) => r.spec.type === 'supervisor').length;
    const specs = this.#template !== undefined ? 1 : this.#records.length;
    return { specs, active, supervisors, workers: this.#records.length - supervisors };
  }

  /**
   * The current instance of child `id`, then each new one after a restart, and `undefined`
   * while it is down (a BehaviorSubject view: emits the current value on subscribe). Completes
   * when the spec is removed or the supervisor exits; for an unknown id (or after exit) it
   * emits `undefined` and completes.
   *
   * @example
   * ```ts
   * sup.instance$('tun0').pipe(filter(Boolean)).subscribe((tun) => attach(tun));
   * ```
   */
  instance$(id: string): Observable<C | undefined> {
    const rec = this.#find(id);
    if (rec === undefined || this.#exited) return of(undefined);
    return rec.instance$.asObservable();
  }

  /**
   * Resolves with the running instance of `id`, or with the next one when it is starting or a
   * restart is pending. Rejects with {@link SupervisorError} `ENOCHILD` when no instance will
   * come (unknown or deleted id, down with no restart pending, supervisor stopping), and with
   * `signal.reason` when `signal` aborts. A child's exit is noticed one microtask after its
   * `exit` resolves, so a call in that same synchronous run may still get the dying instance.
   *
   * @example
   * ```ts
   * const tun = await sup.whenRunning('tun0', AbortSignal.timeout(5000));
   * tun.write(packet);
   * ```
   */
  whenRunning(id: string, signal?: AbortSignal): Promise<C> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#stopping) return Promise.reject(this.#noChild(id, 'the supervisor is stopping'));
    const rec = this.#find(id);
    if (rec === undefined) return Promise.reject(this.#noChild(id, 'no such child'));
    if (rec.status === 'running' && rec.child !== undefined) return Promise.resolve(rec.child);
    if (rec.status === 'down') return Promise.reject(this.#noChild(id, 'it is down and no restart is pending'));
    return new Promise<C>((resolve, reject) => {
      const onAbort = (): void => {
        rec.waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter<C> = {
        resolve: (child) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(child);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      rec.waiters.add(waiter);
    });
  }

  /**
   * Stops the supervisor: cancels pending restarts, stops the children in reverse start order
   * (in parallel for `simple_one_for_one`) per their shutdown specs, then exits with
   * `'shutdown'`. Resolves when it has exited; calling it again just waits.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void sup.stop());
   * ```
   */
  stop(): Promise<void> {
    if (this.#beginStopping()) {
      this.#spawn(async () => {
        await this.#terminateAll();
        this.#finish('shutdown', 'stop');
      });
    }
    return this.exit.then(noop);
  }

  /**
   * Kills the supervisor at once: kills every child (ignoring shutdown specs and any
   * operation in progress) and exits with `'killed'` as soon as they have exited. A child
   * whose start is still in flight is killed when it arrives.
   *
   * @example
   * ```ts
   * await Promise.race([sup.stop(), timeout(10_000).then(() => sup.kill())]);
   * ```
   */
  kill(): Promise<void> {
    if (!this.#exited) {
      this.#beginStopping();
      this.#killing = true;
      const pending: Promise<unknown>[] = [...this.#dying].map((c) => {
        this.#safe(() => c.kill(), 'kill');
        return c.exit.then(noop, noop);
      });
      for (const rec of this.#records) {
        const child = rec.child;
        rec.epoch++;
        rec.child = undefined;
        this.#setStatus(rec, 'down');
        if (child !== undefined) pending.push(this.#shutdownInstance(rec, child));
      }
      void Promise.all(pending).then(() => this.#finish('killed', 'kill'));
    }
    return this.exit.then(noop);
  }

  // ---------------------------------------------------------------- internals

  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op);
    this.#tail = run.then(noop, noop);
    return run;
  }

  /** Queues an internal operation; a throw there is a bug, logged rather than lost. */
  #spawn(op: () => Promise<void>): void {
    this.#enqueue(op).catch((error: unknown) => {
      this.#logger.error({ supervisor: this.name, err: error }, 'supervisor internal error');
    });
  }

  /** Queues an API call; rejects with ENOPROC if the supervisor is (or gets) stopping first. */
  #call<T>(op: () => Promise<T>): Promise<T> {
    if (this.#stopping) return Promise.reject(this.#noproc());
    return this.#enqueue(async () => {
      if (this.#stopping) throw this.#noproc();
      return op();
    });
  }

  #noproc(): SupervisorError {
    return new SupervisorError('ENOPROC', `supervisor ${this.name} is stopping or stopped`);
  }

  #noChild(id: string, why: string): SupervisorError {
    return new SupervisorError('ENOCHILD', `no instance of child ${id} will come: ${why}`, { childId: id });
  }

  #emit(event: SupervisorEvent): void {
    this.#events.next(event);
    logSupervisorEvent(this.#logger, event);
  }

  #safe(fn: () => void | Promise<void>, during: string): void {
    const report = (error: unknown): void =>
      this.#logger.warn({ supervisor: this.name, err: error }, `child ${during}() threw`);
    try {
      const r = fn();
      if (r !== undefined && typeof r.then === 'function') r.then(noop, report);
    } catch (error) {
      report(error);
    }
  }

  #find(id: string): ChildRecord<C> | undefined {
    return this.#records.find((r) => r.id === id);
  }

  #newRecord(spec: ResolvedChildSpec<C, AnyArgs>, id: string, args: readonly unknown[]): ChildRecord<C> {
    return {
      id,
      spec,
      args,
      child: undefined,
      status: 'down',
      epoch: 0,
      startedAt: undefined,
      uptimeMs: undefined,
      backoffAttempt: 0,
      instance$: new BehaviorSubject<C | undefined>(undefined),
      waiters: new Set(),
    };
  }

  #setStatus(rec: ChildRecord<C>, status: Exclude<Status, 'running'>): void {
    rec.status = status;
    if (rec.instance$.value !== undefined) rec.instance$.next(undefined);
    if (status === 'down') this.#rejectWaiters(rec, 'it is down and no restart is pending');
  }

  #rejectWaiters(rec: ChildRecord<C>, why: string): void {
    const waiters = [...rec.waiters];
    rec.waiters.clear();
    for (const w of waiters) w.reject(this.#noChild(rec.id, why));
  }

  #remove(rec: ChildRecord<C>): void {
    const i = this.#records.indexOf(rec);
    if (i >= 0) this.#records.splice(i, 1);
    rec.status = 'down';
    rec.instance$.complete();
    this.#rejectWaiters(rec, 'its spec was removed');
  }

  async #init(): Promise<void> {
    for (const spec of this.#specs) {
      const rec = this.#newRecord(spec, spec.id, []);
      this.#records.push(rec);
      this.#setStatus(rec, 'starting');
      const r = await this.#startRecord(rec, false);
      if (r.ok) continue;
      const cause = 'cause' in r ? r.cause : undefined;
      this.#setStatus(rec, 'down');
      this.#beginStopping();
      await this.#terminateAll();
      this.#finish({ shutdown: { failed_to_start_child: rec.id, reason: cause } }, 'start_failed');
      throw new SupervisorError('ESTART', `supervisor ${this.name}: failed to start child ${rec.id}`, {
        childId: rec.id,
        cause,
      });
    }
  }

  async #startRecord(rec: ChildRecord<C>, restart: boolean): Promise<StartOutcome<C>> {
    let child: C;
    try {
      const started: unknown = await rec.spec.start(...rec.args);
      if (!isChild(started)) throw new TypeError(`start() of child ${rec.id} did not resolve to a Child (exit, stop, kill)`);
      child = started as C;
    } catch (cause) {
      this.#emit({ type: 'child.start_failed', supervisor: this.name, id: rec.id, cause });
      return { ok: false, cause };
    }
    this.#emit({ type: 'child.started', supervisor: this.name, id: rec.id, childType: rec.spec.type, restart });
    if (this.#stopping) {
      // Arrived after a stop or kill: never adopt it, end it at once.
      await this.#shutdownInstance(rec, child);
      return { ok: false, stopped: true };
    }
    rec.child = child;
    rec.status = 'running';
    rec.epoch++;
    rec.startedAt = this.#clock.now();
    rec.uptimeMs = undefined;
    child.exit.then(
      (reason) => this.#onExit(rec, child, reason),
      (error: unknown) => this.#onExit(rec, child, error),
    );
    rec.instance$.next(child);
    const waiters = [...rec.waiters];
    rec.waiters.clear();
    for (const w of waiters) w.resolve(child);
    return { ok: true, child };
  }

  /** Ends one instance per its spec (brutally once killing) and reports it. */
  async #shutdownInstance(rec: ChildRecord<C>, child: C): Promise<void> {
    this.#dying.add(child);
    const how: ShutdownSpec = this.#killing ? 'brutal_kill' : rec.spec.shutdown;
    const { reason, killed } = await shutdownChild(child, how, this.#clock, (error, during) =>
      this.#logger.warn({ supervisor: this.name, child: rec.id, err: error }, `child ${during}() threw`),
    );
    this.#dying.delete(child);
    const expected =
      reason === 'shutdown' ||
      (killed && how === 'brutal_kill' && reason === 'killed') ||
      (rec.spec.restart !== 'permanent' && isNormalExit(reason));
    this.#emit({
      type: 'child.exited',
      supervisor: this.name,
      id: rec.id,
      childType: rec.spec.type,
      reason,
      by: 'supervisor',
      abnormal: !expected,
    });
  }

  /** The supervisor ends `rec`'s instance (if any) and leaves the record `next`. */
  async #takeDown(rec: ChildRecord<C>, next: 'down' | 'restarting' | 'remove'): Promise<void> {
    rec.epoch++;
    const child = rec.child;
    rec.child = undefined;
    if (next === 'remove') this.#remove(rec);
    else this.#setStatus(rec, next);
    if (child !== undefined) await this.#shutdownInstance(rec, child);
  }

  /** A child's exit promise resolved (synchronous bookkeeping; the decision is queued). */
  #onExit(rec: ChildRecord<C>, child: C, reason: ExitReason): void {
    if (rec.child !== child) return; // the supervisor ended it: already reported
    rec.child = undefined;
    rec.uptimeMs = rec.startedAt === undefined ? undefined : this.#clock.now() - rec.startedAt;
    const epoch = ++rec.epoch;
    const restart = !this.#stopping && shouldRestart(rec.spec.restart, reason);
    this.#setStatus(rec, restart ? 'restarting' : 'down');
    this.#emit({
      type: 'child.exited',
      supervisor: this.name,
      id: rec.id,
      childType: rec.spec.type,
      reason,
      by: 'self',
      abnormal: !isNormalExit(reason),
    });
    this.#spawn(() => this.#handleExit(rec, epoch));
  }

  async #handleExit(rec: ChildRecord<C>, epoch: number): Promise<void> {
    if (this.#stopping || rec.epoch !== epoch || !this.#records.includes(rec)) return;
    if (rec.status === 'restarting') {
      await this.#restart(rec);
      return;
    }
    if (this.#template !== undefined || rec.spec.restart === 'temporary') this.#remove(rec);
    if (!rec.spec.significant || this.#autoShutdown === 'never') return;
    const othersAlive = this.#records.some((r) => r.spec.significant && r.status !== 'down');
    if (this.#autoShutdown === 'any_significant' || !othersAlive) {
      await this.#shutdownSelf('shutdown', 'auto_shutdown');
    }
  }

  /** One restart decision for `rec` (after a crash, or a failed restart attempt). */
  async #restart(rec: ChildRecord<C>): Promise<void> {
    const verdict = restartIntensity(this.#restarts, this.#clock.now(), this.#intensity, this.#periodMs);
    this.#restarts = verdict.restarts;
    if (verdict.exceeded) {
      this.#emit({
        type: 'supervisor.max_intensity',
        supervisor: this.name,
        id: rec.id,
        intensity: this.#intensity,
        periodMs: this.#periodMs,
      });
      await this.#shutdownSelf('shutdown', 'max_intensity');
      return;
    }
    let delayMs = 0;
    if (this.#backoff !== undefined) {
      const step = backoff(rec.backoffAttempt, rec.uptimeMs, this.#backoff, this.#random);
      rec.backoffAttempt = step.attempt;
      delayMs = step.delayMs;
    }
    rec.uptimeMs = undefined;
    const plan = planRestart(
      this.strategy,
      this.#records.map((r) => ({ id: r.id, restart: r.spec.restart })),
      rec.id,
    );
    this.#emit({ type: 'child.restarting', supervisor: this.name, id: rec.id, delayMs, ids: plan.start });
    for (const id of plan.terminate) {
      const sibling = this.#find(id);
      if (sibling !== undefined) await this.#takeDown(sibling, plan.remove.includes(id) ? 'remove' : 'restarting');
    }
    if (this.#stopping) return;
    if (delayMs > 0) {
      const handle = this.#clock.setTimeout(() => {
        this.#timers.delete(handle);
        this.#spawn(() => this.#startGroup(plan.start));
      }, delayMs);
      this.#timers.add(handle);
      return;
    }
    await this.#startGroup(plan.start);
  }

  /** Starts, in order, the children of `ids` still waiting for a restart. */
  async #startGroup(ids: readonly string[]): Promise<void> {
    for (const [i, id] of ids.entries()) {
      if (this.#stopping) return;
      const rec = this.#find(id);
      if (rec === undefined || rec.status !== 'restarting') continue;
      const r = await this.#startRecord(rec, true);
      if (r.ok) continue;
      if ('stopped' in r) return;
      // OTP try_again_restart: let queued requests run first, then count another restart.
      const rest = ids.slice(i + 1);
      this.#spawn(() => this.#tryAgain(rec, rest));
      return;
    }
  }

  async #tryAgain(rec: ChildRecord<C>, rest: readonly string[]): Promise<void> {
    if (this.#stopping) return;
    if (this.#records.includes(rec) && rec.status === 'restarting') await this.#restart(rec);
    else await this.#startGroup(rest); // it was terminated meanwhile: bring up the rest of its group
  }

  /** Marks the supervisor as stopping; false if it already was. */
  #beginStopping(): boolean {
    if (this.#stopping) return false;
    this.#stopping = true;
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers.clear();
    for (const rec of this.#records) this.#rejectWaiters(rec, 'the supervisor is stopping');
    return true;
  }

  async #terminateAll(): Promise<void> {
    if (this.#template !== undefined) {
      await Promise.all(this.#records.map((r) => this.#takeDown(r, 'down')));
      return;
    }
    for (const rec of [...this.#records].reverse()) await this.#takeDown(rec, 'down');
  }

  async #shutdownSelf(reason: ExitReason, cause: SupervisorExitCause): Promise<void> {
    this.#beginStopping();
    await this.#terminateAll();
    this.#finish(reason, cause);
  }

  #finish(reason: ExitReason, cause: SupervisorExitCause): void {
    if (this.#exited) return;
    this.#exited = true;
    if (this.#killing) {
      reason = 'killed';
      cause = 'kill';
    }
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers.clear();
    for (const rec of this.#records) {
      rec.status = 'down';
      rec.instance$.complete();
      this.#rejectWaiters(rec, 'the supervisor has exited');
    }
    this.#emit({ type: 'supervisor.exited', supervisor: this.name, reason, cause });
    this.#events.complete();
    this.#resolveExit(reason);
  }
}
