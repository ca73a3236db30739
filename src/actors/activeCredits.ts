/**
 * gen_tcp's `{active, Mode}` as a count of packets still to deliver, shared by
 * {@link RxDelivery} (one queue) and {@link MergedDelivery} (several): `true` is endless,
 * `'once'` one packet then passive with no event, N a count that turns passive with a
 * `'passive'` event at 0, `false` passive.
 *
 * The delivery spends {@link credits} itself on its hot path and, when they run out,
 * calls {@link exhausted} unless the mode was set again meanwhile ({@link version} moved:
 * a callback's own choice stands).
 *
 * @module
 */
import { Observable, type Subject } from 'rxjs';
import type { ActiveMode } from './tuncerOptions.js';

/**
 * A change of mode, as the interface reports it on `events$`.
 *
 * @example
 * ```ts
 * const e: ModeEvent = { type: 'active', mode: 10 };
 * ```
 */
export type ModeEvent = { type: 'active'; mode: ActiveMode } | { type: 'passive' };

/**
 * The active mode of one delivery.
 *
 * @example
 * ```ts
 * const am = new ActiveCredits((e) => console.log(e));
 * am.change(2);      // { type: 'active', mode: 2 }
 * am.credits -= 2;   // two packets delivered
 * am.exhausted();    // { type: 'passive' }
 * ```
 */
export class ActiveCredits {
  /** Packets still to deliver actively: Infinity for `true`, 0 when passive. */
  credits = 0;
  /** The mode is `'once'` (no `passive` event when its packet is delivered). */
  once = false;
  /** Bumped by every change of mode. */
  version = 0;
  readonly #onMode: (e: ModeEvent | null) => void;

  /** @param onMode told of every change made by {@link change} and {@link exhausted} (null: a change with no event) */
  constructor(onMode: (e: ModeEvent | null) => void) {
    this.#onMode = onMode;
  }

  /** True in active mode (`true`, `'once'`, or N > 0 left). */
  get active(): boolean {
    return this.credits > 0;
  }

  /** The mode now: `true`, `false`, `'once'`, or the number of packets still to deliver. */
  get mode(): ActiveMode {
    if (this.credits <= 0) return false;
    if (this.once) return 'once';
    return this.credits === Infinity ? true : this.credits;
  }

  /** Set the mode with no event (at start, before anyone listens). */
  set(mode: ActiveMode): void {
    this.version += 1;
    this.once = mode === 'once';
    this.credits = mode === true ? Infinity : mode === 'once' ? 1 : typeof mode === 'number' ? mode : 0;
  }

  /**
   * gen_tcp's `setopt({active})`: a number adds to the packets still to deliver (negative
   * takes away) and turns passive with a `'passive'` event at 0; other modes replace. The
   * mode now (false when a count reached 0).
   */
  change(mode: ActiveMode): ActiveMode {
    let next = mode;
    if (typeof mode === 'number') {
      const current = this.credits > 0 && !this.once && this.credits !== Infinity ? this.credits : 0;
      next = Math.min(32767, Math.max(0, current + mode));
      if (next === 0) {
        const wasActive = this.active;
        this.set(false);
        this.#onMode(wasActive || mode <= 0 ? { type: 'passive' } : null);
        return false;
      }
    }
    this.set(next);
    this.#onMode({ type: 'active', mode: next });
    return next;
  }

  /** The credits ran out: passive, with a `'passive'` event unless the mode was `'once'`. */
  exhausted(): void {
    const once = this.once;
    this.set(false);
    this.#onMode(once ? null : { type: 'passive' });
  }
}

/**
 * `subject` as an observable that tells the delivery when demand changes: a subscriber
 * arriving lets packets held back while nobody listened flow (`pump`), the last one leaving
 * stops delivery.
 *
 * @example
 * ```ts
 * const packets$ = demandDriven(delivery.packets, () => delivery.pump());
 * ```
 */
export function demandDriven<T>(subject: Subject<T>, pump: () => void): Observable<T> {
  return new Observable<T>((subscriber) => {
    const sub = subject.subscribe(subscriber);
    pump();
    return () => {
      sub.unsubscribe();
      pump();
    };
  });
}
