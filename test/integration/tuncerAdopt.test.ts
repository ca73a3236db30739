/**
 * `Tuncer.create({ fd })`: an interface that adopts an open fd instead of creating a
 * device. Checked with TUNGETIFF first (a bad fd stays with the caller); once adopted,
 * the worker owns it and closes it on every exit path, start failures included.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { Tuncer, TunError, tunctl, tuncerChild } from '../../src/index.js';
import { loadNative } from '../../src/native/binding.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, expectNoLeak, ifname, leakBaseline, type LeakBaseline } from '../helpers/kernel.js';

let baseline: LeakBaseline;

describeKernel('Tuncer.create({ fd }): adopting an open TUN/TAP fd', () => {
  beforeEach(async () => {
    baseline = await leakBaseline();
  });
  afterEach(async () => {
    await expectNoLeak(baseline);
  });

  it('answers ICMP through the adopted fd; destroy closes it and the device goes', async () => {
    const name = ifname('ad');
    const h = tunctl.create(name, { mode: 'tun' });
    tunctl.up(name, '198.18.73.1', 24);
    const tun = await Tuncer.create({ fd: h.fd });
    expect(tun.devname).toBe(name);
    expect(tun.getfd()).toBe(h.fd);
    expect(loadNative().untrackFd(h.fd), 'this thread handed it over: its teardown will not close it').toBe(false);
    await tun.send(buildIcmp4EchoRequest({ src: '198.18.73.2', dst: '198.18.73.1', id: 3, seq: 1 }));
    let reply: Buffer | undefined;
    while (!reply) {
      const p = await tun.recv({ signal: AbortSignal.timeout(3000) });
      if (p[9] === 1 && p[20] === 0) reply = p;
    }
    expect(reply.subarray(12, 16)).toEqual(Buffer.from([198, 18, 73, 1]));
    await tun.destroy();
    expect(devExists(name), 'the worker closed the only fd').toBe(false);
  });

  it('a start that fails after adopting still closes the fd (the caller must not)', async () => {
    const name = ifname('ad');
    const h = tunctl.create(name, { mode: 'tun' });
    // A tun has no MAC: setting one fails in the worker, after it took the fd.
    const err = await Tuncer.create({ fd: h.fd, hwaddr: '02:00:00:00:00:01' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TunError);
    expect(devExists(name)).toBe(false);
  });

  it('a closed fd, a non-tun fd or create options beside fd are refused, and the caller keeps the fd', async () => {
    const file = openSync('/dev/null', 'r');
    try {
      await expect(Tuncer.create({ fd: file })).rejects.toMatchObject({ name: 'TunError', code: 'ENOTTY', syscall: 'ioctl(TUNGETIFF)' });
      expect(fstatSync(file).isCharacterDevice(), 'still open, still the caller\'s').toBe(true);
    } finally {
      closeSync(file);
    }
    await expect(Tuncer.create({ fd: file })).rejects.toMatchObject({ code: 'EBADF' });
    const h = tunctl.create(ifname('ad'), { mode: 'tun' });
    try {
      await expect(Tuncer.create({ fd: h.fd, name: 'other0', mode: 'tap' })).rejects.toThrow(/drop name, mode/);
      await expect(Tuncer.create({ fd: -2 })).rejects.toThrow(RangeError);
      expect(() => tuncerChild({ id: 'x', fd: h.fd })).toThrow(/cannot adopt an fd/);
      expect(tunctl.info(h.fd).name).toBe(h.name);
    } finally {
      tunctl.close(h.fd);
    }
  });
});
