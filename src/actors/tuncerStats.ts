/**
 * An interface's counters: what its worker counts, what the main thread adds (deliveries,
 * direct writes, a full tx ring), and the totals over the queues of a multi-queue interface.
 * @module
 */
import type { WorkerStats } from './messages.js';
import type { TxQueue } from './txQueue.js';

/**
 * Counters of one interface.
 *
 * @example
 * ```ts
 * const { rxPackets, queued, txDirect } = await tun.stats();
 * ```
 */
export interface TunStats extends WorkerStats {
  /** Packets taken off the rx ring by this thread (delivered or waiting in `recv`). */
  delivered: number;
  /** Packets read from the fd and not yet delivered (in the ring). */
  queued: number;
  /** Packets refused by `trySend` because the tx ring was full. */
  txRingFull: number;
  /** Of `txPackets`, those written from this thread (a lone `trySend`, or a received batch given to `sendBatch`/`sendAll`, with nothing queued): no thread wake-up. */
  txDirect: number;
  /** Of `rxPackets`, those this thread read from the fd itself (the worker had handed it the reads): no thread wake-up. */
  rxDirect: number;
}

/**
 * Counters of one queue of a multi-queue interface: as {@link TunStats}, for that queue's
 * worker and rings (`delivered`: taken off this queue's ring). `kernelDrops` is the device's.
 *
 * @example
 * ```ts
 * const perQueue: QueueStats[] = (await tun.stats()).queues ?? [];
 * perQueue.forEach((q, i) => console.log(`queue ${i}: ${q.rxPackets} in, ${q.txPackets} out`));
 * ```
 */
export type QueueStats = TunStats;

/**
 * Counters of an interface: the totals, and with `queues > 1` each queue's counters.
 *
 * @example
 * ```ts
 * const s = await tun.stats();
 * console.log(s.rxPackets, s.queues?.map((q) => q.rxPackets));
 * ```
 */
export interface TuncerStats extends TunStats {
  /** Each queue's counters, in queue order; only on a multi-queue interface (`queues > 1`). */
  queues?: QueueStats[];
}

/** Counters before the worker's first answer. */
export const NO_WORKER_STATS: Readonly<WorkerStats> = Object.freeze({ rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxPauses: 0, rxHandovers: 0, kernelDrops: 0 });

/**
 * What the main thread read from the fd itself (see `MainReader`).
 *
 * @example
 * ```ts
 * const reads: MainReads = { packets: reader.packets, bytes: reader.bytes };
 * ```
 */
export interface MainReads {
  readonly packets: number;
  readonly bytes: number;
}
const NO_MAIN_READS: MainReads = Object.freeze({ packets: 0, bytes: 0 });

/**
 * One queue's counters: the worker's, plus the writes and reads its main-thread side made itself.
 *
 * @example
 * ```ts
 * const s = queueStats(await link.call('stats', [], 1000), tx, rx.delivered, reader);
 * ```
 */
export function queueStats(worker: WorkerStats, tx: TxQueue, delivered: number, reads: MainReads = NO_MAIN_READS): TunStats {
  const rxPackets = worker.rxPackets + reads.packets;
  return {
    ...worker,
    rxPackets,
    rxBytes: worker.rxBytes + reads.bytes,
    rxDirect: reads.packets,
    txPackets: worker.txPackets + tx.directPackets,
    txBytes: worker.txBytes + tx.directBytes,
    txErrors: worker.txErrors + tx.directErrors,
    txDirect: tx.directPackets,
    delivered,
    queued: Math.max(0, rxPackets - delivered),
    txRingFull: tx.ringFull,
  };
}

/**
 * A multi-queue interface's counters: the sums over its queues (`kernelDrops` is the
 * device's, so queue 0's), `delivered` as the merge counts it, and each queue's own.
 *
 * @example
 * ```ts
 * const total = sumQueueStats([q0, q1], merged.delivered);
 * ```
 */
export function sumQueueStats(queues: TunStats[], delivered: number): TuncerStats {
  const total: TuncerStats = {
    rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxPauses: 0, rxHandovers: 0, kernelDrops: queues[0]?.kernelDrops ?? -1,
    delivered, queued: 0, txRingFull: 0, txDirect: 0, rxDirect: 0,
  };
  for (const q of queues) {
    total.rxPackets += q.rxPackets;
    total.rxBytes += q.rxBytes;
    total.txPackets += q.txPackets;
    total.txBytes += q.txBytes;
    total.txErrors += q.txErrors;
    total.rxPauses += q.rxPauses;
    total.rxHandovers += q.rxHandovers;
    total.rxDirect += q.rxDirect;
    total.txRingFull += q.txRingFull;
    total.txDirect += q.txDirect;
  }
  total.queued = Math.max(0, total.rxPackets - delivered);
  total.queues = queues;
  return total;
}
