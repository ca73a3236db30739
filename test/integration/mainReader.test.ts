// Reads moving to the main thread against the kernel: a worker that read its fd empty hands
// the reads over (one thread wake-up per packet while traffic is sparse), a full batch hands
// them back, order holds across both moves, and the epoll instance this thread watches with
// is closed on every way out.
import { expect, it, vi } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tuncer } from '../../src/index.js';
import { loadNative } from '../../src/native/binding.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, ifname, liveInterfaces, quieten, untilSteady } from '../helpers/kernel.js';

const live = liveInterfaces<Tuncer>();
async function make(): Promise<Tuncer> {
  const t = await Tuncer.create({ mode: 'tun', name: ifname('r'), addresses: ['198.18.28.1/24'] });
  live.push(t);
  await quieten(t.devname, t.getfd());
  return t;
}
const echo = (seq: number): Buffer => buildIcmp4EchoRequest({ src: '198.18.28.2', dst: '198.18.28.1', id: 8, seq });
const seqOf = (p: Buffer): number => parseIcmpEcho(p)?.seq ?? -1;
/** One echo round trip in passive mode: the reply's sequence number. */
async function roundTrip(t: Tuncer, seq: number): Promise<number> {
  const reply = t.recv({ signal: AbortSignal.timeout(2000) });
  expect(t.trySend(echo(seq))).toBe(true);
  return seqOf(await reply);
}

describeKernel('reads on the main thread while traffic is sparse', () => {
  it('a waiting recv() on an idle interface gets its packet read by the main thread: the worker handed over', async () => {
    const t = await make();
    expect(await roundTrip(t, 0)).toBe(0); // the first: read by the worker, which then hands over
    const before = await t.stats();
    expect(before.rxHandovers).toBe(1);
    for (let seq = 1; seq <= 5; seq++) {
      expect(await roundTrip(t, seq)).toBe(seq);
      await sleep(20); // idle between round trips
    }
    const s = await t.stats();
    expect(s.rxDirect - before.rxDirect).toBe(5); // every reply: read here, no thread in between
    expect(s.rxPackets).toBe(6); // counted once
    expect(s.delivered).toBe(6);
    expect(s.rxHandovers).toBe(1); // the reads stayed here
  });

  it('packets$ in active mode is served the same way; past the credits, the rest waits for recv()', async () => {
    const t = await make();
    await roundTrip(t, 0); // the worker has handed over
    const got: number[] = [];
    t.packets$.subscribe((p) => got.push(seqOf(p)));
    t.setopt({ active: 3 });
    for (let seq = 1; seq <= 5; seq++) t.trySend(echo(seq)) || (await t.send(echo(seq)));
    await untilSteady(() => got.length === 3, 2000);
    await sleep(100);
    expect(got).toEqual([1, 2, 3]);
    expect(t.state).toBe('passive');
    // Read at most a batch ahead, as the worker does: the other two wait, in order.
    expect([await t.recv(), await t.recv()].map(seqOf)).toEqual([4, 5]);
    expect((await t.stats()).rxDirect).toBeGreaterThanOrEqual(5);
  });

  it('one read call per sparse packet: the read that found the fd empty is not made again before waiting', async () => {
    const t = await make();
    await roundTrip(t, 0); // the main thread reads now
    const got: number[] = [];
    t.packets$.subscribe((p) => got.push(seqOf(p)));
    t.setopt({ active: true });
    await sleep(20);
    // The worker has its own binding; this spy sees the main thread's reads only.
    const reads = vi.spyOn(loadNative(), 'readRecords');
    try {
      for (let seq = 1; seq <= 5; seq++) {
        expect(t.trySend(echo(seq))).toBe(true);
        await untilSteady(() => got.length === seq, 2000);
        await sleep(20);
      }
      expect(got).toEqual([1, 2, 3, 4, 5]);
      // Each wake-up reads the reply and meets EAGAIN in the same call, then waits.
      expect(reads).toHaveBeenCalledTimes(5);
    } finally {
      reads.mockRestore();
    }
  });

  it('a backlog of a full batch or more goes back to the worker, and every packet arrives in order', async () => {
    const t = await make();
    await roundTrip(t, 0); // the main thread reads now
    const before = await t.stats();
    // Nobody asks while 400 replies queue in the kernel (txqueuelen 500).
    const n = 400;
    const sent = t.sendBatch(Array.from({ length: n }, (_, i) => echo(i + 1)));
    expect(sent).toBe(n);
    await sleep(200);
    const seqs: number[] = [];
    while (seqs.length < n) seqs.push(seqOf(await t.recv({ signal: AbortSignal.timeout(3000) })));
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const s = await t.stats();
    expect(s.rxPackets - before.rxPackets).toBe(n);
    // The main thread read one full batch (256) and handed back; the worker read the rest and,
    // once empty, handed over again.
    expect(s.rxDirect - before.rxDirect).toBeGreaterThanOrEqual(256);
    expect(s.rxDirect - before.rxDirect).toBeLessThan(n);
    expect(s.rxHandovers - before.rxHandovers).toBeGreaterThanOrEqual(1);
  });

  it('destroy() and a crash of the worker while the main thread reads: the device goes, no fd is left', async () => {
    for (const end of ['destroy', 'crash'] as const) {
      const t = await make();
      await roundTrip(t, 1);
      const waiting = t.recv().catch((e: Error) => e.name); // the main thread watches the fd
      await sleep(20);
      if (end === 'destroy') await t.destroy();
      else await t.injectFault('throw');
      await t.exit;
      live.splice(live.indexOf(t), 1);
      expect(await waiting).toBe('TuncerClosedError');
      expect(await untilSteady(() => !devExists(t.devname), 3000)).toBe(true);
    }
  });
});
