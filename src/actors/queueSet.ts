/**
 * Send side of an interface: each packet goes to the tx ring of the queue its flow hashes
 * to (or of the flow key the caller gives), so a flow stays on one queue and its packets
 * reach the kernel in the order they were sent. With one queue, everything goes to it.
 *
 * ```
 *  trySend / send ──flowHash % N──▶ queue i: TxQueue ──▶ tx ring i ──▶ worker i: writeRecords
 *  sendBatch / sendAll ──per packet──▶ the same, one publish per queue touched
 * ```
 * Packets of different flows may reach the kernel in another order than they were sent.
 * @module
 */
import { PacketBatch } from './packetBatch.js';
import type { PacketRing } from './packetRing.js';
import { checkBatch, type TxQueue } from './txQueue.js';
import { flowHashAt, type FlowLayout } from './flowHash.js';
import { assertInt } from '../tunctl/validate.js';

/**
 * One queue's send side as the set uses it.
 *
 * @example
 * ```ts
 * const port: TxPort = { tx: new TxQueue(ring, check, 10_000, () => 'tun0'), ring, check };
 * ```
 */
export interface TxPort {
  readonly tx: TxQueue;
  readonly ring: PacketRing;
  /** Throws when the queue does not run. */
  readonly check: () => void;
}

/**
 * Check a flow key given by the caller: an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * checkFlow(42); // fine; checkFlow(-1) throws a RangeError
 * ```
 */
export function checkFlow(flow: unknown): asserts flow is number {
  assertInt(flow, 'flow', 0, 0xffffffff);
}

/**
 * The queues' send sides, and the choice of queue per packet.
 *
 * @example
 * ```ts
 * const set = new QueueSet(ports, { skip: 0, ethernet: false });
 * set.trySend(packet);          // the queue of the packet's flow
 * set.trySend(packet, 7);       // the queue of flow key 7
 * ```
 */
export class QueueSet {
  readonly #ports: readonly TxPort[];
  readonly #layout: FlowLayout;
  /** Queues written to by the sendBatch call in progress, to publish once each. */
  readonly #touched: Uint8Array;

  constructor(ports: readonly TxPort[], layout: FlowLayout) {
    this.#ports = ports;
    this.#layout = layout;
    this.#touched = new Uint8Array(ports.length);
  }

  /** Number of queues. */
  get size(): number {
    return this.#ports.length;
  }

  /**
   * The queue a packet goes to: by `flow` if given, else by the packet's flow hash. A value
   * that is not bytes goes to queue 0, whose checks then refuse it.
   */
  queueOf(packet: Uint8Array, flow?: number): number {
    if (this.#ports.length === 1) return 0;
    if (flow !== undefined) return flow % this.#ports.length;
    if (!(packet instanceof Uint8Array)) return 0;
    return flowHashAt(packet, 0, packet.length, this.#layout) % this.#ports.length;
  }

  #port(packet: Uint8Array, flow: number | undefined): TxPort {
    if (flow !== undefined) checkFlow(flow);
    return this.#ports[this.queueOf(packet, flow)] as TxPort;
  }

  /** {@link TxQueue.trySend} on the packet's queue. */
  trySend(packet: Uint8Array, flow?: number): boolean {
    return this.#port(packet, flow).tx.trySend(packet);
  }

  /** {@link TxQueue.send} on the packet's queue. */
  send(packet: Uint8Array, flow?: number): Promise<void> {
    try {
      return this.#port(packet, flow).tx.send(packet);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Queue as many of `packets[from..]` as fit, in order, each on its flow's queue (all on
   * the queue of `flow` if given): the number taken. Stops at the first packet whose queue
   * is full, so what is taken is always a prefix. Every packet is checked first.
   */
  sendBatch(packets: readonly Uint8Array[] | PacketBatch, flow?: number, from = 0): number {
    if (flow !== undefined) checkFlow(flow);
    if (flow !== undefined || this.#ports.length === 1) return (this.#ports[(flow ?? 0) % this.#ports.length] as TxPort).tx.sendBatch(packets, from);
    const batch = checkBatch(packets, from);
    const ports = this.#ports;
    for (const p of ports) p.check();
    const n = ports.length;
    const total = packets.length;
    const touched = this.#touched;
    let i = from;
    try {
      if (batch) {
        const data = batch.data;
        for (; i < total; i++) {
          const off = batch.offset(i);
          const len = batch.lengthOf(i);
          const q = flowHashAt(data, off, len, this.#layout) % n;
          if (!(ports[q] as TxPort).ring.tryWriteFrom(data, off, len)) break;
          touched[q] = 1;
        }
      } else {
        const list = packets as readonly Uint8Array[];
        for (; i < total; i++) {
          const p = list[i] as Uint8Array;
          const q = flowHashAt(p, 0, p.length, this.#layout) % n;
          if (!(ports[q] as TxPort).ring.tryWrite(p)) break;
          touched[q] = 1;
        }
      }
    } finally {
      for (let q = 0; q < n; q++) {
        if (touched[q] === 1) {
          touched[q] = 0;
          (ports[q] as TxPort).ring.publish();
        }
      }
    }
    if (i < total) {
      const full = batch ? flowHashAt(batch.data, batch.offset(i), batch.lengthOf(i), this.#layout) % n : this.queueOf((packets as readonly Uint8Array[])[i] as Uint8Array);
      (ports[full] as TxPort).tx.ringFull += total - i;
    }
    return i - from;
  }

  /** Queue all of `packets`, in order per flow, waiting (up to the timeout each time) for room in a full queue. */
  async sendAll(packets: readonly Uint8Array[] | PacketBatch, flow?: number): Promise<void> {
    if (flow !== undefined) checkFlow(flow);
    if (this.#ports.length === 1) return (this.#ports[0] as TxPort).tx.sendAll(packets); // as one queue always did
    let from = 0;
    for (;;) {
      from += this.sendBatch(packets, flow, from);
      if (from >= packets.length) return;
      // The packet at `from` found its queue full: wait for room there by sending it alone.
      const p = packets instanceof PacketBatch ? packets.packet(from) : (packets[from] as Uint8Array);
      await this.send(p, flow);
      from += 1;
    }
  }
}
