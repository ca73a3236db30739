import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { firstValueFrom, filter } from 'rxjs';
import { Tuncer, TuncerClosedError, TunError, tunctl, type TunEvent } from '../../src/index.js';
import { buildIcmp4EchoRequest, buildIcmp6EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { describeKernel, expectNoLeak, leakBaseline, type LeakBaseline, devExists, ifname, ipAddrs, openFds, poolSteady, sh, sysfs, tunDevices, untilSteady } from '../helpers/kernel.js';

const live: Tuncer[] = [];
async function make(opts: Parameters<typeof Tuncer.create>[0] = {}): Promise<Tuncer> {
  const t = await Tuncer.create({ mode: 'tun', name: ifname('u'), addresses: ['198.18.10.1/24', 'fd00:10::1/64'], ...opts });
  live.push(t);
  return t;
}

const echo = (seq: number, id = 1): Buffer => buildIcmp4EchoRequest({ src: '198.18.10.2', dst: '198.18.10.1', id, seq });
const isReply = (p: Buffer): boolean => parseIcmpEcho(p)?.type === 'reply';

/** Take what the kernel sent on its own at start-up (IPv6 router solicitations and the
 *  like), and stop it sending more by turning IPv6 off on the device. */
async function drain(t: Tuncer): Promise<void> {
  writeFileSync(`/proc/sys/net/ipv6/conf/${t.devname}/disable_ipv6`, '1');
  await sleep(50);
  while (await t.recv({ signal: AbortSignal.timeout(50) }).catch(() => null));
}

/** recv until an echo reply (the kernel also sends IPv6 router solicitations and the like). */
async function recvReply(t: Tuncer, ms = 3000): Promise<Buffer> {
  const signal = AbortSignal.timeout(ms);
  for (;;) {
    const p = await t.recv({ signal });
    if (isReply(p)) return p;
  }
}

let baseline: LeakBaseline;
beforeEach(async () => {
  baseline = await leakBaseline();
});
afterEach(async () => {
  await Promise.all(live.splice(0).map((t) => t.destroy()));
});


describeKernel('Tuncer against the kernel', () => {
  it('creates a configured device and answers ICMP through send/recv (passive)', async () => {
    const t = await make();
    expect(t.state).toBe('passive');
    expect(sysfs(t.devname, 'tun_flags')).toBe('0x1001');
    expect(ipAddrs(t.devname).map((a) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['198.18.10.1/24', 'fd00:10::1/64']));
    expect(t.getfd()).toBeGreaterThan(2);
    await t.send(echo(1));
    const reply = parseIcmpEcho(await recvReply(t));
    expect(reply).toMatchObject({ family: 4, src: '198.18.10.1', dst: '198.18.10.2', seq: 1 });
    await t.send(buildIcmp6EchoRequest({ src: 'fd00:10::2', dst: 'fd00:10::1', id: 9, seq: 2 }));
    expect(parseIcmpEcho(await recvReply(t))).toMatchObject({ family: 6, src: 'fd00:10::1', seq: 2 });
    const stats = await t.stats();
    expect(stats.txPackets).toBe(2);
    expect(stats.rxPackets).toBeGreaterThanOrEqual(2);
  });

  it('delivers on packets$ in active mode and rejects recv there with EINVAL', async () => {
    const t = await make({ active: true });
    expect(t.state).toBe('active');
    const got = firstValueFrom(t.packets$.pipe(filter(isReply)));
    await t.send(echo(7));
    expect(parseIcmpEcho(await got)?.seq).toBe(7);
    await expect(t.recv()).rejects.toMatchObject({ code: 'EINVAL', syscall: 'recv' });
  });

  it('reads passively with for await', async () => {
    const t = await make();
    for (let i = 0; i < 3; i++) await t.send(echo(i));
    const seqs: number[] = [];
    for await (const p of t) {
      if (isReply(p)) seqs.push(parseIcmpEcho(p)!.seq);
      if (seqs.length === 3) break;
    }
    expect(seqs).toEqual([0, 1, 2]);
  });

  it("active 'once' delivers one packet then turns passive; the rest wait for recv", async () => {
    const t = await make({ addresses: ['198.18.10.1/24'] });
    await drain(t);
    for (let i = 0; i < 3; i++) await t.send(echo(i));
    await sleep(50);
    const seen: Buffer[] = [];
    t.packets$.subscribe((p) => seen.push(p));
    t.setopt({ active: 'once' });
    await sleep(20);
    expect(seen.map((p) => parseIcmpEcho(p)?.seq)).toEqual([0]);
    expect(t.state).toBe('passive');
    expect(parseIcmpEcho(await recvReply(t))?.seq).toBe(1);
    expect(parseIcmpEcho(await recvReply(t))?.seq).toBe(2);
  });

  it('active N delivers N packets, then a passive event; N adds to the counter', async () => {
    const t = await make({ addresses: ['198.18.10.1/24'] });
    await drain(t);
    const events: TunEvent[] = [];
    t.events$.subscribe((e) => events.push(e));
    const seen: number[] = [];
    t.packets$.subscribe((p) => seen.push(parseIcmpEcho(p)?.seq ?? -1));
    for (let i = 0; i < 6; i++) await t.send(echo(i));
    await sleep(50);
    t.setopt({ active: 2 });
    t.setopt({ active: 1 }); // adds: 3 in all
    await sleep(20);
    expect(seen).toEqual([0, 1, 2]);
    expect(t.state).toBe('passive');
    expect(events.filter((e) => e.type === 'passive')).toHaveLength(1);
    expect(parseIcmpEcho(await recvReply(t))?.seq).toBe(3);
    t.setopt({ active: true });
    await sleep(20);
    expect(seen).toEqual([0, 1, 2, 4, 5]);
  });

  it('a subscriber that turns passive and reads inside its callback gets no packet twice', async () => {
    const t = await make({ addresses: ['198.18.10.1/24'] });
    await drain(t);
    for (let i = 0; i < 10; i++) await t.send(echo(i));
    await sleep(50); // all ten replies wait in the ring
    const seqs: number[] = [];
    const reads: Promise<Buffer>[] = [];
    t.packets$.subscribe((p) => {
      seqs.push(parseIcmpEcho(p)?.seq ?? -1);
      if (seqs.length === 1) {
        t.setopt({ active: false });
        for (let i = 0; i < 9; i++) reads.push(t.recv({ signal: AbortSignal.timeout(2000) }));
      }
    });
    t.setopt({ active: true });
    await sleep(20); // the callback has run and queued its reads
    expect(reads).toHaveLength(9);
    for (const p of await Promise.all(reads)) seqs.push(parseIcmpEcho(p)?.seq ?? -1);
    expect(seqs).toEqual([...Array(10).keys()]);
  });

  it('switching modes under a flood neither loses nor duplicates packets read from the fd', async () => {
    const t = await make({ addresses: ['198.18.10.1/24'], txqueuelen: 20000 });
    await drain(t);
    const total = 3000;
    const seqs: number[] = [];
    t.packets$.subscribe((p) => seqs.push(parseIcmpEcho(p)?.seq ?? -1));
    const sender = (async () => {
      for (let i = 0; i < total; i++) {
        await t.send(echo(i));
        if (i % 100 === 99) await sleep(1);
      }
    })();
    let flips = 0;
    const deadline = Date.now() + 15000;
    while (seqs.length < total && Date.now() < deadline) {
      flips += 1;
      if (flips % 3 === 0) t.setopt({ active: true });
      else if (flips % 3 === 1) t.setopt({ active: 5 });
      else {
        t.setopt({ active: false });
        const p = await t.recv({ signal: AbortSignal.timeout(200) }).catch(() => null);
        if (p) seqs.push(parseIcmpEcho(p)?.seq ?? -1);
      }
      await sleep(0);
    }
    await sender;
    t.setopt({ active: true });
    const until = Date.now() + 3000;
    while (seqs.length < total && Date.now() < until) await sleep(10);
    const stats = await t.stats();
    expect(flips).toBeGreaterThan(10);
    expect(stats.txErrors).toBe(0);
    expect(new Set(seqs).size).toBe(seqs.length); // no duplicates
    expect(seqs.length).toBe(total); // none lost
    expect(seqs).toEqual([...Array(total).keys()]); // and in order
  });

  async function udpFlood(dst: string, count: number, burst = 500): Promise<void> {
    const sock = createSocket('udp4');
    const payload = Buffer.alloc(32);
    for (let i = 0; i < count; i++) {
      sock.send(payload, 9, dst);
      if (i % burst === burst - 1) await sleep(1);
    }
    await sleep(200);
    sock.close();
  }

  it('an untouched passive interface reads nothing: packets wait in the kernel, which drops, counted', async () => {
    const t = await make({ addresses: ['198.18.16.1/24'], txqueuelen: 10 });
    await drain(t);
    const before = await t.stats();
    await udpFlood('198.18.16.2', 20000);
    const s = await t.stats();
    // At most one batch read ahead of the last recv(); none of the flood otherwise.
    expect(s.rxPackets - before.rxPackets).toBeLessThanOrEqual(256);
    expect(s.rxPauses).toBe(before.rxPauses);
    expect(s.kernelDrops).toBeGreaterThan(0);
    expect(s.rxPackets - before.rxPackets + s.kernelDrops).toBeGreaterThanOrEqual(19000); // all accounted for
    expect(s.delivered).toBe(before.delivered); // nobody asked for any
    const p = await t.recv({ signal: AbortSignal.timeout(1000) }); // still readable afterwards
    expect(p.length).toBe(60);
  });

  it('a slow reader: the worker reads ahead only while room and demand last, the kernel drops, memory stays bounded', async () => {
    const ring = 4 * 65551;
    const t = await make({ addresses: ['198.18.16.1/24'], txqueuelen: 1000, rxRingBytes: ring });
    await drain(t);
    const before = await t.stats();
    let reading = true;
    let got = 0;
    const reader = (async () => {
      while (reading) {
        if (await t.recv({ signal: AbortSignal.timeout(50) }).catch(() => null)) got += 1;
        await sleep(5);
      }
    })();
    // Paced, so the kernel's queue stays full while the ring fills one batch per packet taken.
    await udpFlood('198.18.16.2', 40000, 100);
    const s = await t.stats();
    reading = false;
    await reader;
    expect(got).toBeGreaterThan(0);
    expect(s.kernelDrops).toBeGreaterThan(0);
    expect(s.rxPackets - before.rxPackets).toBeLessThan(ring / 64); // read ahead of the reader: what fits in the ring, no more
    expect(s.rxPackets - before.rxPackets + s.kernelDrops).toBeGreaterThanOrEqual(38000);
    expect(s.queued).toBeLessThan(ring / 48); // what fits in the ring, no more
  });

  it('recv aborted by its signal rejects, and the next packet still arrives', async () => {
    const t = await make({ addresses: ['198.18.10.1/24'] });
    await drain(t);
    const ctl = new AbortController();
    const pending = t.recv({ signal: ctl.signal });
    ctl.abort(new Error('changed my mind'));
    await expect(pending).rejects.toThrow('changed my mind');
    await t.send(echo(42));
    expect(parseIcmpEcho(await recvReply(t))?.seq).toBe(42);
  });

  it('destroy while recv is pending rejects it promptly and removes the device', async () => {
    const t = await make();
    const name = t.devname;
    await drain(t);
    const pending = t.recv();
    const started = Date.now();
    await t.destroy();
    await expect(pending).rejects.toBeInstanceOf(TuncerClosedError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(devExists(name)).toBe(false);
    expect(t.state).toBe('stopped');
    await t.destroy(); // idempotent
    await expectNoLeak(baseline);
  });

  for (const fault of ['throw', 'exit', 'hang'] as const) {
    it(`a worker that fails (${fault}) moves the actor to failed, says why, and leaks nothing`, async () => {
      const t = await make();
      const name = t.devname;
      const events: TunEvent[] = [];
      t.events$.subscribe((e) => events.push(e));
      const packetsError = new Promise((resolve) => t.packets$.subscribe({ error: resolve }));
      await t.injectFault(fault);
      if (fault === 'hang') {
        await sleep(50);
        expect(t.state).toBe('passive'); // still "running", but stuck
        await t.kill(); // terminate() interrupts the spinning worker
      }
      const reason = await t.exit;
      expect(t.state).toBe(fault === 'hang' ? 'stopped' : 'failed');
      if (fault === 'hang') expect(reason).toBe('killed');
      else {
        expect(reason).toBeInstanceOf(Error);
        expect(await packetsError).toBe(reason);
      }
      expect(events.at(-1)).toEqual({ type: 'exit', reason });
      expect(devExists(name)).toBe(false);
      await expect(t.recv()).rejects.toBeInstanceOf(TuncerClosedError);
      await expectNoLeak(baseline);
    });
  }

  it('a persistent device survives destroy with its configuration and is re-attached', async () => {
    const name = ifname('p');
    const a = await Tuncer.create({ name, mode: 'tun', persist: true, mtu: 1300, addresses: ['198.18.11.1/24'], owner: 4242 });
    await a.destroy();
    expect(devExists(name)).toBe(true);
    expect(sysfs(name, 'mtu')).toBe('1300');
    expect(sysfs(name, 'owner')).toBe('4242');
    expect(ipAddrs(name).some((x) => x.local === '198.18.11.1')).toBe(true);
    const b = await Tuncer.create({ name, mode: 'tun' });
    expect((await b.info()).persist).toBe(true);
    await b.persist(false);
    await b.destroy();
    expect(devExists(name)).toBe(false);
    await expectNoLeak(baseline);
  });

  it('a failed start rejects with the TunError of that step and leaves nothing behind', async () => {
    const name = ifname('e');
    const holder = tunctl.create(name, { mode: 'tun' });
    try {
      await poolSteady();
      const before = { fds: openFds(), devs: tunDevices() };
      await expect(Tuncer.create({ name, mode: 'tun', exclusive: true })).rejects.toMatchObject({ code: 'EBUSY', syscall: 'ioctl(TUNSETIFF)', ifname: name });
      await expect(Tuncer.create({ name: ifname('e'), mode: 'tun', addresses: ['198.18.12.1/24'], mtu: 65535, hwaddr: '02:00:00:00:00:01' })).rejects.toBeInstanceOf(TunError); // a tun has no MAC
      const newPersistent = ifname('e');
      await expect(Tuncer.create({ name: newPersistent, mode: 'tun', persist: true, addresses: ['198.18.12.1/24'], hwaddr: '02:00:00:00:00:01' })).rejects.toBeInstanceOf(TunError);
      expect(devExists(newPersistent)).toBe(false); // un-persisted on the way out
      await expect(Tuncer.create({ name: 'x'.repeat(16) })).rejects.toBeInstanceOf(RangeError);
      await expect(Tuncer.create({ mode: 'tun', addresses: ['198.18.12.1/33'] })).rejects.toBeInstanceOf(RangeError);
      await untilSteady(() => openFds() === before.fds, 3000);
      expect(tunDevices()).toEqual(before.devs);
      expect(openFds()).toBe(before.fds);
    } finally {
      tunctl.close(holder.fd);
    }
  });

  it('configures through the actor: up, mtu, peer, events', async () => {
    const t = await make({ addresses: [] });
    const events: TunEvent[] = [];
    t.events$.subscribe((e) => events.push(e));
    await t.up('198.18.13.1', 32);
    await t.dstaddr('198.18.13.2');
    await t.setMtu(1280);
    expect(await t.mtu()).toBe(1280);
    expect(await t.ipv4()).toMatchObject({ address: '198.18.13.1', prefix: 32, dstaddr: '198.18.13.2' });
    await t.down();
    expect(events.map((e) => e.type).filter((t) => t === 'up' || t === 'down')).toEqual(['up', 'down']);
    // The kernel's word for the same change follows on its own.
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'link' && !e.up); i++) await sleep(10);
    expect(events.some((e) => e.type === 'link' && !e.up)).toBe(true);
    await expect(t.setMtu(10)).rejects.toBeInstanceOf(RangeError);
  });

  it('await using destroys the interface at the end of the block', async () => {
    let name = '';
    {
      await using t = await Tuncer.create({ mode: 'tun', name: ifname('d') });
      name = t.devname;
      expect(devExists(name)).toBe(true);
    }
    expect(devExists(name)).toBe(false);
  });

  it('creates and configures a device inside another network namespace', async () => {
    const holder = spawn('unshare', ['--net', '--', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await sleep(100);
      const netns = `/proc/${holder.pid}/ns/net`;
      const t = await make({ netns, addresses: ['198.18.14.1/24'] });
      expect(devExists(t.devname)).toBe(false);
      expect(sh('nsenter', [`--net=${netns}`, 'ip', '-o', 'addr', 'show', 'dev', t.devname])).toContain('198.18.14.1/24');
      const r = buildIcmp4EchoRequest({ src: '198.18.14.2', dst: '198.18.14.1', id: 3, seq: 77 });
      await t.send(r);
      expect(parseIcmpEcho(await recvReply(t))?.seq).toBe(77);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('runs 32 interfaces at once in one process', async () => {
    const ts = await Promise.all(
      Array.from({ length: 32 }, (_, i) => make({ addresses: [`198.18.${100 + i}.1/24`] })),
    );
    expect(new Set(ts.map((t) => t.devname)).size).toBe(32);
    await Promise.all(
      ts.map(async (t, i) => {
        await t.send(buildIcmp4EchoRequest({ src: `198.18.${100 + i}.2`, dst: `198.18.${100 + i}.1`, id: i, seq: i }));
        expect(parseIcmpEcho(await recvReply(t))).toMatchObject({ id: i, src: `198.18.${100 + i}.1` });
      }),
    );
    await Promise.all(live.splice(0).map((t) => t.destroy()));
    await expectNoLeak(baseline);
  });

  it('process exit, SIGTERM, SIGINT and an uncaught exception all remove non-persistent devices; persistent ones stay', async () => {
    const index = new URL('../../dist/index.js', import.meta.url).href;
    for (const how of ['exit', 'SIGTERM', 'SIGINT', 'throw'] as const) {
      const plain = ifname('x');
      const kept = ifname('k');
      const script = `import('${index}').then(async ({ Tuncer }) => {
        await Tuncer.create({ name: '${plain}', mode: 'tun', addresses: ['198.18.15.1/24'] });
        await Tuncer.create({ name: '${kept}', mode: 'tun', persist: true, mtu: 1400 });
        console.log('ready');
        // Wait for the parent's word, so it can see the devices exist first.
        process.stdin.once('data', () => { ${how === 'exit' ? 'process.exit(0);' : how === 'throw' ? "throw new Error('boom');" : ''} });
      });`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      expect(devExists(plain)).toBe(true);
      if (how === 'SIGTERM' || how === 'SIGINT') child.kill(how);
      else child.stdin.write('go\n');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      const deadline = Date.now() + 2000;
      while (devExists(plain) && Date.now() < deadline) await sleep(10);
      expect(devExists(plain)).toBe(false);
      expect(devExists(kept)).toBe(true);
      expect(sysfs(kept, 'mtu')).toBe('1400');
      const h = tunctl.create(kept, { mode: 'tun' });
      tunctl.persist(h.fd, false);
      tunctl.close(h.fd);
    }
  });
});
