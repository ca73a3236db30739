/**
 * An Erlang/OTP-style supervisor for anything that follows the {@link Child} contract: the
 * public class. What it does after a child exits on its own is in `restarter.ts`, its
 * bookkeeping in `childTable.ts`, its mailbox in `serialQueue.ts`.
 *
 * A stop, a kill or a give-up cancels pending restarts; a start already in flight is waited
 * for and the late child is shut down at once (killed, for a kill), so nothing is left running
 * when `exit` resolves.
 *
 * @module
 */
import { Observable, Subject } from 'rxjs';
import type { Logger } from 'pino';
import { isChild, isNormalExit, type Child, type ExitReason } from './child.js';
import { resolveChildSpec, type ChildHost, type ChildSpec, type ShutdownSpec } from './childSpec.js';
import { ChildTable, noChildError, type ChildRecord } from './childTable.js';
import { Restarter, type StartOutcome } from './restarter.js';
import { SerialQueue } from './serialQueue.js';
import { shutdownChild } from './shutdownChild.js';
import type { Strategy } from './strategy.js';
import { SupervisorError } from './supervisorError.js';
import { logSupervisorEvent, type SupervisorEvent, type SupervisorExitCause } from './supervisorEvent.js';
import {
  resolveSupervisorOptions,
  type AnyArgs,
  type NestedSupervisorOptions,
  type ResolvedSupervisorOptions,
  type SupervisorOptions,
} from './supervisorOptions.js';
import type {
  ChildCounts,
  ChildInfo,
  DeleteChildResult,
  RestartChildResult,
  StartChildResult,
  TerminateChildResult,
} from './supervisorResult.js';

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
export class Supervisor<C extends Child = Child, H = unknown> implements Child, ChildHost<C> {
  /** Name in events and logs. */
  readonly name: string;
  /** Restart strategy. */
  readonly strategy: Strategy;
  /** Resolves once, when the supervisor and all its children are gone: 'shutdown' or 'killed'. Never rejects. */
  readonly exit: Promise<ExitReason>;
  /** Everything that happens, in order; completes after `supervisor.exited`. */
  readonly events$: Observable<SupervisorEvent>;

  readonly #options: ResolvedSupervisorOptions<C, H>;
  readonly #logger: Logger;
  readonly #events = new Subject<SupervisorEvent>();
  readonly #table = new ChildTable<C, H>();
  readonly #queue: SerialQueue;
  readonly #restarter: Restarter<C, H>;
  #resolveExit: (reason: ExitReason) => void = noop;
  #dying = new Set<Child>();
  /** Starts in flight, each settled once its instance is adopted, or ended (late) or failed. */
  #starts = new Set<Promise<void>>();
  #seq = 0;
  #stopping = false;
  #killing = false;
  #exited = false;

