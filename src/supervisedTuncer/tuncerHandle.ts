/**
 * A handle on a supervised interface whose streams and calls survive the restarts of the
 * interface behind it.
 *
 * @module
 */
import { EMPTY, Observable, Subject, catchError, filter, map, merge, switchMap, takeUntil, last, defaultIfEmpty } from 'rxjs';
import { TuncerClosedError, checkActive, type Tuncer, type TunEvent } from '../actors/tuncer.js';
import type { ActiveMode } from '../actors/tuncerOptions.js';
import type { ChildHost } from '../supervisor/childSpec.js';
import type { SupervisorEvent } from '../supervisor/supervisorEvent.js';
import { assertOptions } from '../tunctl/validate.js';
import { checkFlow } from '../actors/queueSet.js';
import type { PacketBatch } from '../actors/packetBatch.js';

/**
 * What a {@link TuncerHandle} reports: the interface's own events, plus its restarts.
 *
 * @example
 * ```ts
 * handle.events$.subscribe((e: TuncerHandleEvent) => { if (e.type === 'restarted') console.log('back'); });
 * ```
 */
export type TuncerHandleEvent =
  | TunEvent
  | { type: 'restarting'; delayMs: number }
  | { type: 'restarted' }
  | { type: 'gone' };

/**
 * A stable handle on a supervised interface: `packets$` and `events$` keep flowing
 * across restarts (a restart is an event, not a completion), `send`/`recv` wait for a
 * restart in progress, and fail with a clear error once the child is gone for good.
 *
 * Delivery modes across restarts: `active: true` and `false` (set with {@link TuncerHandle.setopt},
 * or `tuncerChild`'s `active` option) are applied again to each new instance. Credits
 * (`active: N` or `'once'`) are not: they were for the instance that got them, and a restart
 * does not renew them, since the consumer may have spent them already. After a restart the new
 * instance is left passive and `events$` emits `{ type: 'passive' }` (after `restarted`), the same
 * cue a spent counter gives, so the usual re-arm (`passive` → `setopt({ active: N })`) decides
 * whether and how many packets come next. Credits given while no instance runs go to the next one.
 *
 * @example
 * ```ts
 * const tun0 = sup.child('tun0'); // for a child made by tuncerChild; or new TuncerHandle(sup, 'tun0')
 * tun0.setopt({ active: true });
 * tun0.packets$.subscribe((p) => console.log(p.length)); // survives worker crashes
 * ```
 */
export class TuncerHandle {
  readonly #sup: ChildHost<Tuncer>;
  readonly #id: string;
  #current: Tuncer | undefined;
  /** The mode last asked for (through setopt, or the spec's create option). */
  #active: ActiveMode | undefined;
  /** For credits (`N`, `'once'`): the instance that got them, once handed out. */
  #credited: Tuncer | undefined;
  /** For credits: set while they are owed to the next instance (given while none ran). */
  #owed = false;
  #gone = false;
  readonly #done = new Subject<void>();
  /** The handle's own reports (`passive` after a restart). */
  readonly #notes = new Subject<TuncerHandleEvent>();
  /** Packets of whichever instance is running; completes when the child is gone for good. */
  readonly packets$: Observable<Buffer>;
  /** As `Tuncer.batches$` (views valid until the callback returns), of whichever instance is running. */
  readonly batches$: Observable<PacketBatch>;
  /** The running instance's events and the supervisor's restarts of it. */
  readonly events$: Observable<TuncerHandleEvent>;

