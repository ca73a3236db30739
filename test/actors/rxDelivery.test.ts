import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { PacketRing } from '../../src/actors/packetRing.js';
import { RxDelivery, type ModeEvent } from '../../src/actors/rxDelivery.js';
import type { PacketBatch } from '../../src/actors/packetBatch.js';

/** A delivery over a fresh ring, with a producer end to feed it (no worker needed). */
function setup(poison = false) {
  const sab = PacketRing.allocate(1 << 16);
  const producer = new PacketRing(sab);
  const events: (ModeEvent | null)[] = [];
  const d = new RxDelivery(new PacketRing(sab), () => 'tun9', (e) => events.push(e), poison);
  const feed = (...seqs: number[]): void => {
    for (const s of seqs) expect(producer.tryWrite(Buffer.from([s, 0xee]))).toBe(true);
    producer.publish();
  };
  return { d, producer, events, feed };
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('RxDelivery', () => {
  it('active true delivers every packet in order, once', async () => {
    const { d, feed } = setup();
    const got: number[] = [];
    d.packets.subscribe((p) => got.push(p[0]!));
    d.setMode(true);
    feed(1, 2, 3);
    await tick();
    feed(4);
    await tick();
    expect(got).toEqual([1, 2, 3, 4]);
    expect(d.delivered).toBe(4);
    expect(d.mode).toBe(true);
  });

  it("'once' delivers one and turns passive without an event; N delivers N and says passive", async () => {
    const { d, events, feed } = setup();
    const got: number[] = [];
    d.packets.subscribe((p) => got.push(p[0]!));
    feed(1, 2, 3, 4, 5);
    d.setMode('once');
    await tick();
    expect(got).toEqual([1]);
    expect(d.active).toBe(false);
    expect(events).toEqual([{ type: 'active', mode: 'once' }, null]);
    d.setMode(2);
    d.setMode(1); // adds: 3 in all
    await tick();
    expect(got).toEqual([1, 2, 3, 4]);
    expect(events.slice(2)).toEqual([{ type: 'active', mode: 2 }, { type: 'active', mode: 3 }, { type: 'passive' }]);
  });

  it('a mode chosen inside a packets callback stands: no passive event, no re-arm', async () => {
    const { d, events, feed } = setup();
    const got: number[] = [];
    d.packets.subscribe((p) => {
      got.push(p[0]!);
      d.setMode(false);
    });
    d.setMode(1);
    feed(1, 2);
    await tick();
    expect(got).toEqual([1]);
    expect(events).toEqual([{ type: 'active', mode: 1 }, { type: 'active', mode: false }]);
  });

  it('recv() waiters are served in order; a switch to active rejects them with EINVAL and drops their abort listeners', async () => {
    const { d, feed } = setup();
    const ctl = new AbortController();
    const a = d.recv(65535, ctl.signal);
    const b = d.recv(1, undefined); // truncated to 1 byte
    feed(7, 8);
    expect((await a)[0]).toBe(7);
    expect(await b).toEqual(Buffer.from([8]));
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
    const c = d.recv(65535, ctl.signal);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
    d.setMode(true);
    await expect(c).rejects.toMatchObject({ code: 'EINVAL', syscall: 'recv', ifname: 'tun9' });
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });

  it('says it wants data only while someone waits: a recv on an empty ring, not an aborted one', async () => {
    const { d, producer } = setup();
    expect(producer.consumerWaiting()).toBe(false);
    const ctl = new AbortController();
    const p = d.recv(65535, ctl.signal);
    expect(producer.consumerWaiting()).toBe(true);
    ctl.abort(new Error('no longer'));
    await expect(p).rejects.toThrow('no longer');
    expect(producer.consumerWaiting()).toBe(false);
  });

  it('active mode with nobody subscribed wants nothing; a subscriber makes it want', () => {
    const { d, producer } = setup();
    d.setMode(true);
    d.pump();
    expect(producer.consumerWaiting()).toBe(false);
    const sub = d.packets.subscribe(() => {});
    d.pump();
    expect(producer.consumerWaiting()).toBe(true);
    sub.unsubscribe();
    d.pump();
    expect(producer.consumerWaiting()).toBe(false);
  });

  it('wakes a producer paused for lack of demand when it starts to wait', () => {
    const { d, producer } = setup();
    producer.setPaused(true);
    const seen = producer.ackCount();
    void d.recv(65535, undefined);
    expect(producer.ackCount()).not.toBe(seen); // the poke a paused worker waits for
  });

  it('close() rejects every waiter and delivers nothing more', async () => {
    const { d, feed } = setup();
    const p = d.recv(65535, undefined);
    d.close(new Error('ended'));
    await expect(p).rejects.toThrow('ended');
    feed(1);
    d.pump();
    expect(d.delivered).toBe(0);
  });

  describe('batches', () => {
    it('recvBatch hands out views of what the ring holds, up to max, and keeps them until released', async () => {
      const { d, producer, feed } = setup();
      feed(1, 2, 3, 4, 5);
      const b = await d.recvBatch(3, undefined);
      expect([...b].map((p) => p[0])).toEqual([1, 2, 3]);
      expect(b.bytes).toBe(6);
      expect(b.packet(0).buffer).toBe(producer.sab); // a view of the ring, not a copy
      const seen = producer.ackCount();
      b.release();
      expect(producer.ackCount()).not.toBe(seen); // the worker may reuse the room now
      expect(() => b.packet(0)).toThrow(/released/);
      const rest = await d.recvBatch(10, undefined);
      expect([...rest].map((p) => p[0])).toEqual([4, 5]);
      expect(d.delivered).toBe(5);
    });

    it('the next receive releases a batch still out, and takes the packets after it', async () => {
      const { d, feed } = setup();
      feed(1, 2, 3);
      const b = await d.recvBatch(2, undefined);
      expect((await d.recv(65535, undefined))[0]).toBe(3);
      expect(b.released).toBe(true);
    });

    it('a recvBatch on an empty ring waits for the next packets, in order with recv() waiters', async () => {
      const { d, feed } = setup();
      const a = d.recv(65535, undefined);
      const b = d.recvBatch(10, undefined);
      feed(1, 2, 3);
      expect((await a)[0]).toBe(1);
      expect([...(await b)].map((p) => p[0])).toEqual([2, 3]);
    });

    it('with poisoning on, a view kept past release shows 0xdb, not a later packet', async () => {
      const { d, feed } = setup(true);
      feed(1, 2);
      const b = await d.recvBatch(2, undefined);
      const kept = b.packet(0);
      expect(kept[0]).toBe(1);
      b.release();
      expect([...kept]).toEqual([0xdb, 0xdb]);
    });

    it('active mode with batches subscribers emits batches, counts credits per packet, and releases after the callback', async () => {
      const { d, events, feed } = setup();
      const sizes: number[] = [];
      let kept: PacketBatch | undefined;
      d.batches.subscribe((b) => {
        sizes.push(b.length);
        kept = b;
        expect(b.released).toBe(false);
      });
      const copies: number[] = [];
      d.packets.subscribe((p) => copies.push(p[0]!));
      feed(1, 2, 3, 4, 5);
      d.setMode(3);
      await tick();
      expect(sizes).toEqual([3]);
      expect(copies).toEqual([1, 2, 3]); // packets$ subscribers see the same packets, copied
      expect(kept?.released).toBe(true);
      expect(events.at(-1)).toEqual({ type: 'passive' });
      expect((await d.recv(65535, undefined))[0]).toBe(4);
    });
  });
});
