/**
 * OTP's restart intensity as a pure sliding window.
 *
 * @module
 */

/**
 * The verdict on one more restart: the new window (newest first) and whether the
 * limit is exceeded (then the supervisor gives up).
 *
 * @example
 * ```ts
 * const v: IntensityVerdict = { restarts: [1000], exceeded: false };
 * ```
 */
export interface IntensityVerdict {
  /** Times (ms) of the restarts still inside the period, newest first, including this one. */
  readonly restarts: readonly number[];
  /** True when there are more than `intensity` restarts inside the period. */
  readonly exceeded: boolean;
}

/**
 * Records one restart at `now` (ms) in the window `restarts` (newest first) and says whether
 * the supervisor has had more than `intensity` restarts within the last `periodMs`
 * (OTP `add_restart`: a restart counts while `now - t < periodMs`). Pure: returns a new window.
 *
 * @example
 * ```ts
 * let window: readonly number[] = [];
 * let v = restartIntensity(window, 0, 1, 5000);    // { restarts: [0], exceeded: false }
 * v = restartIntensity(v.restarts, 1000, 1, 5000); // { restarts: [1000, 0], exceeded: true }
 * v = restartIntensity([0], 5000, 1, 5000);        // { restarts: [5000], exceeded: false }
 * ```
 */
export function restartIntensity(
  restarts: readonly number[],
  now: number,
  intensity: number,
  periodMs: number,
): IntensityVerdict {
  const kept = restarts.filter((t) => now - t < periodMs);
  const next = [now, ...kept];
  return { restarts: next, exceeded: next.length > intensity };
}
