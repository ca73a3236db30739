/**
 * A supervisor's restart logic: what happens after a child exits on its own.
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
 *  +-----'   (terminateChild of the child a restart waits on abandons it: the rest of its
 *             group stays down, as in OTP)
 *        | all started
 *        v
 *  event child.started; instance$(id) emits the new instance; whenRunning(id) resolves
 * ```
 *
 * Every step after the first runs in the supervisor's serial queue, like an OTP mailbox.
 *
 * @module
 */
import { isNormalExit, type Child, type ExitReason } from './child.js';
import { shouldRestart } from './childSpec.js';
import { backoff } from './backoff.js';
import type { ChildRecord, ChildTable } from './childTable.js';
import { restartIntensity } from './restartIntensity.js';
import type { SerialQueue } from './serialQueue.js';
import { planRestart } from './strategy.js';
import type { SupervisorEvent, SupervisorExitCause } from './supervisorEvent.js';
import type { ResolvedSupervisorOptions } from './supervisorOptions.js';

/**
 * How one start of a child went: its new instance, a failure (`cause`), or `stopped` when
 * the instance came after the supervisor began stopping (it was ended at once).
 *
 * @example
 * ```ts
 * const r: StartOutcome<Tuncer> = { ok: false, cause: new Error('EBUSY') };
 * ```
 */
export type StartOutcome<C> = { ok: true; child: C } | { ok: false; cause: unknown } | { ok: false; stopped: true };

/**
 * What the {@link Restarter} needs from its supervisor.
 *
 * @example
 * ```ts
 * const restarter = new Restarter<Tuncer>({ options, table, queue, isStopping: () => stopping, emit, startRecord, takeDown, shutdownSelf });
 * ```
 */
export interface RestartHost<C extends Child, H = unknown> {
  readonly options: ResolvedSupervisorOptions<C, H>;
  readonly table: ChildTable<C, H>;
  readonly queue: SerialQueue;
  /** True once the supervisor has begun stopping (for any reason). */
  isStopping(): boolean;
  emit(event: SupervisorEvent): void;
  /** Starts one instance of `rec` and records it as running. */
  startRecord(rec: ChildRecord<C, H>, restart: boolean): Promise<StartOutcome<C>>;
  /** Ends `rec`'s instance (if any) and leaves the record `next`. */
  takeDown(rec: ChildRecord<C, H>, next: 'down' | 'restarting' | 'remove'): Promise<void>;
  /** Stops every child and exits. */
  shutdownSelf(reason: ExitReason, cause: SupervisorExitCause): Promise<void>;
}

/**
 * Decides and carries out restarts after children exit on their own: restart types,
 * intensity, backoff, strategy, and OTP's `try_again_restart` after a failed restart.
 *
 * @example
 * ```ts
 * const restarter = new Restarter(host);
 * child.exit.then((reason) => restarter.childExited(rec, child, reason));
 * ```
 */
export class Restarter<C extends Child, H = unknown> {
  readonly #host: RestartHost<C, H>;
  readonly #options: ResolvedSupervisorOptions<C, H>;
  readonly #table: ChildTable<C, H>;
  #restarts: readonly number[] = [];
  #timers = new Set<unknown>();
  /**
   * The group restart each child owns while it waits (a backoff delay, or a try again after a
   * failed start): the ids to start, in order, itself first of those not yet started. The
   * array's identity is the token a queued start compares, so an abandoned one does nothing.
   */
  #pending = new WeakMap<ChildRecord<C, H>, readonly string[]>();

  constructor(host: RestartHost<C, H>) {
    this.#host = host;
    this.#options = host.options;
    this.#table = host.table;
  }

