import { describe, expect, it } from 'vitest';
import { PacketRing } from '../../src/actors/packetRing.js';
import { RxDelivery, type ModeEvent } from '../../src/actors/rxDelivery.js';
import { MergedDelivery } from '../../src/actors/mergedDelivery.js';
import type { PacketBatch } from '../../src/actors/packetBatch.js';

/** N queues, each a passive RxDelivery over a ring with a producer end, merged (no worker needed). */
function setup(n: number, pull = 1024) {
  const queues = Array.from({ length: n }, () => {
    const sab = PacketRing.allocate(1 << 16);
    const producer = new PacketRing(sab);
    const d = new RxDelivery(new PacketRing(sab), () => 'mq9', () => {});
    return { producer, d, consumer: new PacketRing(sab) };
  });
  const events: (ModeEvent | null)[] = [];
  const m = new MergedDelivery(() => 'mq9', (e) => events.push(e), pull);
  m.setSources(queues.map((q) => (max: number, signal: AbortSignal) => q.d.recvBatch(max, signal)));
  /** Packets [queue, seq] into queue `q`'s ring. */
  const feed = (q: number, ...seqs: number[]): void => {
    const p = queues[q]!.producer;
    for (const s of seqs) expect(p.tryWrite(Buffer.from([q, s, 0xee]))).toBe(true);
    p.publish();
  };
  return { m, queues, events, feed };
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const ids = (b: PacketBatch): string[] => [...b].map((p) => `${p[0]}:${p[1]}`);

describe('MergedDelivery', () => {
  it('active true merges every queue, each queue in its order, every packet once', async () => {
    const { m, feed } = setup(3);
    const got: string[] = [];
    m.packets.subscribe((p) => got.push(`${p[0]}:${p[1]}`));
    m.setMode(true);
    feed(0, 1, 2);
    feed(2, 1);
    feed(1, 1, 2, 3);
    await tick();
    feed(0, 3);
    await tick();
    expect(got.sort()).toEqual(['0:1', '0:2', '0:3', '1:1', '1:2', '1:3', '2:1'].sort());
    for (const q of [0, 1, 2]) {
      const mine = got.filter((s) => s.startsWith(`${q}:`));
      expect(mine).toEqual([...mine].sort());
    }
    expect(m.delivered).toBe(7);
  });

  it("counts credits across queues: N delivers exactly N and says passive; 'once' one", async () => {
    const { m, events, feed } = setup(2);
    const got: string[] = [];
    m.batches.subscribe((b) => got.push(...ids(b)));
    feed(0, 1, 2, 3);
    feed(1, 1, 2, 3);
    m.setMode(4);
    await tick();
    await tick();
    expect(got).toHaveLength(4);
    expect(m.mode).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'passive' });
    m.setMode('once');
    await tick();
    expect(got).toHaveLength(5);
    expect(m.mode).toBe(false);
    // The rest are still there for recv, none lost.
    const rest = ids(await m.recvBatch(10, undefined));
    expect(rest).toHaveLength(1);
    expect([...got, ...rest].sort()).toEqual(['0:1', '0:2', '0:3', '1:1', '1:2', '1:3']);
  });

  it('recvBatch hands out parts of a queue batch no bigger than max; recv copies one packet', async () => {
    const { m, feed } = setup(2);
    feed(1, 1, 2, 3, 4, 5);
    const a = await m.recvBatch(2, undefined);
    expect(ids(a)).toEqual(['1:1', '1:2']);
    const b = await m.recvBatch(2, undefined);
    expect(a.released).toBe(true); // the next receive released the previous part
    expect(ids(b)).toEqual(['1:3', '1:4']);
    const p = await m.recv(2, undefined);
    expect([...p]).toEqual([1, 5]);
    expect(m.delivered).toBe(5);
  });

  it('a part is a view whose records a tx ring can copy whole (start/end cover exactly its packets)', async () => {
    const { m, feed } = setup(1);
    feed(0, 1, 2, 3);
    const part = await m.recvBatch(2, undefined);
    const ring = new PacketRing(PacketRing.allocate(4096));
    expect(ring.tryWriteRecords(part.data, part.start, part.end)).toBe(true);
    ring.publish();
    expect([...ring.shift()!]).toEqual([0, 1, 0xee]);
    expect([...ring.shift()!]).toEqual([0, 2, 0xee]);
    expect(ring.shift()).toBeNull();
  });

  it('passive with nobody waiting stops asking the queues: packets stay in their rings', async () => {
    const { m, queues, feed } = setup(2);
    const ac = new AbortController();
    const pending = m.recv(100, ac.signal);
    ac.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    await tick();
    await tick();
    feed(0, 1);
    await tick();
    // Nobody took it off the ring: the queue's delivery has no waiter any more.
    expect(queues[0]!.d.delivered).toBe(0);
    expect([...(await m.recv(100, undefined))]).toEqual([0, 1, 0xee]);
  });

  it('active mode rejects pending receives with EINVAL; close rejects them with the error', async () => {
    const { m } = setup(2);
    const r = m.recv(100, undefined);
    m.setMode(true);
    await expect(r).rejects.toMatchObject({ code: 'EINVAL' });
    m.setMode(false);
    const r2 = m.recvBatch(10, undefined);
    m.close(new Error('ended'));
    await expect(r2).rejects.toThrow('ended');
  });
});
