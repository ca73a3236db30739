/**
 * Receive side of a multi-queue interface: the packets of N queues merged into one
 * `packets$`/`batches$`/`recv()`/`recvBatch()`, with the same gen_tcp modes as
 * {@link RxDelivery} (which each queue keeps, in passive mode, as its source).
 *
 * ```
 *  queue 0: rx ring ─▶ RxDelivery ─recvBatch─┐
 *  queue 1: rx ring ─▶ RxDelivery ─recvBatch─┼─▶ MergedDelivery ──active──▶ packets / batches
 *  queue N: rx ring ─▶ RxDelivery ─recvBatch─┘          └──passive─▶ recv() / recvBatch() waiters
 * ```
 * Each queue has at most one batch in hand here (a *slot*); it is handed out whole or in
 * parts (views into that queue's ring: no copy) and released to its queue once all of it
 * has been handed out and released. Slots are served in the order their batches arrived.
 * Order within a queue is kept; order across queues is the order of arrival here, no more.
 *
 * Demand drives the queues as it drives one: a slot asks its queue for a batch only while
 * someone wants packets. When demand ends, slots still waiting are withdrawn after the
 * current turn of the event loop (a `recv()` loop does not re-ask on every packet); a
 * batch already in hand stays for the next receive. At most one batch per queue is held.
 *
 * Needs no worker: a test can give it any sources.
 *
 * @module
 */
import { Subject } from 'rxjs';
import { PacketBatch } from './packetBatch.js';
import type { ActiveMode } from './tuncerOptions.js';
import { ActiveCredits, type ModeEvent } from './activeCredits.js';
import { SlabCopier } from './slabCopier.js';
import { ReceiveWaiters } from './receiveWaiters.js';

/**
 * One queue as the merge sees it: the next batch of up to `max` packets, passively. The
 * batch is the queue's until released; the source is not asked again before that.
 *
 * @example
 * ```ts
 * const source: BatchSource = (max, signal) => queueDelivery.recvBatch(max, signal);
 * ```
 */
export type BatchSource = (max: number, signal: AbortSignal) => Promise<PacketBatch>;

interface Slot {
  readonly source: BatchSource;
  batch: PacketBatch | undefined;
  /** Packets of `batch` handed out so far. */
  cursor: number;
  /** Parts of `batch` handed out and not yet released. */
  out: number;
  /** True while the source is asked for a batch. */
  asking: boolean;
  /** Withdraws the ask; made anew only after it was used (one per ask would cost more than the ask). */
  ctl: AbortController;
}

/**
 * Merges the batches of several queues into one delivery.
 *
 * @example
 * ```ts
 * const d = new MergedDelivery(() => 'tun0', (e) => console.log(e));
 * d.setSources([(max, signal) => q0.recvBatch(max, signal), (max, signal) => q1.recvBatch(max, signal)]);
 * d.batches.subscribe((b) => console.log(b.length));
 * d.setMode(true);
 * ```
 */
export class MergedDelivery {
  /** Packets in active mode, as copies. */
  readonly packets = new Subject<Buffer>();
  /** Packets in active mode, as batches of views. */
  readonly batches = new Subject<PacketBatch>();
  /** Packets handed out so far. */
  delivered = 0;
  readonly #ifname: () => string;
  readonly #am: ActiveCredits;
  readonly #pull: number;
  #slots: Slot[] = [];
  /** Slots with packets not yet handed out, in the order their batches arrived. */
  #ready: Slot[] = [];
  /** Waiting `recv`/`recvBatch` calls (passive mode). */
  readonly #waiters = new ReceiveWaiters(() => this.pump());
  #delivering = false;
  #pumpQueued = false;
  #withdrawQueued = false;
  #closed = false;
  /** The part handed out last and not yet released: the next delivery releases it. */
  #out: PacketBatch | undefined;
  readonly #slabs = new SlabCopier();

  /** @param pull most packets asked of a queue at a time */
  constructor(ifname: () => string, onMode: (e: ModeEvent | null) => void, pull = 1024) {
    this.#ifname = ifname;
    this.#am = new ActiveCredits(onMode);
    this.#pull = pull;
  }

  /** The queues to merge, once they all run. */
  setSources(sources: readonly BatchSource[]): void {
    this.#slots = sources.map((source) => ({ source, batch: undefined, cursor: 0, out: 0, asking: false, ctl: new AbortController() }));
    this.pump();
  }

  /** True in active mode (`true`, `'once'`, or N > 0 left). */
  get active(): boolean {
    return this.#am.active;
  }

  /** The mode now, as {@link RxDelivery.mode}. */
  get mode(): ActiveMode {
    return this.#am.mode;
  }

  /** Set at start, before anyone listens: no events. */
  init(mode: ActiveMode): void {
    this.#am.set(mode);
  }

  /** gen_tcp's `{active, Mode}`, exactly as {@link RxDelivery.setMode}. */
  setMode(mode: ActiveMode): void {
    const next = this.#am.change(mode);
    if (next !== false) this.#waiters.rejectForActive(this.#ifname);
    this.#schedulePump();
  }

  /** The next packet (a copy of at most `size` bytes), in passive mode. */
  recv(size: number, signal: AbortSignal | undefined): Promise<Buffer> {
    this.#releaseOut();
    return this.#waiters.add(size, 0, signal);
  }

  /** The next batch of up to `max` packets (views), in passive mode. */
  recvBatch(max: number, signal: AbortSignal | undefined): Promise<PacketBatch> {
    this.#releaseOut();
    return this.#waiters.add(0, max, signal);
  }

  /** The interface ended: reject waiting receives, withdraw the asks, give every batch back. */
  close(err: Error): void {
    this.#closed = true;
    this.#waiters.rejectAll(err);
    this.#releaseOut();
    for (const s of this.#slots) {
      if (s.asking) s.ctl.abort(err);
      s.asking = false;
      s.batch?.release();
      s.batch = undefined;
    }
    this.#ready = [];
  }

