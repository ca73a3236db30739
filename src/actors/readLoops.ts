/**
 * The passive read loops behind `for await`: receive until the interface ends.
 * @module
 */
import { TuncerClosedError } from './tuncerClosedError.js';

/**
 * Yield what `next` resolves to until it rejects with a {@link TuncerClosedError} (the
 * interface ended: the loop ends); any other rejection is thrown to the loop. `release`,
 * if given, runs on each item when the loop asks for the next one or leaves.
 *
 * @example
 * ```ts
 * for await (const batch of untilClosed(() => tun.recvBatch(), (b) => b.release())) handle(batch);
 * ```
 */
export async function* untilClosed<T>(next: () => Promise<T>, release?: (item: T) => void): AsyncGenerator<T, void, undefined> {
  for (;;) {
    let item: T;
    try {
      item = await next();
    } catch (err) {
      if (err instanceof TuncerClosedError) return;
      throw err;
    }
    try {
      yield item;
    } finally {
      release?.(item);
    }
  }
}
