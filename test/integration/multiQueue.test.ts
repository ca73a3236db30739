// Multi-queue interfaces against the kernel: `queues: N` makes an IFF_MULTI_QUEUE device
// with N queue fds, each in its own worker; rx merges them, tx picks a queue per flow; any
// queue's failure fails the interface (and a supervisor restarts it whole); nothing leaks.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tuncer, TuncerClosedError, Supervisor, tuncerChild, tunctl, type TuncerHandle, type SupervisorEvent, type TunEvent } from '../../src/index.js';
import { MAX_QUEUES } from '../../src/actors/tuncerOptions.js';
import { flowHash } from '../../src/actors/flowHash.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { buildUdp4, parseUdp } from '../../src/packet/udp.js';
import { describeKernel, devExists, expectNoLeak, ifname, leakBaseline, openFds, poolSteady, sysfs, tunDevices, untilSteady, type LeakBaseline } from '../helpers/kernel.js';

const live: Tuncer[] = [];
const sockets: Socket[] = [];
const sups: Supervisor<Tuncer, TuncerHandle>[] = [];
let baseline: LeakBaseline;
beforeEach(async () => {
  baseline = await leakBaseline();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(sups.splice(0).map((s) => s.stop().catch(() => undefined)));
  await Promise.all(live.splice(0).map((t) => t.destroy()));
  await expectNoLeak(baseline);
});

const IFF_MULTI_QUEUE = 0x100;

/** A multi-queue tun on 198.18.<net>.1/24 with 198.18.<net+1>.0/24 routed into it; IPv6 off (no stray packets). */
async function make(queues: number, net: number, opts: Parameters<typeof Tuncer.create>[0] = {}): Promise<Tuncer> {
  const t = await Tuncer.create({
    mode: 'tun', name: ifname('q'), queues, addresses: [`198.18.${net}.1/24`], routes: [`198.18.${net + 1}.0/24`], txqueuelen: 100_000, ...opts,
  });
  live.push(t);
  writeFileSync(`/proc/sys/net/ipv6/conf/${t.devname}/disable_ipv6`, '1');
  return t;
}

const queueDirs = (dev: string): string[] => readdirSync(`/sys/class/net/${dev}/queues`).sort();

async function socket(bindTo?: string, port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => s.bind(port, bindTo, resolve));
  return s;
}

/** Send `perFlow` datagrams on each of `flows` flows (destination ports base..base+flows-1), seq numbers in the payload, round-robin across flows. */
async function sendFlows(s: Socket, dst: string, flows: number, perFlow: number, base = 20000): Promise<void> {
  let inFlight = 0;
  for (let i = 0; i < perFlow; i++) {
    for (let f = 0; f < flows; f++) {
      const payload = Buffer.alloc(8);
      payload.writeUInt32BE(f, 0);
      payload.writeUInt32BE(i, 4);
      inFlight += 1;
      s.send(payload, base + f, dst, () => (inFlight -= 1));
    }
    if (i % 64 === 63) while (inFlight > 256) await sleep(1);
  }
  while (inFlight > 0) await sleep(1);
}

/**
 * Read UDP datagrams of flows base.. with passive batches until `expect` arrived (or 2 s of
 * silence): per flow, the seq numbers in arrival order.
 */
async function readFlows(t: Tuncer, flows: number, expect: number, base = 20000): Promise<{ seqs: number[][]; total: number }> {
  const seqs: number[][] = Array.from({ length: flows }, () => []);
  let total = 0;
  while (total < expect) {
    let batch;
    try {
      batch = await t.recvBatch({ max: 1024, signal: AbortSignal.timeout(2000) });
    } catch {
      break;
    }
    for (const p of batch) {
      const u = parseUdp(p);
      if (!u || u.dstPort < base || u.dstPort >= base + flows) continue;
      const f = u.payload.readUInt32BE(0);
      seqs[f]!.push(u.payload.readUInt32BE(4));
      total += 1;
    }
    batch.release();
  }
  return { seqs, total };
}