  #releaseOut(): void {
    this.#out?.release();
  }

  #canHandOut(): boolean {
    return this.#am.credits > 0 ? this.packets.observed || this.batches.observed : this.#waiters.length > 0;
  }

  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.pump();
    });
  }

  /** Deliver what the mode allows from the batches in hand, then ask the idle queues for more if someone wants it. */
  pump = (): void => {
    if (this.#closed) return;
    if (this.#delivering) {
      this.#schedulePump();
      return;
    }
    this.#delivering = true;
    try {
      while (this.#canHandOut() && this.#ready.length > 0 && !this.#closed) this.#deliverOne();
    } finally {
      this.#delivering = false;
    }
    if (this.#closed) return;
    if (this.#canHandOut()) {
      for (const s of this.#slots) if (s.batch === undefined && !s.asking) this.#ask(s);
    } else if (!this.#withdrawQueued && this.#slots.some((s) => s.asking)) {
      this.#withdrawQueued = true;
      setImmediate(this.#withdraw);
    }
  };

  /** Demand ended a turn ago and has not come back: stop asking, so the queues stop reading. */
  #withdraw = (): void => {
    this.#withdrawQueued = false;
    if (this.#closed || this.#canHandOut()) return;
    for (const s of this.#slots) {
      if (!s.asking) continue;
      s.asking = false;
      s.ctl.abort();
      s.ctl = new AbortController();
    }
  };

  #ask(s: Slot): void {
    const signal = s.ctl.signal;
    s.asking = true;
    s.source(this.#pull, signal).then(
      (b) => {
        if (!signal.aborted) s.asking = false;
        if (this.#closed) {
          b.release();
          return;
        }
        if (b.length === 0) {
          b.release();
        } else {
          s.batch = b;
          s.cursor = 0;
          s.out = 0;
          this.#ready.push(s);
        }
        this.pump();
      },
      () => {
        // Withdrawn, or the queue ended (its own exit ends the interface): ask again only if still wanted.
        if (!signal.aborted) {
          s.asking = false;
          return;
        }
        if (!this.#closed && this.#canHandOut()) this.#schedulePump();
      },
    );
  }

  /** Hand out one part (a batch, or packets one by one) from the oldest slot. */
  #deliverOne(): void {
    this.#releaseOut();
    const s = this.#ready[0] as Slot;
    const b = s.batch as PacketBatch;
    const left = b.length - s.cursor;
    if (this.#am.credits > 0) {
      if (this.batches.observed) {
        const n = left < this.#am.credits ? left : this.#am.credits;
        const part = this.#part(s, n);
        this.#am.credits -= n;
        const version = this.#am.version;
        this.batches.next(part);
        if (this.packets.observed) {
          for (let i = 0; i < part.length && !part.released; i++) this.packets.next(this.#slabs.copy(part.data, part.offset(i), part.lengthOf(i)));
        }
        part.release();
        if (this.#am.credits <= 0 && version === this.#am.version) this.#am.exhausted();
        return;
      }
      // packets$ only: copies, one by one, while credits and subscribers last.
      while (s.cursor < b.length && this.#am.credits > 0 && this.packets.observed && s.batch === b) {
        const i = s.cursor;
        const copy = this.#slabs.copy(b.data, b.offset(i), b.lengthOf(i));
        this.#advance(s, 1);
        this.#am.credits -= 1;
        const version = this.#am.version;
        this.packets.next(copy);
        if (this.#am.credits <= 0 && version === this.#am.version) this.#am.exhausted();
      }
      return;
    }
    const w = this.#waiters.take();
    if (w.max === 0) {
      const i = s.cursor;
      const len = b.lengthOf(i);
      const copy = this.#slabs.copy(b.data, b.offset(i), len < w.size ? len : w.size);
      this.#advance(s, 1);
      w.resolve(copy);
      return;
    }
    const part = this.#part(s, left < w.max ? left : w.max);
    this.#out = part;
    w.resolve(part);
  }

  /** Mark `n` packets of the slot's batch handed out; a batch handed out whole and not out in parts goes back to its queue. */
  #advance(s: Slot, n: number): void {
    s.cursor += n;
    this.delivered += n;
    const b = s.batch as PacketBatch;
    if (s.cursor < b.length) return;
    if (this.#ready[0] === s) this.#ready.shift();
    else this.#ready.splice(this.#ready.indexOf(s), 1);
    if (s.out === 0) this.#giveBack(s);
  }

  #giveBack(s: Slot): void {
    const b = s.batch;
    s.batch = undefined;
    b?.release();
    if (!this.#delivering && this.#canHandOut()) this.#schedulePump();
  }

  /** The next `n` packets of the slot's batch as a batch of their own (views into the same ring). */
  #part(s: Slot, n: number): PacketBatch {
    const b = s.batch as PacketBatch;
    const from = s.cursor;
    const offsets = new Int32Array(n * 2);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const len = b.lengthOf(from + i);
      offsets[i * 2] = b.offset(from + i);
      offsets[i * 2 + 1] = len;
      bytes += len;
    }
    const start = b.offset(from) - 4;
    const lastLen = b.lengthOf(from + n - 1);
    const end = b.offset(from + n - 1) + ((lastLen + 3) & ~3);
    s.out += 1;
    const part = new PacketBatch(b.data, start, end, offsets, bytes, (p) => {
      if (this.#out === p) this.#out = undefined;
      s.out -= 1;
      if (s.out === 0 && s.batch === b && s.cursor >= b.length) this.#giveBack(s);
    });
    this.#advance(s, n);
    return part;
  }
}
