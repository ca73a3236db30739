/**
 * The queues of a multi-queue interface, as its queue 0 holds them: their start, their
 * common end, the send and receive sides over all of them, and their summed counters.
 *
 * ```
 *   Tuncer (queue 0) ── QueueGroup ── QueuePort 0..N-1   (each: worker, rings, machine)
 *     trySend / sendBatch ──▶ QueueSet (flow hash) ──▶ queue i's TxQueue ──▶ tx ring i
 *     recv / packets$     ◀── MergedDelivery       ◀── queue i's recvBatch ◀── rx ring i
 *     a queue i > 0 ends  ──▶ queue 0 fails (the interface fails whole)
 *     queue 0 ends        ──▶ every queue i > 0 ends (closed, or terminated on failure)
 * ```
 * @module
 */
import type { TuncerExitReason } from './tuncerMachine.js';
import type { FaultKind } from './messages.js';
import type { PacketBatch } from './packetBatch.js';
import type { BatchSource } from './mergedDelivery.js';
import { QueueSet, type TxPort } from './queueSet.js';
import type { FlowLayout } from './flowHash.js';
import { sumQueueStats, type TunStats, type TuncerStats } from './tuncerStats.js';

/**
 * One queue of the interface as the group uses it (a `Tuncer` of one queue gives its own).
 *
 * @example
 * ```ts
 * const port: QueuePort = { index: 1, started, exit, running: () => true, tx, recvBatch, stats, destroy, kill, fault };
 * ```
 */
export interface QueuePort {
  readonly index: number;
  /** Resolves once the queue runs; rejects with why it could not start. */
  readonly started: Promise<void>;
  /** Resolves when the queue's thread and fd are gone. */
  readonly exit: Promise<TuncerExitReason>;
  /** True while the queue runs. */
  running(): boolean;
  readonly tx: TxPort;
  /** A batch off the queue's own rx ring. */
  recvBatch(max: number, signal: AbortSignal): Promise<PacketBatch>;
  /** The queue's own counters (its last ones once it ended). */
  stats(): Promise<TunStats>;
  /** Close the queue cleanly. */
  destroy(): Promise<void>;
  /** Terminate the queue's worker. */
  kill(): Promise<void>;
  /** Make the queue's worker take a fault (tests, chaos drills). */
  fault(kind: FaultKind): Promise<void>;
}

/**
 * Queues 0..N-1 of one interface. Queue 0 is the interface: its machine decides, and any
 * other queue that ends, once all have started, fails it through `fail`.
 *
 * @example
 * ```ts
 * const group = new QueueGroup([q0, q1], flowLayout(create), () => 'tun0', (err) => actor.send({ type: 'FAILED', error: err }));
 * const failure = await group.attached();
 * merged.setSources(group.sources());
 * group.sender.trySend(packet);
 * ```
 */
export class QueueGroup {
  /** The send side over every queue, by flow. */
  readonly sender: QueueSet;
  readonly #ports: readonly QueuePort[];
  readonly #name: () => string;
  readonly #fail: (error: Error) => void;
  /** `attached()` is waiting: it, not a queue's exit, decides how a failure ends. */
  #attaching = true;
  /** The other queues are being ended (or have ended). */
  #ending: Promise<void> | undefined;

  constructor(ports: readonly QueuePort[], layout: FlowLayout, name: () => string, fail: (error: Error) => void) {
    this.#ports = ports;
    this.#name = name;
    this.#fail = fail;
    this.sender = new QueueSet(ports.map((q) => q.tx), layout);
    for (const q of this.#others()) void q.exit.then((reason) => this.#ended(q, reason));
  }

  /** Number of queues, queue 0 included. */
  get size(): number {
    return this.#ports.length;
  }

  /** Queue `index`'s port. */
  port(index: number): QueuePort {
    const q = this.#ports[index];
    if (!q) throw new RangeError(`no queue ${index} (the interface has ${this.#ports.length})`);
    return q;
  }

  /** Wait for queues 1..N-1 to start: the first failure, or undefined once every one runs. */
  async attached(): Promise<Error | undefined> {
    const started = await Promise.allSettled(this.#others().map((q) => q.started));
    this.#attaching = false;
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) return failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    const gone = this.#others().find((q) => !q.running());
    return gone ? new Error(`queue ${gone.index} of ${this.#name()} ended while starting`) : undefined;
  }

  /** Each queue's receive side, for the merge. */
  sources(): BatchSource[] {
    return this.#ports.map((q) => (max: number, signal: AbortSignal) => q.recvBatch(max, signal));
  }

  /**
   * End queues 1..N-1 along with queue 0: closed cleanly when the interface stops,
   * terminated when it fails or is killed. Resolves once every one has exited.
   */
  end(reason: TuncerExitReason | undefined): Promise<void> {
    if (!this.#ending) {
      const clean = reason === 'normal' || reason === 'shutdown';
      this.#ending = Promise.all(this.#others().map((q) => (clean ? q.destroy() : q.kill()))).then(() => undefined);
    }
    return this.#ending;
  }

  /** The interface's counters: the sums, with each queue's own; `delivered` as the merge counts it. */
  async stats(delivered: number): Promise<TuncerStats> {
    return sumQueueStats(await Promise.all(this.#ports.map((q) => q.stats())), delivered);
  }

  #others(): readonly QueuePort[] {
    return this.#ports.slice(1);
  }

  /** Another queue ended: unless the interface is ending anyway, it fails with that queue. */
  #ended(q: QueuePort, reason: TuncerExitReason): void {
    if (this.#ending || this.#attaching) return;
    const why = reason instanceof Error ? reason.message : `it ended (${reason})`;
    this.#fail(new Error(`queue ${q.index} of ${this.#name()} failed: ${why}`, { cause: reason instanceof Error ? reason : undefined }));
  }
}
