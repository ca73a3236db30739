import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Supervisor, tuncerChild, Tuncer, type TuncerHandle, type SupervisorEvent, type TuncerHandleEvent } from '../../src/index.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, expectNoLeak, leakBaseline, type LeakBaseline, devExists, ifname, openFds, sysfs, tunDevices } from '../helpers/kernel.js';

let sups: Supervisor<Tuncer, TuncerHandle>[] = [];
let baseline: LeakBaseline;
beforeEach(async () => {
  baseline = await leakBaseline();
});
afterEach(async () => {
  await Promise.all(sups.splice(0).map((s) => s.stop().catch(() => undefined)));
});


function spec(name: string, net: number, extra: Parameters<typeof tuncerChild>[0] = {}) {
  return tuncerChild({ name, mode: 'tun', addresses: [`198.18.${net}.1/24`], ...extra });
}

async function start(opts: Parameters<typeof Supervisor.start<Tuncer, TuncerHandle>>[0]): Promise<{ sup: Supervisor<Tuncer, TuncerHandle>; events: SupervisorEvent[] }> {
  const events: SupervisorEvent[] = [];
  const sup = await Supervisor.start<Tuncer, TuncerHandle>({ ...opts, observer: { next: (e) => events.push(e) } });
  sups.push(sup);
  return { sup, events };
}

/** Ping the interface's own address through the tun; resolves with the reply's seq. */
async function ping(t: Tuncer, net: number, seq: number): Promise<number> {
  writeFileSync(`/proc/sys/net/ipv6/conf/${t.devname}/disable_ipv6`, '1');
  await t.send(buildIcmp4EchoRequest({ src: `198.18.${net}.2`, dst: `198.18.${net}.1`, id: net, seq }));
  const signal = AbortSignal.timeout(3000);
  for (;;) {
    const e = parseIcmpEcho(await t.recv({ signal }));
    if (e?.type === 'reply' && e.seq === seq) return e.seq;
  }
}

