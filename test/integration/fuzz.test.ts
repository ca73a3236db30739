/**
 * Property-based fuzzing against the real kernel (inside the private network namespace
 * that `npm test` makes): random names, options, addresses, prefixes, MTUs, MACs and
 * buffers go to real devices. Every input either works (and then the kernel shows its
 * effect) or gets a TypeError, RangeError or TunError; nothing crashes or hangs, and at
 * the end this file leaves fds, devices and threads as it found them. Valid addresses are
 * drawn from 198.18.0.0/15 and fd00::/8 only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { isIP } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tuncer, TunError, tunctl, type TuncerOptions } from '../../src/index.js';
import { parseIp } from '../../src/packet/ipAddress.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, ifname, openFds, poolSteady, sh, sysfs, tunDevices, untilSteady } from '../helpers/kernel.js';
import { bounded } from '../helpers/bounded.js';

const MAX_PACKET = 65535 + 16;
const threads = (): number => readdirSync('/proc/self/task').length;
let inputs = 0;
const tally = new Map<string, number>();
const count = (what: string): void => {
  tally.set(what, (tally.get(what) ?? 0) + 1);
};
const show = (v: unknown): string => {
  try {
    return fc.stringify(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};


function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The error classes an input may end in; a TunError must carry its code. */
function expectTyped(error: unknown, context: string): void {
  const typed = error instanceof TypeError || error instanceof RangeError || error instanceof TunError;
  expect(typed, `${context}: untyped ${String(error)}`).toBe(true);
  if (error instanceof TunError) {
    expect(error.code, context).toMatch(/^E[A-Z0-9]+$/);
    expect(error.errno).toBeLessThan(0);
    count(`TunError ${error.code}`);
  } else count((error as Error).name);
}

/** Un-persist and close every TUN/TAP device this file left (after the leak check has looked). */
function removeLeftovers(keep: string[]): string[] {
  const left = tunDevices().filter((d) => !keep.includes(d));
  for (const dev of left) {
    const flags = parseInt(sysfs(dev, 'tun_flags'), 16);
    try {
      const h = tunctl.create(dev, { mode: flags & 0x0002 ? 'tap' : 'tun', multiQueue: (flags & 0x0100) !== 0 });
      tunctl.persist(h.fd, false);
      tunctl.close(h.fd);
    } catch {
      /* reported by the leak check */
    }
  }
  return left;
}

// ---------------------------------------------------------------- generators (addresses in range only)

const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 17 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(15), 'x'.repeat(16), 'é'.repeat(7), 'é'.repeat(8), '日本語日本', '日本語日本x', '🙂🙂🙂', 'fz%d', '%d', 'a%db', '%d%d', 'a/b', '', ' ', 'a b', 'a\0b', '.', '..', 'a:b', 'à', 'tunà', 'Ω%d', 'x'.repeat(13) + '%d', 'lo') },
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('/', ':', '\0', ' ', '%d', '%', 'é', '€', '🙂', '\u00a0')).map(([a, b]) => a + b) },
);
const boolish = fc.oneof({ weight: 5, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, 1, 'yes') });
const createOptsArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        mode: fc.constantFrom('tun', 'tap', undefined, 'TAP', 3),
        noPi: boolish, vnetHdr: boolish, multiQueue: boolish, exclusive: boolish, oneQueue: boolish, noCarrier: boolish,
        vnetHdrSize: fc.constantFrom(undefined, 10, 12, 11),
        netns: fc.constantFrom(undefined, undefined, undefined, '/proc/self/ns/net', '/nonexistent/netns', '', '/etc/hostname'),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, [], 'tun', { mode: 'tun', bogus: 1 }, { mode: 'tun', persist: true }) },
);

