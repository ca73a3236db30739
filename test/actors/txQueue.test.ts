import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PacketRing, recordSize } from '../../src/actors/packetRing.js';
import { RxDelivery } from '../../src/actors/rxDelivery.js';
import { TxQueue } from '../../src/actors/txQueue.js';
import { PacketBatch } from '../../src/actors/packetBatch.js';

function setup(bytes = 4096, running = true) {
  const sab = PacketRing.allocate(bytes);
  const worker = new PacketRing(sab); // the consumer end, as the worker holds it
  const q = new TxQueue(new PacketRing(sab), () => {
    if (!running) throw new Error('not running');
  }, 50, () => 'tun9');
  const drain = (): number[] => {
    const got: number[] = [];
    for (let p = worker.shift(); p; p = worker.shift()) got.push(p[0]!);
    worker.ack();
    return got;
  };
  return { q, worker, drain, sab };
}
const pkt = (n: number, len = 8): Buffer => Buffer.alloc(len, n);

describe('TxQueue', () => {
  it('sendBatch queues in order, publishes once, and says how many fit', () => {
    const { q, worker, drain } = setup(1024);
    const seq = worker.seqCount();
    const packets = Array.from({ length: 100 }, (_, i) => pkt(i, 60));
    const taken = q.sendBatch(packets);
    expect(taken).toBe(Math.floor(1024 / recordSize(60))); // what fits
    expect(worker.seqCount()).toBe(seq + 1); // one wake-up for the call
    expect(q.ringFull).toBe(100 - taken);
    expect(drain()).toEqual(packets.slice(0, taken).map((p) => p[0]));
  });

  it('a long trySend burst wakes a waiting worker every eighth of the ring, not only at the end of the tick', async () => {
    const { q, worker, drain } = setup(1 << 16); // an eighth: 8 KiB
    void worker.waitData(worker.seqCount()); // the worker sleeps: it said WAITING
    const seq = worker.seqCount();
    for (let i = 0; i < 7; i++) expect(q.trySend(pkt(i, 1024))).toBe(true);
    expect(worker.seqCount()).toBe(seq); // 7 KiB: still batching
    expect(q.trySend(pkt(7, 1024))).toBe(true);
    expect(worker.seqCount()).toBe(seq + 1); // 8 KiB: published mid-tick
    for (let i = 8; i < 12; i++) q.trySend(pkt(i, 1024));
    expect(worker.seqCount()).toBe(seq + 1);
    await Promise.resolve();
    expect(worker.seqCount()).toBe(seq + 2); // the end of the tick publishes the rest
    expect(drain()).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('a tick of small packets wakes a waiting worker once', async () => {
    const { q, worker, drain } = setup(1 << 16);
    void worker.waitData(worker.seqCount());
    const seq = worker.seqCount();
    for (let i = 0; i < 100; i++) q.trySend(pkt(i, 52)); // 5.2 KiB of TCP acks
    expect(worker.seqCount()).toBe(seq);
    await Promise.resolve();
    expect(worker.seqCount()).toBe(seq + 1);
    expect(drain()).toHaveLength(100);
  });

  it('a long trySend burst does not publish mid-tick while the worker is busy', async () => {
    const { q, worker, drain } = setup(1 << 16);
    const seq = worker.seqCount();
    for (let i = 0; i < 40; i++) q.trySend(pkt(i, 1024));
    expect(worker.seqCount()).toBe(seq);
    await Promise.resolve();
    expect(worker.seqCount()).toBe(seq + 1);
    expect(drain()).toHaveLength(40);
  });

  it('sendBatch checks every packet before queueing any', () => {
    const { q, drain } = setup();
    expect(() => q.sendBatch([pkt(1), 'two' as unknown as Buffer])).toThrow(/packets\[1\] must be a Buffer/);
    expect(() => q.sendBatch([pkt(1), Buffer.alloc(0)])).toThrow(RangeError);
    expect(() => q.sendBatch('x' as unknown as Buffer[])).toThrow(TypeError);
    expect(drain()).toEqual([]);
  });

  it('sendBatch refuses when the interface does not run', () => {
    const { q } = setup(4096, false);
    expect(() => q.sendBatch([pkt(1)])).toThrow('not running');
  });

  it('sendAll waits for room until every packet is queued', async () => {
    const { q, drain } = setup(1024);
    const packets = Array.from({ length: 40 }, (_, i) => pkt(i, 60));
    const got: number[] = [];
    const done = q.sendAll(packets);
    while (got.length < 40) {
      await new Promise((r) => setImmediate(r));
      got.push(...drain());
    }
    await done;
    expect(got).toEqual(packets.map((p) => p[0]));
  });

  it('sendAll gives up with ETIMEDOUT when the worker takes nothing', async () => {
    const { q } = setup(1024);
    await expect(q.sendAll(Array.from({ length: 40 }, (_, i) => pkt(i, 60)))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('a received batch goes in whole, records copied as they are', async () => {
    const rxSab = PacketRing.allocate(4096);
    const producer = new PacketRing(rxSab);
    for (let i = 0; i < 5; i++) producer.tryWrite(pkt(i, 10 + i));
    producer.publish();
    const d = new RxDelivery(new PacketRing(rxSab), () => 'tun8', () => {});
    const batch = await d.recvBatch(5, undefined);
    const { q, worker } = setup();
    expect(q.sendBatch(batch)).toBe(5);
    const out: Buffer[] = [];
    for (let p = worker.shift(); p; p = worker.shift()) out.push(p);
    expect(out.map((p) => [p[0], p.length])).toEqual([0, 1, 2, 3, 4].map((i) => [i, 10 + i]));
    batch.release();
    expect(() => q.sendBatch(batch)).toThrow(/released/);
  });
  describe('direct writes on the worker\'s fd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunctl-txq-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // A regular file stands in for the tun: every write(2) appends one packet to it.
    const file = (name: string, flags = 'w'): { fd: number; path: string } => {
      const path = join(dir, name);
      closeSync(openSync(path, 'w'));
      return { fd: openSync(path, flags), path };
    };
    const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

    it('the first packet of a tick goes straight out when nothing is queued; the rest keep their order through the ring', async () => {
      const { q, drain } = setup();
      const f = file('order');
      q.useFd(f.fd);
      expect(q.trySend(pkt(1))).toBe(true); // direct
      expect(q.trySend(pkt(2))).toBe(true); // same tick: ring
      await tick();
      expect(q.trySend(pkt(3))).toBe(true); // ring not empty: behind 2, not before it
      expect(q.directPackets).toBe(1);
      expect([...readFileSync(f.path)]).toEqual([...pkt(1)]);
      expect(drain()).toEqual([2, 3]);
      await tick();
      expect(q.trySend(pkt(4, 20))).toBe(true); // drained: direct again
      expect(drain()).toEqual([]);
      expect(q.directPackets).toBe(2);
      expect(q.directBytes).toBe(28);
      expect(readFileSync(f.path).subarray(8)).toEqual(pkt(4, 20));
      closeSync(f.fd);
    });

    it('never once the ring is closed (the worker retired its fd), nor after useFd(-1)', async () => {
      const { q, worker, sab } = setup();
      const f = file('closed');
      q.useFd(f.fd);
      q.useFd(-1);
      q.trySend(pkt(1));
      await tick();
      q.useFd(f.fd);
      worker.shift();
      worker.ack();
      new PacketRing(sab).close();
      q.trySend(pkt(2));
      expect(q.directPackets).toBe(0);
      expect(readFileSync(f.path).length).toBe(0);
      closeSync(f.fd);
    });

    /** A batch as the rx ring delivers it: `lens` packets, packet i filled with i. */
    const received = async (lens: number[], ringBytes = 4096) => {
      const rxSab = PacketRing.allocate(ringBytes);
      const producer = new PacketRing(rxSab);
      lens.forEach((len, i) => producer.tryWrite(pkt(i, len)));
      producer.publish();
      return new RxDelivery(new PacketRing(rxSab), () => 'tun8', () => {}).recvBatch(lens.length, undefined);
    };

    it('a received batch is written from its own ring, one write a packet, when nothing is queued', async () => {
      const { q, worker, drain } = setup();
      const f = file('batch');
      q.useFd(f.fd);
      const batch = await received([10, 11, 12]);
      const seq = worker.seqCount();
      expect(q.sendBatch(batch)).toBe(3);
      expect(q.directPackets).toBe(3);
      expect(q.directBytes).toBe(33);
      expect(worker.seqCount()).toBe(seq); // no wake-up: the worker had nothing to do
      expect(drain()).toEqual([]);
      expect([...readFileSync(f.path)]).toEqual([...pkt(0, 10), ...pkt(1, 11), ...pkt(2, 12)]);
      expect(batch.released).toBe(false); // still the caller's to release
      closeSync(f.fd);
    });

    it('a batch waits behind queued packets, so order holds', async () => {
      const { q, drain } = setup();
      const f = file('behind');
      q.useFd(f.fd);
      expect(q.trySend(pkt(9))).toBe(true); // direct
      expect(q.trySend(pkt(8))).toBe(true); // same tick: queued
      expect(q.sendBatch(await received([10, 11]))).toBe(2);
      expect(q.directPackets).toBe(1);
      expect(drain()).toEqual([8, 0, 1]);
      closeSync(f.fd);
    });

    it('a batch larger than 1 MiB is written up to 1 MiB; the rest takes the ring', async () => {
      const { q, drain } = setup(1 << 20);
      const f = file('big');
      q.useFd(f.fd);
      const batch = await received(Array<number>(20).fill(65_536), 4 << 20);
      expect(q.sendBatch(batch)).toBe(20);
      expect(q.directPackets).toBe(16);
      expect(readFileSync(f.path).length).toBe(16 * 65_536);
      expect(drain()).toEqual([16, 17, 18, 19]);
      closeSync(f.fd);
    });

    it('a hand-made batch whose record runs past its end: what went out before it is not written again', () => {
      const { q, drain } = setup();
      const f = file('malformed');
      q.useFd(f.fd);
      // Two records: [4][1 1 1 1] and a header claiming 999 bytes where 2 follow.
      const data = new Uint8Array(14);
      new DataView(data.buffer).setUint32(0, 4, true);
      data.fill(1, 4, 8);
      new DataView(data.buffer).setUint32(8, 999, true);
      data.fill(2, 12, 14);
      const batch = new PacketBatch(data, 0, 14, Int32Array.from([4, 4, 12, 2]), 6, () => {});
      expect(q.sendBatch(batch)).toBe(2);
      expect(q.directPackets).toBe(1);
      expect([...readFileSync(f.path)]).toEqual([1, 1, 1, 1]); // once
      expect(drain()).toEqual([2]); // the rest took the ring
      closeSync(f.fd);
    });

    it('records the fd rejects are counted as errors and not written again, as the worker does', async () => {
      const { q, drain } = setup();
      const f = file('rejects', 'r'); // write(2) fails with EBADF
      q.useFd(f.fd);
      expect(q.sendBatch(await received([10, 11]))).toBe(2);
      expect(q.directPackets).toBe(0);
      expect(q.directErrors).toBe(2);
      expect(drain()).toEqual([]);
      closeSync(f.fd);
    });

    it('a write the fd refuses falls back to the ring, where the worker handles it', () => {
      const { q, drain } = setup();
      const f = file('readonly', 'r'); // write(2) fails with EBADF
      q.useFd(f.fd);
      expect(q.trySend(pkt(7))).toBe(true);
      expect(q.directPackets).toBe(0);
      expect(drain()).toEqual([7]);
      closeSync(f.fd);
    });
  });
});
