/**
 * Reads on the main thread while traffic is sparse: one thread wake-up per packet instead
 * of two (kernel → worker → main thread).
 *
 * ```
 *  worker reads its fd empty, main offers ──handOver──▶ main: epoll on the fd, readRecords
 *       ▲                                                 into the same rx ring, delivers
 *       └──────────────── handBack (a full batch: heavy traffic; ring full; closing) ◀─┘
 * ```
 * The worker still owns the fd. This thread watches it through an epoll instance of its
 * own (a registration follows the open file, so it vanishes when the worker closes the fd,
 * and a reused number is never watched), and reads under the tx ring's fd guard (see
 * `PacketRing.borrowFd`), as `TxQueue`'s direct writes do. The worker stops polling before
 * it hands over and starts again only after the hand-back, so the ring always has one
 * producer. Reads happen only when delivery wants packets (demand), as the worker's do.
 *
 * @module
 */
import type { PacketRing } from './packetRing.js';
import { loadNative, type NativeBinding } from '../native/binding.js';

/**
 * The main thread's side of the rx handover, for one single-queue interface.
 *
 * @example
 * ```ts
 * const reader = new MainReader(rxRing, txRing, MAX_PACKET, 256, () => delivery.pump());
 * reader.useFd(fd);               // once the worker runs: offer to take reads over
 * if (reader.owns() && reader.read() === 0) reader.watch(); // read empty: wait for more
 * reader.dispose();               // the interface ended
 * ```
 */
export class MainReader {
  /** Packets and bytes read by this thread. */
  packets = 0;
  bytes = 0;
  /** The last {@link read} stopped at EAGAIN: the fd was empty then. */
  drained = false;
  readonly #rx: PacketRing;
  readonly #guard: PacketRing;
  readonly #maxRecord: number;
  readonly #batch: number;
  readonly #onReadable: () => void;
  readonly #out = new Int32Array(3);
  #native: NativeBinding | undefined;
  #fd = -1;
  #ep = -1;
  #pollId = -1;
  #watching = false;

  /**
   * @param rx the interface's rx ring (this thread consumes it; produces while it reads)
   * @param guard the tx ring, whose control words hold the fd guard
   * @param onReadable called when the fd has packets while {@link watch}ing
   */
  constructor(rx: PacketRing, guard: PacketRing, maxRecord: number, batch: number, onReadable: () => void) {
    this.#rx = rx;
    this.#guard = guard;
    this.#maxRecord = maxRecord;
    this.#batch = batch;
    this.#onReadable = onReadable;
  }

  /**
   * Offer to take reads over on the worker's `fd` (once, when the interface runs). Does
   * nothing if the fd cannot be watched (it stays the worker's alone).
   */
  useFd(fd: number): void {
    if (this.#fd >= 0 || fd < 0) return;
    const native = (this.#native ??= loadNative());
    if (!this.#guard.borrowFd()) return;
    let ep = -1;
    try {
      ep = native.epollCreate();
      native.epollAdd(ep, fd, native.constants.POLLIN);
    } catch {
      if (ep >= 0) native.close(ep);
      return;
    } finally {
      this.#guard.returnFd();
    }
    this.#ep = ep;
    this.#fd = fd;
    this.#rx.offerMainReads(true);
  }

  /** True while this thread reads (the worker handed the reads over). */
  owns(): boolean {
    return this.#fd >= 0 && this.#rx.mainReads();
  }

  /**
   * Read up to a batch into the rx ring: the packets read (0: the fd is empty), or -1 when
   * this thread cannot read (ring full, interface closing, an error: the worker meets it
   * itself and reports it), and has handed the reads back.
   */
  read(): number {
    const rx = this.#rx;
    const out = this.#out;
    if (!this.#guard.borrowFd()) return this.#giveBack();
    let failed = false;
    out.fill(0);
    try {
      if (!rx.reserve(4 + this.#maxRecord)) return this.#giveBack();
      (this.#native as NativeBinding).readRecords(this.#fd, rx.data, rx.regionStart, rx.regionEnd, this.#maxRecord, this.#batch, out);
    } catch {
      failed = true; // the worker meets the error itself and reports it; what was read before it stays
    } finally {
      this.#guard.returnFd();
    }
    const bytes = out[0] as number;
    const packets = out[1] as number;
    this.drained = !failed && out[2] === 1;
    if (packets > 0) {
      rx.commit(rx.regionStart + bytes);
      rx.publish();
      this.packets += packets;
      this.bytes += bytes - 4 * packets;
    }
    if (failed) {
      this.#giveBack();
      return packets > 0 ? packets : -1;
    }
    if (out[2] === 0 && packets >= this.#batch) this.#giveBack(); // a full batch: the worker reads again
    return packets;
  }

  /** Wait for the fd to be readable (while this thread reads); {@link unwatch} stops. */
  watch(): void {
    if (this.#watching || this.#ep < 0) return;
    const native = this.#native as NativeBinding;
    if (this.#pollId < 0) this.#pollId = native.pollStart(this.#ep, native.constants.POLLIN, this.#onPoll);
    else native.pollUpdate(this.#pollId, native.constants.POLLIN);
    this.#watching = true;
  }

  /** Stop waiting for the fd (nobody wants packets, or the reads went back). */
  unwatch(): void {
    if (!this.#watching) return;
    (this.#native as NativeBinding).pollUpdate(this.#pollId, 0);
    this.#watching = false;
  }

  /** The interface ended: stop watching, close the epoll instance, withdraw the offer. */
  dispose(): void {
    if (this.#ep < 0) return;
    const native = this.#native as NativeBinding;
    this.#rx.offerMainReads(false);
    if (this.#pollId >= 0) native.pollStop(this.#pollId);
    this.#pollId = -1;
    this.#watching = false;
    // Closing the epoll instance drops its registration; the worker's fd is not touched.
    native.close(this.#ep);
    this.#ep = -1;
    this.#fd = -1;
  }

  #onPoll = (): void => {
    this.#onReadable();
  };

  #giveBack(): -1 {
    this.unwatch();
    if (this.#rx.mainReads()) this.#rx.handBack();
    return -1;
  }
}
