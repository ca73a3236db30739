/**
 * fd passing over a Unix socket (tunctl.sendFd / tunctl.receiveFd), in one process:
 * the fd arrives and keeps the device alive, metadata and the peer come with it, and
 * every kind of bad input is a typed error that leaves no fd, socket file or device.
 * (From root to an unprivileged uid, through a Tuncer: fdHandover.test.ts.)
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tunctl, TunError } from '../../src/index.js';
import { loadNative } from '../../src/native/binding.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';
import { describeKernel, devExists, expectNoLeak, ifname, leakBaseline, type LeakBaseline } from '../helpers/kernel.js';

let dir: string;
let path: string;
let baseline: LeakBaseline;

/** A connected client socket to `path`, made with the addon directly (a sender that misbehaves). */
function rawClient(): number {
  const n = loadNative();
  const sock = n.unixSocket();
  n.unixConnect(sock, path);
  return sock;
}

async function rejection(p: Promise<unknown>): Promise<TunError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TunError);
  return err as TunError;
}

describeKernel('fd passing over a Unix socket (SCM_RIGHTS)', () => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tunctl-fd-'));
    path = join(dir, 'tun.sock');
    baseline = await leakBaseline();
  });
  afterEach(async () => {
    await expectNoLeak(baseline);
    expect(existsSync(path), 'the socket file is removed').toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the fd with its metadata and peer; the received fd alone keeps the device and moves packets', async () => {
    const name = ifname('fp');
    const h = tunctl.create(name, { mode: 'tun' });
    tunctl.up(name, '198.18.70.1', 24);
    const pending = tunctl.receiveFd(path);
    expect(existsSync(path), 'listening as soon as receiveFd returns').toBe(true);
    await tunctl.sendFd(path, h.fd, { role: 'vpn', n: [1, 2] });
    const got = await pending;
    expect(got).toMatchObject({ name, mode: 'tun', meta: { role: 'vpn', n: [1, 2] }, peer: { pid: process.pid, uid: 0, gid: 0 } });
    expect(got.fd).not.toBe(h.fd);
    tunctl.close(h.fd);
    expect(devExists(name), 'the received fd holds the device').toBe(true);
    tunctl.write(got.fd, buildIcmp4EchoRequest({ src: '198.18.70.2', dst: '198.18.70.1', id: 7, seq: 1 }));
    let reply: Buffer | null = null;
    for (let i = 0; i < 200 && !reply; i++) {
      reply = tunctl.readBatch(got.fd, 8).find((p) => p[9] === 1 && p[20] === 0) ?? null;
      if (!reply) await new Promise((r) => setTimeout(r, 5));
    }
    expect(reply, 'the kernel answered an echo written on the received fd').not.toBeNull();
    tunctl.close(got.fd);
    expect(devExists(name)).toBe(false);
  });

  it('sendFd refuses a closed fd (EBADF) and a non-tun fd (ENOTTY) before connecting', async () => {
    const file = openSync('/dev/null', 'r');
    const pending = tunctl.receiveFd(path, { timeoutMs: 300 });
    try {
      const notTun = await rejection(tunctl.sendFd(path, file));
      expect(notTun).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl(TUNGETIFF)' });
      expect(notTun.message).toContain('not a TUN/TAP device');
    } finally {
      closeSync(file);
    }
    expect(await rejection(tunctl.sendFd(path, file))).toMatchObject({ code: 'EBADF', syscall: 'ioctl(TUNGETIFF)' });
    // Nothing connected: the receiver is still waiting, and gives up at its deadline.
    expect(await rejection(pending)).toMatchObject({ code: 'ETIMEDOUT', syscall: `accept(${path})` });
  });

  it('sendFd to a socket with no peer: ENOENT with no file, ECONNREFUSED when nobody listens', async () => {
    const h = tunctl.create(ifname('fp'), { mode: 'tun' });
    try {
      const missing = await rejection(tunctl.sendFd(path, h.fd));
      expect(missing).toMatchObject({ code: 'ENOENT', syscall: `connect(${path})`, ifname: h.name });
      expect(missing.message).toContain('receiveFd');
      const n = loadNative();
      const bound = n.unixSocket(); // bound, never listening
      n.unixBind(bound, path);
      try {
        expect(await rejection(tunctl.sendFd(path, h.fd))).toMatchObject({ code: 'ECONNREFUSED', syscall: `connect(${path})` });
      } finally {
        n.close(bound);
        rmSync(path);
      }
    } finally {
      tunctl.close(h.fd);
    }
  });

  it('receiveFd: a peer that hangs up gives ECONNRESET, a message without an fd EBADMSG, a non-tun fd ENOTTY (and it is closed)', async () => {
    const n = loadNative();
    const hangUp = tunctl.receiveFd(path);
    n.close(rawClient());
    expect(await rejection(hangUp)).toMatchObject({ code: 'ECONNRESET', syscall: `recvmsg(${path})` });

    const noFd = tunctl.receiveFd(path);
    const c1 = rawClient();
    n.sendMsg(c1, Buffer.from('{"tunctl":1}'), -1);
    const e1 = await rejection(noFd);
    n.close(c1);
    expect(e1).toMatchObject({ code: 'EBADMSG', syscall: `recvmsg(${path})` });
    expect(e1.message).toContain('no file descriptor');

    const notTun = tunctl.receiveFd(path);
    const c2 = rawClient();
    const file = openSync('/dev/null', 'r');
    n.sendMsg(c2, Buffer.from('{"tunctl":1}'), file);
    closeSync(file);
    const e2 = await rejection(notTun);
    n.close(c2);
    expect(e2).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl(TUNGETIFF)' });

    const foreign = tunctl.receiveFd(path);
    const c3 = rawClient();
    const h = tunctl.create(ifname('fp'), { mode: 'tun' });
    n.sendMsg(c3, Buffer.from('hello'), h.fd);
    tunctl.close(h.fd);
    const e3 = await rejection(foreign);
    n.close(c3);
    expect(e3).toMatchObject({ code: 'EPROTO' });
    expect(devExists(h.name), 'the refused fd was closed, so the device went with it').toBe(false);
  });

  it('the sender learns of a refusal (ECONNRESET), and an abort or a taken path ends receiveFd cleanly', async () => {
    // A receiver that takes the connection and closes without answering.
    const n = loadNative();
    const listener = n.unixSocket();
    n.unixBind(listener, path);
    n.listen(listener, 1);
    const h = tunctl.create(ifname('fp'), { mode: 'tun' });
    const sending = tunctl.sendFd(path, h.fd, null, { timeoutMs: 2000 });
    let conn = -1;
    for (let i = 0; i < 100 && conn < 0; i++) {
      conn = n.accept(listener);
      if (conn < 0) await new Promise((r) => setTimeout(r, 5));
    }
    const msg = n.recvMsg(conn, Buffer.alloc(256));
    for (const fd of msg?.fds ?? []) n.close(fd);
    n.close(conn);
    expect(msg?.fds).toHaveLength(1);
    expect(await rejection(sending)).toMatchObject({ code: 'ECONNRESET', syscall: `recvmsg(${path})` });
    // The path is taken (by that listener's file): EADDRINUSE.
    expect(await rejection(tunctl.receiveFd(path))).toMatchObject({ code: 'EADDRINUSE', syscall: `bind(${path})` });
    n.close(listener);
    rmSync(path);
    tunctl.close(h.fd);

    const ac = new AbortController();
    const aborted = tunctl.receiveFd(path, { signal: ac.signal });
    ac.abort(new Error('stop waiting'));
    await expect(aborted).rejects.toThrow('stop waiting');
  });

  it('bad arguments are TypeError/RangeError before any socket is made', async () => {
    await expect(tunctl.receiveFd('')).rejects.toThrow(RangeError);
    await expect(tunctl.receiveFd(`/tmp/${'x'.repeat(120)}`)).rejects.toThrow(/at most 107/);
    await expect(tunctl.receiveFd(path, { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(tunctl.receiveFd(path, { wait: 1 } as never)).rejects.toThrow(TypeError);
    await expect(tunctl.sendFd(path, -1)).rejects.toThrow(RangeError);
    await expect(tunctl.sendFd(path, 0, { big: 'x'.repeat(20_000) })).rejects.toThrow(/at most 16384/);
    await expect(tunctl.sendFd(path, 0, { n: 1n } as never)).rejects.toThrow(TypeError);
  });
});
