/**
 * Send side of an interface on the main thread: packets are copied into the tx
 * {@link PacketRing} and published to the worker once per tick (one `Atomics.notify`
 * for every packet queued in that tick; a tick that queues an eighth of the ring while the
 * worker sleeps wakes it then, so the two work side by side).
 *
 * ```
 *  trySend / send ──copy──▶ tx ring ──publish (microtask)──▶ worker: writeRecords
 *  sendBatch / sendAll ──copy──▶ tx ring ──publish (at once: one notify a call)──▶
 *  trySend, first of a tick, ring empty ──write(2) on the worker's fd, borrowed──▶ kernel
 *  sendBatch(received batch), ring empty ──writeRecords from the rx ring, ≤ 1 MiB──▶ kernel
 * ```
 * A received {@link PacketBatch} is written straight from the ring it arrived in (the rings
 * share a record layout) when nothing is queued: forwarding then copies nothing in user
 * space, and the worker is not woken. Otherwise, or past 1 MiB, its records are copied in
 * one `set` when they fit contiguously.
 *
 * The direct write saves a thread wake-up on the way out, the cost that dominates a lone
 * packet's latency (a reply, a keystroke). It is taken only when nothing is queued (so
 * order holds) and once per tick (so bursts still go to the worker in batches), under the
 * ring's fd guard (so the number is never one the worker closed and the kernel reused).
 * @module
 */
import type { PacketRing } from './packetRing.js';
import { PacketBatch } from './packetBatch.js';
import { assertBytes } from '../tunctl/validate.js';
import { MAX_PACKET } from '../tunctl/packetIo.js';
import { loadNative, type NativeBinding } from '../native/binding.js';

/**
 * The most packet bytes one `sendBatch` of a received batch writes on this thread before the
 * rest goes to the worker: it bounds how long a call holds the event loop.
 */
const DIRECT_BATCH_BYTES = 1024 * 1024;

function checkPacket(packet: unknown, index?: number): asserts packet is Uint8Array {
  const what = index === undefined ? 'packet' : `packets[${index}]`;
  assertBytes(packet, what);
  if (packet.length === 0 || packet.length > MAX_PACKET) throw new RangeError(`a packet is 1 to ${MAX_PACKET} bytes, ${what} has ${packet.length}`);
}

/**
 * Check what `sendBatch` was given, every packet from `from` on, before anything is queued:
 * the batch when it is a {@link PacketBatch} (whose records are checked by construction).
 *
 * @example
 * ```ts
 * const batch = checkBatch(packets, 0); // throws TypeError/RangeError on bad input
 * ```
 */
export function checkBatch(packets: readonly Uint8Array[] | PacketBatch, from: number): PacketBatch | undefined {
  if (packets instanceof PacketBatch) {
    if (packets.released) throw new Error('sendBatch: this PacketBatch was released: its packets are gone');
    return packets;
  }
  if (!Array.isArray(packets)) throw new TypeError('sendBatch takes an array of packets (Uint8Array) or a PacketBatch');
  for (let i = from; i < packets.length; i++) checkPacket(packets[i], i);
  return undefined;
}

/**
 * The tx ring's producer.
 *
 * @example
 * ```ts
 * const q = new TxQueue(new PacketRing(sab), () => tun.state === 'active' || tun.state === 'passive', closedError, 10_000, 'tun0');
 * if (!q.trySend(packet)) await q.send(packet);
 * ```
 */
export class TxQueue {
  /** Packets refused because the ring was full. */
  ringFull = 0;
  readonly #ring: PacketRing;
  readonly #check: () => void;
  readonly #timeoutMs: number;
  readonly #ifname: () => string;
  /** Packets and bytes written by this thread directly (not counted by the worker). */
  directPackets = 0;
  directBytes = 0;
  /** Packets of a direct batch write the kernel rejected (as the worker's `txErrors`). */
  directErrors = 0;
  #flushQueued = false;
  /** Bytes queued this tick since the last publish. */
  #sinceFlush = 0;
  /**
   * Bytes `trySend` queues in one tick before it wakes a worker that sleeps, instead of
   * waiting for the end of the tick (an eighth of the ring): a loop that fills the ring then
   * shares the work with the worker, while a tick of small packets (TCP acks) still wakes it
   * once.
   */
  readonly #publishAt: number;
  #sendsWaiting = 0;
  /** The worker's fd while the interface runs (-1: no direct writes). */
  #fd = -1;
  #native: NativeBinding | undefined;
  /** A direct write happened this tick: the rest of the tick queues. */
  #directThisTick = false;

  /**
   * @param check throws when the interface does not run (called before every packet)
   * @param timeoutMs how long `send` waits for room
   */
  constructor(ring: PacketRing, check: () => void, timeoutMs: number, ifname: () => string) {
    this.#ring = ring;
    this.#check = check;
    this.#timeoutMs = timeoutMs;
    this.#ifname = ifname;
    this.#publishAt = ring.capacity >> 3;
  }

  /**
   * Allow direct writes on the worker's `fd` (-1: stop). Only under the ring's fd guard, so
   * a number the worker has closed is never written to.
   */
  useFd(fd: number): void {
    this.#fd = fd;
    if (fd >= 0) this.#native ??= loadNative();
  }

