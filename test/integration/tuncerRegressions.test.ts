// Regressions of issue 10's review of the interface actor (defects 1, 2, 5, 6), each
// reproduced black-box through the public API against the kernel.
import { expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { filter, firstValueFrom } from 'rxjs';
import { Tuncer, TuncerClosedError, tunctl, type TunEvent } from '../../src/index.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, ifname, liveInterfaces } from '../helpers/kernel.js';

const live = liveInterfaces<Tuncer>();
async function make(opts: Parameters<typeof Tuncer.create>[0] = {}): Promise<Tuncer> {
  const t = await Tuncer.create({ mode: 'tun', name: ifname('r'), addresses: ['198.18.12.1/24'], ...opts });
  live.push(t);
  writeFileSync(`/proc/sys/net/ipv6/conf/${t.devname}/disable_ipv6`, '1'); // no more router solicitations
  // Take what the kernel sent before that from its queue, without waking the worker.
  await sleep(50);
  while (tunctl.read(t.getfd()));
  return t;
}
const echo = (seq: number): Buffer => buildIcmp4EchoRequest({ src: '198.18.12.2', dst: '198.18.12.1', id: 3, seq });
const isReply = (p: Buffer): boolean => parseIcmpEcho(p)?.type === 'reply';

/** Block this thread (no event loop turns) for `ms`. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the worker runs on; this thread learns nothing meanwhile */
  }
}



describeKernel('Tuncer regressions (issue 10)', () => {
  it('(1) getfd() fails once the interface has ended, instead of returning a number someone else may own', async () => {
    const t = await make();
    const fd = t.getfd();
    expect(fd).toBeGreaterThan(2);
    await t.destroy();
    expect(() => t.getfd()).toThrow(TuncerClosedError);
    // The number is free again: the next device may well get it, and must keep it to itself.
    const next = await make();
    expect(next.getfd()).toBeGreaterThan(2);
    expect(() => t.getfd()).toThrow(TuncerClosedError);
  });

  it('(2) setopt({active: false}) inside a packets$ callback emits no passive event, and the re-arm pattern stays off', async () => {
    const t = await make();
    const events: string[] = [];
    t.events$.subscribe((e: TunEvent) => {
      events.push(e.type === 'state' ? `state:${e.state}` : e.type);
      // The documented re-arm pattern: a passive event turns delivery back on.
      if (e.type === 'passive') t.setopt({ active: true });
    });
    const seen: number[] = [];
    t.packets$.subscribe((p) => {
      seen.push(parseIcmpEcho(p)?.seq ?? -1);
      t.setopt({ active: false });
    });
    t.setopt({ active: true });
    for (let i = 0; i < 3; i++) await t.send(echo(i));
    await sleep(100);
    expect(seen).toEqual([0]);
    expect(events).not.toContain('passive');
    expect(t.state).toBe('passive');
    // The rest wait for recv.
    expect(parseIcmpEcho(await t.recv({ signal: AbortSignal.timeout(2000) }))?.seq).toBe(1);
  });

  it.each(['throw', 'fatal'] as const)('(5) trySend refuses packets once the worker has failed (%s), before this thread hears of it', async (fault) => {
    const t = await make();
    const exited = t.exit;
    void t.injectFault(fault);
    busyWait(300); // the worker fails meanwhile; this thread has not run its message or 'error' handlers
    expect(() => t.trySend(echo(1))).toThrow(TuncerClosedError);
    await expect(t.send(echo(2))).rejects.toBeInstanceOf(TuncerClosedError);
    expect(await exited).toBeInstanceOf(Error);
    expect(t.state).toBe('failed');
  });

  it('(6) recv() waiters rejected by a switch to active mode drop their abort listeners', async () => {
    const t = await make();
    while (await t.recv({ signal: AbortSignal.timeout(50) }).catch(() => null)); // nothing left to take at once
    const ctl = new AbortController();
    const pending = t.recv({ signal: ctl.signal });
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
    t.setopt({ active: true });
    await expect(pending).rejects.toMatchObject({ code: 'EINVAL', syscall: 'recv' });
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });

  it('recv() waiters rejected by the end of the interface drop their abort listeners too', async () => {
    const t = await make();
    const ctl = new AbortController();
    const pending = t.recv({ signal: ctl.signal });
    await t.destroy();
    await expect(pending).rejects.toBeInstanceOf(TuncerClosedError);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });

  it('passive mode reads on demand: packets wait in the kernel until recv() or tunctl.read(getfd())', async () => {
    const t = await make();
    tunctl.write(t.getfd(), echo(1));
    await sleep(100);
    expect((await t.stats()).rxPackets).toBe(0); // the worker read nothing
    const deadline = Date.now() + 2000;
    let reply: Buffer | null = null;
    while (!reply && Date.now() < deadline) {
      reply = tunctl.read(t.getfd());
      if (!reply) await sleep(5);
    }
    expect(reply && parseIcmpEcho(reply)).toMatchObject({ type: 'reply', seq: 1 });
    // And recv() makes the worker read.
    await t.send(echo(2));
    expect(parseIcmpEcho(await t.recv({ signal: AbortSignal.timeout(2000) }))?.seq).toBe(2);
    expect((await t.stats()).rxPackets).toBe(1);
  });

  it('an active interface without a subscriber reads nothing; a subscriber makes it read', async () => {
    const t = await make({ active: true });
    await t.send(echo(1));
    await sleep(100);
    expect((await t.stats()).rxPackets).toBe(0);
    const got = firstValueFrom(t.packets$.pipe(filter(isReply)));
    expect(parseIcmpEcho(await got)?.seq).toBe(1);
  });
});