/** Block this thread (no event loop turns) for `ms`: workers run on, and their messages wait. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* nothing */
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describeKernel('Supervisor with real interfaces', () => {
  it('restarts a crashed interface configured as before; its handle keeps flowing', async () => {
    const name = ifname('s');
    const { sup, events } = await start({ strategy: 'one_for_one', intensity: 3, period: 5, children: [spec(name, 20, { mtu: 1400 })] });
    const first = await sup.whenRunning(name);
    expect(await ping(first, 20, 1)).toBe(1);
    const handle = sup.child(name);
    expect(sup.child(name)).toBe(handle); // one handle per child
    const hev: TuncerHandleEvent[] = [];
    handle.events$.subscribe((e) => hev.push(e));
    const packets: Buffer[] = [];
    handle.packets$.subscribe((p) => packets.push(p));
    handle.setopt({ active: true });

    await first.injectFault('throw');
    await until(() => events.some((e) => e.type === 'child.started' && e.restart));
    const second = await sup.whenRunning(name);
    expect(second).not.toBe(first);
    expect(second.devname).toBe(name);
    expect(sysfs(name, 'mtu')).toBe('1400');
    expect(second.state).toBe('active'); // the handle's setting came back with it
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    await handle.send(buildIcmp4EchoRequest({ src: '198.18.20.2', dst: '198.18.20.1', id: 20, seq: 2 }));
    await until(() => packets.some((p) => parseIcmpEcho(p)?.seq === 2));
    expect(hev.map((e) => e.type)).toEqual(expect.arrayContaining(['exit', 'restarted']));
    expect(events.filter((e) => e.type === 'child.exited').map((e) => (e as { abnormal: boolean }).abnormal)).toEqual([true]);
  });

  it('credits given through a handle are not renewed by a restart: the new instance is passive until re-armed', async () => {
    const name = ifname('k');
    const { sup, events } = await start({ strategy: 'one_for_one', intensity: 3, children: [spec(name, 30)] });
    const handle = sup.child(name);
    const first = await sup.whenRunning(name);
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    const hev: TuncerHandleEvent[] = [];
    handle.events$.subscribe((e) => hev.push(e));
    const packets: Buffer[] = [];
    handle.packets$.subscribe((p) => packets.push(p));
    handle.setopt({ active: 1 });
    await handle.send(buildIcmp4EchoRequest({ src: '198.18.30.2', dst: '198.18.30.1', id: 30, seq: 1 }));
    await until(() => packets.length > 0 && first.state === 'passive'); // the one credit is spent
    expect(packets).toHaveLength(1);

    await first.injectFault('throw');
    await until(() => events.some((e) => e.type === 'child.started' && e.restart));
    const second = await sup.whenRunning(name);
    expect(second).not.toBe(first);
    expect(second.state).toBe('passive'); // not handed the spent credit again
    const restarted = hev.findIndex((e) => e.type === 'restarted');
    expect(restarted).toBeGreaterThanOrEqual(0);
    expect(hev.slice(restarted).map((e) => e.type)).toContain('passive'); // the cue to re-arm

    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    await handle.send(buildIcmp4EchoRequest({ src: '198.18.30.2', dst: '198.18.30.1', id: 30, seq: 2 }));
    // The kernel answered; a passive instance leaves the reply in the kernel's queue, undelivered.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(packets).toHaveLength(1);
    expect((await second.stats()).delivered).toBe(0);

    handle.setopt({ active: 16 }); // re-armed: what waited is delivered
    await until(() => packets.some((p) => parseIcmpEcho(p)?.seq === 2));
    expect(packets.filter((p) => parseIcmpEcho(p)?.type === 'reply').map((p) => parseIcmpEcho(p)?.seq)).toContain(2);
  });

  it('handle send/recv called in the window after a crash wait for the restart instead of spinning', async () => {
    const name = ifname('q');
    const { sup } = await start({ strategy: 'one_for_one', intensity: 3, children: [spec(name, 29)] });
    const handle = sup.child(name);
    const first = await sup.whenRunning(name);
    await first.injectFault('throw');
    await until(() => first.state === 'failed', 3000);
    const timer = new Promise((resolve) => setTimeout(resolve, 50, 'timers still run'));
    const sent = handle.send(buildIcmp4EchoRequest({ src: '198.18.29.2', dst: '198.18.29.1', id: 29, seq: 9 }), AbortSignal.timeout(5000));
    expect(await timer).toBe('timers still run');
    await sent;
    const second = await sup.whenRunning(name);
    expect(second).not.toBe(first);
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    for (;;) {
      const e = parseIcmpEcho(await handle.recv({ signal: AbortSignal.timeout(3000) }));
      if (e?.type === 'reply') {
        expect(e.seq).toBe(9);
        break;
      }
    }
  });

  it('one_for_all restarts every sibling; rest_for_one the later ones only', async () => {
    const [a, b, c] = [ifname('a'), ifname('b'), ifname('c')];
    const all = await start({ strategy: 'one_for_all', intensity: 5, children: [spec(a, 21), spec(b, 22)] });
    const [a1, b1] = [await all.sup.whenRunning(a), await all.sup.whenRunning(b)];
    await b1.injectFault('throw');
    await until(() => all.events.filter((e) => e.type === 'child.started' && e.restart).length === 2);
    const [a2, b2] = [await all.sup.whenRunning(a), await all.sup.whenRunning(b)];
    expect(a2).not.toBe(a1);
    expect(b2).not.toBe(b1);
    expect(await ping(a2, 21, 3)).toBe(3);
    await all.sup.stop();

    const rest = await start({ strategy: 'rest_for_one', intensity: 5, children: [spec(a, 21), spec(b, 22), spec(c, 23)] });
    const [ra, rb, rc] = [await rest.sup.whenRunning(a), await rest.sup.whenRunning(b), await rest.sup.whenRunning(c)];
    await rb.injectFault('exit');
    await until(() => rest.events.filter((e) => e.type === 'child.started' && e.restart).length === 2);
    expect(await rest.sup.whenRunning(a)).toBe(ra);
    expect(await rest.sup.whenRunning(b)).not.toBe(rb);
    expect(await rest.sup.whenRunning(c)).not.toBe(rc);
    const restarted = rest.events.filter((e) => e.type === 'child.started' && e.restart).map((e) => (e as { id: string }).id);
    expect(restarted).toEqual([b, c]);
    expect(await ping(await rest.sup.whenRunning(c), 23, 4)).toBe(4);
  });

  it('an intensity overrun stops everything, closing every fd and removing every device', async () => {
    const [a, b] = [ifname('i'), ifname('j')];
    const { sup, events } = await start({ strategy: 'one_for_one', intensity: 1, period: 10, children: [spec(a, 24), spec(b, 25)] });
    await (await sup.whenRunning(a)).injectFault('throw');
    await until(() => events.some((e) => e.type === 'child.started' && e.restart));
    await (await sup.whenRunning(a)).injectFault('throw');
    const reason = await sup.exit;
    expect(reason).toBe('shutdown');
    expect(events.some((e) => e.type === 'supervisor.max_intensity')).toBe(true);
    expect(devExists(a) || devExists(b)).toBe(false);
    await expectNoLeak(baseline);
  });

  it('a persistent device is re-attached after a crash, not re-created', async () => {
    const name = ifname('r');
    const { sup, events } = await start({ strategy: 'one_for_one', intensity: 3, children: [spec(name, 26, { persist: true })] });
    const index = sysfs(name, 'ifindex');
    await (await sup.whenRunning(name)).injectFault('throw');
    await until(() => events.some((e) => e.type === 'child.started' && e.restart));
    expect(sysfs(name, 'ifindex')).toBe(index); // the same device
    expect(await ping(await sup.whenRunning(name), 26, 5)).toBe(5);
    const t = await sup.whenRunning(name);
    await t.persist(false);
    await sup.stop();
    expect(devExists(name)).toBe(false);
  });

  it('a supervisor shut down while a child waits to restart leaves nothing behind', async () => {
    const name = ifname('w');
    const { sup, events } = await start({
      strategy: 'one_for_one',
      intensity: 5,
      backoff: { minMs: 400, maxMs: 1000, randomFactor: 0, resetAfterMs: 10_000 },
      children: [spec(name, 27)],
    });
    await (await sup.whenRunning(name)).injectFault('throw');
    await until(() => events.some((e) => e.type === 'child.restarting'));
    await sup.stop();
    await sleep(600); // past the backoff: no late start may happen
    expect(events.filter((e) => e.type === 'child.started' && e.restart)).toHaveLength(0);
    expect(devExists(name)).toBe(false);
    await expectNoLeak(baseline);
  });

  it('a kill that lands while a group restart stops the siblings ends at once (one_for_all, rest_for_one)', async () => {
    // The kill overtakes the reply to a sibling's close; with room in the pool, that sibling's
    // thread used to go back to the pool and the kill waited for its exit for ever.
    const { workerPool } = await import('../../src/actors/workerPool.js');
    workerPool.configure({ spares: 3 });
    try {
      for (const strategy of ['one_for_all', 'rest_for_one'] as const) {
        for (let i = 0; i < 4; i++) {
          const names = [0, 1, 2].map(() => ifname('k'));
          let killed: Promise<number> | undefined;
          const sup: Supervisor<Tuncer, TuncerHandle> = await Supervisor.start<Tuncer, TuncerHandle>({
            strategy,
            intensity: 100,
            children: names.map((name, k) => spec(name, 40 + k, { shutdown: 2000 })),
            observer: {
              next: (e) => {
                if (e.type !== 'child.restarting' || killed) return;
                // A sibling's stop has just been asked for; its worker answers while this thread is busy.
                killed = new Promise((resolve) =>
                  setImmediate(() => {
                    busyWait(30);
                    const t0 = Date.now();
                    void sup.kill().then(() => resolve(Date.now() - t0));
                  }),
                );
              },
            },
          });
          sups.push(sup);
          await (await sup.whenRunning(strategy === 'one_for_all' ? names[2]! : names[0]!)).injectFault('exit');
          await until(() => killed !== undefined);
          const ms = await Promise.race([killed!, sleep(5000).then(() => Infinity)]);
          expect(ms, `${strategy}, try ${i}: kill took ${ms} ms`).toBeLessThan(2000);
          expect(names.filter(devExists)).toEqual([]);
        }
      }
    } finally {
      workerPool.configure({});
    }
    await expectNoLeak(baseline);
  }, 60_000);

  it('terminateChild kills a worker that ignores the stop after its shutdown time', async () => {
    const name = ifname('h');
    const { sup } = await start({ strategy: 'one_for_one', children: [spec(name, 28, { shutdown: 300 })] });
    const t = await sup.whenRunning(name);
    await t.injectFault('hang');
    await sleep(50); // let the worker start spinning
    const started = Date.now();
    const r = await sup.terminateChild(name);
    const took = Date.now() - started;
    expect(r.ok).toBe(true);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(await t.exit).toBe('killed');
    expect(devExists(name)).toBe(false);
    expect(sup.whichChildren()).toEqual([{ id: name, child: undefined, type: 'worker' }]);
    expect((await sup.restartChild(name)).ok).toBe(true);
    expect(devExists(name)).toBe(true);
  });
});
