/**
 * The supervisor's bookkeeping of its children: one record per child, in start order, with
 * its state, its current instance and who waits for the next one. Synchronous: deciding and
 * doing (starts, stops, restarts) is the supervisor's part.
 *
 * @module
 */
import { BehaviorSubject, Observable, of } from 'rxjs';
import type { Child } from './child.js';
import type { ChildHost, ResolvedChildSpec } from './childSpec.js';
import { SupervisorError } from './supervisorError.js';
import type { AnyArgs } from './supervisorOptions.js';
import type { ChildCounts, ChildInfo } from './supervisorResult.js';

/**
 * Where a child is: `running` (it has an instance), `starting` (its first start, or one
 * asked for through the API, is in flight), `restarting` (a restart is pending or in flight),
 * `down` (no instance, and none will come unless asked for).
 *
 * @example
 * ```ts
 * const status: ChildStatus = 'restarting';
 * ```
 */
export type ChildStatus = 'running' | 'starting' | 'restarting' | 'down';

interface Waiter<C> {
  resolve(child: C): void;
  reject(error: unknown): void;
}

/**
 * One child as its supervisor keeps it. `epoch` is bumped whenever the supervisor acts on
 * the child, so a queued decision about an exit it has since overtaken can tell it is stale.
 * `handle` is the one made by its spec's `handle` factory, once asked for.
 *
 * @example
 * ```ts
 * const rec: ChildRecord<Tuncer> = table.add(spec, spec.id, []);
 * rec.status; // 'starting'
 * ```
 */
export interface ChildRecord<C extends Child, H = unknown> {
  readonly id: string;
  readonly spec: ResolvedChildSpec<C, AnyArgs, H>;
  /** Arguments of `spec.start` (a `simple_one_for_one` child's `startChild` list). */
  readonly args: readonly unknown[];
  child: C | undefined;
  status: ChildStatus;
  /** Bumped whenever the supervisor acts on this record; stale queued exits compare it. */
  epoch: number;
  startedAt: number | undefined;
  /** How long the last instance ran, when it exited on its own (for backoff reset). */
  uptimeMs: number | undefined;
  backoffAttempt: number;
  readonly instance$: BehaviorSubject<C | undefined>;
  readonly waiters: Set<Waiter<C>>;
  /** Boxed, so a factory may make `undefined`; dropped with the record. */
  handle: { readonly value: H } | undefined;
}

/**
 * The error for "no instance of this child will come", with the reason.
 *
 * @example
 * ```ts
 * noChildError('tun0', 'no such child').code; // 'ENOCHILD'
 * ```
 */
export function noChildError(id: string, why: string): SupervisorError {
  return new SupervisorError('ENOCHILD', `no instance of child ${id} will come: ${why}`, { childId: id });
}

/**
 * The children of one supervisor in start order, and what callers can see of them:
 * `whenRunning`, `instance$`, `whichChildren`, `countChildren`.
 *
 * @example
 * ```ts
 * const table = new ChildTable<Tuncer>();
 * const rec = table.add(spec, spec.id, []);
 * table.setRunning(rec, await spec.start());
 * table.whichChildren(); // [{ id: 'tun0', child: Tuncer, type: 'worker' }]
 * ```
 */
export class ChildTable<C extends Child, H = unknown> {
  #records: ChildRecord<C, H>[] = [];
  #closed = false;

  /** The records in start order. */
  get records(): readonly ChildRecord<C, H>[] {
    return this.#records;
  }

  /**
   * The record of `id`, if there is one.
   *
   * @example
   * ```ts
   * const rec = table.find('tun0');
   * ```
   */
  find(id: string): ChildRecord<C, H> | undefined {
    return this.#records.find((r) => r.id === id);
  }

  /**
   * True while `rec` is in the table (not removed).
   *
   * @example
   * ```ts
   * if (!table.has(rec)) return; // it was removed meanwhile
   * ```
   */
  has(rec: ChildRecord<C, H>): boolean {
    return this.#records.includes(rec);
  }

  /**
   * Adds a record for a child about to be started (status `starting`) after the others.
   *
   * @example
   * ```ts
   * const rec = table.add(template, `${template.id}#1`, ['tun1']);
   * ```
   */
  add(spec: ResolvedChildSpec<C, AnyArgs, H>, id: string, args: readonly unknown[]): ChildRecord<C, H> {
    const rec: ChildRecord<C, H> = {
      id,
      spec,
      args,
      child: undefined,
      status: 'starting',
      epoch: 0,
      startedAt: undefined,
      uptimeMs: undefined,
      backoffAttempt: 0,
      instance$: new BehaviorSubject<C | undefined>(undefined),
      waiters: new Set(),
      handle: undefined,
    };
    this.#records.push(rec);
    return rec;
  }

