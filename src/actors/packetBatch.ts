/**
 * A batch of received packets that are views into the rx ring: no copy, one wake-up and one
 * Promise (or one emission) for the whole batch.
 *
 * ```
 *  rx ring:  ... [len|packet 0..pad][len|packet 1..pad] ... [len|packet n-1..pad] ...
 *                 ^ start            views: packet(i) = ring bytes, no copy      ^ end
 * ```
 * **Lifetime:** the packets are valid until the batch is released: by `release()`, by the next
 * receive call of the same interface (`recv`, `recvBatch`, the next step of `batches()`), or,
 * on `batches$`, when the subscriber's callback returns. After that the worker reuses the
 * memory, so a view kept past it reads other packets' bytes. Copy what must outlive the batch
 * (`Buffer.from(batch.packet(i))`). `packet(i)` on a released batch throws; with the interface
 * option `poisonReleased`, released bytes are overwritten with `0xdb`, so a view kept too long
 * shows its misuse at once.
 *
 * @module
 */

/**
 * Byte written over released batches when poisoning is on.
 *
 * @example
 * ```ts
 * if (view[0] === POISON_BYTE) console.warn('a packet view outlived its batch');
 * ```
 */
export const POISON_BYTE = 0xdb;

/**
 * Packets received in one go, as views into shared memory; see the module notes for their
 * lifetime.
 *
 * @example
 * ```ts
 * const batch = await tun.recvBatch({ max: 64 });
 * for (const packet of batch) handle(packet); // views: no copy
 * batch.release();
 * ```
 */
export class PacketBatch implements Iterable<Buffer> {
  /** Number of packets. */
  readonly length: number;
  /** Total packet bytes. */
  readonly bytes: number;
  /** The ring's bytes; packet i is `data.subarray(offset(i), offset(i) + lengthOf(i))`. */
  readonly data: Uint8Array;
  /** Ring positions where the batch's records start and end (for a ring-to-ring copy). */
  readonly start: number;
  readonly end: number;
  readonly #offsets: Int32Array;
  readonly #onRelease: (b: PacketBatch) => void;
  #released = false;

  /** @internal Made by the interface's delivery, never by users. */
  constructor(data: Uint8Array, start: number, end: number, offsets: Int32Array, bytes: number, onRelease: (b: PacketBatch) => void) {
    this.data = data;
    this.start = start;
    this.end = end;
    this.#offsets = offsets;
    this.length = offsets.length >> 1;
    this.bytes = bytes;
    this.#onRelease = onRelease;
  }

  /** True once released: the packets' memory may hold other packets now. */
  get released(): boolean {
    return this.#released;
  }

  /** Byte offset of packet `i` in {@link data}. */
  offset(i: number): number {
    return this.#offsets[i << 1] as number;
  }

  /** Length of packet `i`. */
  lengthOf(i: number): number {
    return this.#offsets[(i << 1) + 1] as number;
  }

  /**
   * Packet `i` as a view into the ring (no copy). Throws a RangeError for an index out of
   * range, and an Error once the batch is released.
   */
  packet(i: number): Buffer {
    if (this.#released) throw new Error('this PacketBatch was released: its packets are gone (copy what must outlive a batch)');
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`packet index ${i} is out of range 0..${this.length - 1}`);
    const off = this.#offsets[i << 1] as number;
    return Buffer.from(this.data.buffer, this.data.byteOffset + off, this.#offsets[(i << 1) + 1] as number);
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    for (let i = 0; i < this.length; i++) yield this.packet(i);
  }

  /** Give the packets' memory back to the worker. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#onRelease(this);
  }
}
