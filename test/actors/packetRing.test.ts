import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { PacketRing, recordSize } from '../../src/actors/packetRing.js';

function packet(seq: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  b.writeUInt32BE(seq, 0);
  for (let i = 4; i < len; i++) b[i] = (seq + i) & 0xff;
  return b;
}

describe('PacketRing', () => {
  it('passes packets in order across many wraps, never losing or duplicating one', () => {
    const sab = PacketRing.allocate(4096);
    const p = new PacketRing(sab);
    const c = new PacketRing(sab);
    let sent = 0;
    let got = 0;
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 700;
    while (got < 5000) {
      // produce a burst until full
      for (let k = rand() % 9; k >= 0; k--) {
        if (!p.tryWrite(packet(sent, 4 + rand()))) break;
        sent += 1;
      }
      p.publish();
      for (let k = rand() % 7; k >= 0; k--) {
        const q = c.shift();
        if (!q) break;
        expect(q.readUInt32BE(0)).toBe(got);
        expect(q.equals(packet(got, q.length))).toBe(true);
        got += 1;
      }
      c.ack();
    }
    expect(sent).toBeGreaterThanOrEqual(got);
  });

  it('reports full instead of overwriting unread records', () => {
    const sab = PacketRing.allocate(1024);
    const p = new PacketRing(sab);
    let n = 0;
    while (p.tryWrite(Buffer.alloc(100, n))) n += 1;
    expect(n).toBe(Math.floor((1024 - 4) / recordSize(100)));
    const c = new PacketRing(sab);
    expect(c.shift()?.[0]).toBe(0);
    expect(p.tryWrite(Buffer.alloc(100, 99))).toBe(false); // one record freed: the producer keeps a gap
    expect(c.shift()?.[0]).toBe(1);
    expect(p.tryWrite(Buffer.alloc(100, 99))).toBe(true); // wraps to the start
    for (let i = 2; i < n; i++) expect(c.shift()?.[0]).toBe(i);
    expect(c.shift()?.[0]).toBe(99);
    expect(c.shift()).toBeNull();
    expect(c.isEmpty()).toBe(true);
  });

  it('chunkEnd: a record boundary at least that many bytes in, never past the readable run', () => {
    const sab = PacketRing.allocate(4096);
    const p = new PacketRing(sab);
    const c = new PacketRing(sab);
    const lens = [100, 37, 500, 9, 64, 1];
    for (const [i, len] of lens.entries()) expect(p.tryWrite(packet(i, len + 4))).toBe(true);
    expect(c.readable()).toBe(true);
    const bounds = [c.readStart];
    for (const len of lens) bounds.push((bounds.at(-1) as number) + recordSize(len + 4));
    expect(c.readEnd).toBe(bounds.at(-1));
    expect(c.chunkEnd(1)).toBe(bounds[1]); // one record is the least
    expect(c.chunkEnd(bounds[2]! - bounds[0]!)).toBe(bounds[2]); // exactly two
    expect(c.chunkEnd(bounds[2]! - bounds[0]! + 1)).toBe(bounds[3]); // the third is whole
    expect(c.chunkEnd(1 << 20)).toBe(c.readEnd); // the whole run
  });

  it('rejects capacities that are not usable', () => {
    expect(() => PacketRing.allocate(1000)).toThrow(RangeError);
    expect(() => PacketRing.allocate(1022)).toThrow(RangeError);
  });

  it('carries 200 000 packets between two threads with batched wake-ups', async () => {
    const sab = PacketRing.allocate(1 << 16);
    const total = 200_000;
    // The producer thread runs plain JS that mirrors PacketRing.tryWrite on the same layout.
    const worker = new Worker(
      `
      const { workerData } = require('node:worker_threads');
      const { sab, total } = workerData;
      const ctl = new Int32Array(sab, 0, 16);
      const cap = sab.byteLength - 64;
      const data = new Uint8Array(sab, 64, cap);
      const words = new Uint32Array(sab, 64, cap >> 2);
      function reserve(need) {
        const w = Atomics.load(ctl, 0), r = Atomics.load(ctl, 1);
        if (w >= r) {
          if (cap - w >= need) return w;
          if (r - 4 >= need) { Atomics.store(ctl, 2, w); Atomics.store(ctl, 0, 0); return 0; }
          return -1;
        }
        return r - 4 - w >= need ? w : -1;
      }
      let i = 0;
      while (i < total) {
        let batch = 0;
        while (i < total && batch < 64) {
          const len = 20 + (i % 300);
          const need = 4 + ((len + 3) & ~3);
          const pos = reserve(need);
          if (pos < 0) break;
          words[pos >> 2] = len;
          data[pos + 4] = i & 0xff; data[pos + 5] = (i >> 8) & 0xff; data[pos + 6] = (i >> 16) & 0xff;
          Atomics.store(ctl, 0, pos + need);
          i++; batch++;
        }
        Atomics.add(ctl, 3, 1); Atomics.notify(ctl, 3);
        if (batch === 0) { const seen = Atomics.load(ctl, 4); Atomics.store(ctl, 5, 1); Atomics.wait(ctl, 4, seen, 50); Atomics.store(ctl, 5, 0); }
      }
      `,
      { eval: true, workerData: { sab, total } },
    );
    worker.on('error', (e) => {
      throw e;
    });
    const c = new PacketRing(sab);
    let got = 0;
    let mismatches = 0;
    while (got < total) {
      const seen = c.seqCount();
      let q: Buffer | null;
      let drained = 0;
      while ((q = c.shift())) {
        const seq = q[0]! | (q[1]! << 8) | (q[2]! << 16);
        if (seq !== (got & 0xffffff) || q.length !== 20 + (got % 300)) mismatches += 1;
        got += 1;
        drained += 1;
      }
      if (drained) c.ack();
      else await c.waitData(seen, 1000);
    }
    await worker.terminate();
    expect(mismatches).toBe(0);
    expect(got).toBe(total);
  });
  it('fd guard: no borrow once closed, and the owner waits for a borrower in another thread', async () => {
    const sab = PacketRing.allocate(1024);
    const owner = new PacketRing(sab);
    const borrower = new PacketRing(sab);
    expect(borrower.borrowFd()).toBe(true);
    borrower.returnFd();
    // Another thread borrows (word 8), holds the fd a while, says so in word 9, then returns it.
    const worker = new Worker(
      `
      const { workerData } = require('node:worker_threads');
      const ctl = new Int32Array(workerData, 0, 16);
      Atomics.add(ctl, 8, 1);
      Atomics.store(ctl, 10, 1); // borrowed
      const until = Date.now() + 50;
      while (Date.now() < until) {}
      Atomics.store(ctl, 9, 1); // done with it
      Atomics.sub(ctl, 8, 1);
      `,
      { eval: true, workerData: sab },
    );
    const failed = new Promise((_, reject) => worker.on('error', reject));
    while (Atomics.load(owner.ctl, 10) === 0) await Promise.race([new Promise((r) => setTimeout(r, 1)), failed]);
    owner.close();
    owner.awaitFdUsers();
    expect(Atomics.load(owner.ctl, 9)).toBe(1); // not back before the borrower was done
    expect(borrower.borrowFd()).toBe(false); // closed: nobody borrows any more
    owner.awaitFdUsers(); // a refused borrow left no user behind
    await new Promise((r) => worker.once('exit', r));
  });

  it('the reads change threads: hand over, hand back (waking the waiting worker), and close releases a parked worker', async () => {
    const sab = PacketRing.allocate(4096);
    const worker = new PacketRing(sab);
    const main = new PacketRing(sab);
    expect(worker.mainReadsOffered()).toBe(false);
    main.offerMainReads(true);
    expect(worker.mainReadsOffered()).toBe(true);
    expect(main.mainReads()).toBe(false);
    expect(worker.waitHandBack()).toBeUndefined(); // not handed over: nothing to wait for
    worker.handOver();
    expect(main.mainReads()).toBe(true);
    // The main thread produces into the same ring while it reads; the consumer side sees it.
    expect(main.tryWrite(Buffer.from([7]))).toBe(true);
    main.publish();
    expect(main.shift()).toEqual(Buffer.from([7]));
    const back = worker.waitHandBack();
    expect(back).toBeInstanceOf(Promise);
    main.handBack();
    expect(await back).toBe('ok');
    expect(main.mainReads()).toBe(false);
    worker.handOver();
    const parked = worker.waitHandBack();
    main.close(); // the interface ends while the worker is parked
    expect(await parked).toBe('ok');
    expect(worker.mainReadsOffered()).toBe(false);
    expect(worker.mainReads()).toBe(false);
  });
});