  private constructor(options: SupervisorOptions<C, H>) {
    const o = resolveSupervisorOptions(options);
    this.#options = o;
    this.name = o.name;
    this.strategy = o.strategy;
    this.#logger = o.logger;
    this.#queue = new SerialQueue((error) => this.#logger.error({ supervisor: this.name, err: error }, 'supervisor internal error'));
    this.#restarter = new Restarter<C, H>({
      options: o,
      table: this.#table,
      queue: this.#queue,
      isStopping: () => this.#stopping,
      emit: (event) => this.#emit(event),
      startRecord: (rec, restart) => this.#startRecord(rec, restart),
      takeDown: (rec, next) => this.#takeDown(rec, next),
      shutdownSelf: (reason, cause) => this.#shutdownSelf(reason, cause),
    });
    this.exit = new Promise<ExitReason>((resolve) => (this.#resolveExit = resolve));
    this.events$ = this.#events.asObservable();
    if (o.observer) this.#events.subscribe(o.observer);
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
  static async start<C extends Child = Child, H = unknown>(options: SupervisorOptions<C, H>): Promise<Supervisor<C, H>> {
    const sup = new Supervisor<C, H>(options);
    await sup.#queue.run(() => sup.#init());
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
  static asChild<C extends Child = Child, H = unknown>(options: NestedSupervisorOptions<C, H>): ChildSpec<Supervisor<C, H>> {
    const { id, restart, shutdown, significant, ...rest } = options;
    return {
      id,
      type: 'supervisor',
      restart,
      shutdown,
      significant,
      start: () => Supervisor.start<C, H>({ name: id, ...rest }),
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
  startChild(specOrArgs: ChildSpec<C, AnyArgs, H> | readonly unknown[]): Promise<StartChildResult<C>> {
    return this.#call(async (): Promise<StartChildResult<C>> => {
      let rec: ChildRecord<C, H>;
      const template = this.#options.template;
      if (template !== undefined) {
        if (!isArgs(specOrArgs)) {
          throw new SupervisorError('EINVAL', 'a simple_one_for_one supervisor takes an argument list in startChild');
        }
        rec = this.#table.add(template, `${template.id}#${++this.#seq}`, specOrArgs);
      } else {
        if (isArgs(specOrArgs)) throw new SupervisorError('EINVAL', 'startChild takes a child spec unless simple_one_for_one');
        const spec = resolveChildSpec(specOrArgs, this.#options.autoShutdown);
        const existing = this.#table.find(spec.id);
        if (existing !== undefined) {
          return existing.status === 'running' && existing.child !== undefined
            ? { ok: false, error: 'already_started', child: existing.child }
            : { ok: false, error: 'already_present' };
        }
        rec = this.#table.add(spec, spec.id, []);
      }
      const r = await this.#startRecord(rec, false);
      if (r.ok) return { ok: true, id: rec.id, child: r.child };
      this.#table.remove(rec);
      if ('stopped' in r) throw this.#noproc();
      return { ok: false, error: 'start_failed', cause: r.cause };
    });
  }

  /**
   * Stops a child per its shutdown spec (OTP `terminate_child`), and cancels a pending restart
   * of it; its exit never causes a restart or an auto shutdown. When that restart was a group's
   * (`one_for_all`, `rest_for_one`: say its start kept failing), the siblings waiting for it stay
   * down too, as in OTP. The spec is kept (restart it with {@link restartChild}) except for
   * temporary children and `simple_one_for_one` children (addressed by their generated id,
   * where OTP uses the pid), which are removed.
   *
   * @example
   * ```ts
   * await sup.terminateChild('tun0'); // { ok: true }
   * await sup.terminateChild('nope'); // { ok: false, error: 'not_found' }
   * ```
   */
  terminateChild(id: string): Promise<TerminateChildResult> {
    return this.#call(async (): Promise<TerminateChildResult> => {
      const rec = this.#table.find(id);
      if (rec === undefined) return { ok: false, error: 'not_found' };
      const drop = this.#options.template !== undefined || rec.spec.restart === 'temporary';
      this.#restarter.abandon(rec);
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
      if (this.#options.template !== undefined) return { ok: false, error: 'simple_one_for_one' };
      const rec = this.#table.find(id);
      if (rec === undefined) return { ok: false, error: 'not_found' };
      if (rec.status === 'running') return { ok: false, error: 'running' };
      if (rec.status !== 'down') return { ok: false, error: 'restarting' };
      this.#table.setStatus(rec, 'starting');
      const r = await this.#startRecord(rec, true);
      if (r.ok) return { ok: true, child: r.child };
      if ('stopped' in r) throw this.#noproc();
      this.#table.setStatus(rec, 'down');
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
      if (this.#options.template !== undefined) return { ok: false, error: 'simple_one_for_one' };
      const rec = this.#table.find(id);
      if (rec === undefined) return { ok: false, error: 'not_found' };
      if (rec.status === 'running') return { ok: false, error: 'running' };
      if (rec.status !== 'down') return { ok: false, error: 'restarting' };
      this.#table.remove(rec);
      return { ok: true };
    });
  }

  /**
   * The handle of child `id`, made by its spec's `handle` factory (see {@link ChildSpec.handle})
   * the first time it is asked for, then the same one each time while the child exists: for a
   * child made by `tuncerChild`, a `TuncerHandle` whose `packets$`/`events$` survive restarts.
   * The handle is let go when the child is removed (deleted, a temporary or `simple_one_for_one`
   * child gone) or the supervisor exits. Throws a {@link SupervisorError}: `ENOCHILD` when there
   * is no child `id` (or the supervisor has exited), `EINVAL` when its spec makes no handle.
   *
   * @example
   * ```ts
   * const sup = await Supervisor.start({ strategy: 'one_for_one', children: [tuncerChild({ name: 'tun0' })] });
   * const tun0 = sup.child('tun0'); // a TuncerHandle
   * tun0.packets$.subscribe((p) => console.log(p.length));
   * ```
   */
  child(id: string): H {
    return this.#table.handle(id, this);
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
    return this.#table.whichChildren();
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
    return this.#table.countChildren(this.#options.template !== undefined);
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
    return this.#table.instance$(id);
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
    if (this.#stopping) return Promise.reject(noChildError(id, 'the supervisor is stopping'));
    return this.#table.whenRunning(id, signal);
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
      this.#queue.spawn(async () => {
        await this.#terminateAll();
        this.#finish('shutdown', 'stop');
      });
    }
    return this.exit.then(noop);
  }

  /**
   * Kills the supervisor at once: kills every child (ignoring shutdown specs and any
   * operation in progress) and exits with `'killed'` as soon as they have exited. A start
   * still in flight is waited for and its late child killed on arrival: `exit` resolves only
   * after that child has exited too, so a parent restarting this supervisor never races it.
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
      for (const rec of this.#table.records) {
        const child = rec.child;
        rec.epoch++;
        rec.child = undefined;
        this.#table.setStatus(rec, 'down');
        if (child !== undefined) pending.push(this.#shutdownInstance(rec, child));
      }
      // A start in flight settles by killing its late child (it sees #stopping and #killing).
      pending.push(...this.#starts);
      void Promise.all(pending).then(() => this.#finish('killed', 'kill'));
    }
    return this.exit.then(noop);
  }

  // ---------------------------------------------------------------- internals

  /** Queues an API call; rejects with ENOPROC if the supervisor is (or gets) stopping first. */
  #call<T>(op: () => Promise<T>): Promise<T> {
    if (this.#stopping) return Promise.reject(this.#noproc());
    return this.#queue.run(async () => {
      if (this.#stopping) throw this.#noproc();
      return op();
    });
  }

  #noproc(): SupervisorError {
    return new SupervisorError('ENOPROC', `supervisor ${this.name} is stopping or stopped`);
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

  async #init(): Promise<void> {
    for (const spec of this.#options.specs) {
      const rec = this.#table.add(spec, spec.id, []);
      const r = await this.#startRecord(rec, false);
      if (r.ok) continue;
      const cause = 'cause' in r ? r.cause : undefined;
      this.#table.setStatus(rec, 'down');
      this.#beginStopping();
      await this.#terminateAll();
      this.#finish({ shutdown: { failed_to_start_child: rec.id, reason: cause } }, 'start_failed');
      throw new SupervisorError('ESTART', `supervisor ${this.name}: failed to start child ${rec.id}`, {
        childId: rec.id,
        cause,
      });
    }
  }

  /** Starts one instance of `rec`, tracked until it has settled (see {@link Supervisor.kill}). */
  #startRecord(rec: ChildRecord<C, H>, restart: boolean): Promise<StartOutcome<C>> {
    const run = this.#startInstance(rec, restart);
    const settled = run.then(noop, noop);
    this.#starts.add(settled);
    void settled.then(() => this.#starts.delete(settled));
    return run;
  }

  async #startInstance(rec: ChildRecord<C, H>, restart: boolean): Promise<StartOutcome<C>> {
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
    rec.epoch++;
    rec.startedAt = this.#options.clock.now();
    rec.uptimeMs = undefined;
    child.exit.then(
      (reason) => this.#restarter.childExited(rec, child, reason),
      (error: unknown) => this.#restarter.childExited(rec, child, error),
    );
    this.#table.setRunning(rec, child);
    return { ok: true, child };
  }

  /** Ends one instance per its spec (brutally once killing) and reports it. */
  async #shutdownInstance(rec: ChildRecord<C, H>, child: C): Promise<void> {
    this.#dying.add(child);
    const how: ShutdownSpec = this.#killing ? 'brutal_kill' : rec.spec.shutdown;
    const { reason, killed } = await shutdownChild(child, how, this.#options.clock, (error, during) =>
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
  async #takeDown(rec: ChildRecord<C, H>, next: 'down' | 'restarting' | 'remove'): Promise<void> {
    rec.epoch++;
    const child = rec.child;
    rec.child = undefined;
    if (next === 'remove') this.#table.remove(rec);
    else this.#table.setStatus(rec, next);
    if (child !== undefined) await this.#shutdownInstance(rec, child);
  }

  /** Marks the supervisor as stopping; false if it already was. */
  #beginStopping(): boolean {
    if (this.#stopping) return false;
    this.#stopping = true;
    this.#restarter.cancelTimers();
    for (const rec of this.#table.records) this.#table.rejectWaiters(rec, 'the supervisor is stopping');
    return true;
  }

  async #terminateAll(): Promise<void> {
    const records = this.#table.records;
    if (this.#options.template !== undefined) {
      await Promise.all(records.map((r) => this.#takeDown(r, 'down')));
      return;
    }
    for (const rec of [...records].reverse()) await this.#takeDown(rec, 'down');
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
    this.#restarter.cancelTimers();
    this.#table.close();
    this.#emit({ type: 'supervisor.exited', supervisor: this.name, reason, cause });
    this.#events.complete();
    this.#resolveExit(reason);
  }
}