describeKernel('multi-queue interfaces against the kernel', () => {
  it('queues: N makes an IFF_MULTI_QUEUE device with N queues attached, each fd in its own worker', async () => {
    const fds = openFds();
    const t = await make(4, 40);
    expect(t.flags & IFF_MULTI_QUEUE).toBe(IFF_MULTI_QUEUE);
    expect(Number(sysfs(t.devname, 'tun_flags')) & IFF_MULTI_QUEUE).toBe(IFF_MULTI_QUEUE);
    expect(queueDirs(t.devname)).toEqual(['rx-0', 'rx-1', 'rx-2', 'rx-3', 'tx-0', 'tx-1', 'tx-2', 'tx-3']);
    // The queue fds live in the workers (this process), one per queue, plus each worker's netlink watch.
    expect(openFds() - fds).toBeGreaterThanOrEqual(4);
    const s = await t.stats();
    expect(s.queues).toHaveLength(4);
    expect(tunctl.info(t.getfd()).multiQueue).toBe(true);
    await t.destroy();
    expect(devExists(t.devname)).toBe(false);
    expect(t.state).toBe('stopped');
  });

  it('only queue 0 watches the device over rtnetlink: one subscribed socket for four queues, and it still reports', async () => {
    // rtnetlink sockets with multicast groups in this namespace (the kernel lists them per namespace).
    const watching = (): number => readFileSync('/proc/net/netlink', 'utf8').split('\n').slice(1)
      .map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === '0' && f[3] !== undefined && f[3] !== '00000000').length;
    const before = watching();
    const t = await make(4, 60);
    expect(watching() - before).toBe(1);
    const mtu = new Promise<TunEvent>((resolve) => t.events$.subscribe((e) => e.type === 'link' && e.mtu === 1300 && resolve(e)));
    await t.setMtu(1300);
    await expect(mtu).resolves.toMatchObject({ type: 'link', mtu: 1300 });
  });

  it('one queue stays a plain interface: no queue list in stats, no multi-queue flag', async () => {
    const t = await make(1, 42);
    expect(t.flags & IFF_MULTI_QUEUE).toBe(0);
    expect((await t.stats()).queues).toBeUndefined();
  });

  it('packets of 16 UDP flows arrive merged from both queues, all of them, each flow in order', async () => {
    const t = await make(2, 44);
    const s = await socket('198.18.44.1');
    const flows = 16;
    const perFlow = 200;
    const reading = readFlows(t, flows, flows * perFlow);
    await sendFlows(s, '198.18.45.2', flows, perFlow);
    const { seqs, total } = await reading;
    expect(total).toBe(flows * perFlow);
    for (const f of seqs) expect(f).toEqual([...Array(perFlow).keys()]);
    const st = await t.stats();
    // The kernel spread the flows: both queues read some, and the totals add up.
    expect(st.queues!.map((q) => q.rxPackets).every((n) => n > 0)).toBe(true);
    expect(st.rxPackets).toBe(st.queues!.reduce((a, q) => a + q.rxPackets, 0));
    expect(st.delivered).toBeGreaterThanOrEqual(flows * perFlow);
  });

  it('no packet of 16 flows is reordered within its flow over 50 000 packets (active batches$)', async () => {
    const t = await make(2, 46, { rxRingBytes: 1 << 20 });
    const s = await socket('198.18.46.1');
    const flows = 16;
    const perFlow = 3125;
    const last = new Array<number>(flows).fill(-1);
    let total = 0;
    let reordered = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    t.batches$.subscribe((b) => {
      for (let i = 0; i < b.length; i++) {
        const u = parseUdp(b.packet(i));
        if (!u || u.dstPort < 20000 || u.dstPort >= 20000 + flows) continue;
        const f = u.payload.readUInt32BE(0);
        const seq = u.payload.readUInt32BE(4);
        if (seq <= last[f]!) reordered += 1;
        last[f] = seq;
        if (++total === flows * perFlow) done();
      }
    });
    t.setopt({ active: true });
    await sendFlows(s, '198.18.47.2', flows, perFlow);
    await Promise.race([all, sleep(5000)]);
    const st = await t.stats();
    expect(reordered).toBe(0);
    // None lost either (a drop would show as a kernel drop, not as reordering).
    expect(total + Math.max(0, st.kernelDrops)).toBe(flows * perFlow);
    expect(st.queues!.every((q) => q.rxPackets > 0)).toBe(true);
  });

  it('an ICMP echo written into the tun gets the kernel’s real reply, merged in; recv() and packets$ work', async () => {
    const t = await make(3, 48);
    for (let seq = 1; seq <= 5; seq++) {
      expect(t.trySend(buildIcmp4EchoRequest({ src: '198.18.48.2', dst: '198.18.48.1', id: 7, seq }))).toBe(true);
      for (;;) {
        const e = parseIcmpEcho(await t.recv({ signal: AbortSignal.timeout(2000) }));
        if (e?.type === 'reply') {
          expect(e.seq).toBe(seq);
          break;
        }
      }
    }
    const got: number[] = [];
    t.packets$.subscribe((p) => {
      const e = parseIcmpEcho(p);
      if (e?.type === 'reply') got.push(e.seq);
    });
    t.setopt({ active: 3 });
    for (let seq = 10; seq < 13; seq++) await t.send(buildIcmp4EchoRequest({ src: '198.18.48.2', dst: '198.18.48.1', id: 7, seq }));
    const deadline = Date.now() + 3000;
    while (got.length < 3 && Date.now() < deadline) await sleep(10);
    expect(got).toEqual([10, 11, 12]);
    expect(t.state).toBe('passive'); // three credits, spent
    // Each queue's worker reads its own fd: none hands its reads to the main thread.
    const s = await t.stats();
    expect(s.rxPackets).toBeGreaterThanOrEqual(8);
    expect(s.queues?.map((q) => [q.rxHandovers, q.rxDirect])).toEqual([[0, 0], [0, 0], [0, 0]]);
  });

  it('tx: each flow goes out on the queue its hash picks, in order; a flow key overrides', async () => {
    const t = await make(2, 50);
    const sink = await socket('198.18.50.1', 9999);
    const flows = 16;
    const per = 100;
    const got: number[][] = Array.from({ length: flows }, () => []);
    sink.on('message', (m) => got[m.readUInt32BE(0)]!.push(m.readUInt32BE(4)));
    const packets: Buffer[] = [];
    const perQueue = [0, 0];
    for (let i = 0; i < per; i++) {
      for (let f = 0; f < flows; f++) {
        const payload = Buffer.alloc(8);
        payload.writeUInt32BE(f, 0);
        payload.writeUInt32BE(i, 4);
        const p = buildUdp4({ src: '198.18.51.2', dst: '198.18.50.1', srcPort: 30000 + f, dstPort: 9999, payload });
        perQueue[flowHash(p) % 2]! += 1;
        packets.push(p);
      }
    }
    // In rounds the sink's socket buffer holds (a full buffer drops, which is not what this checks).
    const received = (): number => got.reduce((a, g) => a + g.length, 0);
    for (let from = 0; from < packets.length; from += 160) {
      await t.sendAll(packets.slice(from, from + 160));
      const deadline = Date.now() + 3000;
      while (received() < from + 160 && Date.now() < deadline) await sleep(5);
    }
    for (const g of got) expect(g).toEqual([...Array(per).keys()]);
    const st = await t.stats();
    expect(st.queues!.map((q) => q.txPackets)).toEqual(perQueue);
    expect(perQueue.every((n) => n > 0)).toBe(true);
    // A flow key puts every packet on its queue: key 1 → queue 1.
    expect(t.sendBatch(packets.slice(0, 10), 1)).toBe(10);
    expect(t.trySend(packets[0]!, 3)).toBe(true);
    await sleep(100);
    const st2 = await t.stats();
    expect(st2.queues![1]!.txPackets - st.queues![1]!.txPackets).toBe(11);
    expect(st2.queues![0]!.txPackets).toBe(st.queues![0]!.txPackets);
    expect(() => t.trySend(packets[0]!, -1)).toThrow(RangeError);
  });

  it.each(['throw', 'exit', 'fatal'] as const)('a crash of one queue’s worker (%s) fails the whole interface; every fd closes, the device goes', async (kind) => {
    const t = await make(3, 52);
    const events: TunEvent[] = [];
    t.events$.subscribe((e) => events.push(e));
    // A receive loop that ends only with the interface (a stray packet may arrive first).
    const pending = (async () => {
      for (;;) await t.recv();
    })();
    await t.injectFault(kind, { queue: 2 });
    const reason = await t.exit;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).message).toMatch(/queue 2 of/);
    expect(t.state).toBe('failed');
    await expect(pending).rejects.toBeInstanceOf(TuncerClosedError);
    expect(() => t.trySend(Buffer.alloc(20, 0x45))).toThrow(TuncerClosedError);
    expect(events.at(-1)).toMatchObject({ type: 'exit' });
    expect(devExists(t.devname)).toBe(false);
    await expectNoLeak(baseline);
  });

  it('a hung queue worker is terminated when the interface stops; nothing leaks', async () => {
    const t = await make(2, 54);
    await t.injectFault('hang', { queue: 1 });
    await t.destroy();
    expect(t.state).toBe('stopped');
    expect(tunDevices()).toEqual(baseline.devs);
  });

  it('kill() ends every queue at once', async () => {
    const t = await make(3, 56);
    await t.kill();
    expect(await t.exit).toBe('killed');
    await expectNoLeak(baseline);
  });

  it('a persistent multi-queue device keeps its queues detached and takes them again', async () => {
    const name = ifname('p');
    const a = await Tuncer.create({ mode: 'tun', name, queues: 2, persist: true });
    await a.destroy();
    expect(devExists(name)).toBe(true);
    const b = await Tuncer.create({ mode: 'tun', name, queues: 2, persist: false });
    live.push(b);
    expect(queueDirs(name)).toEqual(['rx-0', 'rx-1', 'tx-0', 'tx-1']);
    expect(b.flags & IFF_MULTI_QUEUE).toBe(IFF_MULTI_QUEUE);
  });

  it('refuses bad queues before any thread or syscall, with typed errors', async () => {
    for (const q of [0, MAX_QUEUES + 1, 1.5, -1]) await expect(Tuncer.create({ mode: 'tun', queues: q })).rejects.toThrow(RangeError);
    await expect(Tuncer.create({ mode: 'tun', queues: '2' as unknown as number })).rejects.toThrow(TypeError);
    await expect(Tuncer.create({ mode: 'tun', queues: 2, multiQueue: false })).rejects.toThrow(/multiQueue/);
    const h = tunctl.create('', { mode: 'tun' });
    try {
      await expect(Tuncer.create({ fd: h.fd, queues: 2 })).rejects.toThrow(/fd/);
    } finally {
      tunctl.close(h.fd);
    }
    // Attaching queues to a device that is not multi-queue: the kernel's EINVAL, as a TunError, and nothing left.
    const name = ifname('n');
    const single = await Tuncer.create({ mode: 'tun', name });
    live.push(single);
    await expect(Tuncer.create({ mode: 'tun', name, queues: 2 })).rejects.toMatchObject({ code: 'EINVAL', syscall: expect.any(String) });
    expect(queueDirs(name)).toEqual(['rx-0', 'tx-0']);
    await expect(single.injectFault('throw', { queue: 1 })).rejects.toThrow(RangeError);
  });

  it('at the kernel’s limit a queue that cannot attach (E2BIG) fails create, leaving the other queues closed', async () => {
    const name = ifname('m');
    // The kernel allows MAX_QUEUES queues per device: hold all but two of them here.
    const held = [tunctl.create(name, { mode: 'tun', multiQueue: true })];
    try {
      for (let i = 1; i < MAX_QUEUES - 2; i++) held.push(tunctl.create(name, { mode: 'tun', multiQueue: true }));
      await poolSteady(); // a spare booting in the background would count
      const fds = openFds();
      const err = await Tuncer.create({ mode: 'tun', name, queues: 3 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E2BIG', syscall: expect.any(String), ifname: expect.any(String) });
      // Queues 0 and 1 had attached: both closed again, every worker gone.
      await untilSteady(() => openFds() === fds, 3000);
      expect(openFds()).toBe(fds);
      expect(queueDirs(name).filter((d) => d.startsWith('rx-'))).toHaveLength(MAX_QUEUES - 2); // only the held ones
    } finally {
      for (const h of held) tunctl.close(h.fd);
    }
  });

  it('a supervisor restarts a multi-queue child whole, with all its queues; its handle keeps flowing', async () => {
    const name = ifname('s');
    const events: SupervisorEvent[] = [];
    const sup = await Supervisor.start<Tuncer, TuncerHandle>({
      strategy: 'one_for_one', intensity: 3, period: 5,
      children: [tuncerChild({ name, mode: 'tun', queues: 2, addresses: ['198.18.58.1/24'] })],
      observer: { next: (e) => events.push(e) },
    });
    sups.push(sup);
    const first = await sup.whenRunning(name);
    expect(queueDirs(name)).toEqual(['rx-0', 'rx-1', 'tx-0', 'tx-1']);
    await first.injectFault('throw', { queue: 1 });
    const deadline = Date.now() + 5000;
    while (!events.some((e) => e.type === 'child.started' && e.restart) && Date.now() < deadline) await sleep(10);
    const second = await sup.whenRunning(name);
    expect(second).not.toBe(first);
    expect(await first.exit).toBeInstanceOf(Error);
    expect(queueDirs(name)).toEqual(['rx-0', 'rx-1', 'tx-0', 'tx-1']);
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    const handle = sup.child(name);
    await handle.send(buildIcmp4EchoRequest({ src: '198.18.58.2', dst: '198.18.58.1', id: 9, seq: 1 }));
    for (;;) {
      const e = parseIcmpEcho(await second.recv({ signal: AbortSignal.timeout(2000) }));
      if (e?.type === 'reply') break;
    }
    await sup.stop();
    sups.splice(0);
    await expectNoLeak(baseline);
  });
});
