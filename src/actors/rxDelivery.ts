/**
 * Receive side of an interface on the main thread: takes packets off the rx
 * {@link PacketRing} and hands them out as the delivery mode says. The mode lives here and
 * nowhere else: `true` pushes every packet into `packets`, `'once'` and N count down and
 * turn passive at zero, `false` (passive) leaves packets for `recv()`.
 *
 * ```
 *  rx ring ──▶ RxDelivery ──active──▶ packets (copies) / batches (views) ──▶ subscribers
 *                  │
 *                  └──passive─▶ recv() / recvBatch() waiters, in order
 * ```
 * At most one {@link PacketBatch} is out at a time; it holds its records in the ring until
 * it is released, and any other receive releases it first.
 * Demand drives the worker: this side waits on the ring only while someone wants a packet
 * (a `recv()`, or an active subscriber with credits), and the worker reads the fd only
 * while this side consumes or waits (see `PacketRing.waitData`). An untouched passive
 * interface leaves packets in the kernel's queue. While the worker has handed the reads to
 * this thread (a {@link MainReader}, see {@link RxDelivery.readHere}), this side reads the fd
 * itself when the ring runs empty, and waits on the fd instead of the ring.
 *
 * Needs no worker: a test can produce into the ring directly.
 *
 * @module
 */
import { Subject } from 'rxjs';
import { recordSize, type PacketRing } from './packetRing.js';
import { PacketBatch, POISON_BYTE } from './packetBatch.js';
import type { ActiveMode } from './tuncerOptions.js';
import { ActiveCredits, type ModeEvent } from './activeCredits.js';
import { SlabCopier } from './slabCopier.js';
import { ReceiveWaiters, type ReceiveWaiter } from './receiveWaiters.js';
import { MainReader } from './mainReader.js';

export type { ModeEvent } from './activeCredits.js';

