import { afterEach, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { tunctl, TunError } from '../../src/index.js';
import { buildIcmp4EchoRequest, buildIcmp6EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { buildTunPi, ETH_P_IP, ETH_P_IPV6 } from '../../src/packet/tunPi.js';
import { describeKernel, devExists, ifname, ipAddrs, openFds, sh, sysfs, tunDevices } from '../helpers/kernel.js';

const opened: number[] = [];
function track<T extends { fd: number }>(h: T): T {
  opened.push(h.fd);
  return h;
}
function closeQuietly(fd: number): void {
  try {
    tunctl.close(fd);
  } catch {
    /* already closed by the test */
  }
}

afterEach(() => {
  for (const fd of opened.splice(0)) closeQuietly(fd);
});

/** Read packets until `match` accepts one, or fail after `ms`. */
async function readUntil(fd: number, match: (p: Buffer) => boolean, ms = 3000): Promise<Buffer> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const p = tunctl.read(fd);
    if (p === null) {
      await sleep(2);
      continue;
    }
    if (match(p)) return p;
  }
  throw new Error(`no matching packet within ${ms} ms`);
}

function fdFlags(fd: number): number {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return parseInt(/^flags:\s*([0-7]+)$/m.exec(info)?.[1] ?? '0', 8);
}