  /** Queue one packet without waiting: false when the ring is full. */
  trySend(packet: Uint8Array): boolean {
    checkPacket(packet);
    this.#check();
    if (this.#fd >= 0 && !this.#directThisTick && !this.#flushQueued && this.#ring.isEmpty() && this.#writeDirect(packet)) return true;
    if (!this.#ring.tryWrite(packet)) {
      this.ringFull += 1;
      return false;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      this.#sinceFlush = packet.length;
      queueMicrotask(this.#flush);
    } else if ((this.#sinceFlush += packet.length) >= this.#publishAt) {
      // A long synchronous burst: wake a worker that sleeps now rather than at the end of the
      // tick, so it writes while this thread goes on filling the ring. (Looked at once per
      // #publishAt bytes: the word is on a line the busy worker keeps writing.)
      this.#sinceFlush = 0;
      if (this.#ring.consumerWaiting()) this.#ring.publish();
    }
    return true;
  }

  #flush = (): void => {
    this.#flushQueued = false;
    this.#ring.publish();
  };

  /**
   * write(2) on the borrowed fd. Anything but a whole write (EAGAIN, an error, the fd
   * retired) returns false and the packet takes the ring, where the worker handles it as
   * it always does (and counts an error).
   */
  #writeDirect(packet: Uint8Array): boolean {
    const ring = this.#ring;
    if (!ring.borrowFd()) return false;
    let n: number;
    try {
      n = (this.#native as NativeBinding).write(this.#fd, packet, 0, packet.length);
    } catch {
      n = -1;
    } finally {
      ring.returnFd();
    }
    if (n !== packet.length) return false;
    this.directPackets += 1;
    this.directBytes += n;
    this.#directThisTick = true;
    queueMicrotask(this.#endTick);
    return true;
  }

  /**
   * Write a received batch's records straight from the other ring (they share the record
   * layout) on the borrowed fd, up to {@link DIRECT_BATCH_BYTES}: the packets taken (written
   * or rejected, rejections counted); the rest takes the ring.
   */
  #writeBatchDirect(batch: PacketBatch): number {
    let take = 0;
    let bytes = 0;
    while (take < batch.length && (take === 0 || bytes + batch.lengthOf(take) <= DIRECT_BATCH_BYTES)) bytes += batch.lengthOf(take++);
    if (take === 0) return 0;
    const ring = this.#ring;
    if (!ring.borrowFd()) return 0;
    const out = this.#out;
    const end = take === batch.length ? batch.end : batch.offset(take) - 4;
    out.fill(0);
    try {
      (this.#native as NativeBinding).writeRecords(this.#fd, batch.data, batch.start, end, out);
    } catch {
      // A record whose length runs past the batch (never one the ring delivered): what was
      // written before it counts below, so nothing goes out twice.
    } finally {
      ring.returnFd();
    }
    const taken = (out[1] as number) + (out[2] as number);
    this.directPackets += out[1] as number;
    if (taken < take) for (let i = taken; i < take; i++) bytes -= batch.lengthOf(i);
    this.directBytes += bytes;
    this.directErrors += out[2] as number;
    return taken;
  }

  readonly #out = new Int32Array(5);

  #endTick = (): void => {
    this.#directThisTick = false;
  };

  /** Queue one packet, waiting (up to the timeout) for room when the ring is full. */
  async send(packet: Uint8Array): Promise<void> {
    for (;;) {
      const seen = this.#ring.ackCount();
      if (this.trySend(packet)) return;
      await this.#waitRoom(seen);
    }
  }

  /**
   * Queue as many of `packets[from..]` as fit, in order, and wake the worker once: the
   * number taken. Every packet is checked before any is queued, so bad input queues nothing.
   */
  sendBatch(packets: readonly Uint8Array[] | PacketBatch, from = 0): number {
    const batch = checkBatch(packets, from);
    const total = packets.length;
    this.#check();
    const tx = this.#ring;
    let n = 0;
    let direct = 0;
    if (batch && from === 0 && this.#fd >= 0 && !this.#flushQueued && tx.isEmpty()) n = direct = this.#writeBatchDirect(batch);
    if (batch) {
      if (from + n === 0 && batch.length > 0 && tx.tryWriteRecords(batch.data, batch.start, batch.end)) n = total;
      else while (from + n < total && tx.tryWriteFrom(batch.data, batch.offset(from + n), batch.lengthOf(from + n))) n++;
    } else {
      const list = packets as readonly Uint8Array[];
      while (from + n < total && tx.tryWrite(list[from + n] as Uint8Array)) n++;
    }
    if (n > direct) tx.publish();
    if (from + n < total) this.ringFull += total - from - n;
    return n;
  }

  /** Queue all of `packets`, in order, waiting (up to the timeout each time) for room. */
  async sendAll(packets: readonly Uint8Array[] | PacketBatch): Promise<void> {
    let from = 0;
    for (;;) {
      const seen = this.#ring.ackCount();
      from += this.sendBatch(packets, from);
      if (from >= packets.length) return;
      await this.#waitRoom(seen);
    }
  }

  async #waitRoom(seen: number): Promise<void> {
    const tx = this.#ring;
    // Ask the worker to wake us when it makes room, for as long as any sender waits.
    if (this.#sendsWaiting++ === 0) tx.setPaused(true);
    this.#flush();
    let result: unknown;
    try {
      const wait = tx.waitAck(seen, this.#timeoutMs);
      result = wait ? await wait : 'ok';
    } finally {
      if (--this.#sendsWaiting === 0) tx.setPaused(false);
    }
    if (result === 'timed-out') {
      throw Object.assign(new Error(`send on ${this.#ifname()}: the worker took no packet for ${this.#timeoutMs} ms`), { code: 'ETIMEDOUT' });
    }
  }
}
