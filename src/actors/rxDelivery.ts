/**
 * Receive side of an interface on the main thread: takes packets off the rx
 * {@link PacketRing} and hands them out as the delivery mode says. The mode lives here and
 * nowhere else: `true` pushes every packet into `packets`, `'once'` and N count down and
 * turn passive at zero, `false` (passive) leaves packets for `recv()`.
 *
 * ```
 *  rx ring ──▶ RxDelivery ──active──▶ packets (Subject) ──▶ packets$ subscribers
 *                  │
 *                  └──passive─▶ recv() waiters, in order
 * ```
 * Demand drives the worker: this side waits on the ring only while someone wants a packet
 * (a `recv()`, or an active subscriber with credits), and the worker reads the fd only
 * while this side consumes or waits (see `PacketRing.waitData`). An untouched passive
 * interface leaves packets in the kernel's queue.
 *
 * Needs no worker: a test can produce into the ring directly.
 *
 * @module
 */
import { Subject } from 'rxjs';
import { recordSize, type PacketRing } from './packetRing.js';
import type { ActiveMode } from './tuncerOptions.js';
import { tunErrorFromCode } from '../native/tunError.js';

/** What a mode change reports: `'active'` on each `setMode`, `'passive'` when N runs out (or is taken back to 0). */
export type ModeEvent = { type: 'active'; mode: ActiveMode } | { type: 'passive' };

interface Waiter {
  resolve: (p: Buffer) => void;
  reject: (e: unknown) => void;
  size: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Most bytes copied out of the rx ring in one allocation when delivering: under 4 KiB, so the
 * copy comes from Buffer's pool (a larger allocation is a fresh ArrayBuffer, which cost more
 * than it saved for 1400-byte packets in the benchmark). A larger packet gets its own.
 */
const DELIVERY_CHUNK = 4000;

/**
 * Hands packets from an rx ring to `packets` subscribers or `recv()` callers.
 *
 * @example
 * ```ts
 * const d = new RxDelivery(new PacketRing(sab), () => 'tun0', (e) => console.log(e));
 * d.packets.subscribe((p) => console.log(p.length));
 * d.setMode(true);
 * ```
 */
export class RxDelivery {
  /** Packets delivered in active mode (hot; the interface exposes it as `packets$`). */
  readonly packets = new Subject<Buffer>();
  /** Packets taken off the ring so far. */
  delivered = 0;
  readonly #ring: PacketRing;
  readonly #ifname: () => string;
  readonly #onMode: (e: ModeEvent | null) => void;
  /** Active mode: Infinity for `true`, the packets still to deliver otherwise; 0 when passive. */
  #credits = 0;
  #once = false;
  /** Bumped on every mode change, so a change made inside a subscriber's callback is seen. */
  #version = 0;
  #waiters: Waiter[] = [];
  #armed = false;
  #delivering = false;
  #pumpQueued = false;
  #closed = false;

  constructor(ring: PacketRing, ifname: () => string, onMode: (e: ModeEvent | null) => void) {
    this.#ring = ring;
    this.#ifname = ifname;
    this.#onMode = onMode;
  }

  /** True in active mode (`true`, `'once'`, or N > 0 left). */
  get active(): boolean {
    return this.#credits > 0;
  }

  /** The mode now: `true`, `false`, `'once'`, or the number of packets still to deliver. */
  get mode(): ActiveMode {
    if (this.#credits <= 0) return false;
    if (this.#once) return 'once';
    return this.#credits === Infinity ? true : this.#credits;
  }

  /** Set at start, before anyone listens: no events. */
  init(mode: ActiveMode): void {
    this.#set(mode);
  }

  /**
   * gen_tcp's `{active, Mode}`: a number adds to the packets still to deliver (negative
   * takes away) and turns passive with a `'passive'` event at 0; other modes replace.
   */
  setMode(mode: ActiveMode): void {
    let next: ActiveMode = mode;
    if (typeof mode === 'number') {
      const current = this.#credits > 0 && !this.#once && this.#credits !== Infinity ? this.#credits : 0;
      next = Math.min(32767, Math.max(0, current + mode));
      if (next === 0) {
        const wasActive = this.active;
        this.#set(false);
        if (wasActive || mode <= 0) this.#onMode({ type: 'passive' });
        else this.#onMode(null);
        return;
      }
    }
    this.#set(next);
    this.#onMode({ type: 'active', mode: next });
    if (next !== false) {
      // Pending reads were for passive mode.
      this.#rejectWaiters(tunErrorFromCode('EINVAL', 'recv', this.#ifname()));
      this.#schedulePump();
    }
  }

  #set(mode: ActiveMode): void {
    this.#version += 1;
    this.#once = mode === 'once';
    this.#credits = mode === true ? Infinity : mode === 'once' ? 1 : typeof mode === 'number' ? mode : 0;
  }

  /** The next packet, in passive mode; the caller checked the mode and the interface. */
  recv(size: number, signal: AbortSignal | undefined): Promise<Buffer> {
    if (this.#waiters.length === 0) {
      const p = this.#take(size);
      if (p) return Promise.resolve(p);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const w: Waiter = { resolve, reject, size, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal.reason);
          this.pump(); // the last waiter gone: no more demand
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiters.push(w);
      this.pump();
    });
  }

