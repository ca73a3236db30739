/**
 * The rtnetlink calls against the kernel, each checked with `ip -j` (iproute2 reads the
 * same tables through its own netlink code): addresses, routes, links, the IPv6 traps,
 * events from changes made by `ip`, a namespace given by path, and a watch in a worker.
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { firstValueFrom, filter } from 'rxjs';
import { linkEvents, tunctl, TunError, type tunctl as T } from '../../src/index.js';
import { describeKernel, ifname, ipAddrs, leakBaseline, expectNoLeak, sh, type LeakBaseline } from '../helpers/kernel.js';

const opened: number[] = [];
const watches: T.LinkWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  for (const fd of opened.splice(0)) {
    try {
      tunctl.close(fd);
    } catch {
      /* closed by the test */
    }
  }
});

/** A fresh tun, closed after the test. */
function tun(prefix = 'n'): string {
  const h = tunctl.create(ifname(prefix), { mode: 'tun' });
  opened.push(h.fd);
  return h.name;
}

function ipJson<R>(...args: string[]): R[] {
  return JSON.parse(sh('ip', ['-j', ...args])) as R[];
}

interface IpRoute { dst: string; dev?: string; gateway?: string; metric?: number; table?: string; protocol?: string; scope?: string }

/** `ip -j route` writes a host route without its /32 or /128, a default route as 'default'. */
function ipDst(r: { dst: string; prefix: number; family: 4 | 6 }): string {
  if (r.prefix === 0) return 'default';
  return r.prefix === (r.family === 4 ? 32 : 128) ? r.dst.split('/')[0]! : r.dst;
}

