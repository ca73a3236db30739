import { describe, expect, it } from 'vitest';
import { QueueGroup, type QueuePort } from '../../src/actors/queueGroup.js';
import type { TuncerExitReason } from '../../src/actors/tuncerMachine.js';
import type { TunStats } from '../../src/actors/tuncerStats.js';
import { PacketRing } from '../../src/actors/packetRing.js';
import { TxQueue } from '../../src/actors/txQueue.js';
import type { PacketBatch } from '../../src/actors/packetBatch.js';

const LAYOUT = { skip: 0, ethernet: false };

interface FakeQueue extends QueuePort {
  start(): void;
  refuse(err: Error): void;
  end(reason: TuncerExitReason): void;
  calls: string[];
  up: boolean;
}

function fakeQueue(index: number, counters: Partial<TunStats> = {}): FakeQueue {
  const ring = new PacketRing(PacketRing.allocate(4096));
  const tx = new TxQueue(ring, () => undefined, 1000, () => 'tun9');
  let startedRes!: () => void;
  let startedRej!: (e: Error) => void;
  let exitRes!: (r: TuncerExitReason) => void;
  const q: FakeQueue = {
    index,
    calls: [],
    up: false,
    started: new Promise<void>((res, rej) => ((startedRes = res), (startedRej = rej))),
    exit: new Promise<TuncerExitReason>((res) => (exitRes = res)),
    running: () => q.up,
    tx: { tx, ring, check: () => undefined },
    recvBatch: () => Promise.reject(new Error(`queue ${index} has no packets`)) as Promise<PacketBatch>,
    stats: async () => ({ rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxPauses: 0, rxHandovers: 0, kernelDrops: 0, delivered: 0, queued: 0, txRingFull: 0, txDirect: 0, rxDirect: 0, ...counters }),
    destroy: async () => void q.calls.push('destroy'),
    kill: async () => void q.calls.push('kill'),
    fault: async (kind) => void q.calls.push(`fault ${kind}`),
    start: () => ((q.up = true), startedRes()),
    refuse: (err) => startedRej(err),
    end: (reason) => ((q.up = false), exitRes(reason)),
  };
  return q;
}

function group(n: number) {
  const queues = Array.from({ length: n }, (_, i) => fakeQueue(i));
  const failures: Error[] = [];
  const g = new QueueGroup(queues, LAYOUT, () => 'tun9', (e) => failures.push(e));
  return { g, queues, failures };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('QueueGroup', () => {
  it('is attached once every other queue runs', async () => {
    const { g, queues } = group(3);
    queues.forEach((q) => q.start());
    await expect(g.attached()).resolves.toBeUndefined();
    expect(g.size).toBe(3);
    expect(g.port(2)).toBe(queues[2]);
    expect(() => g.port(3)).toThrow(RangeError);
  });

  it('gives the first start failure, and a queue gone before the end of the start', async () => {
    const a = group(3);
    a.queues[1]?.refuse(new Error('E2BIG'));
    a.queues[2]?.start();
    await expect(a.g.attached()).resolves.toMatchObject({ message: 'E2BIG' });
    const b = group(2);
    b.queues[1]?.start();
    b.queues[1]!.up = false;
    await expect(b.g.attached()).resolves.toMatchObject({ message: 'queue 1 of tun9 ended while starting' });
    // While attaching, a queue's end is the start's business, not a failure of the interface.
    expect(a.failures).toEqual([]);
    expect(b.failures).toEqual([]);
  });

  it('fails the interface when another queue ends after the start, naming the queue and its cause', async () => {
    const { g, queues, failures } = group(2);
    queues[1]?.start();
    await g.attached();
    const cause = new Error('worker crashed');
    queues[1]?.end(cause);
    await tick();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toBe('queue 1 of tun9 failed: worker crashed');
    expect(failures[0]?.cause).toBe(cause);
  });

  it('closes the others cleanly on a normal end, terminates them otherwise, and only once', async () => {
    const clean = group(3);
    await Promise.all([clean.g.end('normal'), clean.g.end(new Error('late'))]);
    expect(clean.queues.map((q) => q.calls)).toEqual([[], ['destroy'], ['destroy']]);
    const failed = group(2);
    await failed.g.end(new Error('boom'));
    expect(failed.queues.map((q) => q.calls)).toEqual([[], ['kill']]);
    // Ending: a queue that ends now does not fail the interface again.
    failed.queues[1]?.end('killed');
    await tick();
    expect(failed.failures).toEqual([]);
  });

  it('sums the counters and keeps each queue’s', async () => {
    const queues = [fakeQueue(0, { rxPackets: 3, txPackets: 1, kernelDrops: 7 }), fakeQueue(1, { rxPackets: 5, txPackets: 2, txDirect: 2, kernelDrops: 0 })];
    const g = new QueueGroup(queues, LAYOUT, () => 'tun9', () => undefined);
    const s = await g.stats(6);
    expect(s).toMatchObject({ rxPackets: 8, txPackets: 3, txDirect: 2, kernelDrops: 7, delivered: 6, queued: 2 });
    expect(s.queues?.map((q) => q.rxPackets)).toEqual([3, 5]);
  });

  it('sends a flow key’s packets to that key’s queue', () => {
    const { g, queues } = group(2);
    expect(g.sender.trySend(new Uint8Array(20), 3)).toBe(true);
    expect(queues[1]?.tx.ring.isEmpty()).toBe(false);
    expect(queues[0]?.tx.ring.isEmpty()).toBe(true);
  });
});