describeKernel('tunctl against the kernel', () => {
  it('creates a tun with the flags asked for, non-blocking and close-on-exec', () => {
    const name = ifname();
    const { fd, name: got } = track(tunctl.create(name, { mode: 'tun' }));
    expect(got).toBe(name);
    expect(sysfs(name, 'tun_flags')).toBe('0x1001'); // IFF_TUN | IFF_NO_PI
    const flags = fdFlags(fd);
    expect(flags & 0o4000).toBe(0o4000); // O_NONBLOCK
    expect(flags & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    expect(sh('ip', ['-d', 'link', 'show', 'dev', name])).toMatch(/tun type tun pi off/);
  });

  it('defaults to a tap without packet information, as the original', () => {
    const { name } = track(tunctl.create(ifname()));
    expect(sysfs(name, 'tun_flags')).toBe('0x1002');
    expect(tunctl.info(opened[0]!).mode).toBe('tap');
  });

  it('lets the kernel pick the name with no name or %d', () => {
    const a = track(tunctl.create('', { mode: 'tun' }));
    expect(a.name).toMatch(/^tun\d+$/);
    const b = track(tunctl.create('tq%d', { mode: 'tap', vnetHdr: true, noPi: false }));
    expect(b.name).toMatch(/^tq\d+$/);
    expect(parseInt(sysfs(b.name, 'tun_flags'), 16)).toBe(0x4002); // IFF_TAP | IFF_VNET_HDR, PI on
    expect(tunctl.vnetHdrSize(b.fd)).toBe(10);
  });

  it('sets owner and group by value (the original passed a pointer and set garbage)', () => {
    const { fd, name } = track(tunctl.create(ifname(), { mode: 'tun' }));
    tunctl.owner(fd, 1234);
    tunctl.group(fd, 4321);
    expect(sysfs(name, 'owner')).toBe('1234');
    expect(sysfs(name, 'group')).toBe('4321');
    tunctl.owner(fd, 0);
    expect(sysfs(name, 'owner')).toBe('0');
    expect(() => tunctl.owner(fd, -1)).toThrow(RangeError); // the kernel cannot clear an owner
  });

  it('a non-persistent device is gone after close; a persistent one stays until un-persisted', () => {
    const name = ifname();
    const a = tunctl.create(name, { mode: 'tun' });
    tunctl.close(a.fd);
    expect(devExists(name)).toBe(false);

    const b = tunctl.create(name, { mode: 'tun' });
    tunctl.persist(b.fd, true);
    tunctl.setMtu(name, 1400);
    tunctl.close(b.fd);
    expect(devExists(name)).toBe(true);
    expect(sysfs(name, 'tun_flags')).toBe('0x1801'); // + IFF_PERSIST

    const c = tunctl.create(name, { mode: 'tun' }); // re-attach by name
    expect(c.name).toBe(name);
    expect(tunctl.info(c.fd).persist).toBe(true);
    expect(tunctl.mtu(name)).toBe(1400);
    tunctl.persist(c.fd, false);
    tunctl.close(c.fd);
    expect(devExists(name)).toBe(false);
  });

  it('exclusive create of a taken name fails with EBUSY as a TunError', () => {
    const name = ifname();
    track(tunctl.create(name, { mode: 'tun' }));
    let err: unknown;
    try {
      tunctl.create(name, { mode: 'tun', exclusive: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TunError);
    const e = err as TunError;
    expect(e.code).toBe('EBUSY');
    expect(e.errno).toBe(-16);
    expect(e.syscall).toBe('ioctl(TUNSETIFF)');
    expect(e.ifname).toBe(name);
    expect(e.message).toContain('EBUSY');
  });

  it('attaching with other flags than the device has fails with EINVAL', () => {
    const name = ifname();
    track(tunctl.create(name, { mode: 'tun' }));
    expect(() => tunctl.create(name, { mode: 'tap' })).toThrow(expect.objectContaining({ code: 'EINVAL' }) as unknown as Error);
  });

  it('configures IPv4 with a /24 default, an explicit prefix, a peer and a broadcast address', () => {
    const { name } = track(tunctl.create(ifname(), { mode: 'tun' }));
    tunctl.up(name, '198.18.1.1');
    let v4 = ipAddrs(name).filter((a) => a.family === 'inet');
    expect(v4).toEqual([expect.objectContaining({ local: '198.18.1.1', prefixlen: 24 })]);
    expect(tunctl.ifFlags(name) & 1).toBe(1); // IFF_UP
    expect(tunctl.netmask(name)).toBe(24);

    tunctl.up(name, '198.18.2.1', 30);
    v4 = ipAddrs(name).filter((a) => a.family === 'inet');
    expect(v4).toEqual([expect.objectContaining({ local: '198.18.2.1', prefixlen: 30 })]);

    tunctl.dstaddr(name, '198.18.2.2');
    expect(tunctl.ipv4(name).dstaddr).toBe('198.18.2.2');
    expect(ipAddrs(name).find((a) => a.family === 'inet')?.address).toBe('198.18.2.2');
    expect(() => tunctl.dstaddr(name, 'fd00::2')).toThrow(expect.objectContaining({ code: 'EAFNOSUPPORT' }) as unknown as Error);

    const tap = track(tunctl.create(ifname(), { mode: 'tap' }));
    tunctl.up(tap.name, '198.18.3.1', 24);
    tunctl.broadcast(tap.name, '198.18.3.255');
    expect(tunctl.ipv4(tap.name).broadcast).toBe('198.18.3.255');

    tunctl.down(name);
    expect(tunctl.ifFlags(name) & 1).toBe(0);
  });

  it('configures IPv6 natively with a /64 default, and removes it', () => {
    const { name } = track(tunctl.create(ifname(), { mode: 'tun' }));
    tunctl.up(name, 'fd00:1::1');
    tunctl.up(name, 'fd00:2::1', 112);
    const v6 = ipAddrs(name).filter((a) => a.family === 'inet6' && a.local.startsWith('fd00'));
    expect(v6).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ local: 'fd00:1::1', prefixlen: 64 }),
        expect.objectContaining({ local: 'fd00:2::1', prefixlen: 112 }),
      ]),
    );
    tunctl.removeAddress(name, 'fd00:2::1', 112);
    expect(ipAddrs(name).some((a) => a.local === 'fd00:2::1')).toBe(false);
  });

  it('reads and sets the MTU, the txqueuelen and a tap MAC address', () => {
    const tun = track(tunctl.create(ifname(), { mode: 'tun' }));
    expect(tunctl.mtu(tun.name)).toBe(Number(sysfs(tun.name, 'mtu')));
    tunctl.setMtu(tun.name, 9000);
    expect(sysfs(tun.name, 'mtu')).toBe('9000');
    expect(() => tunctl.setMtu(tun.name, 67)).toThrow(RangeError);
    tunctl.setTxqueuelen(tun.name, 1000);
    expect(tunctl.txqueuelen(tun.name)).toBe(1000);
    expect(sysfs(tun.name, 'tx_queue_len')).toBe('1000');

    const tap = track(tunctl.create(ifname(), { mode: 'tap' }));
    tunctl.setHwaddr(tap.name, '02:00:5E:10:20:30');
    expect(sysfs(tap.name, 'address')).toBe('02:00:5e:10:20:30');
    expect(tunctl.hwaddr(tap.name)).toBe('02:00:5e:10:20:30');
    expect(() => tunctl.setHwaddr(tap.name, '01:00:5e:00:00:01')).toThrow(RangeError);
    expect(tunctl.ifindex(tap.name)).toBe(Number(sysfs(tap.name, 'ifindex')));
  });

  it('turns the carrier off and on', () => {
    const { fd, name } = track(tunctl.create(ifname(), { mode: 'tun' }));
    tunctl.link(name, true);
    expect(sysfs(name, 'carrier')).toBe('1');
    tunctl.carrier(fd, false);
    expect(sysfs(name, 'carrier')).toBe('0');
    expect(sh('ip', ['link', 'show', 'dev', name])).toContain('NO-CARRIER');
    tunctl.carrier(fd, true);
    expect(sysfs(name, 'carrier')).toBe('1');
  });

  it('reports features and info, and probes offloads on a vnet-header device', () => {
    const f = tunctl.features();
    expect(f.tun && f.tap && f.noPi && f.vnetHdr && f.multiQueue).toBe(true);
    const { fd, name } = track(tunctl.create(ifname(), { mode: 'tun', vnetHdr: true }));
    const i = tunctl.info(fd);
    expect(i).toMatchObject({ name, mode: 'tun', vnetHdr: true, noPi: true, persist: false, multiQueue: false });
    const support = tunctl.offloadSupport(fd);
    expect(support.csum && support.tso4 && support.tso6).toBe(true);
    expect(tunctl.offload(fd, { csum: true, tso4: true, tso6: true })).toBe(0x7);
    expect(() => tunctl.offload(fd, 0x8000)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'ioctl(TUNSETOFFLOAD)' }) as unknown as Error);
    tunctl.setVnetHdrSize(fd, 12);
    expect(tunctl.vnetHdrSize(fd)).toBe(12);
  });

  it('multi-queue: several fds on one device, queues detached and re-attached', () => {
    const name = ifname();
    const q1 = tunctl.create(name, { mode: 'tun', multiQueue: true });
    const q2 = tunctl.create(name, { mode: 'tun', multiQueue: true });
    const q3 = tunctl.create(name, { mode: 'tun', multiQueue: true });
    expect(tunctl.info(q2.fd).multiQueue).toBe(true);
    expect(sysfs(name, 'tun_flags')).toBe('0x1101');
    tunctl.detachQueue(q2.fd);
    expect(() => tunctl.detachQueue(q2.fd)).toThrow(TunError); // already detached
    tunctl.attachQueue(q2.fd);
    tunctl.close(q1.fd);
    tunctl.close(q2.fd);
    expect(devExists(name)).toBe(true); // the last queue keeps it
    tunctl.close(q3.fd);
    expect(devExists(name)).toBe(false);
  });

  it('filters a tap: a MAC filter is accepted; a BPF drop-all filter hides frames until detached', async () => {
    const { fd, name } = track(tunctl.create(ifname(), { mode: 'tap' }));
    tunctl.txFilter(fd, ['02:00:00:00:00:01', '02:00:00:00:00:02'], { allMulticast: true });
    tunctl.txFilter(fd, []);
    tunctl.up(name, '198.18.4.1', 24);
    while (tunctl.read(fd) !== null); // drain what "up" produced
    tunctl.attachFilter(fd, [{ code: 0x06, jt: 0, jf: 0, k: 0 }]); // BPF_RET|BPF_K 0: drop all
    const arp = (): void => {
      // A datagram to an unknown neighbour: the kernel emits an ARP request on the tap.
      spawnSync('ip', ['neigh', 'flush', 'dev', name]);
      const s = createSocket('udp4');
      s.send(Buffer.from('x'), 9, '198.18.4.2', () => s.close());
    };
    arp();
    await sleep(50);
    expect(tunctl.read(fd)).toBeNull();
    tunctl.detachFilter(fd);
    const got = await readUntil(fd, (p) => p.readUInt16BE(12) === 0x0806, 3000).catch(() => {
      arp();
      return readUntil(fd, (p) => p.readUInt16BE(12) === 0x0806, 3000);
    });
    expect(got.readUInt16BE(12)).toBe(0x0806);
    const tun = track(tunctl.create(ifname(), { mode: 'tun' }));
    expect(() => tunctl.txFilter(tun.fd, [])).toThrow(expect.objectContaining({ code: 'EINVAL' }) as unknown as Error);
  });

  for (const noPi of [true, false]) {
    it(`answers an ICMP echo written into the tun, IPv4 and IPv6 (noPi: ${noPi})`, async () => {
      const { fd, name } = track(tunctl.create(ifname(), { mode: 'tun', noPi }));
      tunctl.up(name, '198.18.5.1', 24);
      tunctl.up(name, 'fd00:5::1', 64);
      const v4 = buildIcmp4EchoRequest({ src: '198.18.5.2', dst: '198.18.5.1', id: 0x1234, seq: 1, payload: Buffer.from('tunctl v4') });
      const v6 = buildIcmp6EchoRequest({ src: 'fd00:5::2', dst: 'fd00:5::1', id: 0x4321, seq: 2, payload: Buffer.from('tunctl v6') });
      const frame = (proto: number, p: Buffer): Buffer => (noPi ? p : Buffer.concat([buildTunPi(proto), p]));
      const strip = (p: Buffer): Buffer => (noPi ? p : tunctl.header(p).payload);
      expect(tunctl.write(fd, frame(ETH_P_IP, v4))).toBe(v4.length + (noPi ? 0 : 4));
      const isReply = (p: Buffer): boolean => parseIcmpEcho(strip(p))?.type === 'reply';
      // Like ping, ask again if no answer comes soon: the kernel rate-limits ICMP per
      // namespace, and earlier tests in this namespace may have used the allowance up.
      const ask = async (request: Buffer): Promise<Buffer> => {
        for (let i = 0; ; i++) {
          try {
            return await readUntil(fd, isReply, 500);
          } catch (err) {
            if (i === 9) throw err;
            tunctl.write(fd, request);
          }
        }
      };
      const r4 = await ask(frame(ETH_P_IP, v4));
      if (!noPi) expect(tunctl.header(r4).proto).toBe(ETH_P_IP);
      expect(parseIcmpEcho(strip(r4))).toMatchObject({ family: 4, src: '198.18.5.1', dst: '198.18.5.2', id: 0x1234, seq: 1 });
      expect(parseIcmpEcho(strip(r4))?.payload.toString()).toBe('tunctl v4');

      tunctl.write(fd, frame(ETH_P_IPV6, v6));
      const r6 = await ask(frame(ETH_P_IPV6, v6));
      if (!noPi) expect(tunctl.header(r6).proto).toBe(ETH_P_IPV6);
      expect(parseIcmpEcho(strip(r6))).toMatchObject({ family: 6, src: 'fd00:5::1', dst: 'fd00:5::2', id: 0x4321, seq: 2 });
    });
  }

  it('reads a batch of packets in one call', async () => {
    const { fd, name } = track(tunctl.create(ifname(), { mode: 'tun' }));
    tunctl.up(name, '198.18.6.1', 24);
    for (let seq = 0; seq < 20; seq++) {
      tunctl.write(fd, buildIcmp4EchoRequest({ src: '198.18.6.2', dst: '198.18.6.1', id: 7, seq }));
    }
    await sleep(20);
    const batch = tunctl.readBatch(fd, 64).map((p) => parseIcmpEcho(p)).filter((e) => e?.type === 'reply');
    expect(batch.map((e) => e?.seq)).toEqual([...Array(20).keys()]);
    expect(tunctl.readBatch(fd)).toEqual([]);
  });

  it('readBatch reads into a caller-provided BatchBuffer, with the packets as views of it', async () => {
    const { fd, name } = track(tunctl.create(ifname(), { mode: 'tun' }));
    tunctl.up(name, '198.18.6.1', 24);
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    await sleep(20);
    while (tunctl.read(fd));
    for (let seq = 0; seq < 30; seq++) tunctl.write(fd, buildIcmp4EchoRequest({ src: '198.18.6.2', dst: '198.18.6.1', id: 8, seq }));
    await sleep(20);
    const buf = new tunctl.BatchBuffer(16);
    const seqs: number[] = [];
    for (let n = tunctl.readBatch(fd, 64, buf); n > 0; n = tunctl.readBatch(fd, 64, buf)) {
      expect(n).toBeLessThanOrEqual(16); // no more than the buffer holds
      for (let i = 0; i < n; i++) {
        expect(buf.packet(i).buffer).toBe(buf.data.buffer); // a view, not a copy
        seqs.push(parseIcmpEcho(buf.packet(i))?.seq ?? -1);
      }
    }
    expect(seqs).toEqual([...Array(30).keys()]);
    expect(buf.count).toBe(0);
    expect(() => buf.packet(0)).toThrow(RangeError);
    expect(() => tunctl.readBatch(fd, 4, {} as never)).toThrow(TypeError);
  });

  it('creates a device inside another network namespace', async () => {
    const holder = spawn('unshare', ['--net', '--', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await sleep(100);
      const netns = `/proc/${holder.pid}/ns/net`;
      const name = ifname();
      const { fd } = tunctl.create(name, { mode: 'tun', netns });
      expect(devExists(name)).toBe(false);
      const there = sh('nsenter', ['--net=' + netns, 'ip', '-o', 'link', 'show', 'dev', name]);
      expect(there).toContain(name);
      tunctl.close(fd);
      expect(spawnSync('nsenter', ['--net=' + netns, 'ip', 'link', 'show', 'dev', name]).status).not.toBe(0);
      expect(() => tunctl.create(ifname(), { netns: '/nonexistent/ns' })).toThrow(expect.objectContaining({ code: 'ENOENT' }) as unknown as Error);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('without CAP_NET_ADMIN, create fails with EPERM and says how to grant it', () => {
    const script = `import('${new URL('../../dist/index.js', import.meta.url).href}').then(({ tunctl }) => {
      try { tunctl.create('', { mode: 'tun' }); console.log('created'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, syscall: e.syscall, message: e.message })); }
    })`;
    // Root without CAP_NET_ADMIN (on this machine /dev/net/tun is 0600, so another uid would
    // fail earlier, at open, with EACCES).
    const r = spawnSync('setpriv', ['--inh-caps=-net_admin', '--bounding-set=-net_admin', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { code: string; errno: number; syscall: string; message: string };
    expect(out).toMatchObject({ code: 'EPERM', errno: -1, syscall: 'ioctl(TUNSETIFF)' });
    expect(out.message).toContain('CAP_NET_ADMIN');
    expect(out.message).toContain('setcap');
  });

  it('a worker that opened devices and is terminated or crashes leaves no fd and no device behind', async () => {
    const before = { fds: openFds(), devs: tunDevices() };
    const binding = new URL('../../dist/native/binding.js', import.meta.url).href;
    const code = (mode: 'terminate' | 'throw'): string => `
      const { parentPort } = require('node:worker_threads');
      import('${binding}').then(({ loadNative }) => {
        const n = loadNative();
        for (let i = 0; i < 3; i++) { const fd = n.openTun(null); n.setIff(fd, '', n.constants.IFF_TUN | n.constants.IFF_NO_PI); }
        parentPort.postMessage('open');
        ${mode === 'throw' ? "setTimeout(() => { throw new Error('boom'); }, 10);" : 'setInterval(() => {}, 1000);'}
      });`;
    for (const mode of ['terminate', 'throw'] as const) {
      const w = new Worker(code(mode), { eval: true });
      const errors: Error[] = [];
      w.on('error', (e) => errors.push(e));
      await new Promise<void>((resolve) => w.once('message', () => resolve()));
      expect(tunDevices().length).toBe(before.devs.length + 3);
      if (mode === 'terminate') await w.terminate();
      else await new Promise((resolve) => w.once('exit', resolve));
      if (mode === 'throw') expect(errors[0]?.message).toBe('boom');
      expect(tunDevices()).toEqual(before.devs);
      expect(openFds()).toBe(before.fds);
    }
  });
});