const v4InRange = fc.tuple(fc.integer({ min: 18, max: 19 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([b, c, d]) => `198.${b}.${c}.${d}`);
const v6InRange = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }).map((g) => `fd${(g[0]! & 0xff).toString(16).padStart(2, '0')}:${g.slice(1).map((x) => x.toString(16)).join(':')}:1`);
function inRange(a: string): boolean {
  if (isIP(a) === 4) return /^198\.(18|19)\./.test(a);
  if (isIP(a) === 6) return /^fd[0-9a-f]{0,2}:/i.test(a);
  return true; // not an address: refused before the kernel
}
const addrArb: fc.Arbitrary<unknown> = fc
  .oneof(
    { weight: 4, arbitrary: v4InRange },
    { weight: 4, arbitrary: v6InRange },
    { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
    { weight: 1, arbitrary: fc.constantFrom('198.18.0.256', '198.18.0', '198.018.0.1', 'fd00::1%lo', '[fd00::1]', 'fd00::1/64', ' 198.18.0.1', 'fd00:::1', '', 'fd00::g') },
    { weight: 1, arbitrary: fc.constantFrom(5, null, undefined, {}, ['198.18.0.1']) },
  )
  .filter((a) => typeof a !== 'string' || inRange(a));
const prefixArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.integer({ min: 8, max: 128 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 32, 33, 64, 127, 128, 129, 1.5, NaN, '24', null) },
);
const mtuArb: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom(67, 68, 576, 1279, 1280, 1500, 9000, 65535, 65536, -1, 0, 1500.5, NaN, '1500', null), fc.integer({ min: 0, max: 70000 }));
const macArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 5, maxLength: 7 }) },
  { weight: 1, arbitrary: fc.constantFrom('02:00:00:00:00:01', '02-00-5E-00-00-01', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '02:00:00:00:00', 'zz:00:00:00:00:01', '', 5) },
);
const sizeArb = fc.oneof(fc.constantFrom(0, 1, 13, 14, 19, 20, 28, 60, 1500, 1501, 9000, 65535, MAX_PACKET, MAX_PACKET + 1, 100_000), fc.integer({ min: 0, max: 70_000 }));
const bufArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(sizeArb, fc.integer({ min: 0, max: 255 })).map(([n, fill]) => Buffer.alloc(n, fill)) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 1400 })).map(([seq, pad]) => buildIcmp4EchoRequest({ src: '198.18.200.2', dst: '198.18.200.1', id: 7, seq, payload: Buffer.alloc(pad) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, 'packet', [1, 2, 3], new Uint16Array(10), new ArrayBuffer(20), {}) },
);

// ---------------------------------------------------------------- the run

let baseline: { fds: number; devs: string[]; threads: number };

