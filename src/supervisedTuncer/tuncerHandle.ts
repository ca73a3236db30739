/**
 * A handle on a supervised interface whose streams and calls survive the restarts of the
 * interface behind it.
 *
 * @module
 */
import { EMPTY, Observable, Subject, catchError, filter, map, merge, switchMap, takeUntil, last, defaultIfEmpty } from 'rxjs';
import { TuncerClosedError, checkActive, type Tuncer, type TunEvent } from '../actors/tuncer.js';
import type { ActiveMode } from '../actors/tuncerMachine.js';
import type { ChildHost } from '../supervisor/childSpec.js';
import type { SupervisorEvent } from '../supervisor/supervisorEvent.js';
import { assertOptions } from '../tunctl/validate.js';

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
 * Settings made through the handle (`setopt`) are applied again to each new instance.
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
  #active: ActiveMode | undefined;
  #gone = false;
  readonly #done = new Subject<void>();
  /** Packets of whichever instance is running; completes when the child is gone for good. */
  readonly packets$: Observable<Buffer>;
  /** The running instance's events and the supervisor's restarts of it. */
  readonly events$: Observable<TuncerHandleEvent>;

  /** A handle on child `id` of `sup` (a `Supervisor`); `sup.child(id)` gives the one it keeps. */
  constructor(sup: ChildHost<Tuncer>, id: string) {
    this.#sup = sup;
    this.#id = id;
    const instances = sup.instance$(id);
    const gone = instances.pipe(last(null, null), defaultIfEmpty(null));
    gone.subscribe(() => {
      this.#gone = true;
      this.#done.next();
      this.#done.complete();
    });
    instances.pipe(takeUntil(this.#done)).subscribe((t) => {
      this.#current = t;
      if (t && this.#active !== undefined) {
        try {
          t.setopt({ active: this.#active });
        } catch {
          /* the instance ended already; the next one gets it */
        }
      }
    });
    this.packets$ = instances.pipe(
      switchMap((t) => (t ? t.packets$.pipe(catchError(() => EMPTY)) : EMPTY)),
      takeUntil(this.#done),
    );
    const own = instances.pipe(switchMap((t) => (t ? t.events$.pipe(catchError(() => EMPTY)) : EMPTY)));
    const sups = sup.events$.pipe(
      filter((e: SupervisorEvent) => 'id' in e && e.id === id && (e.type === 'child.restarting' || (e.type === 'child.started' && e.restart))),
      map((e): TuncerHandleEvent => (e.type === 'child.restarting' ? { type: 'restarting', delayMs: e.delayMs } : { type: 'restarted' })),
    );
    this.events$ = merge(own, sups, gone.pipe(map((): TuncerHandleEvent => ({ type: 'gone' })))).pipe(takeUntil(this.#done.pipe(last(undefined, undefined))));
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
   * Send one packet through the running instance (waiting for a restart in progress).
   *
   * @example
   * ```ts
   * await handle.send(packet);
   * ```
   */
  async send(packet: Uint8Array, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const t = await this.current(signal);
      try {
        await t.send(packet);
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
   * Set the delivery mode now and on every instance after a restart.
   *
   * @example
   * ```ts
   * handle.setopt({ active: true });
   * ```
   */
  setopt(opts: { active: ActiveMode }): void {
    assertOptions(opts, 'setopt option', ['active']);
    checkActive(opts.active); // before it is stored: a bad mode must not be re-applied on restarts
    this.#active = opts.active;
    // A running instance takes it now; one being restarted gets it when it appears.
    this.#current?.setopt(opts);
  }
}
