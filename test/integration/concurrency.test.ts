/**
 * Concurrency against the kernel: 64 interfaces flooding at once, destroy/kill/stop racing
 * in-flight recv and send, setopt racing recv, and supervisors shut down in the middle of
 * a restart. Every wait has a bound; every packet carries a unique sequence number, and no
 * packet read from an fd may be delivered twice (or to the wrong interface).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Supervisor, Tuncer, TuncerClosedError, tuncerChild, type SupervisorEvent, type TuncerHandle } from '../../src/index.js';
import { buildIcmp4EchoRequest, parseIcmpEcho } from '../../src/packet/icmpEcho.js';
import { ipPacket } from '../../src/packet/ipPacket.js';
import { parseUdp } from '../../src/packet/udp.js';
import { describeKernel, devExists, ifname, openFds, poolSteady, tunDevices, untilSteady } from '../helpers/kernel.js';
import { bounded } from '../helpers/bounded.js';

const threads = (): number => readdirSync('/proc/self/task').length;
let baseline: { fds: number; devs: string[]; threads: number };
let sock: Socket;
let sockClosed = false;


async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** What a packet read from a tun says about itself: 'udp:<net>:<seq>' or 'icmp:<id>:<seq>', or null (kernel chatter). */
function key(p: Buffer): string | null {
  const ip = ipPacket(p);
  if (!ip || ip.family !== 4) return null;
  const udp = parseUdp(p);
  if (udp && udp.dstPort === 9 && udp.payload.length >= 8) return `udp:${udp.payload.readUInt32BE(0)}:${udp.payload.readUInt32BE(4)}`;
  const e = parseIcmpEcho(p);
  if (e?.type === 'reply') return `icmp:${e.id}:${e.seq}`;
  return null;
}

/** Send `count` UDP datagrams to 198.19.<net>.2, each carrying (net, seq), paced so the socket never blocks. */
async function udpFlood(net: number, count: number, first = 0): Promise<number> {
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(net, 0);
    b.writeUInt32BE(first + i, 4);
    await new Promise<void>((resolve) => sock.send(b, 9, `198.19.${net}.2`, (err) => ((sent += err ? 0 : 1), resolve())));
  }
  return sent;
}

const echo = (net: number, seq: number): Buffer => buildIcmp4EchoRequest({ src: `198.19.${net}.2`, dst: `198.19.${net}.1`, id: net, seq });

/** Record every key delivered to an interface; a repeat or a packet for another interface is an error. */
class Ledger {
  readonly seen = new Map<string, number>();
  readonly errors: string[] = [];
  constructor(readonly net: number) {}
  add(p: Buffer, how: string): void {
    const k = key(p);
    if (k === null) return;
    const [, owner] = k.split(':');
    if (Number(owner) !== this.net) this.errors.push(`${how}: ${k} delivered to interface ${this.net}`);
    const n = (this.seen.get(k) ?? 0) + 1;
    this.seen.set(k, n);
    if (n === 2) this.errors.push(`${how}: ${k} delivered twice`);
  }
}

/** Stop IPv6 chatter (router solicitations) so the only packets are ours. */
function quiet(t: Tuncer): void {
  writeFileSync(`/proc/sys/net/ipv6/conf/${t.devname}/disable_ipv6`, '1');
}

