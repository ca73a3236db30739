import { describe, expect, it } from 'vitest';
import { queueStats, sumQueueStats, NO_WORKER_STATS } from '../../src/actors/tuncerStats.js';
import type { TxQueue } from '../../src/actors/txQueue.js';

describe('queueStats', () => {
  it('adds the direct writes (and their rejections) to the worker’s tx counters and counts what waits in the ring', () => {
    const tx = { directPackets: 2, directBytes: 200, directErrors: 1, ringFull: 1 } as TxQueue;
    const s = queueStats({ ...NO_WORKER_STATS, rxPackets: 10, txPackets: 5, txBytes: 500, txErrors: 2 }, tx, 7);
    expect(s).toMatchObject({ txPackets: 7, txBytes: 700, txErrors: 3, txDirect: 2, delivered: 7, queued: 3, txRingFull: 1 });
  });

  it('never counts a negative queue', () => {
    const tx = { directPackets: 0, directBytes: 0, directErrors: 0, ringFull: 0 } as TxQueue;
    expect(queueStats(NO_WORKER_STATS, tx, 4).queued).toBe(0);
    expect(sumQueueStats([], 4)).toMatchObject({ queued: 0, kernelDrops: -1, queues: [] });
  });
});