/** Most bytes of records copied out of the ring in one go for `packets$`. */
const DELIVERY_CHUNK = 16 * 1024;

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
  /** Packets delivered in active mode, as copies (hot; the interface exposes it as `packets$`). */
  readonly packets = new Subject<Buffer>();
  /** Packets delivered in active mode, as batches of views (the interface's `batches$`). */
  readonly batches = new Subject<PacketBatch>();
  /** Packets taken off the ring so far. */
  delivered = 0;
  readonly #ring: PacketRing;
  readonly #ifname: () => string;
  readonly #am: ActiveCredits;
  /** Waiting `recv`/`recvBatch` calls (passive mode). */
  readonly #waiters = new ReceiveWaiters(() => this.pump());
  #armed = false;
  #delivering = false;
  #pumpQueued = false;
  #closed = false;
  readonly #slabs = new SlabCopier();
  /** The batch handed out and not yet released: it holds the ring from its start. */
  #batch: PacketBatch | undefined;
  readonly #poison: boolean;
  #reader: MainReader | undefined;

  /** @param poison overwrite released batches with {@link POISON_BYTE} (a debugging aid: it costs a fill per batch) */
  constructor(ring: PacketRing, ifname: () => string, onMode: (e: ModeEvent | null) => void, poison = false) {
    this.#ring = ring;
    this.#ifname = ifname;
    this.#am = new ActiveCredits(onMode);
    this.#poison = poison;
  }

  /**
   * Read on this thread whenever the worker hands the reads over (see {@link MainReader});
   * `guard` is the tx ring, whose control words hold the fd guard. Returns the reader.
   */
  readHere(guard: PacketRing, maxRecord: number, batch: number): MainReader {
    return (this.#reader = new MainReader(this.#ring, guard, maxRecord, batch, this.pump));
  }

  /** True in active mode (`true`, `'once'`, or N > 0 left). */
  get active(): boolean {
    return this.#am.active;
  }

  /** The mode now: `true`, `false`, `'once'`, or the number of packets still to deliver. */
  get mode(): ActiveMode {
    return this.#am.mode;
  }

  /** Set at start, before anyone listens: no events. */
  init(mode: ActiveMode): void {
    this.#am.set(mode);
  }

  /**
   * gen_tcp's `{active, Mode}`: a number adds to the packets still to deliver (negative
   * takes away) and turns passive with a `'passive'` event at 0; other modes replace.
   */
  setMode(mode: ActiveMode): void {
    const next = this.#am.change(mode);
    if (next !== false) {
      this.#waiters.rejectForActive(this.#ifname);
      this.#schedulePump();
    }
  }

  /** The next packet, in passive mode; the caller checked the mode and the interface. */
  recv(size: number, signal: AbortSignal | undefined): Promise<Buffer> {
    this.#releaseBatch();
    if (this.#waiters.length === 0) {
      const p = this.#take(size);
      if (p) return Promise.resolve(p);
    }
    return this.#waiters.add(size, 0, signal);
  }

  /** The next batch of up to `max` packets, in passive mode; the caller checked the mode and the interface. */
  recvBatch(max: number, signal: AbortSignal | undefined): Promise<PacketBatch> {
    this.#releaseBatch();
    const rx = this.#ring;
    if (this.#waiters.length === 0 && rx.readable()) {
      this.#batch = this.#makeBatch(rx.readStart, rx.readEnd, max);
      return Promise.resolve(this.#batch);
    }
    return this.#waiters.add(0, max, signal);
  }

  /** The interface ended: reject every waiting `recv()`, deliver nothing more. */
  close(err: Error): void {
    this.#closed = true;
    this.#reader?.dispose();
    this.#waiters.rejectAll(err);
    this.#releaseBatch();
  }

  #releaseBatch(): void {
    this.#batch?.release();
  }

  /** A batch over the records from `pos`, up to `end` and at most `max` of them; the ring keeps them until it is released. */
  #makeBatch(pos: number, end: number, max: number): PacketBatch {
    const rx = this.#ring;
    let stop = pos;
    let count = 0;
    while (stop < end && count < max) {
      stop += recordSize(rx.lengthAt(stop));
      count += 1;
    }
    const offsets = new Int32Array(count * 2);
    let bytes = 0;
    for (let i = 0, at = pos; i < count; i++) {
      const len = rx.lengthAt(at);
      offsets[i * 2] = at + 4;
      offsets[i * 2 + 1] = len;
      bytes += len;
      at += recordSize(len);
    }
    this.delivered += count;
    return new PacketBatch(rx.data, pos, stop, offsets, bytes, this.#onBatchRelease);
  }

  #onBatchRelease = (b: PacketBatch): void => {
    if (this.#batch === b) this.#batch = undefined;
    if (this.#poison) this.#ring.data.fill(POISON_BYTE, b.start, b.end);
    this.#ring.release(b.end);
    this.#ring.ack();
  };

  /** A copy of `len` ring bytes from `pos` (see {@link SlabCopier}). */
  #copyOut(pos: number, len: number): Buffer {
    return this.#slabs.copy(this.#ring.data, pos, len);
  }

  /** Take one packet off the ring (copy), or null. */
  #take(size: number): Buffer | null {
    const rx = this.#ring;
    if (!rx.readable()) return null;
    const pos = rx.readStart;
    const len = rx.lengthAt(pos);
    const out = this.#copyOut(pos + 4, len < size ? len : size);
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
    let drained = false; // this call's last read found the fd empty
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
        this.#reader?.unwatch(); // ... and so does this thread
        return;
      }
      if (!rx.isEmpty()) continue;
      const reader = this.#reader;
      if (reader?.owns()) {
        // Read again only if the last read did not already find the fd empty: an empty
        // read costs a system call per wake-up, and the fd's readiness (level-triggered)
        // reports what arrived since.
        const n = drained ? 0 : reader.read();
        drained = reader.drained;
        if (n > 0) continue;
        if (n === 0) {
          reader.watch(); // empty: the fd's readiness calls pump()
          return;
        }
        // -1: the reads went back to the worker; wait for it as usual
      } else {
        reader?.unwatch(); // the reads are the worker's again (a closed ring hands them back too)
      }
      if (this.#armed) {
        rx.want(); // a wake-up is already on its way; say again that it is wanted
        // ... unless the producer published while WAITING was withdrawn (no notify then):
        // the pending wait would sleep through that batch.
        if (rx.seqCount() !== seen) continue;
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
    return this.#am.credits > 0 ? this.packets.observed || this.batches.observed : this.#waiters.length > 0;
  }

  #deliverRuns(): void {
    const rx = this.#ring;
    while (this.#canHandOut()) {
      this.#releaseBatch(); // a batch still out is released by the next delivery
      if (!rx.readable()) return;
      const pos = rx.readStart;
      const end = rx.readEnd;
      if (this.#am.credits > 0) {
        if (this.batches.observed) this.#emitBatch(pos, end);
        else this.#handOutCopies(pos, end);
        continue;
      }
      if ((this.#waiters.peek() as ReceiveWaiter).max === 0) {
        this.#handOutCopies(pos, end);
        continue;
      }
      const w = this.#waiters.take();
      this.#batch = this.#makeBatch(pos, end, w.max);
      w.resolve(this.#batch);
    }
  }

  /** Active mode with `batches` subscribers: one batch of views; `packets` subscribers get copies of the same packets. */
  #emitBatch(pos: number, end: number): void {
    const b = this.#makeBatch(pos, end, this.#am.credits);
    this.#batch = b;
    this.#am.credits -= b.length;
    const version = this.#am.version;
    this.batches.next(b);
    if (this.packets.observed && !b.released) {
      for (let i = 0; i < b.length && !b.released; i++) this.packets.next(this.#copyOut(b.offset(i), b.lengthOf(i)));
    }
    b.release();
    if (this.#am.credits <= 0 && version === this.#am.version) this.#am.exhausted();
  }

  /**
   * Copy a run of records out of the ring in one go and hand the packets out as views of
   * the copy (to `packets` subscribers in active mode, to `recv()` waiters otherwise),
   * while the mode allows.
   */
  #handOutCopies(pos: number, end: number): void {
    const rx = this.#ring;
    const budget = this.#am.credits > 0 ? this.#am.credits : this.#waiters.length;
    let stop = pos;
    let count = 0;
    do {
      stop += recordSize(rx.lengthAt(stop));
      count += 1;
    } while (stop < end && count < budget && stop - pos + recordSize(rx.lengthAt(stop)) <= DELIVERY_CHUNK);
    const chunk = this.#copyOut(pos, stop - pos);
    let off = 0;
    while (off < chunk.length && this.#canHandOut()) {
      const len = rx.lengthAt(pos + off);
      const next = this.#am.credits > 0 ? undefined : this.#waiters.peek();
      if (next && next.max > 0) break; // a batch waiter is next: it gets a batch, not a copy
      const w = next && this.#waiters.take();
      const n = w && w.size < len ? w.size : len;
      const packet = chunk.subarray(off + 4, off + 4 + n);
      off += recordSize(len);
      // Released before it is handed out: a subscriber may recv() the next one.
      rx.release(pos + off);
      this.delivered += 1;
      if (w) {
        w.resolve(packet);
      } else {
        this.#am.credits -= 1;
        const version = this.#am.version;
        this.packets.next(packet);
        // Out of credits, unless the callback chose a mode itself (then its choice stands).
        if (this.#am.credits <= 0 && version === this.#am.version) this.#am.exhausted();
        // A subscriber that read from the ring itself moved the position: start over from there.
        if (rx.consumerPosition() !== pos + off) break;
      }
    }
    if (off > 0) rx.ack();
  }

}