describeKernel('concurrency', () => {
  beforeAll(async () => {
    await (await Tuncer.create({ mode: 'tun' })).destroy();
    await poolSteady();
    baseline = { fds: openFds(), devs: tunDevices(), threads: threads() };
    sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, resolve));
  });
  afterAll(async () => {
    if (!sockClosed) await new Promise<void>((resolve) => sock.close(() => resolve()));
  });

  it('64 interfaces flood at once: every packet reaches its own interface once, none twice, none elsewhere', async () => {
    const N = 64;
    const PER = 150; // UDP datagrams and ICMP echoes per interface
    const ts = await bounded(
      Promise.all(Array.from({ length: N }, (_, i) => Tuncer.create({ name: ifname('c'), mode: 'tun', addresses: [`198.19.${i + 1}.1/24`], txqueuelen: 4000 }))),
      30_000,
      'starting 64 interfaces',
    );
    expect(ts.ok, ts.ok ? '' : String((ts.error as Error)?.stack ?? ts.error)).toBe(true);
    const tuns = (ts as { value: Tuncer[] }).value;
    try {
      const ledgers = tuns.map((t, i) => new Ledger(i + 1));
      const readers: Promise<void>[] = [];
      tuns.forEach((t, i) => {
        quiet(t);
        const ledger = ledgers[i]!;
        if (i % 2 === 0) {
          t.packets$.subscribe({ next: (p) => ledger.add(p, 'packets$'), error: () => undefined });
          t.setopt({ active: true });
        } else {
          readers.push(
            (async () => {
              for (;;) {
                const p = await t.recv({ signal: AbortSignal.timeout(1500) }).catch(() => null);
                if (!p) return;
                ledger.add(p, 'recv');
              }
            })(),
          );
        }
      });
      const senders = tuns.map(async (t, i) => {
        const net = i + 1;
        const udp = udpFlood(net, PER);
        for (let s = 0; s < PER; s++) {
          await t.send(echo(net, s));
          if (s % 16 === 15) await sleep(0);
        }
        return udp;
      });
      const sent = await bounded(Promise.all(senders), 30_000, 'flooding 64 interfaces');
      expect(sent.ok).toBe(true);
      const want = N * PER * 2;
      const got = (): number => ledgers.reduce((a, l) => a + l.seen.size, 0);
      await until(() => got() >= want, 10_000);
      await bounded(Promise.all(readers), 10_000, 'passive readers');
      const errors = ledgers.flatMap((l) => l.errors);
      const drops = (await Promise.all(tuns.map((t) => t.stats()))).reduce((a, s) => a + (s.kernelDrops ?? 0), 0);
      console.log(`[concurrency] 64 interfaces: ${got()} of ${want} packets delivered (${drops} dropped by the kernel's queues), ${errors.length} errors`);
      expect(errors).toEqual([]);
      expect(got()).toBeGreaterThan(want * 0.9);
    } finally {
      await bounded(Promise.all(tuns.map((t) => t.destroy())), 15_000, 'destroying 64 interfaces');
    }
    expect(await until(() => tunDevices().join() === baseline.devs.join(), 5000)).toBe(true);
  }, 90_000);

  it('destroy, stop and kill racing in-flight recv and send: everything settles at once, nothing is delivered twice', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('destroy' as const, 'stop' as const, 'kill' as const),
        fc.integer({ min: 0, max: 6 }), // ms before ending
        fc.integer({ min: 1, max: 6 }), // pending recvs
        fc.boolean(), // a small tx ring, so sends wait for room when the end comes
        async (how, delay, receivers, smallRing) => {
          runs += 1;
          const net = 100 + (runs % 50);
          const t = await Tuncer.create({ name: ifname('r'), mode: 'tun', addresses: [`198.19.${net}.1/24`], timeoutMs: 20_000, ...(smallRing ? { txRingBytes: 3 * 65551 } : {}) });
          const name = t.devname;
          quiet(t);
          const ledger = new Ledger(net);
          const flood = udpFlood(net, 200, runs * 1000);
          const recvs = Array.from({ length: receivers }, async () => {
            const got: Buffer[] = [];
            for (;;) {
              try {
                got.push(await t.recv());
              } catch (err) {
                return { got, err };
              }
            }
          });
          // Big sends fill a small ring; echoes come back as packets.
          const sends = Array.from({ length: 40 }, (_, s) =>
            t.send(s % 4 === 0 ? Buffer.concat([echo(net, s), Buffer.alloc(60_000)]) : echo(net, s)).then(
              () => undefined,
              (err: unknown) => err,
            ),
          );
          await sleep(delay);
          const started = Date.now();
          const ended = await bounded(t[how](), 5000, `${how}()`);
          expect(ended.ok).toBe(true);
          const settledRecvs = await bounded(Promise.all(recvs), 3000, 'pending recv after the end');
          expect(settledRecvs.ok).toBe(true);
          for (const r of (settledRecvs as { value: { got: Buffer[]; err: unknown }[] }).value) {
            expect(r.err).toBeInstanceOf(TuncerClosedError);
            for (const p of r.got) ledger.add(p, 'recv');
          }
          const settledSends = await bounded(Promise.all(sends), 3000, 'pending send after the end');
          expect(settledSends.ok).toBe(true);
          for (const err of (settledSends as { value: unknown[] }).value) if (err !== undefined) expect(err).toBeInstanceOf(TuncerClosedError);
          expect(Date.now() - started, 'the end and everything waiting on it took too long').toBeLessThan(5000);
          await expect(t.recv()).rejects.toBeInstanceOf(TuncerClosedError);
          await expect(t.send(echo(net, 1))).rejects.toBeInstanceOf(TuncerClosedError);
          expect(ledger.errors).toEqual([]);
          await flood;
          expect(await until(() => !devExists(name), 3000)).toBe(true);
        },
      ),
      { numRuns: 24 },
    );
  }, 90_000);

  it('setopt racing recv under a flood: modes switch any number of times and no packet is delivered twice', async () => {
    const modeArb = fc.oneof(fc.constantFrom(true as const, false as const, 'once' as const), fc.integer({ min: -3, max: 20 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(modeArb, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { minLength: 5, maxLength: 40 }), async (plan) => {
        const net = 160;
        const t = await Tuncer.create({ name: ifname('s'), mode: 'tun', addresses: [`198.19.${net}.1/24`], txqueuelen: 10_000 });
        try {
          quiet(t);
          const ledger = new Ledger(net);
          t.packets$.subscribe({ next: (p) => ledger.add(p, 'packets$'), error: () => undefined });
          const total = 600;
          const flood = (async () => {
            for (let s = 0; s < total; s++) {
              await t.send(echo(net, s));
              if (s % 25 === 24) await sleep(1);
            }
          })();
          const udp = udpFlood(net, total);
          const pending: Promise<unknown>[] = [];
          for (const [mode, recvs, wait] of plan) {
            t.setopt({ active: mode });
            for (let i = 0; i < recvs; i++) {
              pending.push(
                t.recv({ signal: AbortSignal.timeout(100) }).then(
                  (p) => ledger.add(p, 'recv'),
                  (err: { code?: string; name?: string }) => {
                    // Allowed: recv in active mode (EINVAL), a pending recv when active mode begins (EINVAL), its own timeout.
                    if (err.code !== 'EINVAL' && err.name !== 'TimeoutError') ledger.errors.push(`recv rejected with ${String(err)}`);
                  },
                ),
              );
            }
            await sleep(wait);
          }
          await bounded(Promise.all([flood, udp]), 20_000, 'flood');
          await bounded(Promise.all(pending), 5000, 'pending recvs');
          t.setopt({ active: true });
          await until(() => ledger.seen.size >= 2 * total, 3000);
          expect(ledger.errors).toEqual([]);
          // Nothing lost between the fd and the application either (the kernel's queue is long enough here).
          expect(ledger.seen.size).toBe(2 * total);
        } finally {
          await t.destroy();
        }
      }),
      { numRuns: 8 },
    );
  }, 90_000);

  it('a packets$ subscriber that turns passive and calls recv() gets the next packet, not the one it was just given', async () => {
    const net = 170;
    const t = await Tuncer.create({ name: ifname('e'), mode: 'tun', addresses: [`198.19.${net}.1/24`] });
    try {
      quiet(t);
      await sleep(30);
      while (await t.recv({ signal: AbortSignal.timeout(30) }).catch(() => null));
      for (let s = 0; s < 6; s++) await t.send(echo(net, s));
      await sleep(100); // the six replies wait in the ring
      const ledger = new Ledger(net);
      const viaRecv: Promise<void>[] = [];
      let first = true;
      t.packets$.subscribe((p) => {
        ledger.add(p, 'packets$');
        if (first) {
          first = false;
          // A common pattern: take the first packet actively, then read the rest passively.
          t.setopt({ active: false });
          viaRecv.push(t.recv({ signal: AbortSignal.timeout(500) }).then((q) => ledger.add(q, 'recv in subscriber')));
          viaRecv.push(t.recv({ signal: AbortSignal.timeout(500) }).then((q) => ledger.add(q, 'recv in subscriber')));
        }
      });
      t.setopt({ active: true });
      await bounded(Promise.all(viaRecv), 2000, 'recv in the subscriber');
      for (;;) {
        const p = await t.recv({ signal: AbortSignal.timeout(200) }).catch(() => null);
        if (!p) break;
        ledger.add(p, 'recv after');
      }
      expect(ledger.errors).toEqual([]);
      expect([...ledger.seen.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5].map((s) => `icmp:${net}:${s}`).sort());
    } finally {
      await t.destroy();
    }
  });

  it('a supervisor stopped or killed in the middle of a restart ends within a bound and leaves no device, worker or waiter', async () => {
    const triggers = ['child.exited', 'child.restarting', 'restart in flight', 'backoff wait'] as const;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('one_for_one' as const, 'one_for_all' as const, 'rest_for_one' as const),
        fc.constantFrom(...triggers),
        fc.constantFrom('stop' as const, 'kill' as const),
        fc.constantFrom('throw' as const, 'exit' as const, 'kill' as const),
        fc.integer({ min: 0, max: 30 }),
        async (strategy, trigger, end, crash, delayMs) => {
          run += 1;
          const names = [0, 1, 2].map(() => ifname('v'));
          const events: SupervisorEvent[] = [];
          let ending: Promise<void> | undefined;
          let sup!: Supervisor<Tuncer, TuncerHandle>;
          const fire = (): void => {
            ending ??= (async () => {
              await sleep(delayMs);
              await (end === 'stop' ? sup.stop() : sup.kill());
            })();
          };
          sup = await Supervisor.start<Tuncer, TuncerHandle>({
            strategy,
            intensity: 100,
            period: 1,
            ...(trigger === 'backoff wait' ? { backoff: { minMs: 300, maxMs: 300 } } : {}),
            children: names.map((name, i) => tuncerChild({ id: `c${i}`, name, mode: 'tun', addresses: [`198.19.${180 + i}.1/24`], shutdown: 2000 })),
            observer: {
              next: (e) => {
                events.push(e);
                if (trigger === 'child.exited' && e.type === 'child.exited' && e.by === 'self') fire();
                if ((trigger === 'child.restarting' || trigger === 'backoff wait') && e.type === 'child.restarting') fire();
              },
            },
          });
          const handle = sup.child('c1');
          const handleDone = new Promise<void>((resolve) => handle.packets$.subscribe({ complete: resolve, error: () => resolve() }));
          const victim = await sup.whenRunning('c1');
          // Someone waits on the interface through the handle while it restarts and the supervisor ends.
          const waiting = handle.recv({ signal: AbortSignal.timeout(8000) }).then(() => 'packet', (err: Error) => err.name);
          if (crash === 'kill') void victim.kill();
          else await victim.injectFault(crash);
          if (trigger === 'restart in flight') {
            await until(() => events.some((e) => e.type === 'child.restarting'), 5000);
            fire();
          }
          const ended = await bounded(until(() => ending !== undefined, 5000).then(() => ending!), 10_000, `supervisor ${end} mid-restart (${strategy}, ${trigger}, ${delayMs} ms)`);
          expect(ended.ok).toBe(true);
          expect(await bounded(sup.exit, 1000, 'sup.exit')).toMatchObject({ ok: true });
          expect(await bounded(handleDone, 2000, 'handle.packets$ completing')).toMatchObject({ ok: true });
          const waited = await bounded(waiting, 3000, 'handle.recv pending across the end');
          expect(waited.ok).toBe(true);
          expect((waited as { value: string }).value, 'a pending handle.recv must end when the supervisor does').not.toBe('TimeoutError');
          await expect(bounded(sup.whenRunning('c1'), 1000, 'whenRunning after the end')).resolves.toMatchObject({ ok: false });
          expect(await until(() => names.every((n) => !devExists(n)), 3000), `devices left: ${names.filter(devExists).join(', ')}`).toBe(true);
          expect(await untilSteady(() => threads() === baseline.threads, 3000), `threads ${threads()} vs ${baseline.threads}`).toBe(true);
        },
      ),
      { numRuns: 16 },
    );
  }, 120_000);

  it('leaves fds, devices and worker threads as it found them', async () => {
    await new Promise<void>((resolve) => sock.close(() => resolve())); // opened after the baseline was taken
    sockClosed = true;
    await untilSteady(() => openFds() === baseline.fds && tunDevices().join() === baseline.devs.join() && threads() === baseline.threads, 5000);
    expect(tunDevices()).toEqual(baseline.devs);
    expect(openFds()).toBe(baseline.fds);
    expect(threads()).toBe(baseline.threads);
  });
});