  /** The interface ended: reject every waiting `recv()`, deliver nothing more. */
  close(err: Error): void {
    this.#closed = true;
    this.#rejectWaiters(err);
  }

  #rejectWaiters(err: unknown): void {
    for (const w of this.#waiters.splice(0)) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(err);
    }
  }

  /** Take one packet off the ring (copy), or null. */
  #take(size: number): Buffer | null {
    const rx = this.#ring;
    if (!rx.readable()) return null;
    const pos = rx.readStart;
    const len = rx.lengthAt(pos);
    const n = len < size ? len : size;
    const out = Buffer.allocUnsafe(n);
    out.set(rx.data.subarray(pos + 4, pos + 4 + n));
    rx.release(pos + recordSize(len));
    rx.ack();
    this.delivered += 1;
    return out;
  }

  /** Deliver on the next microtask: mode changes made in one tick take effect together. */
  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.pump();
    });
  }

  /** Deliver what the mode allows, then wait for more only if someone wants it. */
  pump = (): void => {
    if (this.#delivering) {
      this.#schedulePump(); // called from a subscriber's callback: after the current delivery
      return;
    }
    const rx = this.#ring;
    for (;;) {
      if (this.#closed) return;
      const seen = rx.seqCount();
      this.#delivering = true;
      try {
        this.#deliverRuns();
      } finally {
        this.#delivering = false;
      }
      if (!this.#canHandOut()) {
        if (this.#armed) rx.unwant(); // nobody wants more: the worker may stop reading
        return;
      }
      if (!rx.isEmpty()) continue;
      if (this.#armed) {
        rx.want(); // a wake-up is already on its way; say again that it is wanted
        return;
      }
      const wait = rx.waitData(seen, undefined, true);
      if (!wait) continue;
      this.#armed = true;
      void wait.then(this.#onWake);
      return;
    }
  };

  #onWake = (): void => {
    this.#armed = false;
    this.pump();
  };

  /** May this thread hand out one more packet now? */
  #canHandOut(): boolean {
    return this.#credits > 0 ? this.packets.observed : this.#waiters.length > 0;
  }

  #deliverRuns(): void {
    const rx = this.#ring;
    while (rx.readable()) {
      let pos = rx.readStart;
      const end = rx.readEnd;
      let moved = false;
      while (pos < end && this.#canHandOut()) {
        // One copy (and one allocation) for a run of small records; packets are views of it.
        const budget = this.#credits > 0 ? this.#credits : this.#waiters.length;
        let stop = pos;
        let count = 0;
        do {
          stop += recordSize(rx.lengthAt(stop));
          count += 1;
        } while (stop < end && count < budget && stop - pos + recordSize(rx.lengthAt(stop)) <= DELIVERY_CHUNK);
        const chunk = Buffer.allocUnsafe(stop - pos);
        chunk.set(rx.data.subarray(pos, stop));
        let off = 0;
        while (off < chunk.length && this.#canHandOut()) {
          const len = rx.lengthAt(pos + off);
          const w = this.#credits > 0 ? undefined : this.#waiters.shift();
          const n = w && w.size < len ? w.size : len;
          const packet = chunk.subarray(off + 4, off + 4 + n);
          off += recordSize(len);
          // Released before it is handed out: a subscriber may recv() the next one.
          rx.release(pos + off);
          moved = true;
          this.delivered += 1;
          if (w) {
            if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
            w.resolve(packet);
          } else {
            this.#credits -= 1;
            const version = this.#version;
            this.packets.next(packet);
            // Out of credits, unless the callback chose a mode itself (then its choice stands).
            if (this.#credits <= 0 && version === this.#version) this.#exhausted();
            // A subscriber that read from the ring itself moved the position: start over.
            if (rx.consumerPosition() !== pos + off) {
              off = -1;
              break;
            }
          }
        }
        if (off < 0) {
          pos = end + 1; // restart the outer loop from wherever the ring is now
          break;
        }
        pos += off;
        if (pos < stop) break; // the mode changed part-way through the run
      }
      if (moved) rx.ack();
      if (pos > end) continue;
      if (pos < end) return;
    }
  }

  #exhausted(): void {
    const once = this.#once;
    this.#set(false);
    this.#onMode(once ? null : { type: 'passive' });
  }
}