describeKernel('fuzzing against the kernel', () => {
  beforeAll(async () => {
    // Warm up what stays loaded for the life of the process (the addon, a first worker).
    const t = await Tuncer.create({ mode: 'tun' });
    await t.destroy();
    await poolSteady();
    baseline = { fds: openFds(), devs: tunDevices(), threads: threads() };
  });

  afterAll(() => {
    const summary = [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
    console.log(`[fuzz] kernel: ${inputs} inputs tried (${summary})`);
    removeLeftovers(baseline?.devs ?? []);
  });

  it('create: any name and options make a device with that name, or a typed error; the device goes with its fd', () => {
    let kernelRefusedValidName = 0;
    fc.assert(
      fc.property(fc.oneof(fc.constant(undefined), nameArb, fc.anything()), createOptsArb, (name, opts) => {
        inputs += 1;
        const r = attempt(() => tunctl.create(name as string, opts as never));
        if (!r.ok) {
          expectTyped(r.error, `create(${show(name)}, ${show(opts)})`);
          if (r.error instanceof TunError && r.error.syscall === 'ioctl(TUNSETIFF)' && r.error.code === 'EINVAL') kernelRefusedValidName += 1;
          return;
        }
        count('created');
        const { fd, name: actual } = r.value;
        try {
          expect(Buffer.byteLength(actual)).toBeLessThanOrEqual(15);
          if (typeof name === 'string' && name !== '' && !name.includes('%')) expect(actual).toBe(name);
          expect(devExists(actual)).toBe(true);
          const info = tunctl.info(fd);
          expect(info.name).toBe(actual);
          const mode = (opts as { mode?: string } | undefined)?.mode ?? 'tap';
          expect(info.mode).toBe(mode === 'tun' ? 'tun' : 'tap');
        } finally {
          tunctl.close(fd);
        }
        expect(devExists(actual)).toBe(false);
      }),
      { numRuns: 400 },
    );
    // Names the library accepts but Linux does not (a UTF-8 byte 0xa0 counts as a space to the kernel's isspace()).
    expect(attempt(() => tunctl.create('à', { mode: 'tun' }))).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    tally.set('create: EINVAL from the kernel for a name the library took', kernelRefusedValidName);
  });

  it('configuration: addresses, prefixes, netmasks, peers, MTU and MAC on a tun and a tap; what works reads back', () => {
    const tun = tunctl.create(ifname('fu'), { mode: 'tun' });
    const tap = tunctl.create(ifname('fa'), { mode: 'tap' });
    try {
      const ops = fc.oneof(
        fc.record({ op: fc.constant('up' as const), addr: addrArb, prefix: prefixArb }),
        fc.record({ op: fc.constant('removeAddress' as const), addr: addrArb, prefix: prefixArb }),
        fc.record({ op: fc.constantFrom('dstaddr' as const, 'broadcast' as const), addr: addrArb }),
        fc.record({ op: fc.constant('setNetmask' as const), mask: fc.oneof(prefixArb, fc.constantFrom('255.255.255.0', '255.255.0.0', '255.0.255.0', '0.0.0.0', '255.255.255.255', 'fd00::')) }),
        fc.record({ op: fc.constant('setMtu' as const), mtu: mtuArb }),
        fc.record({ op: fc.constant('setHwaddr' as const), mac: macArb }),
        fc.record({ op: fc.constant('setTxqueuelen' as const), n: fc.oneof(fc.integer({ min: -1, max: 20000 }), fc.constantFrom(0x7fffffff, 2 ** 31, 1.5)) }),
        fc.record({ op: fc.constant('link' as const), up: fc.oneof(fc.boolean(), fc.constantFrom(0, 'up')) }),
      );
      fc.assert(
        fc.property(fc.boolean(), ops, (onTap, cmd) => {
          inputs += 1;
          const dev = onTap ? tap.name : tun.name;
          const r = attempt((): void => {
            switch (cmd.op) {
              case 'up': return tunctl.up(dev, cmd.addr as string, cmd.prefix as number);
              case 'removeAddress': return tunctl.removeAddress(dev, cmd.addr as string, cmd.prefix as number);
              case 'dstaddr': return tunctl.dstaddr(dev, cmd.addr as string);
              case 'broadcast': return tunctl.broadcast(dev, cmd.addr as string);
              case 'setNetmask': return tunctl.setNetmask(dev, cmd.mask as number);
              case 'setMtu': return tunctl.setMtu(dev, cmd.mtu as number);
              case 'setHwaddr': return tunctl.setHwaddr(dev, cmd.mac as string);
              case 'setTxqueuelen': return tunctl.setTxqueuelen(dev, cmd.n as number);
              case 'link': return tunctl.link(dev, cmd.up as boolean);
            }
          });
          if (!r.ok) return expectTyped(r.error, `${cmd.op} on ${onTap ? 'tap' : 'tun'} ${show(cmd)}`);
          count(`${cmd.op} ok`);
          // It worked: the kernel shows it.
          if (cmd.op === 'setMtu') expect(tunctl.mtu(dev)).toBe(cmd.mtu);
          if (cmd.op === 'setMtu') expect(sysfs(dev, 'mtu')).toBe(String(cmd.mtu));
          if (cmd.op === 'setHwaddr') {
            const want = cmd.mac instanceof Uint8Array ? Array.from(cmd.mac, (x) => x.toString(16).padStart(2, '0')).join(':') : String(cmd.mac).toLowerCase().replaceAll('-', ':');
            expect(tunctl.hwaddr(dev)).toBe(want);
          }
          if (cmd.op === 'up' && isIP(cmd.addr as string) === 4) {
            expect(tunctl.ipv4(dev)).toMatchObject({ address: cmd.addr, prefix: (cmd.prefix as number | undefined | null) ?? 24 });
          }
          if (cmd.op === 'up' && isIP(cmd.addr as string) === 6) {
            // Present unless the MTU is below IPv6's 1280 (then the kernel has IPv6 off and the call failed).
            const hex = Buffer.from(parseIp(cmd.addr as string).bytes).toString('hex');
            const table = readFileSync('/proc/net/if_inet6', 'utf8');
            expect(table.split('\n').some((l) => l.startsWith(hex) && l.trim().endsWith(` ${dev}`)), `${cmd.addr} on ${dev}`).toBe(true);
          }
          if (cmd.op === 'setTxqueuelen') expect(tunctl.txqueuelen(dev)).toBe(cmd.n);
        }),
        { numRuns: 500 },
      );
    } finally {
      tunctl.close(tun.fd);
      tunctl.close(tap.fd);
    }
  });

  it('write: buffers of 0 bytes, up to and past 65535 + 16, larger than the MTU, and non-buffers, on four kinds of fd', () => {
    const devs = [
      tunctl.create(ifname('wa'), { mode: 'tun' }),
      tunctl.create(ifname('wb'), { mode: 'tun', noPi: false }),
      tunctl.create(ifname('wc'), { mode: 'tap' }),
      tunctl.create(ifname('wd'), { mode: 'tap', vnetHdr: true }),
    ];
    tunctl.up(devs[0]!.name, '198.18.200.1', 24);
    tunctl.link(devs[2]!.name, true);
    try {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 3 }), bufArb, fc.boolean(), (which, buf, down) => {
          inputs += 1;
          const d = devs[which]!;
          if (down) tunctl.link(d.name, false);
          const r = attempt(() => tunctl.write(d.fd, buf as Uint8Array));
          if (down) tunctl.link(d.name, true);
          if (r.ok) {
            count('write ok');
            expect(r.value).toBe((buf as Uint8Array).length);
          } else expectTyped(r.error, `write(${which}, ${buf instanceof Uint8Array ? `${buf.length} bytes` : show(buf)})`);
          // Whatever the kernel answered, reading never blocks and never returns more than asked.
          for (const p of tunctl.readBatch(d.fd, 64)) expect(p.length).toBeLessThanOrEqual(MAX_PACKET);
        }),
        { numRuns: 400 },
      );
    } finally {
      for (const d of devs) tunctl.close(d.fd);
    }
  });

  it('Tuncer.create: random option objects start a configured interface or reject with a typed error, leaving nothing', async () => {
    let n = 0;
    // Mostly valid objects (so that real interfaces start), a third with one field made wrong.
    const validArb = fc
      .record(
        {
          mode: fc.constantFrom('tun' as const, 'tap' as const),
          noPi: fc.boolean(), vnetHdr: fc.boolean(), multiQueue: fc.boolean(), exclusive: fc.boolean(), noCarrier: fc.boolean(),
          persist: fc.boolean(), up: fc.boolean(),
          owner: fc.integer({ min: 0, max: 70000 }),
          group: fc.integer({ min: 0, max: 70000 }),
          mtu: fc.constantFrom(68, 576, 1280, 1500, 9000, 65535),
          txqueuelen: fc.integer({ min: 0, max: 20000 }),
          hwaddr: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x, i) => (i === 0 ? (x & 0xfe) | 2 : x).toString(16).padStart(2, '0')).join(':')),
          addresses: fc.array(fc.oneof(fc.tuple(v4InRange, fc.integer({ min: 8, max: 32 })).map(([a, p]) => `${a}/${p}`), fc.tuple(v6InRange, fc.integer({ min: 48, max: 128 })).map(([a, p]) => `${a}/${p}`), fc.constantFrom('198.18.1.1', 'fd00::5', { address: '198.18.2.1', prefix: 30 }, { address: 'fd00::9' })), { maxLength: 3 }),
          active: fc.oneof(fc.constantFrom(true, false, 'once' as const), fc.integer({ min: -5, max: 5 })),
          rxRingBytes: fc.constantFrom(4 * MAX_PACKET, 1 << 20),
          txRingBytes: fc.constantFrom(3 * MAX_PACKET, 1 << 18),
          timeoutMs: fc.constant(5000),
        },
        { requiredKeys: ['mode'] },
      )
      .map((o) => (o.mode === 'tun' ? { ...o, hwaddr: undefined } : o));
    const wrong: Record<string, fc.Arbitrary<unknown>> = {
      mode: fc.constantFrom('TUN', 3, ''), owner: fc.constantFrom(-1, 0xffffffff, 1.5), mtu: fc.constantFrom(67, 65536, NaN), hwaddr: fc.constantFrom('01:00:5e:00:00:01', 'zz', '02:00:00:00:00'),
      addresses: fc.constantFrom(['198.18.1.1/33'], ['fd00::1/129'], ['nonsense'], ['198.18.1.1/'], 'fd00::1'), active: fc.constantFrom('twice', 1.5, 40000),
      rxRingBytes: fc.constantFrom(1024, -1), txRingBytes: fc.constantFrom(1024, 2 ** 31), timeoutMs: fc.constantFrom(0, -1), netns: fc.constantFrom('/nonexistent/netns', '/etc/hostname', ''),
      name: fc.constantFrom('a/b', 'x'.repeat(16), '%d%d'), bogus: fc.constant(1),
    };
    const optsArb = fc.oneof(
      { weight: 2, arbitrary: validArb },
      { weight: 1, arbitrary: fc.tuple(validArb, fc.constantFrom(...Object.keys(wrong))).chain(([o, k]) => wrong[k]!.map((v) => ({ ...o, [k]: v }))) },
    );
    await fc.assert(
      fc.asyncProperty(optsArb, async (o) => {
        inputs += 1;
        n += 1;
        const name = `fz${process.pid % 1000}t${n}`;
        const opts = { name, ...o } as TuncerOptions;
        const r = await bounded(Tuncer.create(opts), 10_000, `Tuncer.create(${show(opts)})`);
        if (!r.ok) {
          expectTyped(r.error, `Tuncer.create(${show(opts)})`);
        } else {
          count('Tuncer started');
          const t = r.value;
          expect(t.devname).toBe(opts.name);
          expect(devExists(t.devname)).toBe(true);
          if (o.mtu !== undefined) expect(sysfs(t.devname, 'mtu')).toBe(String(o.mtu));
          if (o.owner !== undefined) expect(sysfs(t.devname, 'owner')).toBe(String(o.owner));
          if (o.hwaddr !== undefined) expect(sysfs(t.devname, 'address')).toBe(o.hwaddr);
          if (o.persist) expect((await t.info()).persist).toBe(true);
          if (o.persist) await t.persist(false);
          await bounded(t.destroy(), 5000, 'destroy');
        }
        // A failed create leaves no device behind, a destroyed one neither (un-persisted above).
        expect(devExists(name), `${name} left behind by ${show(opts)}`).toBe(false);
      }),
      { numRuns: 30 },
    );
    expect(tunDevices()).toEqual(baseline.devs);
  });

  it('a running Tuncer: random setopt, recv, send, trySend and control calls each settle (typed error or result) and never fail the interface', async () => {
    const t = await Tuncer.create({ name: ifname('fl'), mode: 'tun', addresses: ['198.18.200.1/24'] });
    try {
      const activeArb = fc.oneof(fc.constantFrom(true, false, 'once', 'never', null, undefined, 1.5, 40000, -40000), fc.integer({ min: -5, max: 5 }));
      const cmd = fc.oneof(
        fc.record({ op: fc.constant('setopt' as const), arg: fc.oneof(fc.record({ active: activeArb }), fc.constantFrom(null, 5, {}, { active: true, extra: 1 })) }),
        fc.record({ op: fc.constant('recv' as const), size: fc.oneof(fc.constant(undefined), fc.integer({ min: -1, max: MAX_PACKET + 1 }), fc.constantFrom(1.5, '10')), signal: fc.constantFrom('timeout', 'aborted', 5, 'sig') }),
        fc.record({ op: fc.constantFrom('send' as const, 'trySend' as const), buf: bufArb }),
        fc.record({
          op: fc.constant('ctl' as const),
          fn: fc.constantFrom('up', 'setMtu', 'dstaddr', 'broadcast', 'setHwaddr', 'offload', 'carrier', 'owner', 'group', 'persist', 'mtu', 'ipv4', 'info', 'stats', 'hwaddr'),
          args: fc.array(fc.oneof(addrArb, mtuArb, macArb, fc.boolean(), fc.record({ csum: fc.boolean(), tso4: fc.anything() }, { requiredKeys: [] }), fc.integer({ min: -1, max: 70000 })), { maxLength: 2 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 8 }), async (cmds) => {
          for (const c of cmds) {
            inputs += 1;
            let p: Promise<unknown>;
            try {
              switch (c.op) {
                case 'setopt': p = Promise.resolve(t.setopt(c.arg as never)); break;
                case 'recv': {
                  const signal = c.signal === 'timeout' ? AbortSignal.timeout(20) : c.signal === 'aborted' ? AbortSignal.abort(new Error('aborted')) : c.signal;
                  p = t.recv({ size: c.size as number, signal: signal as AbortSignal });
                  break;
                }
                case 'send': p = t.send(c.buf as Uint8Array); break;
                case 'trySend': p = Promise.resolve(t.trySend(c.buf as Uint8Array)); break;
                case 'ctl': p = (t[c.fn] as (...a: unknown[]) => Promise<unknown>).apply(t, c.args); break;
              }
            } catch (error) {
              p = Promise.reject(error);
            }
            const r = await bounded(p, 3000, `${c.op} ${show(c)}`);
            if (r.ok) {
              count(`${c.op} ok`);
              continue;
            }
            const e = r.error as Error;
            if (c.op === 'recv' && (e.name === 'TimeoutError' || e.message === 'aborted')) {
              count('recv aborted by its signal');
              continue;
            }
            expectTyped(e, `${c.op} ${show(c)}`);
          }
          if (t.state === 'active') t.setopt({ active: false });
          expect(['passive', 'active']).toContain(t.state);
        }),
        { numRuns: 80 },
      );
      await t.persist(false).catch(() => undefined);
    } finally {
      await t.destroy();
    }
  });

  // ------------------------------------------------------------ findings: each a bug in src/

  it('a start that times out while configuring a persistent device leaves no device behind', async () => {
    // 2000 addresses make start-up long enough to time out in the middle of configuring.
    const addresses = Array.from({ length: 2000 }, (_, i) => `fd00:77::${(i + 1).toString(16)}/64`);
    let started = Date.now();
    await (await Tuncer.create({ name: ifname('tc'), mode: 'tun', addresses })).destroy();
    const full = Date.now() - started;
    started = Date.now();
    await (await Tuncer.create({ name: ifname('tc'), mode: 'tun' })).destroy();
    const base = Date.now() - started;
    let timedOut = 0;
    for (const frac of [0.5, 0.3, 0.7]) {
      inputs += 1;
      const name = ifname('tp');
      const timeoutMs = Math.max(1, Math.round(base + (full - base) * frac));
      const r = await bounded(Tuncer.create({ name, mode: 'tun', persist: true, addresses, timeoutMs }), 10_000, 'Tuncer.create');
      if (r.ok) {
        await r.value.persist(false);
        await r.value.destroy();
        continue;
      }
      timedOut += 1;
      await sleep(100);
      const left = devExists(name);
      removeLeftovers(baseline.devs);
      expect(left, `timeoutMs ${timeoutMs} (start takes ${base}..${full} ms): rejected with "${(r.error as Error).message}" but ${name} stayed, persistent`).toBe(false);
    }
    expect(timedOut).toBeGreaterThan(0);
  });

  it('a logger that is not a logger is refused by Tuncer.create, not an uncaught exception in the main thread', () => {
    inputs += 1;
    const name = ifname('lg');
    const index = new URL('../../dist/index.js', import.meta.url).href;
    const script = `import('${index}').then(async ({ Tuncer }) => {
      const t0 = Date.now();
      const timer = setTimeout(() => { console.log(JSON.stringify({ outcome: 'hang' })); process.exit(2); }, 3000);
      try { const t = await Tuncer.create({ name: '${name}', mode: 'tun', logger: 5 }); await t.destroy(); console.log(JSON.stringify({ outcome: 'started' })); }
      catch (e) { console.log(JSON.stringify({ outcome: 'rejected', name: e.name, message: e.message })); }
      clearTimeout(timer);
    }).catch((e) => console.log(JSON.stringify({ outcome: 'import failed', message: String(e) })));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    const left = devExists(name);
    removeLeftovers(baseline.devs);
    expect(r.stderr, 'the child crashed').not.toMatch(/TypeError|Uncaught/);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ outcome: 'rejected', name: 'TypeError' });
    expect(left).toBe(false);
  });

  it('a netns path that blocks on open (a FIFO) fails with a typed error instead of hanging the thread', () => {
    inputs += 1;
    const dir = mkdtempSync(join(tmpdir(), 'tunctl-fifo-'));
    const fifo = join(dir, 'ns');
    sh('mkfifo', [fifo]);
    try {
      const index = new URL('../../dist/index.js', import.meta.url).href;
      const script = `import('${index}').then(({ tunctl }) => {
        try { tunctl.create('', { mode: 'tun', netns: ${JSON.stringify(fifo)} }); console.log('created'); }
        catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code })); }
      });`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 3000, killSignal: 'SIGKILL' });
      expect(r.signal, 'tunctl.create blocked in open() of the netns path and had to be killed').toBeNull();
      expect(JSON.parse(r.stdout.trim() || '{}')).toMatchObject({ name: 'TunError' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('send of a MAX_PACKET packet through a tx ring of the smallest accepted size does not time out', async () => {
    inputs += 1;
    const t = await Tuncer.create({ name: ifname('tx'), mode: 'tun', txRingBytes: 2 * MAX_PACKET, timeoutMs: 1000 });
    try {
      await t.send(Buffer.alloc(65544, 0x45)); // leaves the ring's write position where a record of MAX_PACKET bytes fits neither before nor after
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline) {
        const s = await t.stats();
        if (s.txPackets + s.txErrors >= 1) break;
        await sleep(10);
      }
      const r = await bounded(t.send(Buffer.alloc(MAX_PACKET, 0x45)), 5000, 'send');
      expect(r.ok, r.ok ? '' : String(r.error)).toBe(true);
    } finally {
      await t.destroy();
    }
  });

  it('removeAddress of an IPv4 address on a missing interface is a TunError (ENODEV)', () => {
    inputs += 1;
    const r = attempt(() => tunctl.removeAddress('nosuchdev0', '198.18.0.1'));
    expect(r.ok).toBe(false);
    expect(r.ok ? null : r.error).toBeInstanceOf(TunError);
    expect(r.ok ? null : r.error).toMatchObject({ code: 'ENODEV', ifname: 'nosuchdev0' });
  });

  it('offload with an argument that cannot cross to the worker is a TypeError, not a DataCloneError', async () => {
    inputs += 1;
    const t = await Tuncer.create({ name: ifname('of'), mode: 'tun', vnetHdr: true });
    try {
      const r = await bounded(t.offload({ csum: (() => true) as never }), 3000, 'offload');
      expect(r.ok ? null : r.error).toBeInstanceOf(TypeError);
    } finally {
      await t.destroy();
    }
  });

  it('leaves fds, devices and worker threads as it found them', async () => {
    await untilSteady(() => openFds() === baseline.fds && tunDevices().join() === baseline.devs.join() && threads() === baseline.threads, 5000);
    const left = tunDevices();
    expect(left, `devices left: ${left.filter((d) => !baseline.devs.includes(d)).join(', ')}`).toEqual(baseline.devs);
    expect(openFds()).toBe(baseline.fds);
    expect(threads()).toBe(baseline.threads);
    expect(existsSync('/dev/net/tun')).toBe(true);
  });
});
