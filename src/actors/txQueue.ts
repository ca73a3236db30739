/**
 * Send side of an interface on the main thread: packets are copied into the tx
 * {@link PacketRing} and published to the worker once per tick (one `Atomics.notify`
 * for every packet queued in that tick).
 *
 * ```
 *  trySend / send ──copy──▶ tx ring ──publish (microtask)──▶ worker: writeRecords
 * ```
 * @module
 */
import type { PacketRing } from './packetRing.js';
import { assertBytes } from '../tunctl/validate.js';
import { MAX_PACKET } from '../tunctl/packetIo.js';

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
  #flushQueued = false;
  #sendsWaiting = 0;

  /**
   * @param check throws when the interface does not run (called before every packet)
   * @param timeoutMs how long `send` waits for room
   */
  constructor(ring: PacketRing, check: () => void, timeoutMs: number, ifname: () => string) {
    this.#ring = ring;
    this.#check = check;
    this.#timeoutMs = timeoutMs;
    this.#ifname = ifname;
  }

  /** Queue one packet without waiting: false when the ring is full. */
  trySend(packet: Uint8Array): boolean {
    assertBytes(packet, 'packet');
    if (packet.length === 0 || packet.length > MAX_PACKET) throw new RangeError(`a packet is 1 to ${MAX_PACKET} bytes, got ${packet.length}`);
    this.#check();
    if (!this.#ring.tryWrite(packet)) {
      this.ringFull += 1;
      return false;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    return true;
  }

  #flush = (): void => {
    this.#flushQueued = false;
    this.#ring.publish();
  };

  /** Queue one packet, waiting (up to the timeout) for room when the ring is full. */
  async send(packet: Uint8Array): Promise<void> {
    const tx = this.#ring;
    for (;;) {
      const seen = tx.ackCount();
      if (this.trySend(packet)) return;
      // Ask the worker to wake us when it makes room, for as long as any send() waits.
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
}
