/**
 * The passive receives (`recv`, `recvBatch`) waiting for packets, in the order they were
 * made, each abortable by its signal: shared by {@link RxDelivery} (one queue) and
 * {@link MergedDelivery} (several).
 * @module
 */
import type { PacketBatch } from './packetBatch.js';
import { tunErrorFromCode } from '../native/tunError.js';

/**
 * One waiting receive, as the delivery serves it.
 *
 * @example
 * ```ts
 * const w: ReceiveWaiter = waiters.take();
 * w.resolve(w.max > 0 ? batch : copy);
 * ```
 */
export interface ReceiveWaiter {
  /** Bytes wanted of one packet (`recv`), or 0 for a batch. */
  readonly size: number;
  /** Most packets of a batch (`recvBatch`), or 0 for one packet. */
  readonly max: number;
  /** Hand over what it waited for: a packet (`size` > 0) or a batch (`max` > 0). */
  resolve(p: Buffer | PacketBatch): void;
}

interface Entry extends ReceiveWaiter {
  reject(e: unknown): void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * The queue of waiting receives. `onChange` runs when one is added or aborted (demand
 * changed: the delivery pumps).
 *
 * @example
 * ```ts
 * const waiters = new ReceiveWaiters(() => delivery.pump());
 * const p = waiters.add<Buffer>(1500, 0, AbortSignal.timeout(1000));
 * if (waiters.length > 0) waiters.take().resolve(packet);
 * ```
 */
export class ReceiveWaiters {
  #list: Entry[] = [];
  readonly #onChange: () => void;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** Receives waiting. */
  get length(): number {
    return this.#list.length;
  }

  /** The next receive to serve, still waiting; undefined when none waits. */
  peek(): ReceiveWaiter | undefined {
    return this.#list[0];
  }

  /** Take the next receive off the queue (it can no longer be aborted) to resolve it; there must be one. */
  take(): ReceiveWaiter {
    const w = this.#list.shift() as Entry;
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    return w;
  }

  /** Wait for a packet of at most `size` bytes, or a batch of at most `max` packets; rejects with the signal's reason if it aborts first. */
  add<T extends Buffer | PacketBatch>(size: number, max: number, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Entry = { resolve: resolve as (p: Buffer | PacketBatch) => void, reject, size, max, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.#list.indexOf(w);
          if (i >= 0) this.#list.splice(i, 1);
          reject(signal.reason);
          this.#onChange(); // the last waiter gone: no more demand
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#list.push(w);
      this.#onChange();
    });
  }

  /**
   * The mode turned active: the waiting receives were for passive mode and reject with
   * EINVAL. The error is built only when some wait: a credit renewal every N packets must
   * not build a stack trace each time.
   */
  rejectForActive(ifname: () => string): void {
    if (this.#list.length > 0) this.rejectAll(tunErrorFromCode('EINVAL', 'recv', ifname()));
  }

  /** Reject every waiting receive with `err` (a mode change, the end of the interface), its abort listener removed. */
  rejectAll(err: unknown): void {
    for (const w of this.#list.splice(0)) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(err);
    }
  }
}