  /**
   * The exit promise of `rec`'s instance `child` resolved: synchronous bookkeeping now, the
   * decision queued. An instance the supervisor ended itself is ignored (it reported it).
   *
   * @example
   * ```ts
   * child.exit.then((reason) => restarter.childExited(rec, child, reason));
   * ```
   */
  childExited(rec: ChildRecord<C, H>, child: C, reason: ExitReason): void {
    if (rec.child !== child) return; // the supervisor ended it: already reported
    rec.child = undefined;
    rec.uptimeMs = rec.startedAt === undefined ? undefined : this.#options.clock.now() - rec.startedAt;
    const epoch = ++rec.epoch;
    const restart = !this.#host.isStopping() && shouldRestart(rec.spec.restart, reason);
    this.#table.setStatus(rec, restart ? 'restarting' : 'down');
    this.#host.emit({
      type: 'child.exited',
      supervisor: this.#options.name,
      id: rec.id,
      childType: rec.spec.type,
      reason,
      by: 'self',
      abnormal: !isNormalExit(reason),
    });
    this.#host.queue.spawn(() => this.#handleExit(rec, epoch));
  }

  /**
   * `rec` is being terminated through the API: the group restart it owns (if any) is dropped,
   * and the siblings that were waiting for it go down. OTP does the same: its
   * `try_again_restart` of a child no longer restarting does nothing, so the rest of the
   * group stays down (`supervisor_SUITE:hanging_restart_loop_rest_for_one`).
   *
   * @example
   * ```ts
   * restarter.abandon(rec);
   * await takeDown(rec, 'down');
   * ```
   */
  abandon(rec: ChildRecord<C, H>): void {
    const group = this.#pending.get(rec);
    this.#pending.delete(rec);
    for (const id of group ?? []) {
      const sibling = this.#table.find(id);
      if (sibling !== undefined && sibling !== rec && sibling.status === 'restarting') this.#table.setStatus(sibling, 'down');
    }
  }

  /**
   * Cancels every restart waiting for its backoff delay.
   *
   * @example
   * ```ts
   * restarter.cancelTimers(); // the supervisor is stopping
   * ```
   */
  cancelTimers(): void {
    for (const t of this.#timers) this.#options.clock.clearTimeout(t);
    this.#timers.clear();
  }

  async #handleExit(rec: ChildRecord<C, H>, epoch: number): Promise<void> {
    if (this.#host.isStopping() || rec.epoch !== epoch || !this.#table.has(rec)) return;
    if (rec.status === 'restarting') {
      await this.#restart(rec);
      return;
    }
    if (this.#options.template !== undefined || rec.spec.restart === 'temporary') this.#table.remove(rec);
    const autoShutdown = this.#options.autoShutdown;
    if (!rec.spec.significant || autoShutdown === 'never') return;
    const othersAlive = this.#table.records.some((r) => r.spec.significant && r.status !== 'down');
    if (autoShutdown === 'any_significant' || !othersAlive) {
      await this.#host.shutdownSelf('shutdown', 'auto_shutdown');
    }
  }

  /** One restart decision for `rec` (after a crash, or a failed restart attempt). */
  async #restart(rec: ChildRecord<C, H>): Promise<void> {
    const { name, strategy, intensity, periodMs, clock } = this.#options;
    const verdict = restartIntensity(this.#restarts, clock.now(), intensity, periodMs);
    this.#restarts = verdict.restarts;
    if (verdict.exceeded) {
      this.#host.emit({ type: 'supervisor.max_intensity', supervisor: name, id: rec.id, intensity, periodMs });
      await this.#host.shutdownSelf('shutdown', 'max_intensity');
      return;
    }
    let delayMs = 0;
    if (this.#options.backoff !== undefined) {
      const step = backoff(rec.backoffAttempt, rec.uptimeMs, this.#options.backoff, this.#options.random);
      rec.backoffAttempt = step.attempt;
      delayMs = step.delayMs;
    }
    rec.uptimeMs = undefined;
    const plan = planRestart(
      strategy,
      this.#table.records.map((r) => ({ id: r.id, restart: r.spec.restart })),
      rec.id,
    );
    this.#host.emit({ type: 'child.restarting', supervisor: name, id: rec.id, delayMs, ids: plan.start });
    for (const id of plan.terminate) {
      const sibling = this.#table.find(id);
      if (sibling === undefined) continue;
      this.#pending.delete(sibling); // its own pending restart, if any, is part of this one now
      await this.#host.takeDown(sibling, plan.remove.includes(id) ? 'remove' : 'restarting');
    }
    if (this.#host.isStopping()) return;
    const group = plan.start;
    this.#pending.set(rec, group);
    if (delayMs > 0) {
      const handle = clock.setTimeout(() => {
        this.#timers.delete(handle);
        this.#host.queue.spawn(() => this.#startGroup(rec, group));
      }, delayMs);
      this.#timers.add(handle);
      return;
    }
    await this.#startGroup(rec, group);
  }

  /** Starts, in order, the children of `owner`'s `group` still waiting for a restart. */
  async #startGroup(owner: ChildRecord<C, H>, group: readonly string[]): Promise<void> {
    if (this.#pending.get(owner) !== group) return; // abandoned or taken over meanwhile
    this.#pending.delete(owner);
    for (const [i, id] of group.entries()) {
      if (this.#host.isStopping()) return;
      const rec = this.#table.find(id);
      if (rec === undefined || rec.status !== 'restarting') continue;
      const r = await this.#host.startRecord(rec, true);
      if (r.ok) continue;
      if ('stopped' in r) return;
      // OTP try_again_restart: let queued requests run first, then count another restart.
      // The rest of the group waits on `rec` now.
      const rest = group.slice(i);
      this.#pending.set(rec, rest);
      this.#host.queue.spawn(() => this.#tryAgain(rec, rest));
      return;
    }
  }

  async #tryAgain(rec: ChildRecord<C, H>, group: readonly string[]): Promise<void> {
    if (this.#host.isStopping() || this.#pending.get(rec) !== group) return; // abandoned: the group stays down
    this.#pending.delete(rec);
    await this.#restart(rec);
  }
}
