/**
 * The supervisor's one serial queue: its mailbox, in OTP terms.
 *
 * @module
 */

const noop = (): void => {};

/**
 * Runs async operations one at a time, in the order they were queued: each starts when the
 * one before it has settled, whether it resolved or rejected. A supervisor queues every
 * decision and API call here, so no two of them ever interleave.
 *
 * @example
 * ```ts
 * const queue = new SerialQueue((err) => logger.error({ err }, 'internal error'));
 * const n = await queue.run(async () => 42);
 * queue.spawn(async () => { await restartSomething(); });
 * ```
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #onError: (error: unknown) => void;

  /** `onError` gets what a {@link SerialQueue.spawn}ed operation throws: a bug, not to be lost. */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /**
   * Queues `op`; resolves or rejects as it does, once it has run.
   *
   * @example
   * ```ts
   * const result = await queue.run(() => startChild(spec));
   * ```
   */
  run<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op);
    this.#tail = run.then(noop, noop);
    return run;
  }

  /**
   * Queues `op` without waiting for it; a throw there goes to the `onError` callback.
   *
   * @example
   * ```ts
   * queue.spawn(() => handleExit(rec));
   * ```
   */
  spawn(op: () => Promise<void>): void {
    this.run(op).catch(this.#onError);
  }
}