  /**
   * Records that `rec` has no instance now; `down` also fails those waiting for one.
   *
   * @example
   * ```ts
   * table.setStatus(rec, 'restarting');
   * ```
   */
  setStatus(rec: ChildRecord<C, H>, status: Exclude<ChildStatus, 'running'>): void {
    rec.status = status;
    if (rec.instance$.value !== undefined) rec.instance$.next(undefined);
    if (status === 'down') this.rejectWaiters(rec, 'it is down and no restart is pending');
  }

  /**
   * Records `child` as the running instance of `rec`: `instance$` emits it and those waiting get it.
   *
   * @example
   * ```ts
   * table.setRunning(rec, child);
   * ```
   */
  setRunning(rec: ChildRecord<C, H>, child: C): void {
    rec.child = child;
    rec.status = 'running';
    rec.instance$.next(child);
    const waiters = [...rec.waiters];
    rec.waiters.clear();
    for (const w of waiters) w.resolve(child);
  }

  /**
   * Fails every pending `whenRunning` of `rec` with `ENOCHILD` and the reason.
   *
   * @example
   * ```ts
   * table.rejectWaiters(rec, 'the supervisor is stopping');
   * ```
   */
  rejectWaiters(rec: ChildRecord<C, H>, why: string): void {
    const waiters = [...rec.waiters];
    rec.waiters.clear();
    for (const w of waiters) w.reject(noChildError(rec.id, why));
  }

  /**
   * Takes `rec` out of the table: it is down for good and its `instance$` completes.
   *
   * @example
   * ```ts
   * table.remove(rec); // a temporary child that exited
   * ```
   */
  remove(rec: ChildRecord<C, H>): void {
    const i = this.#records.indexOf(rec);
    if (i >= 0) this.#records.splice(i, 1);
    rec.handle = undefined;
    rec.status = 'down';
    rec.instance$.complete();
    this.rejectWaiters(rec, 'its spec was removed');
  }

  /**
   * The supervisor has exited: every child is down for good, every `instance$` completes.
   *
   * @example
   * ```ts
   * table.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    for (const rec of this.#records) {
      rec.handle = undefined;
      rec.status = 'down';
      rec.instance$.complete();
      this.rejectWaiters(rec, 'the supervisor has exited');
    }
  }

  /**
   * The handle of child `id`, made by its spec's `handle` factory on first use and kept with
   * its record (so it goes when the record goes). Throws {@link SupervisorError} `ENOCHILD`
   * when there is no such child (or the table is closed), `EINVAL` when its spec has no factory.
   *
   * @example
   * ```ts
   * const tun0 = table.handle('tun0', sup);
   * ```
   */
  handle(id: string, host: ChildHost<C>): H {
    const rec = this.#closed ? undefined : this.find(id);
    if (rec === undefined) throw noChildError(id, this.#closed ? 'the supervisor has exited' : 'no such child');
    if (rec.handle !== undefined) return rec.handle.value;
    const make = rec.spec.handle;
    if (make === undefined) {
      throw new SupervisorError('EINVAL', `child ${id} has no handle: its spec has no handle factory`, { childId: id });
    }
    const value = make(host, id);
    rec.handle = { value };
    return value;
  }

  /**
   * The running instance of `id`, or the next one when it is starting or restarting;
   * rejects with `ENOCHILD` when none will come, or with `signal.reason` on abort.
   *
   * @example
   * ```ts
   * const tun = await table.whenRunning('tun0', AbortSignal.timeout(5000));
   * ```
   */
  whenRunning(id: string, signal?: AbortSignal): Promise<C> {
    const rec = this.find(id);
    if (rec === undefined) return Promise.reject(noChildError(id, 'no such child'));
    if (rec.status === 'running' && rec.child !== undefined) return Promise.resolve(rec.child);
    if (rec.status === 'down') return Promise.reject(noChildError(id, 'it is down and no restart is pending'));
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
   * The instances of `id` as they come and go (see `Supervisor.instance$`).
   *
   * @example
   * ```ts
   * table.instance$('tun0').subscribe((t) => console.log(t ? 'up' : 'down'));
   * ```
   */
  instance$(id: string): Observable<C | undefined> {
    const rec = this.find(id);
    if (rec === undefined || this.#closed) return of(undefined);
    return rec.instance$.asObservable();
  }

  /**
   * OTP `which_children` (see `Supervisor.whichChildren`).
   *
   * @example
   * ```ts
   * table.whichChildren().map((c) => c.id);
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
   * OTP `count_children` (see `Supervisor.countChildren`); `dynamic` for `simple_one_for_one`.
   *
   * @example
   * ```ts
   * table.countChildren(false); // { specs: 2, active: 2, supervisors: 0, workers: 2 }
   * ```
   */
  countChildren(dynamic: boolean): ChildCounts {
    const active = this.#records.filter((r) => r.status === 'running').length;
    const supervisors = this.#records.filter((r) => r.spec.type === 'supervisor').length;
    const specs = dynamic ? 1 : this.#records.length;
    return { specs, active, supervisors, workers: this.#records.length - supervisors };
  }
}