  /**
   * A handle on child `id` of `sup` (a `Supervisor`); `sup.child(id)` gives the one it keeps.
   * `options.active` is the mode the child's spec creates each instance with (`tuncerChild`
   * passes its `active` option), so credits given that way are not renewed by restarts either.
   */
  constructor(sup: ChildHost<Tuncer>, id: string, options: { active?: ActiveMode } = {}) {
    if (options.active !== undefined) checkActive(options.active);
    this.#sup = sup;
    this.#id = id;
    this.#active = options.active;
    const instances = sup.instance$(id);
    const gone = instances.pipe(last(null, null), defaultIfEmpty(null));
    gone.subscribe(() => {
      this.#gone = true;
      this.#done.next();
      this.#done.complete();
    });
    // Subscribed before any consumer's packets$: a new instance gets its mode before it can deliver.
    instances.pipe(takeUntil(this.#done)).subscribe((t) => {
      this.#current = t;
      if (t) this.#adopt(t);
    });
    const follow = <T>(stream: (t: Tuncer) => Observable<T>): Observable<T> =>
      instances.pipe(
        switchMap((t) => (t ? stream(t).pipe(catchError(() => EMPTY)) : EMPTY)),
        takeUntil(this.#done),
      );
    this.packets$ = follow((t) => t.packets$);
    this.batches$ = follow((t) => t.batches$);
    const own = instances.pipe(switchMap((t) => (t ? t.events$.pipe(catchError(() => EMPTY)) : EMPTY)));
    const sups = sup.events$.pipe(
      filter((e: SupervisorEvent) => 'id' in e && e.id === id && (e.type === 'child.restarting' || (e.type === 'child.started' && e.restart))),
      map((e): TuncerHandleEvent => (e.type === 'child.restarting' ? { type: 'restarting', delayMs: e.delayMs } : { type: 'restarted' })),
    );
    this.events$ = merge(own, sups, this.#notes, gone.pipe(map((): TuncerHandleEvent => ({ type: 'gone' })))).pipe(
      takeUntil(this.#done.pipe(last(undefined, undefined))),
    );
  }

  /** Gives a new instance its delivery mode (see the class docs). */
  #adopt(t: Tuncer): void {
    const mode = this.#active;
    if (mode === undefined) return;
    if (typeof mode === 'boolean') {
      this.#apply(t, mode);
      return;
    }
    if (this.#owed) {
      if (this.#apply(t, mode)) {
        this.#owed = false;
        this.#credited = t;
      }
      return;
    }
    if (this.#credited === undefined) this.#credited = t; // made with the spec's credits
    if (this.#credited === t) return;
    // The credits went to an instance that is gone: this one waits for the consumer to re-arm.
    if (t.state === 'active') this.#apply(t, false);
    this.#notes.next({ type: 'passive' });
  }

  /** `t.setopt`, false when `t` has ended meanwhile (its successor is adopted in turn). */
  #apply(t: Tuncer, active: ActiveMode): boolean {
    try {
      t.setopt({ active });
      return true;
    } catch (err) {
      if (err instanceof TuncerClosedError) return false;
      throw err;
    }
  }

  /** True once the child is gone for good (its spec deleted, or the supervisor ended). */
  get gone(): boolean {
    return this.#gone;
  }

  /** The child id. */
  get id(): string {
    return this.#id;
  }

  /**
   * The running instance, waiting for a restart in progress.
   *
   * @example
   * ```ts
   * const tun = await handle.current(AbortSignal.timeout(5000));
   * ```
   */
  current(signal?: AbortSignal): Promise<Tuncer> {
    return this.#sup.whenRunning(this.#id, signal);
  }

  /**
   * Send one packet through the running instance (waiting for a restart in progress). The
   * second argument is an `AbortSignal` for the wait, or options: `signal`, and `flow`, the
   * key that picks the queue of a multi-queue interface (as `Tuncer.send`'s).
   *
   * @example
   * ```ts
   * await handle.send(packet);
   * await handle.send(packet, { flow: connectionId, signal: AbortSignal.timeout(1000) });
   * ```
   */
  async send(packet: Uint8Array, opts?: AbortSignal | { signal?: AbortSignal; flow?: number }): Promise<void> {
    let signal: AbortSignal | undefined;
    let flow: number | undefined;
    if (opts instanceof AbortSignal) {
      signal = opts;
    } else if (opts !== undefined) {
      assertOptions(opts, 'send option', ['signal', 'flow']);
      ({ signal, flow } = opts);
      if (flow !== undefined) checkFlow(flow); // before any wait: bad input fails at once
    }
    for (;;) {
      const t = await this.current(signal);
      try {
        await t.send(packet, flow);
        return;
      } catch (err) {
        if (!(err instanceof TuncerClosedError)) throw err;
        await this.#afterExit(t);
      }
    }
  }

  /**
   * Receive the next packet in passive mode from whichever instance is running.
   *
   * @example
   * ```ts
   * const p = await handle.recv({ signal: AbortSignal.timeout(1000) });
   * ```
   */
  async recv(opts: { size?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    for (;;) {
      const t = await this.current(opts.signal);
      try {
        return await t.recv(opts);
      } catch (err) {
        if (!(err instanceof TuncerClosedError)) throw err;
        await this.#afterExit(t);
      }
    }
  }

  /**
   * Wait until the supervisor has seen `t` end, so the next `current()` is its successor
   * (or a clear error), not `t` again: retrying at once would spin on microtasks and starve
   * the very event (the worker's exit) that lets the supervisor restart it.
   */
  async #afterExit(t: Tuncer): Promise<void> {
    await t.exit;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Set the delivery mode of the running instance now (or of the next one, while none runs).
   * `true`/`false` also apply to every instance after a restart; credits (`N`, `'once'`) only
   * to the instance that gets them: after a restart the handle emits `passive`, and it is up
   * to the consumer to give more (see the class docs).
   *
   * @example
   * ```ts
   * handle.setopt({ active: 10 });
   * handle.events$.pipe(filter((e) => e.type === 'passive')).subscribe(() => handle.setopt({ active: 10 }));
   * ```
   */
  setopt(opts: { active: ActiveMode }): void {
    assertOptions(opts, 'setopt option', ['active']);
    checkActive(opts.active); // before it is stored: a bad mode must not be re-applied on restarts
    this.#active = opts.active;
    this.#credited = undefined;
    this.#owed = false;
    const now = this.#current;
    const taken = now !== undefined && this.#apply(now, opts.active);
    if (typeof opts.active === 'boolean') return; // re-applied to every instance anyway
    // Credits go to the running instance, or are owed to the next one when none runs.
    if (taken) this.#credited = now;
    else this.#owed = true;
  }
}
