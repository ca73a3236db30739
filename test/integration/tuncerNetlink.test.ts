// Tuncer over rtnetlink: any number of addresses, routes, the kernel's link and address
// events on events$, and an interface deleted from outside ending with a typed reason and
// coming back, configured, under a supervisor.
import { expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { filter, firstValueFrom } from 'rxjs';
import { Supervisor, Tuncer, TunError, tuncerChild, type TunEvent } from '../../src/index.js';
import { describeKernel, devExists, ifname, ipAddrs, liveInterfaces, sh } from '../helpers/kernel.js';

const live = liveInterfaces<Tuncer>();

const routesOf = (dev: string): { dst: string; gateway?: string; metric?: number }[] =>
  JSON.parse(sh('ip', ['-j', 'route', 'show', 'dev', dev])) as { dst: string; gateway?: string; metric?: number }[];

async function until(ok: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(10);
  return ok();
}

describeKernel('Tuncer over rtnetlink', () => {
  it('configures any number of addresses and the routes it is given', async () => {
    const t = await Tuncer.create({
      mode: 'tun',
      name: ifname('nl'),
      addresses: ['198.18.90.1/24', '198.18.93.1/24', 'fd00:90::1/64'],
      routes: ['198.18.91.0/24', { dst: '198.18.92.0/24', via: '198.18.90.2', metric: 7 }],
    });
    live.push(t);
    expect(ipAddrs(t.devname).map((a) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['198.18.90.1/24', '198.18.93.1/24', 'fd00:90::1/64']));
    const routes = routesOf(t.devname);
    expect(routes).toEqual(expect.arrayContaining([expect.objectContaining({ dst: '198.18.91.0/24' }), expect.objectContaining({ dst: '198.18.92.0/24', gateway: '198.18.90.2', metric: 7 })]));
  });

  it('a tun\'s IPv6 addresses are usable at ready (no DAD: nothing tentative); a tap\'s go through DAD', async () => {
    const flagsOf = (dev: string): Record<string, boolean> => {
      const out = JSON.parse(sh('ip', ['-j', '-6', 'addr', 'show', 'dev', dev])) as { addr_info: Record<string, unknown>[] }[];
      const a = out[0]?.addr_info.find((x) => x.local === 'fd00:94::1') ?? {};
      return { nodad: a.nodad === true, tentative: a.tentative === true };
    };
    const tun = await Tuncer.create({ mode: 'tun', name: ifname('nl'), addresses: ['fd00:94::1/64'] });
    live.push(tun);
    expect(flagsOf(tun.devname)).toEqual({ nodad: true, tentative: false });
    const tap = await Tuncer.create({ mode: 'tap', name: ifname('nl'), addresses: ['fd00:94::1/64'] });
    live.push(tap);
    expect(flagsOf(tap.devname).nodad).toBe(false);
  });

  it('refuses a malformed route before starting anything', async () => {
    await expect(Tuncer.create({ mode: 'tun', routes: ['198.18.300.0/24'] })).rejects.toBeInstanceOf(RangeError);
    await expect(Tuncer.create({ mode: 'tun', routes: ['198.18.91.1/24'] })).rejects.toThrow(/host bits/);
    await expect(Tuncer.create({ mode: 'tun', routes: [{ dst: '198.18.91.0/24', dev: 'x' } as never] })).rejects.toBeInstanceOf(TypeError);
  });

  it('reports link down, an MTU change and an address added from outside on events$', async () => {
    const t = await Tuncer.create({ mode: 'tun', name: ifname('nl'), addresses: ['198.18.94.1/24'] });
    live.push(t);
    const events: TunEvent[] = [];
    t.events$.subscribe((e) => events.push(e));
    sh('ip', ['link', 'set', t.devname, 'down']);
    expect(await until(() => events.some((e) => e.type === 'link' && !e.up))).toBe(true);
    sh('ip', ['link', 'set', t.devname, 'mtu', '1400']);
    expect(await until(() => events.some((e) => e.type === 'link' && e.mtu === 1400))).toBe(true);
    sh('ip', ['addr', 'add', '198.18.95.1/24', 'dev', t.devname]);
    expect(await until(() => events.some((e) => e.type === 'address' && e.op === 'add' && e.address === '198.18.95.1' && e.prefix === 24))).toBe(true);
    expect(t.state).toBe('passive');
  });

  it('an interface deleted from outside ends failed with ENODEV from rtnetlink', async () => {
    const t = await Tuncer.create({ mode: 'tun', name: ifname('nl'), addresses: ['198.18.96.1/24'] });
    sh('ip', ['link', 'del', t.devname]);
    const reason = await t.exit;
    expect(reason).toBeInstanceOf(TunError);
    expect(reason).toMatchObject({ code: 'ENODEV', syscall: 'rtnetlink(RTM_DELLINK)', ifname: t.devname });
    expect(t.state).toBe('failed');
  });

  it('a supervised interface deleted from outside comes back with its addresses and routes', async () => {
    const name = ifname('nl');
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: 3,
      children: [tuncerChild({ name, mode: 'tun', addresses: ['198.18.97.1/24', 'fd00:97::1/64'], routes: ['198.18.98.0/24'] })],
    });
    try {
      const first = await sup.whenRunning(name);
      const restarted = firstValueFrom(sup.events$.pipe(filter((e) => e.type === 'child.started' && e.restart)));
      const t0 = Date.now();
      sh('ip', ['link', 'del', name]);
      await restarted;
      const second = await sup.whenRunning(name);
      expect(second).not.toBe(first);
      expect(await first.exit).toMatchObject({ code: 'ENODEV' });
      expect(devExists(name)).toBe(true);
      expect(ipAddrs(name).map((a) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['198.18.97.1/24', 'fd00:97::1/64']));
      expect(routesOf(name)).toEqual(expect.arrayContaining([expect.objectContaining({ dst: '198.18.98.0/24' })]));
      console.log(`[netlink] deleted from outside to back, configured: ${Date.now() - t0} ms`);
    } finally {
      await sup.stop();
    }
  });
});