/** Events collected by a watch, and a way to wait for one (the kernel sends them at once; 5 s bounds a failure). */
function collect(opts: T.WatchLinksOptions = {}): { events: T.NetlinkEvent[]; next(match: (e: T.NetlinkEvent) => boolean): Promise<T.NetlinkEvent>; watch: T.LinkWatch } {
  const events: T.NetlinkEvent[] = [];
  const waiters: { match: (e: T.NetlinkEvent) => boolean; resolve: (e: T.NetlinkEvent) => void }[] = [];
  const watch = tunctl.watchLinks((e) => {
    events.push(e);
    for (const w of waiters.splice(0)) if (w.match(e)) w.resolve(e);
    else waiters.push(w);
  }, opts);
  watches.push(watch);
  const next = (match: (e: T.NetlinkEvent) => boolean): Promise<T.NetlinkEvent> => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within 5 s; got ${JSON.stringify(events.map((e) => [e.type, 'op' in e ? e.op : '']))}`)), 5000);
      waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  };
  return { events, next, watch };
}

/** A process holding another network namespace, once it is really in it. */
async function otherNetns(): Promise<{ path: string; holder: ChildProcess }> {
  const holder = spawn('unshare', ['--net', '--', 'sleep', '60'], { stdio: 'ignore' });
  const mine = readlinkSync('/proc/self/ns/net');
  const path = `/proc/${holder.pid}/ns/net`;
  for (let i = 0; i < 500; i++) {
    try {
      if (readlinkSync(path) !== mine) return { path, holder };
    } catch {
      /* not started yet */
    }
    await sleep(10);
  }
  holder.kill('SIGKILL');
  throw new Error('unshare --net did not start');
}

let baseline: LeakBaseline;
beforeAll(async () => {
  baseline = await leakBaseline();
});

describeKernel('rtnetlink against the kernel', () => {
  it('adds any number of IPv4 and IPv6 addresses, with peers, as `ip addr` shows them, and removes any of them', () => {
    const name = tun();
    tunctl.addAddress(name, '198.19.150.1/24');
    tunctl.addAddress(name, '198.19.151.1/28'); // a second IPv4 address: the ioctls could not
    tunctl.addAddress(name, '198.19.152.1/32', { peer: '198.19.152.2' });
    tunctl.addAddress(name, 'fd00:150::1/64');
    tunctl.addAddress(name, 'fd00:151::1/128', { peer: 'fd00:151::2' }); // an IPv6 peer: EAFNOSUPPORT by ioctl
    tunctl.addAddress(name, '198.19.153.1'); // the default prefix, /24
    const ours = <A extends { address: string }>(list: A[]): A[] => list.filter((a) => !a.address.startsWith('fe80'));
    const got = ours(tunctl.addresses(name)).map((a) => ({ local: a.address, prefixlen: a.prefix, address: a.peer, family: a.family === 4 ? 'inet' : 'inet6' }));
    const ip = ipAddrs(name).filter((a) => !a.local.startsWith('fe80')).map((a) => ({ local: a.local, prefixlen: a.prefixlen, address: a.address, family: a.family }));
    expect(got).toHaveLength(6);
    expect(new Set(got.map((a) => JSON.stringify(a)))).toEqual(new Set(ip.map((a) => JSON.stringify(a))));
    expect(got).toContainEqual({ local: '198.19.153.1', prefixlen: 24, address: undefined, family: 'inet' });
    expect(tunctl.addresses(name).every((a) => a.name === name)).toBe(true);
    expect(tunctl.addresses(undefined, { family: 6 }).some((a) => a.address === 'fd00:150::1' && a.name === name)).toBe(true);

    tunctl.removeAddress(name, '198.19.151.1'); // not the primary one: any prefix
    tunctl.removeAddress(name, 'fd00:151::1', 128);
    const after = ipAddrs(name).map((a) => a.local);
    expect(after).not.toContain('198.19.151.1');
    expect(after).not.toContain('fd00:151::1');
    expect(after).toContain('198.19.150.1');
    expect(after).toContain('fd00:150::1');

    expect(() => tunctl.removeAddress(name, 'fd00:150::1', 112)).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL', ifname: name }) as unknown as Error);
    expect(() => tunctl.addAddress(name, '198.19.150.1/24')).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'netlink(RTM_NEWADDR)' }) as unknown as Error);
    expect(() => tunctl.addAddress('nx0nosuch', '198.19.150.9/24')).toThrow(expect.objectContaining({ code: 'ENODEV', ifname: 'nx0nosuch' }) as unknown as Error);
    expect(() => tunctl.addAddress(name, '198.19.300.0/24')).toThrow(RangeError);
  });

  it('adds an IPv6 address to a link that is down, and it is there once the link is up', () => {
    const name = tun();
    expect(tunctl.linkInfo(name).up).toBe(false);
    tunctl.addAddress(name, 'fd00:154::1/64');
    expect(ipAddrs(name)).toContainEqual(expect.objectContaining({ family: 'inet6', local: 'fd00:154::1', prefixlen: 64 }));
    tunctl.link(name, true);
    expect(ipAddrs(name)).toContainEqual(expect.objectContaining({ family: 'inet6', local: 'fd00:154::1', prefixlen: 64 }));
    expect(tunctl.addresses(name, { family: 6 }).map((a) => a.address)).toContain('fd00:154::1');
  });

  it('under an MTU of 1280: IPv6 is a clear error, and lowering the MTU warns that IPv6 addresses go', async () => {
    const name = tun();
    tunctl.addAddress(name, 'fd00:155::1/64');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      tunctl.setMtu(name, 1200);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: tunctl.IPV6_MTU_WARNING });
    expect(warnings[0]!.message).toMatch(/fd00:155::1\/64/);
    expect(ipAddrs(name).filter((a) => a.family === 'inet6')).toEqual([]); // the kernel did drop it
    let err: unknown;
    try {
      tunctl.addAddress(name, 'fd00:155::2/64');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TunError);
    expect(err).toMatchObject({ code: 'EINVAL', ifname: name });
    expect((err as Error).message).toMatch(/IPv6 needs an MTU of at least 1280, and .* has 1200/);
    tunctl.addAddress(name, '198.19.155.1/24'); // IPv4 is fine
    tunctl.setMtu(name, 1280);
    tunctl.addAddress(name, 'fd00:155::2/64');
    expect(ipAddrs(name).map((a) => a.local)).toContain('fd00:155::2');
  });

  it('adds, lists and removes IPv4 and IPv6 routes with dev, via, metric and table, as `ip route` shows them', () => {
    const name = tun();
    tunctl.link(name, true);
    tunctl.addAddress(name, '198.19.160.1/24');
    tunctl.addAddress(name, 'fd00:160::1/64', { nodad: true });
    tunctl.addRoute({ dst: '198.19.161.0/24', dev: name, metric: 50 });
    tunctl.addRoute({ dst: '198.19.162.0/24', via: '198.19.160.2' });
    tunctl.addRoute({ dst: '198.19.163.7', dev: name }); // a host route
    tunctl.addRoute({ dst: 'fd00:161::/64', via: 'fd00:160::2', dev: name, metric: 10 });
    tunctl.addRoute({ dst: '0.0.0.0/0', dev: name, table: 1000 });
    tunctl.addRoute({ dst: 'fd00:162::/48', dev: name, table: 1000 });

    const v4 = ipJson<IpRoute>('route', 'show', 'dev', name);
    const v6 = ipJson<IpRoute>('-6', 'route', 'show', 'dev', name);
    const mine = tunctl.routes({ dev: name });
    expect(new Set(mine.map((r) => ipDst(r)))).toEqual(new Set([...v4, ...v6].map((r) => r.dst)));
    expect(mine.find((r) => r.dst === '198.19.161.0/24')).toMatchObject({ metric: 50, dev: name, table: 254, protocol: 'boot', scope: 'link', via: undefined });
    expect(v4.find((r) => r.dst === '198.19.161.0/24')?.metric).toBe(50);
    expect(mine.find((r) => r.dst === '198.19.162.0/24')).toMatchObject({ via: '198.19.160.2', dev: name, scope: 'global' });
    expect(v4.find((r) => r.dst === '198.19.162.0/24')?.gateway).toBe('198.19.160.2');
    expect(mine.find((r) => r.dst === '198.19.163.7/32')?.prefix).toBe(32);
    expect(mine.find((r) => r.dst === 'fd00:161::/64')).toMatchObject({ via: 'fd00:160::2', metric: 10, family: 6 });
    expect(v6.find((r) => r.dst === 'fd00:161::/64')).toMatchObject({ gateway: 'fd00:160::2', metric: 10 });

    const t1000 = tunctl.routes({ table: 1000 });
    expect(t1000.map((r) => ipDst(r)).sort()).toEqual([...ipJson<IpRoute>('route', 'show', 'table', '1000'), ...ipJson<IpRoute>('-6', 'route', 'show', 'table', '1000')].map((r) => r.dst).sort());
    expect(t1000.map((r) => r.dst)).toEqual(expect.arrayContaining(['0.0.0.0/0', 'fd00:162::/48']));
    expect(tunctl.routes({ table: 'all', family: 6 }).some((r) => r.table === 255 && r.routeType === 'local')).toBe(true);

    expect(() => tunctl.addRoute({ dst: '198.19.161.0/24', dev: name, metric: 50 })).toThrow(expect.objectContaining({ code: 'EEXIST' }) as unknown as Error);
    expect(() => tunctl.addRoute({ dst: '198.19.164.0/24', via: '198.19.99.1' })).toThrow(expect.objectContaining({ code: 'ENETUNREACH' }) as unknown as Error);
    expect(() => tunctl.addRoute({ dst: '198.19.164.1/24', dev: name })).toThrow(/host bits set: the network is 198\.19\.164\.0\/24/);

    tunctl.removeRoute({ dst: '198.19.161.0/24', dev: name });
    tunctl.removeRoute({ dst: 'fd00:161::/64', dev: name });
    tunctl.removeRoute({ dst: '0.0.0.0/0', table: 1000, dev: name });
    const left = [...ipJson<IpRoute>('route', 'show', 'table', 'all'), ...ipJson<IpRoute>('-6', 'route', 'show', 'table', 'all')].map((r) => r.dst);
    expect(left).not.toContain('198.19.161.0/24');
    expect(left).not.toContain('fd00:161::/64');
    expect(ipJson<IpRoute>('route', 'show', 'table', '1000')).toEqual([]);
    expect(() => tunctl.removeRoute({ dst: '198.19.161.0/24', dev: name })).toThrow(expect.objectContaining({ code: 'ESRCH' }) as unknown as Error);
    expect(() => tunctl.routes({ dev: 'nx0nosuch' })).toThrow(expect.objectContaining({ code: 'ENODEV' }) as unknown as Error);
  });

  it('lists links as `ip link` does, with a tun device reporting its own mode and flags', () => {
    const name = tun();
    const tap = tunctl.create(ifname('n'), { mode: 'tap', vnetHdr: true, multiQueue: true });
    opened.push(tap.fd);
    tunctl.persist(tap.fd, true);
    tunctl.owner(tap.fd, 1234);
    tunctl.link(name, true);
    try {
      const ip = ipJson<{ ifindex: number; ifname: string; mtu: number; flags: string[]; address?: string; operstate: string }>('link', 'show');
      const mine = tunctl.links();
      expect(mine.map((l) => [l.ifindex, l.name, l.mtu])).toEqual(ip.map((l) => [l.ifindex, l.ifname, l.mtu]));
      for (const l of mine) {
        const i = ip.find((x) => x.ifindex === l.ifindex)!;
        expect(l.up).toBe(i.flags.includes('UP'));
        expect(l.operstate).toBe(i.operstate.toLowerCase());
      }
      const t = tunctl.linkInfo(name);
      expect(t).toMatchObject({ name, up: true, running: true, address: null, kind: 'tun', tun: { mode: 'tun', pi: false, persist: false, queues: undefined, owner: null } });
      const info = ipJson<{ address: string; linkinfo: { info_data: { type: string; vnet_hdr: boolean; multi_queue: boolean; persist: boolean; user: number } } }>('-d', 'link', 'show', 'dev', tap.name)[0]!;
      expect(tunctl.linkInfo(tap.name)).toMatchObject({
        address: info.address, up: false, running: false,
        tun: { mode: info.linkinfo.info_data.type, vnetHdr: info.linkinfo.info_data.vnet_hdr, multiQueue: true, persist: true, owner: info.linkinfo.info_data.user, queues: 1 },
      });
      expect(() => tunctl.linkInfo('nx0nosuch')).toThrow(expect.objectContaining({ code: 'ENODEV', syscall: 'netlink(RTM_GETLINK)', ifname: 'nx0nosuch' }) as unknown as Error);
    } finally {
      tunctl.persist(tap.fd, false);
    }
  });

  it('hears `ip link set down`, `ip link set mtu 1400`, and addresses and routes changed from outside', async () => {
    const name = tun();
    tunctl.link(name, true);
    const { next, events, watch } = collect({ link: name });
    expect(watch.ifindex).toBe(tunctl.ifindex(name));

    sh('ip', ['link', 'set', name, 'down']);
    expect(await next((e) => e.type === 'link' && !e.up)).toMatchObject({ type: 'link', op: 'new', name, up: false, running: false });
    sh('ip', ['link', 'set', name, 'mtu', '1400']);
    expect(await next((e) => e.type === 'link' && e.mtu === 1400)).toMatchObject({ type: 'link', op: 'new', name, mtu: 1400 });
    sh('ip', ['addr', 'add', '198.19.170.1/24', 'dev', name]);
    expect(await next((e) => e.type === 'addr' && e.op === 'add' && e.family === 4)).toMatchObject({ type: 'addr', op: 'add', family: 4, address: '198.19.170.1', prefix: 24, name });
    sh('ip', ['addr', 'add', 'fd00:170::1/64', 'dev', name]);
    expect(await next((e) => e.type === 'addr' && e.family === 6 && e.address === 'fd00:170::1')).toMatchObject({ op: 'add', prefix: 64, ifindex: watch.ifindex });
    sh('ip', ['link', 'set', name, 'up']);
    sh('ip', ['route', 'add', '198.19.171.0/24', 'dev', name, 'metric', '9']);
    expect(await next((e) => e.type === 'route' && e.dst === '198.19.171.0/24')).toMatchObject({ op: 'add', metric: 9, ifindex: watch.ifindex, table: 254 });
    sh('ip', ['addr', 'del', '198.19.170.1/24', 'dev', name]);
    expect(await next((e) => e.type === 'addr' && e.op === 'del' && e.family === 4)).toMatchObject({ address: '198.19.170.1', prefix: 24 });
    // Only this interface's events: a change to another one is filtered out.
    const other = tun();
    sh('ip', ['link', 'set', other, 'mtu', '1300']);
    tunctl.close(opened.pop()!); // `other` goes away
    tunctl.close(opened.pop()!); // and so does ours
    expect(await next((e) => e.type === 'link' && e.op === 'del')).toMatchObject({ type: 'link', op: 'del', name, ifindex: watch.ifindex });
    expect(events.every((e) => e.type === 'overrun' || e.ifindex === watch.ifindex)).toBe(true);
    watch.close();
    expect(watch.closed).toBe(true);
  });

  it('linkEvents is an Observable whose subscription owns its socket', async () => {
    const name = tun();
    const before = (await leakBaseline()).fds;
    const got = firstValueFrom(linkEvents({ link: name, kinds: ['link'] }).pipe(filter((e) => e.type === 'link' && e.mtu === 1400)));
    sh('ip', ['link', 'set', name, 'mtu', '1400']);
    expect(await got).toMatchObject({ type: 'link', name, mtu: 1400 });
    expect((await leakBaseline()).fds).toBe(before); // firstValueFrom unsubscribed: the socket is closed
    expect(() => linkEvents({ kinds: ['neigh' as 'link'] })).toThrow(RangeError);
    let failure: unknown;
    linkEvents({ link: 'nx0nosuch' }).subscribe({ error: (e: unknown) => (failure = e) });
    expect(failure).toMatchObject({ code: 'ENODEV' });
    expect((await leakBaseline()).fds).toBe(before);
  });

  it('runs in the namespace at a path: addresses, routes, links and events there, nothing here', async () => {
    const { path, holder } = await otherNetns();
    const name = ifname('n');
    const { fd } = tunctl.create(name, { mode: 'tun', netns: path });
    opened.push(fd);
    try {
      const there = (...args: string[]): string => sh('nsenter', [`--net=${path}`, 'ip', ...args]);
      const { next } = collect({ netns: path, link: name });
      tunctl.addAddress(name, '198.19.180.1/24', { netns: path });
      expect(await next((e) => e.type === 'addr')).toMatchObject({ address: '198.19.180.1' });
      there('link', 'set', name, 'up');
      tunctl.addRoute({ dst: '198.19.181.0/24', dev: name, netns: path });
      expect(there('-j', 'addr', 'show', 'dev', name)).toContain('198.19.180.1');
      expect(there('route', 'show', 'dev', name)).toContain('198.19.181.0/24');
      expect(tunctl.links({ netns: path }).map((l) => l.name)).toEqual(['lo', name]);
      expect(tunctl.routes({ netns: path, dev: name }).map((r) => r.dst)).toContain('198.19.181.0/24');
      expect(() => tunctl.linkInfo(name)).toThrow(expect.objectContaining({ code: 'ENODEV' }) as unknown as Error); // not in ours
      expect(() => tunctl.links({ netns: '/nonexistent/ns' })).toThrow(expect.objectContaining({ code: 'ENOENT' }) as unknown as Error);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a worker thread watches its own namespace; terminating it closes the socket', async () => {
    const name = tun();
    const before = (await leakBaseline()).fds;
    const index = new URL('../../dist/index.js', import.meta.url).href;
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(${JSON.stringify(index)}).then(({ tunctl }) => {
         tunctl.watchLinks((e) => parentPort.postMessage(e), { link: workerData, kinds: ['link'] });
         parentPort.postMessage('watching');
       });`,
      { eval: true, workerData: name },
    );
    try {
      const messages: unknown[] = [];
      const heard = new Promise<T.LinkEvent>((resolve) =>
        w.on('message', (m: unknown) => {
          messages.push(m);
          if (m === 'watching') sh('ip', ['link', 'set', name, 'mtu', '1350']);
          else if ((m as T.LinkEvent).mtu === 1350) resolve(m as T.LinkEvent);
        }),
      );
      expect(await heard).toMatchObject({ type: 'link', op: 'new', name, mtu: 1350 });
    } finally {
      await w.terminate();
    }
    expect((await leakBaseline()).fds).toBe(before); // the env cleanup hook closed the worker's netlink socket
  });

  it('leaves fds and devices as it found them', async () => {
    for (const w of watches.splice(0)) w.close();
    for (const fd of opened.splice(0)) tunctl.close(fd);
    await expectNoLeak(baseline);
    expect(spawnSync('ip', ['route', 'show', 'table', '1000']).stdout.toString()).toBe('');
  });
});
